/**
 * Response schemas (TypeBox): the wire entities of api.md §7 as Ops Manager and pakman print them.
 * The SDK derives its result types from these with `Static<>`. Objects stay open (extra properties
 * allowed) because a real Ops Manager sends more fields than pakman does, and a client must not break
 * on them.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A link object `{href, rel}`. */
export const LinkSchema = Type.Object({ href: Type.String(), rel: Type.String() });
/** A link object `{href, rel}`. */
export type Link = Static<typeof LinkSchema>;

/** A role held by a key or user: `orgId` for org roles, `groupId` for project roles, neither for global. */
export const RoleSchema = Type.Object({
  groupId: Type.Optional(Type.String()),
  orgId: Type.Optional(Type.String()),
  roleName: Type.String(),
});
/** A role held by a key or user. */
export type Role = Static<typeof RoleSchema>;

/** A programmatic API key (org, project or global); `privateKey` is in full only when just created. */
export const ApiKeySchema = Type.Object({
  desc: Type.String(),
  /** Extension: present (true) only once the key's expiry has passed. */
  expired: Type.Optional(Type.Boolean()),
  /** Extension: the key's expiry, only on keys given one. */
  expiresAt: Type.Optional(Type.String()),
  /** Extension: on a rotation's answer, when the replaced private key stops working. */
  graceEndsAt: Type.Optional(Type.String()),
  id: Type.String(),
  /** Extension: on the unused-keys report, the key's last use (to the minute). */
  lastUsed: Type.Optional(Type.String()),
  links: Type.Array(LinkSchema),
  privateKey: Type.String(),
  publicKey: Type.String(),
  roles: Type.Array(RoleSchema),
});
/** A programmatic API key. */
export type ApiKey = Static<typeof ApiKeySchema>;

/** An organization (`isDeleted` is absent from the create response). */
export const OrgSchema = Type.Object({
  id: Type.String(),
  isDeleted: Type.Optional(Type.Boolean()),
  links: Type.Array(LinkSchema),
  name: Type.String(),
});
/** An organization. */
export type Org = Static<typeof OrgSchema>;

/** A project (group); the agent and host counters are Ops Manager's, always zero on pakman. */
export const ProjectSchema = Type.Object({
  activeAgentCount: Type.Optional(Type.Number()),
  agentApiKey: Type.Optional(Type.String()),
  hostCounts: Type.Optional(Type.Record(Type.String(), Type.Number())),
  id: Type.String(),
  ldapGroupMappings: Type.Optional(Type.Array(Type.Unknown())),
  links: Type.Array(LinkSchema),
  name: Type.String(),
  orgId: Type.String(),
  publicApiEnabled: Type.Optional(Type.Boolean()),
  replicaSetCount: Type.Optional(Type.Number()),
  shardCount: Type.Optional(Type.Number()),
  tags: Type.Optional(Type.Array(Type.String())),
});
/** A project (group). */
export type Project = Static<typeof ProjectSchema>;

/** A user; `password` is never part of it. */
export const UserSchema = Type.Object({
  country: Type.Optional(Type.String()),
  emailAddress: Type.Optional(Type.String()),
  firstName: Type.String(),
  id: Type.String(),
  lastName: Type.String(),
  links: Type.Array(LinkSchema),
  mobileNumber: Type.Optional(Type.String()),
  roles: Type.Array(RoleSchema),
  teamIds: Type.Optional(Type.Array(Type.String())),
  username: Type.String(),
});
/** A user. */
export type User = Static<typeof UserSchema>;

/** An entry of an org key's access list; `ipAddress` is null for entries created as a CIDR block. */
export const AccessListEntrySchema = Type.Object({
  cidrBlock: Type.String(),
  count: Type.Number(),
  created: Type.String(),
  ipAddress: Nullable(Type.String()),
  lastUsed: Type.Optional(Type.String()),
  lastUsedAddress: Type.Optional(Type.String()),
  links: Type.Array(LinkSchema),
});
/** An entry of an org key's access list. */
export type AccessListEntry = Static<typeof AccessListEntrySchema>;

