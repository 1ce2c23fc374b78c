/**
 * Key access lists: `/orgs/{ORG-ID}/apiKeys/{API-KEY-ID}/accessList[/{ENTRY}]` and the legacy `whitelist`
 * alias. Hrefs use the name that was called. ENTRY is an IP or a CIDR with `%2F`; a CIDR with a literal
 * `/` (two path segments, as the Go client sends it unescaped) is accepted too.
 */
import type { FastifyRequest } from 'fastify';
import { AccessListAddBody } from '../../../schema/bodies.js';
import { ApiError } from '../../../schema/errors.js';
import type { AccessListService } from '../../domain/accessLists.js';
import type { AccessListPage } from '../../storage/repositories/accessLists.js';
import { listBody, type PageRequest, parsePageRequest } from '../pagination.js';
import { noContent, ok, params, query, type RouteSpec } from '../route.js';
import { validateBody } from '../validate.js';
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

/** Elements that are not objects are a malformed body, not a field error without a field name. */
function parseAddBody(body: unknown): AccessListAddBody {
  if (Array.isArray(body) && body.some((e) => typeof e !== 'object' || e === null || Array.isArray(e)))
    throw new ApiError('INVALID_JSON');
  return validateBody(AccessListAddBody, body);
}

function routesFor(lists: AccessListService, name: 'accessList' | 'whitelist'): RouteSpec[] {
  const base = `${KEY_PATH}/${name}`;
  const oneEntry: RouteSpec[] = [`${base}/:entry`, `${base}/:address/:prefix`].flatMap((url) => [
    {
      method: 'GET',
      url,
      action: 'accessList.read',
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
      handler: async (req) => {
        const { orgId, apiKeyId } = params(req);
        const page = parsePageRequest(query(req));
        const items = parseAddBody(req.body);
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
