/** Projects: `/groups`, `/groups/{PROJECT-ID}`, `/groups/byName/{NAME}`, and a project's or org's lists. */
import { ProjectCreateBody } from '../../../schema/bodies.js';
import type { ProjectService } from '../../domain/projects.js';
import type { ProjectRecord } from '../../storage/repositories/projects.js';
import type { UserRecord } from '../../storage/repositories/users.js';
import { created, noContent, ok, params, query, type RouteSpec } from '../route.js';
import { validateBody } from '../validate.js';
import { projectToWire, userToWire } from '../wire.js';
import { actorOf } from './actor.js';
import { paged, textQuery } from './paged.js';

/** Project routes. POST /groups and byName authorize in the service: the org is not in the path. */
export function projectRoutes(projects: ProjectService): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/groups',
      action: 'authenticated',
      handler: (req) =>
        paged(
          req,
          (offset, limit) => projects.list(req.ctx.principal!, offset, limit),
          (p: ProjectRecord) => projectToWire(req.ctx.origin, p),
        ),
    },
    {
      method: 'POST',
      url: '/groups',
      action: 'authenticated',
      handler: async (req) => {
        const body = validateBody(ProjectCreateBody, req.body);
        return created(
          projectToWire(req.ctx.origin, await projects.create(actorOf(req), body.name, body.orgId)),
        );
      },
    },
    {
      method: 'GET',
      url: '/groups/byName/:name',
      action: 'authenticated',
      handler: async (req) =>
        ok(projectToWire(req.ctx.origin, await projects.getByName(req.ctx.principal!, params(req).name!))),
    },
    {
      method: 'GET',
      url: '/groups/:groupId',
      action: 'project.read',
      handler: async (req) => ok(projectToWire(req.ctx.origin, await projects.get(params(req).groupId!))),
    },
    {
      method: 'DELETE',
      url: '/groups/:groupId',
      action: 'project.delete',
      handler: async (req) => {
        await projects.delete(actorOf(req), params(req).groupId!);
        return noContent();
      },
    },
    {
      method: 'GET',
      url: '/groups/:groupId/users',
      action: 'project.read',
      handler: (req) =>
        paged(
          req,
          (offset, limit) => projects.users(params(req).groupId!, offset, limit),
          (u: UserRecord) => userToWire(req.ctx.origin, u),
        ),
    },
    {
      method: 'GET',
      url: '/orgs/:orgId/groups',
      action: 'org.read',
      handler: (req) =>
        paged(
          req,
          (offset, limit) =>
            projects.listByOrg(params(req).orgId!, textQuery(query(req), 'name'), offset, limit),
          (p: ProjectRecord) => projectToWire(req.ctx.origin, p),
        ),
    },
  ];
}
