import type { Kysely } from 'kysely';

/** The whole schema, portable across SQLite and PostgreSQL (text ids and ISO timestamps made in TS). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('orgs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('created', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('created', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('projects_org_id').on('projects').columns(['org_id', 'id']).execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('email_address', 'text')
    .addColumn('mobile_number', 'text')
    .addColumn('country', 'text')
    .addColumn('created', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('user_roles')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('scope_id', 'text', (c) => c.notNull())
    .addColumn('role_name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'scope_id', 'role_name'])
    .execute();
  await db.schema.createIndex('user_roles_scope').on('user_roles').columns(['scope_id', 'user_id']).execute();

  await db.schema
    .createTable('user_api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('ha1_md5', 'text', (c) => c.notNull())
    .addColumn('ha1_sha256', 'text', (c) => c.notNull())
    .addColumn('key_tail', 'text', (c) => c.notNull())
    .addColumn('created', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('user_api_keys_user').on('user_api_keys').column('user_id').execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text')
    .addColumn('public_key', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('ha1_md5', 'text', (c) => c.notNull())
    .addColumn('ha1_sha256', 'text', (c) => c.notNull())
    .addColumn('key_tail', 'text', (c) => c.notNull())
    .addColumn('created', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('api_keys_org').on('api_keys').columns(['org_id', 'id']).execute();

  await db.schema
    .createTable('api_key_roles')
    .addColumn('api_key_id', 'text', (c) => c.notNull().references('api_keys.id').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('scope_id', 'text', (c) => c.notNull())
    .addColumn('role_name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('api_key_roles_pk', ['api_key_id', 'scope_id', 'role_name'])
    .execute();
  await db.schema
    .createIndex('api_key_roles_scope')
    .on('api_key_roles')
    .columns(['scope_id', 'api_key_id'])
    .execute();

  await db.schema
    .createTable('api_key_access_list')
    .addColumn('api_key_id', 'text', (c) => c.notNull().references('api_keys.id').onDelete('cascade'))
    .addColumn('cidr_block', 'text', (c) => c.notNull())
    .addColumn('ip_address', 'text')
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_used', 'text')
    .addColumn('last_used_address', 'text')
    .addPrimaryKeyConstraint('api_key_access_list_pk', ['api_key_id', 'cidr_block'])
    .execute();

  await db.schema
    .createTable('global_access_list')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('cidr_block', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('updated', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_used', 'text')
    .addColumn('last_used_address', 'text')
    .execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('org_id', 'text')
    .addColumn('group_id', 'text')
    .addColumn('api_key_id', 'text')
    .addColumn('target_public_key', 'text')
    .addColumn('target_username', 'text')
    .addColumn('actor_public_key', 'text')
    .addColumn('actor_username', 'text')
    .addColumn('actor_user_id', 'text')
    .addColumn('remote_address', 'text')
    .addColumn('whitelist_entry', 'text')
    .addColumn('is_global_admin', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('events_org').on('events').columns(['org_id', 'id']).execute();
  await db.schema.createIndex('events_group').on('events').columns(['group_id', 'id']).execute();

  await db.schema
    .createTable('digest_replays')
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('cnonce', 'text', (c) => c.notNull())
    .addColumn('nc', 'text', (c) => c.notNull())
    .addColumn('expires', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('digest_replays_pk', ['nonce', 'cnonce', 'nc'])
    .execute();
  await db.schema.createIndex('digest_replays_expires').on('digest_replays').column('expires').execute();
}

export async function down(): Promise<void> {
  throw new Error('pakman migrations are forward-only');
}
