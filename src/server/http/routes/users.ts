/** Users: `/users`, `/users/{USER-ID}`, `/users/byName/{NAME}`, and an org's users. */

import { UserCreateBody, UserUpdateBody } from '../../../schema/bodies.js';
import { ListSchema, UserSchema } from '../../../schema/responses.js';
import type { UserService } from '../../domain/users.js';
import type { UserRecord } from '../../storage/repositories/users.js';
import { bodyOf, created, noContent, ok, params, type RouteSpec } from '../route.js';
import { userToWire } from '../wire.js';
import { actorOf } from './actor.js';
import { paged } from './paged.js';

/** User routes; the password is accepted, hashed, and never part of a response. */
export function userRoutes(users: UserService): RouteSpec[] {
  return [
    {
      method: 'POST',
      url: '/users',
      action: 'users.create',
      summary: 'Create a user',
      response: { status: 201, schema: UserSchema },
      body: UserCreateBody,
      handler: async (req) => {
        const body = bodyOf(req, UserCreateBody);
        return created(userToWire(req.ctx.origin, await users.create(actorOf(req), body)));
      },
    },
    {
      method: 'GET',
      url: '/users/byName/:username',
      action: 'authenticated',
      summary: 'A user by username',
      response: { status: 200, schema: UserSchema },
      handler: async (req) =>
        ok(userToWire(req.ctx.origin, await users.getByName(req.ctx.principal!, params(req).username!))),
    },
    {
      method: 'GET',
      url: '/users/:userId',
      action: 'user.read',
      summary: 'One user',
      response: { status: 200, schema: UserSchema },
      handler: async (req) => ok(userToWire(req.ctx.origin, await users.get(params(req).userId!))),
    },
    {
      method: 'PATCH',
      url: '/users/:userId',
      action: 'user.update',
      summary: 'Change a user (roles replace all roles)',
      response: { status: 200, schema: UserSchema },
      body: UserUpdateBody,
      handler: async (req) => {
        const body = bodyOf(req, UserUpdateBody);
        return ok(userToWire(req.ctx.origin, await users.update(actorOf(req), params(req).userId!, body)));
      },
    },
    {
      method: 'DELETE',
      url: '/users/:userId',
      action: 'user.delete',
      summary: 'Delete a user',
      handler: async (req) => {
        await users.delete(actorOf(req), params(req).userId!);
        return noContent();
      },
    },
    {
      method: 'GET',
      url: '/orgs/:orgId/users',
      action: 'orgUsers.read',
      summary: "An organization's users",
      response: { status: 200, schema: ListSchema(UserSchema) },
      handler: (req) =>
        paged(
          req,
          (offset, limit) => users.listByOrg(params(req).orgId!, offset, limit),
          (u: UserRecord) => userToWire(req.ctx.origin, u),
        ),
    },
  ];
}
