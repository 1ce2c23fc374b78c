/** Reading the audit log of an org or a project, in creation order. */
import { ApiError } from '../../schema/errors.js';
import { type EventFilter, type EventRow, events } from '../storage/repositories/events.js';
import { orgs } from '../storage/repositories/orgs.js';
import { isoSeconds, type ServiceDeps } from './context.js';
import { requireProject } from './projects.js';

/** Filters of an event list (api.md §7): event types, and inclusive ISO-8601 date bounds. */
export interface EventQuery {
  types: string[];
  minDate?: string | undefined;
  maxDate?: string | undefined;
}

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2}))?)?$/;

/**
 * Parses an ISO-8601 date or date-time (no zone means UTC, as Ops Manager documents) to pakman's
 * second-precision form; undefined when it is not a real instant (Feb 30, 24:00, a bad offset).
 */
export function parseIsoDate(raw: string): string | undefined {
  const m = ISO_DATE.exec(raw);
  if (!m) return undefined;
  const [y, mo, d, h = 0, mi = 0, s = 0] = m
    .slice(1, 7)
    .map((v) => (v === undefined ? undefined : Number(v)));
  const [oh, om] = [Number(m[8] ?? 0), Number(m[9] ?? 0)];
  if (h! > 23 || mi! > 59 || s! > 59 || oh > 23 || om > 59) return undefined;
  // setUTCFullYear, not Date.UTC, which reads years 0 to 99 as 1900 to 1999.
  const day = new Date(Date.UTC(2000, mo! - 1, d!, h, mi, s));
  const ms = day.setUTCFullYear(y!);
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo! - 1 || day.getUTCDate() !== d) return undefined;
  const sign = m[7]?.startsWith('-') ? -1 : 1;
  const instant = ms - sign * (oh * 60 + om) * 60_000;
  // Only instants with a four-digit year have pakman's text form, whose order is time order.
  if (instant < FIRST_INSTANT || instant > LAST_INSTANT) return undefined;
  return isoSeconds(instant);
}

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00Z');
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59Z');

/** Event lists and single events of orgs and projects; the pipeline has authorized the caller. */
export class EventService {
  constructor(private readonly deps: ServiceDeps) {}

  async listForOrg(orgId: string, q: EventQuery, offset: number, limit: number) {
    await this.#requireOrg(orgId);
    return events.list(this.deps.db, this.#filter({ orgId }, q), offset, limit);
  }

  async listForGroup(groupId: string, q: EventQuery, offset: number, limit: number) {
    await requireProject(this.deps.db, groupId);
    return events.list(this.deps.db, this.#filter({ groupId }, q), offset, limit);
  }

  async getForOrg(orgId: string, eventId: string): Promise<EventRow> {
    await this.#requireOrg(orgId);
    return this.#require({ orgId }, eventId);
  }

  async getForGroup(groupId: string, eventId: string): Promise<EventRow> {
    await requireProject(this.deps.db, groupId);
    return this.#require({ groupId }, eventId);
  }

  #filter(scope: EventFilter['scope'], q: EventQuery): EventFilter {
    return { scope, types: q.types, minDate: q.minDate, maxDate: q.maxDate };
  }

  async #requireOrg(orgId: string): Promise<void> {
    if (!(await orgs.exists(this.deps.db, orgId))) throw new ApiError('ORG_NOT_FOUND', [orgId]);
  }

  async #require(scope: EventFilter['scope'], eventId: string): Promise<EventRow> {
    const event = await events.find(this.deps.db, scope, eventId);
    if (!event) throw new ApiError('EVENT_NOT_FOUND', [eventId]);
    return event;
  }
}
