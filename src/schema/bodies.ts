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

export const ApiKeyCreateBody = Type.Object({ desc: DescSchema, roles: Roles });
export type ApiKeyCreateBody = Static<typeof ApiKeyCreateBody>;

export const ApiKeyUpdateBody = Type.Object(
  { desc: Type.Optional(DescSchema), roles: Type.Optional(Roles) },
  { 'x-atLeastOne': ['desc', 'roles'] },
);
export type ApiKeyUpdateBody = Static<typeof ApiKeyUpdateBody>;

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
