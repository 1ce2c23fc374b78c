/**
 * Query-parameter schemas (TypeBox) of the routes that take more than paging and presentation, for the
 * OpenAPI document; the handlers parse and check the values themselves (Ops Manager's error codes).
 */
import { Type } from '@sinclair/typebox';

/** `?name=` filter of `GET /orgs` and `GET /orgs/{ORG-ID}/groups`. */
export const NameQuery = Type.Object({
  name: Type.Optional(Type.String({ description: 'Only the one with exactly this name' })),
});

/** `POST /unauth/users`: access-list entries for the first key (repeatable; `whitelist` is the old name). */
export const BootstrapQuery = Type.Object({
  accessList: Type.Optional(
    Type.Array(Type.String(), { description: "An IP address or CIDR block for the new key's access list" }),
  ),
  whitelist: Type.Optional(Type.Array(Type.String(), { description: 'Legacy name of accessList' })),
});

/** Filters of the event lists. */
export const EventQuerySchema = Type.Object({
  eventType: Type.Optional(
    Type.Array(Type.String({ pattern: '^[A-Z0-9_]{1,100}$' }), {
      description: 'Only events of these types (repeatable, or comma-separated)',
    }),
  ),
  minDate: Type.Optional(
    Type.String({ format: 'date-time', description: 'Only events at or after this time' }),
  ),
  maxDate: Type.Optional(
    Type.String({ format: 'date-time', description: 'Only events at or before this time' }),
  ),
  includeRaw: Type.Optional(
    Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'Accepted and ignored' }),
  ),
});
