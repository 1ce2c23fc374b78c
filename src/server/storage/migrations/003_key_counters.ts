/**
 * Cheap lists and cache invalidation (issue 6), kept by triggers so that every write path — whoever wrote it
 * — maintains them in the same transaction as the change itself:
 *
 * - `api_key_counts`: per org (`org_key` = org id, '' for global keys) the number of keys (`totalCount`
 *   without a COUNT) and a `version` bumped by every change that alters the org's key list (a key added,
 *   removed or re-described, a role of one of its keys changed, a page bucket rebuilt). Readers compare it
 *   to decide whether what they cached about the org is still current.
 * - `api_key_buckets`: the org's keys cut into id ranges starting at `start_id` (the first starts at '')
 *   with the exact number of keys in each, so the key at any offset is found from the bucket counts plus a
 *   short index scan inside one bucket: a page costs the same wherever it is and however large the org.
 *   Triggers only count; `storage/keyPages.ts` splits buckets that grow too large.
 * - `auth_generation`: one number bumped by every change to what authentication reads (keys, their roles
 *   and access lists, users and their roles and personal keys, the global access list). Each node polls it
 *   and drops its credential cache when it moves. On PostgreSQL the bump is a deferred constraint trigger,
 *   once per transaction, at commit: the one shared row is locked only while committing, so it can neither
 *   serialize nor deadlock the transactions that change keys.
 *
 * On PostgreSQL the counters are statement-level triggers over transition tables (one update per org and
 * statement, so bulk deletes stay linear); SQLite has only row-level triggers, and needs no more.
 */
import { type Kysely, sql } from 'kysely';
import { isPostgres } from './dialect.js';

const run = (db: Kysely<unknown>, statements: string[]) =>
  statements.reduce<Promise<unknown>>((p, s) => p.then(() => sql.raw(s).execute(db)), Promise.resolve());

/** SQLite: what a key `R` (NEW or OLD) adds to or takes from its org's counter and bucket. */
function sqliteCount(r: 'NEW' | 'OLD', delta: '+' | '-'): string[] {
  const k = `coalesce(${r}.org_id, '')`;
  const out =
    delta === '+'
      ? [
          `INSERT INTO api_key_counts (org_key, n, version) VALUES (${k}, 1, 1)
             ON CONFLICT (org_key) DO UPDATE SET n = n + 1, version = version + 1;`,
          `INSERT INTO api_key_buckets (org_key, start_id, n) VALUES (${k}, '', 0) ON CONFLICT DO NOTHING;`,
        ]
      : [`UPDATE api_key_counts SET n = n - 1, version = version + 1 WHERE org_key = ${k};`];
  out.push(
    `UPDATE api_key_buckets SET n = n ${delta} 1 WHERE org_key = ${k} AND start_id =
       (SELECT max(start_id) FROM api_key_buckets WHERE org_key = ${k} AND start_id <= ${r}.id);`,
  );
  return out;
}

/** Tables and columns whose changes the credential cache must see (UPDATE: only these columns). */
const AUTH_SOURCES: [table: string, columns: string[]][] = [
  ['api_keys', ['id', 'org_id', 'public_key', 'ha1_md5', 'ha1_sha256']],
  ['api_key_roles', ['api_key_id', 'scope', 'scope_id', 'role_name']],
  ['api_key_access_list', ['api_key_id', 'cidr_block']],
  ['global_access_list', ['cidr_block']],
  ['users', ['id', 'username']],
  ['user_roles', ['user_id', 'scope', 'scope_id', 'role_name']],
  ['user_api_keys', ['id', 'user_id', 'ha1_md5', 'ha1_sha256']],
];

const changed = (columns: string[], distinct: string) =>
  columns.map((c) => `OLD.${c} ${distinct} NEW.${c}`).join(' OR ');

