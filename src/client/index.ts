/**
 * `pakman/client`: a typed SDK for the Ops Manager Public API v1.0 as pakman (and Ops Manager) serve it,
 * with HTTP Digest authentication that reuses nonces, page iterators and typed errors.
 */
export type {
  AccessListAddBody,
  ApiKeyCreateBody,
  ApiKeyPolicyBody,
  ApiKeyRotateBody,
  ApiKeyUpdateBody,
  FirstUserBody,
  GlobalAccessListCreateBody,
  GlobalAccessListUpdateBody,
  OrgCreateBody,
  OrgUpdateBody,
  ProjectCreateBody,
  ProjectKeyAssignBody,
  RateLimitBody,
  UserCreateBody,
  UserUpdateBody,
} from '../schema/bodies.js';
export type { ErrorCode } from '../schema/errors.js';
export type {
  AccessListEntry,
  ApiKey,
  ApiKeyPolicy,
  ErrorBody,
  Event,
  FirstUserResponse,
  GlobalAccessListEntry,
  KeyUsage,
  Link,
  List,
  Org,
  Project,
  RateLimit,
  Role,
  Root,
  User,
} from '../schema/responses.js';
export {
  AccessListEntrySchema,
  ApiKeyPolicySchema,
  ApiKeySchema,
  ErrorBodySchema,
  EventSchema,
  FirstUserResponseSchema,
  GlobalAccessListEntrySchema,
  KeyUsageSchema,
  LinkSchema,
  ListSchema,
  OrgSchema,
  ProjectSchema,
  RateLimitSchema,
  RoleSchema,
  RootSchema,
  UserSchema,
} from '../schema/responses.js';
export type { GlobalRole, GroupRole, OrgRole, RoleName } from '../schema/roles.js';
export { PakmanClient, type ServiceVersion } from './client.js';
export { API_PATH, apiRoot, Core, type PageOptions, type PakmanClientOptions, type Query } from './core.js';
export { type ApiErrorCode, PakmanApiError, PakmanConnectionError } from './errors.js';
export type { EventScope } from './resources/events.js';
export type { Credentials, RawResponse } from './transport.js';
export type * from './types.js';
