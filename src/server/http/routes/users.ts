/** Users: `/users`, `/users/{USER-ID}`, `/users/byName/{NAME}`, and an org's users. */
import { UserCreateBody, UserUpdateBody } from '../../../schema/bodies.js';
import type { UserService } from '../../domain/users.js';
import type { UserRecord } from '../../storage/repositories/users.js';
import { created, noContent, ok, params, type RouteSpec } from '../route.js';
import { validateBody } from '../validate.js';
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
      handler: async (req) => {
        const body = validateBody(UserCreateBody, req.body);
        return created(userToWire(req.ctx.origin, await users.create(actorOf(req), body)));
      },
    },
    {
      method: 'GET',
      url: '/users/byName/:username',
      action: 'authenticated',
      handler: async (req) =>
        ok(userToWire(req.ctx.origin, await users.getByName(req.ctx.principal!, params(req).username!))),
    },
    {
      method: 'GET',
      url: '/users/:userId',
      action: 'user.read',
      handler: async (req) => ok(userToWire(req.ctx.origin, await users.get(params(req).userId!))),
    },
    {
      method: 'PATCH',
      url: '/users/:userId',
      action: 'user.update',
      handler: async (req) => {
        const body = validateBody(UserUpdateBody, req.body);
        return ok(userToWire(req.ctx.origin, await users.update(actorOf(req), params(req).userId!, body)));
      },
    },
    {
      method: 'DELETE',
      url: '/users/:userId',
      action: 'user.delete',
      handler: async (req) => {
        await users.delete(actorOf(req), params(req).userId!);
        return noContent();
      },
    },
    {
      method: 'GET',
      url: '/orgs/:orgId/users',
      action: 'orgUsers.read',
      handler: (req) =>
        paged(
          req,
          (offset, limit) => users.listByOrg(params(req).orgId!, offset, limit),
          (u: UserRecord) => userToWire(req.ctx.origin, u),
        ),
    },
  ];
}
