/**
 * Request-body schemas (TypeBox): one definition gives the server its validation and the SDK its types.
 */
import { type Static, Type } from '@sinclair/typebox';
import { GLOBAL_ROLES, GROUP_ROLES, ORG_ROLES } from './roles.js';

const ALL_ROLES = [...ORG_ROLES, ...GROUP_ROLES, ...GLOBAL_ROLES];

/** Any role name: unknown names are INVALID_ENUM_VALUE; the scope is checked by the service. */
export const RoleNameSchema = Type.Union(ALL_ROLES.map((r) => Type.Literal(r)));

/** `desc` of a key: 1 to 250 characters. */
export const DescSchema = Type.String({ minLength: 1, maxLength: 250 });

const Roles = Type.Array(RoleNameSchema, { minItems: 1 });

export const OrgCreateBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 250 }) });
export type OrgCreateBody = Static<typeof OrgCreateBody>;

export const OrgUpdateBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 250 }) });
export type OrgUpdateBody = Static<typeof OrgUpdateBody>;

/**
 * A key's expiry (an extension, docs/compatibility.md): ISO-8601 UTC with second precision, or null for
 * none (`x-nullable`: null is a value here, not an absent field).
 */
export const ExpiresAtSchema = Type.Unsafe<string | null>({ type: 'string', 'x-nullable': true });

export const ApiKeyCreateBody = Type.Object({
  desc: DescSchema,
  roles: Roles,
  expiresAt: Type.Optional(ExpiresAtSchema),
});
export type ApiKeyCreateBody = Static<typeof ApiKeyCreateBody>;

export const ApiKeyUpdateBody = Type.Object(
  { desc: Type.Optional(DescSchema), roles: Type.Optional(Roles), expiresAt: Type.Optional(ExpiresAtSchema) },
  // Ops Manager's message names desc and roles; the extension alone is enough too.
  { 'x-atLeastOne': ['desc', 'roles'], 'x-orAlso': ['expiresAt'] },
);
export type ApiKeyUpdateBody = Static<typeof ApiKeyUpdateBody>;

/** `POST …/apiKeys/{ID}/rotate`: how long the replaced private key keeps working, 0 to 7 days. */
export const ApiKeyRotateBody = Type.Object({ graceSeconds: Type.Integer({ minimum: 0, maximum: 604_800 }) });
export type ApiKeyRotateBody = Static<typeof ApiKeyRotateBody>;

/** `PATCH /orgs/{ORG-ID}/apiKeyPolicy`: the cap on new keys' lifetimes, 60 s to 10 years, or null for none. */
export const ApiKeyPolicyBody = Type.Object({
  maxKeyLifetimeSeconds: Type.Unsafe<number | null>({
    type: 'integer',
    minimum: 60,
    maximum: 315_360_000,
    'x-nullable': true,
  }),
});
export type ApiKeyPolicyBody = Static<typeof ApiKeyPolicyBody>;

export const ProjectKeyAssignBody = Type.Object({ roles: Roles });
export type ProjectKeyAssignBody = Static<typeof ProjectKeyAssignBody>;

export const FirstUserBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 250 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  firstName: Type.String({ minLength: 1, maxLength: 250 }),
  lastName: Type.String({ minLength: 1, maxLength: 250 }),
  emailAddress: Type.Optional(Type.String({ minLength: 1, maxLength: 250 })),
});
export type FirstUserBody = Static<typeof FirstUserBody>;

/** One element of a key access-list POST: `ipAddress` or `cidrBlock` (both at once is refused by the service). */
export const AccessListAddItem = Type.Object(
  { ipAddress: Type.Optional(Type.String()), cidrBlock: Type.Optional(Type.String()) },
  { 'x-atLeastOne': ['ipAddress', 'cidrBlock'] },
);

/** A key access-list POST: always a JSON array, even for one entry. */
export const AccessListAddBody = Type.Array(AccessListAddItem);
export type AccessListAddBody = Static<typeof AccessListAddBody>;

/** `description` of a global access-list entry: 1 to 250 characters. */
const GlobalAccessDescription = Type.String({ minLength: 1, maxLength: 250 });

/** A global access-list POST: one object, both fields required. */
export const GlobalAccessListCreateBody = Type.Object({
  cidrBlock: Type.String(),
  description: GlobalAccessDescription,
});
export type GlobalAccessListCreateBody = Static<typeof GlobalAccessListCreateBody>;

/** A global access-list PATCH: at least one of the two fields. */
export const GlobalAccessListUpdateBody = Type.Object(
  { cidrBlock: Type.Optional(Type.String()), description: Type.Optional(GlobalAccessDescription) },
  { 'x-atLeastOne': ['cidrBlock', 'description'] },
);
export type GlobalAccessListUpdateBody = Static<typeof GlobalAccessListUpdateBody>;

/** `POST /groups`: a project's name (unique in the deployment) and its org. */
export const ProjectCreateBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 250 }),
  orgId: Type.String(),
});
export type ProjectCreateBody = Static<typeof ProjectCreateBody>;

/** A user's role in a request: `{roleName}` (global), `{orgId, roleName}` or `{groupId, roleName}`. */
export const UserRoleInput = Type.Object({
  roleName: RoleNameSchema,
  orgId: Type.Optional(Type.String()),
  groupId: Type.Optional(Type.String()),
});

const UserText = Type.String({ minLength: 1, maxLength: 250 });
const UserFields = {
  username: UserText,
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  firstName: UserText,
  lastName: UserText,
  emailAddress: Type.Optional(UserText),
  mobileNumber: Type.Optional(Type.String({ maxLength: 64 })),
  country: Type.Optional(Type.String({ maxLength: 64 })),
  roles: Type.Optional(Type.Array(UserRoleInput)),
};

/** `POST /users`: the profile, a password (stored hashed, never returned) and optional roles. */
export const UserCreateBody = Type.Object(UserFields);
export type UserCreateBody = Static<typeof UserCreateBody>;

/** `PATCH /users/{USER-ID}`: any of the create fields, at least one; `roles` replaces all roles. */
export const UserUpdateBody = Type.Object(
  {
    ...UserFields,
    username: Type.Optional(UserFields.username),
    password: Type.Optional(UserFields.password),
    firstName: Type.Optional(UserFields.firstName),
    lastName: Type.Optional(UserFields.lastName),
  },
  { 'x-atLeastOne': Object.keys(UserFields) },
);
export type UserUpdateBody = Static<typeof UserUpdateBody>;

/** A rate limit (pakman extension): at most `requests` every `periodSeconds` (1 s to a day), per key. */
export const RateLimitBody = Type.Object({
  requests: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
  periodSeconds: Type.Integer({ minimum: 1, maximum: 86_400 }),
});
export type RateLimitBody = Static<typeof RateLimitBody>;
