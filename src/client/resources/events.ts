/** `/orgs/{ORG-ID}/events` and `/groups/{PROJECT-ID}/events`: the audit log. */
import type { Event, List } from '../../schema/responses.js';
import { type Core, type PageOptions, type Query, seg } from '../core.js';
import type { EventFilter } from '../types.js';

/** Whose events: an org's or a project's. */
export type EventScope = { orgId: string } | { projectId: string };

function scopePath(scope: EventScope): string {
  return 'orgId' in scope ? `/orgs/${seg(scope.orgId)}/events` : `/groups/${seg(scope.projectId)}/events`;
}

function filterQuery(f: EventFilter & PageOptions): Query {
  return {
    eventType: f.eventType,
    minDate: f.minDate,
    maxDate: f.maxDate,
    pageNum: f.pageNum,
    itemsPerPage: f.itemsPerPage,
  };
}

/** Audit events. */
export class EventsApi {
  constructor(private readonly core: Core) {}

  /** One page of events, in the server's order. */
  list(scope: EventScope, filter: EventFilter & PageOptions = {}): Promise<List<Event>> {
    return this.core.list(scopePath(scope), filterQuery(filter));
  }

  /** Every event matching the filter. */
  iterate(
    scope: EventScope,
    filter: EventFilter & { itemsPerPage?: number } = {},
  ): AsyncGenerator<Event, void, undefined> {
    return this.core.iterate(scopePath(scope), filterQuery(filter));
  }

  /** Every page of events (for progress reporting). */
  pages(
    scope: EventScope,
    filter: EventFilter & { itemsPerPage?: number } = {},
  ): AsyncGenerator<List<Event>, void, undefined> {
    return this.core.pages(scopePath(scope), filterQuery(filter));
  }

  /** One event by id. */
  get(scope: EventScope, eventId: string): Promise<Event> {
    return this.core.json('GET', `${scopePath(scope)}/${seg(eventId)}`);
  }
}