async function upSqlite(db: Kysely<unknown>): Promise<void> {
  const bumpRoles = (r: 'NEW' | 'OLD') =>
    `UPDATE api_key_counts SET version = version + 1
       WHERE org_key = (SELECT coalesce(org_id, '') FROM api_keys WHERE id = ${r}.api_key_id);`;
  const statements = [
    `CREATE TRIGGER api_keys_list_added AFTER INSERT ON api_keys BEGIN ${sqliteCount('NEW', '+').join(' ')} END`,
    `CREATE TRIGGER api_keys_list_removed AFTER DELETE ON api_keys BEGIN ${sqliteCount('OLD', '-').join(' ')} END`,
    `CREATE TRIGGER api_keys_list_moved AFTER UPDATE ON api_keys
       WHEN OLD.id IS NOT NEW.id OR OLD.org_id IS NOT NEW.org_id
       BEGIN ${[...sqliteCount('OLD', '-'), ...sqliteCount('NEW', '+')].join(' ')} END`,
    `CREATE TRIGGER api_keys_list_described AFTER UPDATE ON api_keys
       WHEN OLD.description IS NOT NEW.description
       BEGIN UPDATE api_key_counts SET version = version + 1 WHERE org_key = coalesce(NEW.org_id, ''); END`,
    `CREATE TRIGGER api_key_roles_list_added AFTER INSERT ON api_key_roles BEGIN ${bumpRoles('NEW')} END`,
    `CREATE TRIGGER api_key_roles_list_removed AFTER DELETE ON api_key_roles BEGIN ${bumpRoles('OLD')} END`,
    `CREATE TRIGGER api_key_roles_list_changed AFTER UPDATE ON api_key_roles
       BEGIN ${bumpRoles('OLD')} ${bumpRoles('NEW')} END`,
  ];
  const bump = 'UPDATE auth_generation SET gen = gen + 1 WHERE id = 1;';
  for (const [table, columns] of AUTH_SOURCES) {
    statements.push(
      `CREATE TRIGGER ${table}_auth_added AFTER INSERT ON ${table} BEGIN ${bump} END`,
      `CREATE TRIGGER ${table}_auth_removed AFTER DELETE ON ${table} BEGIN ${bump} END`,
      `CREATE TRIGGER ${table}_auth_changed AFTER UPDATE ON ${table} WHEN ${changed(columns, 'IS NOT')}
         BEGIN ${bump} END`,
    );
  }
  await run(db, statements);
}

/** PostgreSQL: per-org deltas of a transition table `t`, and the bucket each of its keys falls in. */
function pgDeltas(t: string, sign: '+' | '-'): string[] {
  return [
    sign === '+'
      ? `INSERT INTO api_key_counts AS c (org_key, n, version)
           SELECT coalesce(org_id, ''), count(*), 1 FROM ${t} GROUP BY 1 ORDER BY 1
           ON CONFLICT (org_key) DO UPDATE SET n = c.n + excluded.n, version = c.version + 1;
         INSERT INTO api_key_buckets (org_key, start_id, n)
           SELECT DISTINCT coalesce(org_id, ''), '', 0 FROM ${t} ON CONFLICT DO NOTHING;`
      : `UPDATE api_key_counts c SET n = c.n - d.n, version = c.version + 1
           FROM (SELECT coalesce(org_id, '') AS k, count(*) AS n FROM ${t} GROUP BY 1) d
          WHERE c.org_key = d.k;`,
    `UPDATE api_key_buckets b SET n = b.n ${sign} d.n
       FROM (SELECT k, s, count(*) AS n FROM (
               SELECT coalesce(r.org_id, '') AS k,
                      (SELECT max(x.start_id) FROM api_key_buckets x
                        WHERE x.org_key = coalesce(r.org_id, '') AND x.start_id <= r.id) AS s
                 FROM ${t} r) t GROUP BY k, s) d
      WHERE b.org_key = d.k AND b.start_id = d.s;`,
  ];
}

const plpgsql = (name: string, body: string) =>
  `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN ${body} RETURN NULL; END $fn$`;

