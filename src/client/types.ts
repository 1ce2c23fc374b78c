/**
 * Request types of the SDK beyond `src/schema/bodies.ts`, all narrowed or derived from it so the server's
 * validation and the SDK's types stay one definition.
 */
import type { ApiKeyCreateBody } from '../schema/bodies.js';
import type { GroupRole } from '../schema/roles.js';
import type { PageOptions } from './core.js';

/** `POST /groups/{PROJECT-ID}/apiKeys`: a new org key holding only project roles. */
export type ProjectKeyCreateBody = Omit<ApiKeyCreateBody, 'roles'> & { roles: GroupRole[] };

/** `GET …/apiKeys/{ID}/usage`: the range (ISO-8601 UTC seconds) and bucket size. */
export interface KeyUsageOptions {
  start?: string | undefined;
  end?: string | undefined;
  granularity?: 'HOURLY' | 'DAILY' | undefined;
}

/** `GET /orgs/{ORG-ID}/apiKeys/unused`: keys with no use in `days` days (default 30), paged. */
export interface UnusedKeysOptions extends PageOptions {
  days?: number | undefined;
}

/** Filters of the event lists. */
export interface EventFilter {
  /** Event type names; several are OR-ed. */
  eventType?: readonly string[] | undefined;
  /** ISO-8601 lower bound of `created`. */
  minDate?: string | undefined;
  /** ISO-8601 upper bound of `created`. */
  maxDate?: string | undefined;
}

/** Paging plus the `name` filter of `GET /orgs`. */
export interface OrgListOptions extends PageOptions {
  name?: string | undefined;
}
