/** `/orgs` and `/orgs/{ORG-ID}`. */

import { OrgCreateBody, OrgUpdateBody } from '../../../schema/bodies.js';
import { NameQuery } from '../../../schema/queries.js';
import { ListSchema, OrgSchema } from '../../../schema/responses.js';
import type { OrgService } from '../../domain/orgs.js';
import { listBody, parsePageRequest } from '../pagination.js';
import { bodyOf, noContent, ok, params, query, type RouteSpec } from '../route.js';
import { orgToWire } from '../wire.js';
import { actorOf } from './actor.js';
import { textQuery } from './paged.js';

export function orgRoutes(orgs: OrgService): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/orgs',
      action: 'authenticated',
      summary: 'Organizations the caller can see',
      query: NameQuery,
      response: { status: 200, schema: ListSchema(OrgSchema) },
      handler: async (req) => {
        const page = parsePageRequest(query(req));
        const result = await orgs.list(
          req.ctx.principal!,
          textQuery(query(req), 'name'),
          (page.pageNum - 1) * page.itemsPerPage,
          page.itemsPerPage,
        );
        const items = result.items.map((o) => orgToWire(req.ctx.origin, o));
        return ok(
          listBody(req.ctx.origin + req.ctx.path, req.ctx.rawQuery, page, {
            items,
            totalCount: result.totalCount,
          }),
        );
      },
    },
    {
      method: 'POST',
      url: '/orgs',
      action: 'orgs.create',
      summary: 'Create an organization',
      response: { status: 200, schema: OrgSchema },
      body: OrgCreateBody,
      handler: async (req) => {
        const body = bodyOf(req, OrgCreateBody);
        const org = await orgs.create(actorOf(req), body.name);
        const { id, links, name } = orgToWire(req.ctx.origin, org);
        return ok({ id, links, name });
      },
    },
    {
      method: 'GET',
      url: '/orgs/:orgId',
      action: 'org.read',
      summary: 'One organization',
      response: { status: 200, schema: OrgSchema },
      handler: async (req) => ok(orgToWire(req.ctx.origin, await orgs.get(params(req).orgId!))),
    },
    {
      method: 'PATCH',
      url: '/orgs/:orgId',
      action: 'org.update',
      summary: 'Rename an organization',
      response: { status: 200, schema: OrgSchema },
      body: OrgUpdateBody,
      handler: async (req) => {
        const body = bodyOf(req, OrgUpdateBody);
        return ok(orgToWire(req.ctx.origin, await orgs.rename(actorOf(req), params(req).orgId!, body.name)));
      },
    },
    {
      method: 'DELETE',
      url: '/orgs/:orgId',
      action: 'org.delete',
      summary: 'Delete an organization',
      handler: async (req) => {
        await orgs.delete(actorOf(req), params(req).orgId!);
        return noContent();
      },
    },
  ];
}