async function upPostgres(db: Kysely<unknown>): Promise<void> {
  const rolesBump = (t: string) =>
    `UPDATE api_key_counts c SET version = c.version + 1
      WHERE c.org_key IN (SELECT coalesce(k.org_id, '') FROM ${t} r JOIN api_keys k ON k.id = r.api_key_id);`;
  const single = (r: 'NEW' | 'OLD', sign: '+' | '-') => {
    const k = `coalesce(${r}.org_id, '')`;
    return `${
      sign === '+'
        ? `INSERT INTO api_key_counts AS c (org_key, n, version) VALUES (${k}, 1, 1)
             ON CONFLICT (org_key) DO UPDATE SET n = c.n + 1, version = c.version + 1;
           INSERT INTO api_key_buckets (org_key, start_id, n) VALUES (${k}, '', 0) ON CONFLICT DO NOTHING;`
        : `UPDATE api_key_counts SET n = n - 1, version = version + 1 WHERE org_key = ${k};`
    } UPDATE api_key_buckets SET n = n ${sign} 1 WHERE org_key = ${k} AND start_id =
        (SELECT max(start_id) FROM api_key_buckets WHERE org_key = ${k} AND start_id <= ${r}.id);`;
  };
  const statements = [
    plpgsql('pakman_keys_added', pgDeltas('pakman_new', '+').join(' ')),
    plpgsql('pakman_keys_removed', pgDeltas('pakman_old', '-').join(' ')),
    plpgsql('pakman_key_moved', `${single('OLD', '-')} ${single('NEW', '+')}`),
    plpgsql(
      'pakman_key_described',
      `UPDATE api_key_counts SET version = version + 1 WHERE org_key = coalesce(NEW.org_id, '');`,
    ),
    plpgsql('pakman_roles_added', rolesBump('pakman_new')),
    plpgsql('pakman_roles_removed', rolesBump('pakman_old')),
    plpgsql('pakman_roles_changed', `${rolesBump('pakman_old')} ${rolesBump('pakman_new')}`),
    `CREATE TRIGGER api_keys_list_added AFTER INSERT ON api_keys
       REFERENCING NEW TABLE AS pakman_new FOR EACH STATEMENT EXECUTE FUNCTION pakman_keys_added()`,
    `CREATE TRIGGER api_keys_list_removed AFTER DELETE ON api_keys
       REFERENCING OLD TABLE AS pakman_old FOR EACH STATEMENT EXECUTE FUNCTION pakman_keys_removed()`,
    `CREATE TRIGGER api_keys_list_moved AFTER UPDATE ON api_keys FOR EACH ROW
       WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.org_id IS DISTINCT FROM NEW.org_id)
       EXECUTE FUNCTION pakman_key_moved()`,
    `CREATE TRIGGER api_keys_list_described AFTER UPDATE ON api_keys FOR EACH ROW
       WHEN (OLD.description IS DISTINCT FROM NEW.description) EXECUTE FUNCTION pakman_key_described()`,
    `CREATE TRIGGER api_key_roles_list_added AFTER INSERT ON api_key_roles
       REFERENCING NEW TABLE AS pakman_new FOR EACH STATEMENT EXECUTE FUNCTION pakman_roles_added()`,
    `CREATE TRIGGER api_key_roles_list_removed AFTER DELETE ON api_key_roles
       REFERENCING OLD TABLE AS pakman_old FOR EACH STATEMENT EXECUTE FUNCTION pakman_roles_removed()`,
    `CREATE TRIGGER api_key_roles_list_changed AFTER UPDATE ON api_key_roles
       REFERENCING OLD TABLE AS pakman_old NEW TABLE AS pakman_new
       FOR EACH STATEMENT EXECUTE FUNCTION pakman_roles_changed()`,
    // Once per transaction, at commit (the GUC is transaction-local).
    plpgsql(
      'pakman_auth_changed',
      `IF current_setting('pakman.auth_bumped', true) IS DISTINCT FROM txid_current()::text THEN
         PERFORM set_config('pakman.auth_bumped', txid_current()::text, true);
         UPDATE auth_generation SET gen = gen + 1 WHERE id = 1;
       END IF;`,
    ),
  ];
  for (const [table, columns] of AUTH_SOURCES) {
    statements.push(
      `CREATE CONSTRAINT TRIGGER ${table}_auth_added_removed AFTER INSERT OR DELETE ON ${table}
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pakman_auth_changed()`,
      `CREATE CONSTRAINT TRIGGER ${table}_auth_changed AFTER UPDATE ON ${table}
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (${changed(columns, 'IS DISTINCT FROM')})
         EXECUTE FUNCTION pakman_auth_changed()`,
    );
  }
  await run(db, statements);
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = await isPostgres(db);
  const counter = pg ? 'bigint' : 'integer';
  await db.schema
    .createTable('api_key_counts')
    .addColumn('org_key', 'text', (c) => c.primaryKey())
    .addColumn('n', counter, (c) => c.notNull())
    .addColumn('version', counter, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('api_key_buckets')
    .addColumn('org_key', 'text', (c) => c.notNull())
    .addColumn('start_id', 'text', (c) => c.notNull())
    .addColumn('n', counter, (c) => c.notNull())
    .addPrimaryKeyConstraint('api_key_buckets_pk', ['org_key', 'start_id'])
    .execute();
  await db.schema
    .createTable('auth_generation')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('gen', counter, (c) => c.notNull())
    .execute();
  // Triggers first: on PostgreSQL creating them locks out writers until this migration commits, so the
  // counts taken below miss no key.
  if (pg) await upPostgres(db);
  else await upSqlite(db);
  await run(db, [
    'INSERT INTO auth_generation (id, gen) VALUES (1, 0)',
    `INSERT INTO api_key_counts (org_key, n, version) SELECT coalesce(org_id, ''), count(*), 1 FROM api_keys GROUP BY 1`,
    `INSERT INTO api_key_buckets (org_key, start_id, n) SELECT org_key, '', n FROM api_key_counts`,
  ]);
}

export async function down(): Promise<void> {
  throw new Error('pakman migrations are forward-only');
}
