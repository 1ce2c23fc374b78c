/** The audit log. Events are written in the same transaction as the change they record. */
import { type Db, type EventsTable, ROWS_PER_INSERT } from '../database.js';

/** A new audit event: the columns of the events table. */
export type NewEvent = EventsTable;

/** A stored event (the same columns; no column ever holds a secret). */
export type EventRow = EventsTable;

/** Which events a list shows: one org's or one project's, optionally narrowed by type and date. */
export interface EventFilter {
  scope: { orgId: string } | { groupId: string };
  types?: readonly string[] | undefined;
  /** ISO-8601 second-precision bounds, inclusive; `created` uses the same format, so text order is time order. */
  minDate?: string | undefined;
  maxDate?: string | undefined;
}

const COLUMNS = [
  'id',
  'created',
  'event_type',
  'org_id',
  'group_id',
  'api_key_id',
  'target_public_key',
  'target_username',
  'actor_public_key',
  'actor_username',
  'actor_user_id',
  'remote_address',
  'whitelist_entry',
  'is_global_admin',
  'expires_at',
  'grace_ends_at',
] as const;

function filtered(db: Db, f: EventFilter) {
  let q = db.selectFrom('events');
  q = 'orgId' in f.scope ? q.where('org_id', '=', f.scope.orgId) : q.where('group_id', '=', f.scope.groupId);
  if (f.types?.length) q = q.where('event_type', 'in', f.types);
  if (f.minDate !== undefined) q = q.where('created', '>=', f.minDate);
  if (f.maxDate !== undefined) q = q.where('created', '<=', f.maxDate);
  return q;
}

/** Writes and reads audit events. Every method takes the handle so callers can pass a transaction. */
export const events = {
  /** Inserts `rows` in order, in as few statements as the databases' parameter limits allow. */
  async insert(db: Db, rows: readonly NewEvent[]): Promise<void> {
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT)
      await db
        .insertInto('events')
        .values(rows.slice(i, i + ROWS_PER_INSERT))
        .execute();
  },

  /** A page of events in id order (creation order), with the size of the whole filtered set. */
  async list(
    db: Db,
    filter: EventFilter,
    offset: number,
    limit: number,
  ): Promise<{ items: EventRow[]; totalCount: number }> {
    const q = filtered(db, filter);
    const items = await q.select(COLUMNS).orderBy('id').limit(limit).offset(offset).execute();
    const count = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return {
      items: items.map((r) => ({ ...r, is_global_admin: Number(r.is_global_admin) })),
      totalCount: Number(count.n),
    };
  },

  /** One event of an org or project, or undefined when it is not theirs. */
  async find(db: Db, scope: EventFilter['scope'], id: string): Promise<EventRow | undefined> {
    const row = await filtered(db, { scope }).select(COLUMNS).where('id', '=', id).executeTakeFirst();
    return row && { ...row, is_global_admin: Number(row.is_global_admin) };
  },
};
