/**
 * Key access lists: `/orgs/{ORG-ID}/apiKeys/{API-KEY-ID}/accessList[/{ENTRY}]` and the legacy `whitelist`
 * alias. Hrefs use the name that was called. ENTRY is an IP or a CIDR with `%2F`; a CIDR with a literal
 * `/` (two path segments, as the Go client sends it unescaped) is accepted too.
 */

import type { FastifyRequest } from 'fastify';
import { AccessListAddBody } from '../../../schema/bodies.js';
import { AccessListEntrySchema, ListSchema } from '../../../schema/responses.js';
import type { AccessListService } from '../../domain/accessLists.js';
import type { AccessListPage } from '../../storage/repositories/accessLists.js';
import { listBody, type PageRequest, parsePageRequest } from '../pagination.js';
import { bodyOf, noContent, ok, params, query, type RouteSpec } from '../route.js';
import { API_BASE, accessListEntryToWire } from '../wire.js';
import { actorOf } from './actor.js';

const KEY_PATH = '/orgs/:orgId/apiKeys/:apiKeyId';

/** Absolute URL of the key, and of its list under the name that was called. */
function urls(req: FastifyRequest, name: string) {
  const { orgId, apiKeyId } = params(req);
  const key = `${req.ctx.origin}${API_BASE}/orgs/${orgId}/apiKeys/${apiKeyId}`;
  return { key, list: `${key}/${name}` };
}

/** The ENTRY of the path: one segment (IP, or CIDR with %2F, already decoded) or address + prefix. */
function entryOf(req: FastifyRequest): string {
  const p = params(req);
  return p.prefix === undefined ? p.entry! : `${p.address}/${p.prefix}`;
}

function pageOffset(page: PageRequest): number {
  return (page.pageNum - 1) * page.itemsPerPage;
}

function listResponse(req: FastifyRequest, name: string, page: PageRequest, result: AccessListPage) {
  const listUrl = urls(req, name).list;
  const items = result.items.map((e) => accessListEntryToWire(listUrl, e));
  return ok(
    listBody(req.ctx.origin + req.ctx.path, req.ctx.rawQuery, page, { items, totalCount: result.totalCount }),
  );
}

function routesFor(lists: AccessListService, name: 'accessList' | 'whitelist'): RouteSpec[] {
  const base = `${KEY_PATH}/${name}`;
  const oneEntry: RouteSpec[] = [`${base}/:entry`, `${base}/:address/:prefix`].flatMap((url) => [
    {
      method: 'GET',
      url,
      action: 'accessList.read',
      summary: "One entry of an API key's access list",
      response: { status: 200, schema: AccessListEntrySchema },
      handler: async (req) => {
        const { orgId, apiKeyId } = params(req);
        const entry = await lists.get(actorOf(req), orgId!, apiKeyId!, entryOf(req));
        const u = urls(req, name);
        return ok(accessListEntryToWire(u.list, entry, u.key));
      },
    },
    {
      method: 'DELETE',
      url,
      action: 'accessList.write',
      summary: "Remove an entry from an API key's access list",
      handler: async (req) => {
        const { orgId, apiKeyId } = params(req);
        await lists.delete(actorOf(req), orgId!, apiKeyId!, entryOf(req));
        return noContent();
      },
    },
  ]);
  return [
    {
      method: 'GET',
      url: base,
      action: 'accessList.read',
      summary: "An API key's access list",
      response: { status: 200, schema: ListSchema(AccessListEntrySchema) },
      handler: async (req) => {
        const { orgId, apiKeyId } = params(req);
        const page = parsePageRequest(query(req));
        const result = await lists.list(actorOf(req), orgId!, apiKeyId!, pageOffset(page), page.itemsPerPage);
        return listResponse(req, name, page, result);
      },
    },
    {
      method: 'POST',
      url: base,
      action: 'accessList.write',
      summary: "Add entries to an API key's access list (answers the list's first page)",
      response: { status: 200, schema: ListSchema(AccessListEntrySchema) },
      body: AccessListAddBody,
      handler: async (req) => {
        const { orgId, apiKeyId } = params(req);
        const page = parsePageRequest(query(req));
        const items = bodyOf(req, AccessListAddBody);
        const result = await lists.add(
          actorOf(req),
          orgId!,
          apiKeyId!,
          items,
          pageOffset(page),
          page.itemsPerPage,
        );
        return listResponse(req, name, page, result);
      },
    },
    ...oneEntry,
  ];
}

/** Both names of the resource. */
export function accessListRoutes(lists: AccessListService): RouteSpec[] {
  return [...routesFor(lists, 'accessList'), ...routesFor(lists, 'whitelist')];
}
