/** Audit events: `/orgs/{ORG-ID}/events[/{EVENT-ID}]` and `/groups/{PROJECT-ID}/events[/{EVENT-ID}]`. */

import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../../schema/errors.js';
import { EventQuerySchema } from '../../../schema/queries.js';
import { EventSchema, ListSchema } from '../../../schema/responses.js';
import { type EventQuery, type EventService, parseIsoDate } from '../../domain/events.js';
import type { EventRow } from '../../storage/repositories/events.js';
import { parseBooleanParam } from '../output.js';
import { ok, params, query, type RouteSpec } from '../route.js';
import { API_BASE, eventToWire } from '../wire.js';
import { lastValue, paged } from './paged.js';

/** Reads `eventType` (repeatable, or comma-separated), `minDate`, `maxDate`; `includeRaw` is checked and ignored. */
export function parseEventQuery(q: Record<string, string | string[] | undefined>): EventQuery {
  parseBooleanParam('includeRaw', q.includeRaw);
  const raw = q.eventType === undefined ? [] : [q.eventType].flat();
  const types = raw.flatMap((t) => t.split(',')).filter((t) => t !== '');
  if (types.some((t) => !/^[A-Z0-9_]{1,100}$/.test(t)) || types.length > 100)
    throw new ApiError('INVALID_QUERY_PARAMETER', ['eventType']);
  const date = (name: 'minDate' | 'maxDate') => {
    const v = lastValue(q[name]);
    if (v === undefined) return undefined;
    const parsed = parseIsoDate(v);
    if (parsed === undefined) throw new ApiError('INVALID_QUERY_PARAMETER', [name]);
    return parsed;
  };
  return { types, minDate: date('minDate'), maxDate: date('maxDate') };
}

/** The self link of an event as reached under `/orgs/{id}` or `/groups/{id}`. */
function href(req: FastifyRequest, parent: string, e: EventRow): string {
  return `${req.ctx.origin}${API_BASE}/${parent}/events/${e.id}`;
}

/** Event routes: in id order (oldest first), each event linked under the path it was read from. */
export function eventRoutes(events: EventService): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/orgs/:orgId/events',
      action: 'orgEvents.read',
      summary: "An organization's audit events, oldest first",
      query: EventQuerySchema,
      response: { status: 200, schema: ListSchema(EventSchema) },
      handler: async (req) => {
        const { orgId } = params(req);
        const q = parseEventQuery(query(req));
        return paged(
          req,
          (offset, limit) => events.listForOrg(orgId!, q, offset, limit),
          (e: EventRow) => eventToWire(href(req, `orgs/${orgId}`, e), e),
        );
      },
    },
    {
      method: 'GET',
      url: '/orgs/:orgId/events/:eventId',
      action: 'orgEvents.read',
      summary: 'One organization event',
      response: { status: 200, schema: EventSchema },
      handler: async (req) => {
        const { orgId, eventId } = params(req);
        const e = await events.getForOrg(orgId!, eventId!);
        return ok(eventToWire(href(req, `orgs/${orgId}`, e), e));
      },
    },
    {
      method: 'GET',
      url: '/groups/:groupId/events',
      action: 'projectEvents.read',
      summary: "A project's audit events, oldest first",
      query: EventQuerySchema,
      response: { status: 200, schema: ListSchema(EventSchema) },
      handler: async (req) => {
        const { groupId } = params(req);
        const q = parseEventQuery(query(req));
        return paged(
          req,
          (offset, limit) => events.listForGroup(groupId!, q, offset, limit),
          (e: EventRow) => eventToWire(href(req, `groups/${groupId}`, e), e),
        );
      },
    },
    {
      method: 'GET',
      url: '/groups/:groupId/events/:eventId',
      action: 'projectEvents.read',
      summary: 'One project event',
      response: { status: 200, schema: EventSchema },
      handler: async (req) => {
        const { groupId, eventId } = params(req);
        const e = await events.getForGroup(groupId!, eventId!);
        return ok(eventToWire(href(req, `groups/${groupId}`, e), e));
      },
    },
  ];
}
