/** Organization API keys: `/orgs/{ORG-ID}/apiKeys[/{API-KEY-ID}]` (the seed document's resource). */

import { ApiKeyCreateBody, ApiKeyUpdateBody } from '../../../schema/bodies.js';
import { ApiKeySchema, ListSchema } from '../../../schema/responses.js';
import type { ApiKeyService } from '../../domain/apiKeys.js';
import { bindRoles } from '../../domain/roles.js';
import { listBody, parsePageRequest } from '../pagination.js';
import { apiKeysToWire } from '../prerendered.js';
import { bodyOf, noContent, ok, params, query, type RouteSpec } from '../route.js';
import { apiKeyToWire } from '../wire.js';
import { actorOf } from './actor.js';
import { textQuery } from './paged.js';

export function apiKeyRoutes(keys: ApiKeyService): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/orgs/:orgId/apiKeys',
      action: 'orgKeys.read',
      summary: "An organization's API keys",
      response: { status: 200, schema: ListSchema(ApiKeySchema) },
      handler: async (req) => {
        const page = parsePageRequest(query(req));
        const offset = (page.pageNum - 1) * page.itemsPerPage;
        // `search` is pakman's extension (docs/api.md, docs/compatibility.md); without it, Ops Manager's list.
        const search = textQuery(query(req), 'search');
        const result = search
          ? await keys.search(params(req).orgId!, search, offset, page.itemsPerPage)
          : await keys.list(params(req).orgId!, offset, page.itemsPerPage);
        // Made once per stored key and reused, bytes included (prerendered.ts): a page is mostly these.
        const items = apiKeysToWire(req.ctx.origin, result.items, keys.now());
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
      url: '/orgs/:orgId/apiKeys',
      action: 'orgKeys.write',
      summary: 'Create an organization API key (the private key is shown once)',
      response: { status: 200, schema: ApiKeySchema },
      body: ApiKeyCreateBody,
      handler: async (req) => {
        const orgId = params(req).orgId!;
        const body = bodyOf(req, ApiKeyCreateBody);
        const created = await keys.create(
          actorOf(req),
          orgId,
          body.desc,
          bindRoles(body.roles, 'org', orgId),
          undefined,
          body.expiresAt,
        );
        return ok(apiKeyToWire(req.ctx.origin, created.key, created.privateKey, keys.now()));
      },
    },
    {
      method: 'GET',
      url: '/orgs/:orgId/apiKeys/:apiKeyId',
      action: 'orgKeys.read',
      summary: 'One organization API key',
      response: { status: 200, schema: ApiKeySchema },
      handler: async (req) => {
        const { orgId, apiKeyId } = params(req);
        return ok(apiKeyToWire(req.ctx.origin, await keys.get(orgId!, apiKeyId!), undefined, keys.now()));
      },
    },
    {
      method: 'PATCH',
      url: '/orgs/:orgId/apiKeys/:apiKeyId',
      action: 'orgKeys.write',
      summary: "Change an organization API key's description or roles",
      response: { status: 200, schema: ApiKeySchema },
      body: ApiKeyUpdateBody,
      handler: async (req) => {
        const { orgId, apiKeyId } = params(req);
        const body = bodyOf(req, ApiKeyUpdateBody);
        return ok(
          apiKeyToWire(
            req.ctx.origin,
            await keys.update(actorOf(req), orgId!, apiKeyId!, body.desc, body.roles, body.expiresAt),
            undefined,
            keys.now(),
          ),
        );
      },
    },
    {
      method: 'DELETE',
      url: '/orgs/:orgId/apiKeys/:apiKeyId',
      action: 'orgKeys.write',
      summary: 'Delete an organization API key',
      handler: async (req) => {
        const { orgId, apiKeyId } = params(req);
        await keys.delete(actorOf(req), orgId!, apiKeyId!);
        return noContent();
      },
    },
  ];
}