/** An entry of the global access list, addressed by id. */
export const GlobalAccessListEntrySchema = Type.Object({
  cidrBlock: Type.String(),
  count: Type.Optional(Type.Number()),
  created: Type.String(),
  description: Type.String(),
  expires: Type.Optional(Nullable(Type.String())),
  id: Type.String(),
  lastUsed: Type.Optional(Nullable(Type.String())),
  lastUsedAddress: Type.Optional(Nullable(Type.String())),
  links: Type.Optional(Type.Array(LinkSchema)),
  type: Type.Optional(Type.String()),
  updated: Type.Optional(Type.String()),
});
/** An entry of the global access list. */
export type GlobalAccessListEntry = Static<typeof GlobalAccessListEntrySchema>;

/** An audit event: who (publicKey or username, remoteAddress) changed what; never a secret. */
export const EventSchema = Type.Object({
  apiKeyId: Type.Optional(Type.String()),
  created: Type.String(),
  eventTypeName: Type.String(),
  expiresAt: Type.Optional(Type.String()),
  graceEndsAt: Type.Optional(Type.String()),
  groupId: Type.Optional(Type.String()),
  id: Type.String(),
  isGlobalAdmin: Type.Optional(Type.Boolean()),
  links: Type.Array(LinkSchema),
  orgId: Type.Optional(Type.String()),
  publicKey: Type.Optional(Type.String()),
  remoteAddress: Type.Optional(Type.String()),
  targetPublicKey: Type.Optional(Type.String()),
  targetUsername: Type.Optional(Type.String()),
  userId: Type.Optional(Type.String()),
  username: Type.Optional(Type.String()),
  whitelistEntry: Type.Optional(Type.String()),
});
/** An audit event. */
export type Event = Static<typeof EventSchema>;

/** Extension: a key's usage per hour or day (`GET …/apiKeys/{ID}/usage`). */
export const KeyUsageSchema = Type.Object({
  apiKeyId: Type.String(),
  end: Type.String(),
  granularity: Type.Union([Type.Literal('HOURLY'), Type.Literal('DAILY')]),
  lastUsed: Type.Optional(Type.String()),
  links: Type.Array(LinkSchema),
  results: Type.Array(Type.Object({ count: Type.Number(), start: Type.String() })),
  start: Type.String(),
  total: Type.Number(),
});
/** A key's usage per hour or day. */
export type KeyUsage = Static<typeof KeyUsageSchema>;

/** Extension: an org's key policy (`/orgs/{ORG-ID}/apiKeyPolicy`). */
export const ApiKeyPolicySchema = Type.Object({
  maxKeyLifetimeSeconds: Nullable(Type.Number()),
  orgId: Type.String(),
});
/** An org's key policy. */
export type ApiKeyPolicy = Static<typeof ApiKeyPolicySchema>;

/** Extension: a rate limit (`/orgs/{ORG-ID}/rateLimit`, `…/apiKeys/{API-KEY-ID}/rateLimit`). */
export const RateLimitSchema = Type.Object({
  links: Type.Array(LinkSchema),
  periodSeconds: Type.Number(),
  requests: Type.Number(),
});
/** A rate limit: at most `requests` in a burst, refilled at `requests` per `periodSeconds`. */
export type RateLimit = Static<typeof RateLimitSchema>;

/** A list page of `item`: `{links, results, totalCount}` (api.md §2). */
export const ListSchema = <T extends TSchema>(item: T) =>
  Type.Object({ links: Type.Array(LinkSchema), results: Type.Array(item), totalCount: Type.Number() });
/** A list page of `T`. */
export type List<T> = Omit<Static<ReturnType<typeof ListSchema<TSchema>>>, 'results'> & { results: T[] };

/** An error body; `errorCode` and `parameters` are absent on a digest-authentication failure. */
export const ErrorBodySchema = Type.Object({
  detail: Type.String(),
  error: Type.Number(),
  errorCode: Type.Optional(Type.String()),
  parameters: Type.Optional(Type.Array(Type.Unknown())),
  reason: Type.String(),
});
/** An error body. */
export type ErrorBody = Static<typeof ErrorBodySchema>;

/** `GET /api/public/v1.0`. */
export const RootSchema = Type.Object({
  appName: Type.String(),
  build: Type.String(),
  links: Type.Array(LinkSchema),
  throttling: Type.Boolean(),
});
/** `GET /api/public/v1.0`. */
export type Root = Static<typeof RootSchema>;

/** `POST /unauth/users`: the first user and its GLOBAL_OWNER programmatic key (private key in full). */
export const FirstUserResponseSchema = Type.Object({
  programmaticApiKey: ApiKeySchema,
  user: UserSchema,
});
/** `POST /unauth/users` response. */
export type FirstUserResponse = Static<typeof FirstUserResponseSchema>;
