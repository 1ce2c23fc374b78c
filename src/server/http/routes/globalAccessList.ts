/** The global access list: `/admin/accessList[/{ACCESS-LIST-ID}]` and the legacy `/admin/whitelist` alias. */

import type { FastifyRequest } from 'fastify';
import { GlobalAccessListCreateBody, GlobalAccessListUpdateBody } from '../../../schema/bodies.js';
import { GlobalAccessListEntrySchema, ListSchema } from '../../../schema/responses.js';
import type { GlobalAccessListService } from '../../domain/globalAccessList.js';
import { listBody, parsePageRequest } from '../pagination.js';
import { bodyOf, noContent, ok, params, query, type RouteSpec } from '../route.js';
import { API_BASE, globalAccessEntryToWire } from '../wire.js';
import { actorOf } from './actor.js';

function routesFor(list: GlobalAccessListService, name: 'accessList' | 'whitelist'): RouteSpec[] {
  const base = `/admin/${name}`;
  // Entry hrefs follow the name that was called, like the key access lists.
  const listUrl = (req: FastifyRequest) => `${req.ctx.origin}${API_BASE}${base}`;
  return [
    {
      method: 'GET',
      url: base,
      action: 'globalAccessList.read',
      summary: 'The global access list',
      response: { status: 200, schema: ListSchema(GlobalAccessListEntrySchema) },
      handler: async (req) => {
        const page = parsePageRequest(query(req));
        const result = await list.list((page.pageNum - 1) * page.itemsPerPage, page.itemsPerPage);
        const items = result.items.map((e) => globalAccessEntryToWire(listUrl(req), e));
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
      url: base,
      action: 'globalAccessList.write',
      summary: 'Add an entry to the global access list',
      response: { status: 200, schema: GlobalAccessListEntrySchema },
      body: GlobalAccessListCreateBody,
      handler: async (req) => {
        const body = bodyOf(req, GlobalAccessListCreateBody);
        const entry = await list.create(actorOf(req), body.cidrBlock, body.description);
        return ok(globalAccessEntryToWire(listUrl(req), entry));
      },
    },
    {
      method: 'GET',
      url: `${base}/:entryId`,
      action: 'globalAccessList.read',
      summary: 'One global access-list entry',
      response: { status: 200, schema: GlobalAccessListEntrySchema },
      handler: async (req) => ok(globalAccessEntryToWire(listUrl(req), await list.get(params(req).entryId!))),
    },
    {
      method: 'PATCH',
      url: `${base}/:entryId`,
      action: 'globalAccessList.write',
      summary: 'Change a global access-list entry',
      response: { status: 200, schema: GlobalAccessListEntrySchema },
      body: GlobalAccessListUpdateBody,
      handler: async (req) => {
        const body = bodyOf(req, GlobalAccessListUpdateBody);
        const entry = await list.update(actorOf(req), params(req).entryId!, body);
        return ok(globalAccessEntryToWire(listUrl(req), entry));
      },
    },
    {
      method: 'DELETE',
      url: `${base}/:entryId`,
      action: 'globalAccessList.write',
      summary: 'Remove a global access-list entry',
      handler: async (req) => {
        await list.delete(actorOf(req), params(req).entryId!);
        return noContent();
      },
    },
  ];
}

/** Both names of the resource. */
export function globalAccessListRoutes(list: GlobalAccessListService): RouteSpec[] {
  return [...routesFor(list, 'accessList'), ...routesFor(list, 'whitelist')];
}
