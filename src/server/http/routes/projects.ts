/** Projects: `/groups`, `/groups/{PROJECT-ID}`, `/groups/byName/{NAME}`, and a project's or org's lists. */

import { ProjectCreateBody } from '../../../schema/bodies.js';
import { NameQuery } from '../../../schema/queries.js';
import { ListSchema, ProjectSchema, UserSchema } from '../../../schema/responses.js';
import type { ProjectService } from '../../domain/projects.js';
import type { ProjectRecord } from '../../storage/repositories/projects.js';
import type { UserRecord } from '../../storage/repositories/users.js';
import { bodyOf, created, noContent, ok, params, query, type RouteSpec } from '../route.js';
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
      summary: 'Projects the caller can see',
      response: { status: 200, schema: ListSchema(ProjectSchema) },
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
      summary: 'Create a project',
      response: { status: 201, schema: ProjectSchema },
      body: ProjectCreateBody,
      handler: async (req) => {
        const body = bodyOf(req, ProjectCreateBody);
        return created(
          projectToWire(req.ctx.origin, await projects.create(actorOf(req), body.name, body.orgId)),
        );
      },
    },
    {
      method: 'GET',
      url: '/groups/byName/:name',
      action: 'authenticated',
      summary: 'A project by name',
      response: { status: 200, schema: ProjectSchema },
      handler: async (req) =>
        ok(projectToWire(req.ctx.origin, await projects.getByName(req.ctx.principal!, params(req).name!))),
    },
    {
      method: 'GET',
      url: '/groups/:groupId',
      action: 'project.read',
      summary: 'One project',
      response: { status: 200, schema: ProjectSchema },
      handler: async (req) => ok(projectToWire(req.ctx.origin, await projects.get(params(req).groupId!))),
    },
    {
      method: 'DELETE',
      url: '/groups/:groupId',
      action: 'project.delete',
      summary: 'Delete a project',
      handler: async (req) => {
        await projects.delete(actorOf(req), params(req).groupId!);
        return noContent();
      },
    },
    {
      method: 'GET',
      url: '/groups/:groupId/users',
      action: 'project.read',
      summary: "A project's users",
      response: { status: 200, schema: ListSchema(UserSchema) },
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
      summary: "An organization's projects",
      query: NameQuery,
      response: { status: 200, schema: ListSchema(ProjectSchema) },
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
