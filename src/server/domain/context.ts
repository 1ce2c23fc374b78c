/** What every service call carries: the database, the clock, and who is acting from where. */
import type { Principal } from '../rbac/principal.js';
import type { Db } from '../storage/database.js';

/** Service dependencies shared by all services. */
export interface ServiceDeps {
  db: Db;
  /** Milliseconds since the epoch; injectable for tests. */
  clock: () => number;
}

/** The caller of a change, for authorization and the audit log. */
export interface Actor {
  principal: Principal | null;
  remoteAddress: string;
}

/** ISO-8601 UTC with second precision and a Z suffix, as Ops Manager prints dates. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
