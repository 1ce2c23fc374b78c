/** `/orgs` and `/orgs/{ORG-ID}`. */
import { OrgCreateBody, OrgUpdateBody } from '../../../schema/bodies.js';
import type { OrgService } from '../../domain/orgs.js';
import { listBody, parsePageRequest } from '../pagination.js';
import { noContent, ok, params, query, type RouteSpec } from '../route.js';
import { validateBody } from '../validate.js';
import { orgToWire } from '../wire.js';
import { actorOf } from './actor.js';
import { textQuery } from './paged.js';

export function orgRoutes(orgs: OrgService): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/orgs',
      action: 'authenticated',
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
      handler: async (req) => {
        const body = validateBody(OrgCreateBody, req.body);
        const org = await orgs.create(actorOf(req), body.name);
        const { id, links, name } = orgToWire(req.ctx.origin, org);
        return ok({ id, links, name });
      },
    },
    {
      method: 'GET',
      url: '/orgs/:orgId',
      action: 'org.read',
      handler: async (req) => ok(orgToWire(req.ctx.origin, await orgs.get(params(req).orgId!))),
    },
    {
      method: 'PATCH',
      url: '/orgs/:orgId',
      action: 'org.update',
      handler: async (req) => {
        const body = validateBody(OrgUpdateBody, req.body);
        return ok(orgToWire(req.ctx.origin, await orgs.rename(actorOf(req), params(req).orgId!, body.name)));
      },
    },
    {
      method: 'DELETE',
      url: '/orgs/:orgId',
      action: 'org.delete',
      handler: async (req) => {
        await orgs.delete(actorOf(req), params(req).orgId!);
        return noContent();
      },
    },
  ];
}
