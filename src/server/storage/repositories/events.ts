/** The audit log. Events are written in the same transaction as the change they record. */
import type { Db, EventsTable } from '../database.js';

/** A new audit event: the columns of the events table. */
export type NewEvent = EventsTable;

export const events = {
  async insert(db: Db, event: NewEvent): Promise<void> {
    await db.insertInto('events').values(event).execute();
  },
};
