/** Kysely table types: the row shapes (snake_case) shared by SQLite and PostgreSQL. */
import type { Generated, Kysely } from 'kysely';

/** Key/value settings, e.g. the deployment secret and the bootstrap marker. */
export interface SettingsTable {
  key: string;
  value: string;
}

export interface OrgsTable {
  id: string;
  name: string;
  created: string;
}

export interface ProjectsTable {
  id: string;
  org_id: string;
  name: string;
  created: string;
}

export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  first_name: string;
  last_name: string;
  email_address: string | null;
  mobile_number: string | null;
  country: string | null;
  created: string;
}

/** A role held by a user or key: scope 'org' | 'group' | 'global'; scope_id '' for global roles. */
export interface RoleRow {
  scope: string;
  scope_id: string;
  role_name: string;
}

export interface UserRolesTable extends RoleRow {
  user_id: string;
}

/** Personal API keys of users (the `{USERNAME}:{APIKEY}` form): only HA1 and the last 12 characters. */
export interface UserApiKeysTable {
  id: string;
  user_id: string;
  ha1_md5: string;
  ha1_sha256: string;
  key_tail: string;
  created: string;
  /** ISO seconds after which the key is refused; null: never (migration 007). */
  expires_at: string | null;
}

/** Programmatic API keys. `org_id` is null for global keys. No private key is ever stored. */
export interface ApiKeysTable {
  id: string;
  org_id: string | null;
  public_key: string;
  description: string;
  ha1_md5: string;
  ha1_sha256: string;
  key_tail: string;
  created: string;
  /** ISO seconds after which the key is refused; null: never (migration 007). */
  expires_at: string | null;
  /** HA1 values of the private key the last rotation replaced, valid until `prev_valid_until`. */
  prev_ha1_md5: string | null;
  prev_ha1_sha256: string | null;
  prev_valid_until: string | null;
  /** Last authenticated use, ISO to the minute (batched by auth/usage.ts). */
  last_used: string | null;
  /** 1 once API_KEY_EXPIRED was recorded for the current expiry. */
  expiry_noticed: Generated<number>;
}

/** Requests per key and hour (`hour`: ISO `YYYY-MM-DDTHH:00:00Z`), kept 90 days. */
export interface ApiKeyUsageTable {
  api_key_id: string;
  hour: string;
  count: number;
}

/** Per org: the longest lifetime, in seconds, a new or patched key may be given (null: no cap). */
export interface OrgApiKeyPolicyTable {
  org_id: string;
  max_key_lifetime_seconds: number | null;
}

export interface ApiKeyRolesTable extends RoleRow {
  api_key_id: string;
}

export interface ApiKeyAccessListTable {
  api_key_id: string;
  cidr_block: string;
  ip_address: string | null;
  created: string;
  count: number;
  last_used: string | null;
  last_used_address: string | null;
}

export interface GlobalAccessListTable {
  id: string;
  cidr_block: string;
  description: string;
  created: string;
  updated: string;
  count: number;
  last_used: string | null;
  last_used_address: string | null;
}

export interface EventsTable {
  id: string;
  created: string;
  event_type: string;
  org_id: string | null;
  group_id: string | null;
  api_key_id: string | null;
  target_public_key: string | null;
  target_username: string | null;
  actor_public_key: string | null;
  actor_username: string | null;
  actor_user_id: string | null;
  remote_address: string | null;
  whitelist_entry: string | null;
  is_global_admin: number;
  /** Lifecycle events (migration 007): the expiry set, or the end of a rotation's grace period. */
  expires_at: string | null;
  grace_ends_at: string | null;
}

/** Seen digest (nonce, cnonce, nc) triples of the versions before migration 004 (swept, not written). */
export interface DigestReplaysTable {
  nonce: string;
  cnonce: string;
  nc: string;
  expires: number;
}

/**
 * Seen digest triples, shared by every node for replay protection: each under its 53-bit key
 * (`replayKey` in auth/replay.ts), a decimal string here (a BIGINT column).
 */
export interface DigestReplayKeysTable {
  key: string;
  expires: number;
}

/** A web console session (migration 006): the SHA-256 of its token, never the token. Times in epoch ms. */
export interface ConsoleSessionsTable {
  token_hash: string;
  user_id: string;
  created: number;
  last_seen: number;
  /** The absolute expiry; the idle expiry is last_seen + the idle setting. */
  expires: number;
}

/** Failed console sign-ins per `u:<username>` or `a:<address>` (migration 006). */
export interface ConsoleSignInFailuresTable {
  key: string;
  failures: number;
  locked_until: number;
  last_failure: number;
}

/** A rate limit an operator set (migration 008): an org's default (org_id) or a key's own (api_key_id). */
export interface RateLimitsTable {
  org_id: string | null;
  api_key_id: string | null;
  requests: number;
  period_seconds: number;
  updated: string;
}

export interface Database {
  settings: SettingsTable;
  orgs: OrgsTable;
  projects: ProjectsTable;
  users: UsersTable;
  user_roles: UserRolesTable;
  user_api_keys: UserApiKeysTable;
  api_keys: ApiKeysTable;
  api_key_roles: ApiKeyRolesTable;
  api_key_usage: ApiKeyUsageTable;
  org_api_key_policy: OrgApiKeyPolicyTable;
  api_key_access_list: ApiKeyAccessListTable;
  global_access_list: GlobalAccessListTable;
  events: EventsTable;
  digest_replays: DigestReplaysTable;
  digest_replay_keys: DigestReplayKeysTable;
  console_sessions: ConsoleSessionsTable;
  console_sign_in_failures: ConsoleSignInFailuresTable;
  rate_limits: RateLimitsTable;
}

/**
 * Rows per multi-row INSERT: at up to 65 columns a row, 500 rows stay under SQLite's 32,766 variables (and
 * PostgreSQL's 65,535 parameters) a statement.
 */
export const ROWS_PER_INSERT = 500;

/** The database handle every repository takes. */
export type Db = Kysely<Database>;
