/** Org API keys on a project: `/groups/{PROJECT-ID}/apiKeys[/{API-KEY-ID}]`. */

import { ApiKeyCreateBody, ProjectKeyAssignBody } from '../../../schema/bodies.js';
import { ApiKeySchema, ListSchema } from '../../../schema/responses.js';
import type { ProjectKeyService } from '../../domain/projectKeys.js';
import type { ApiKeyRecord } from '../../storage/repositories/apiKeys.js';
import { bodyOf, noContent, ok, params, type RouteSpec } from '../route.js';
import { apiKeyToWire } from '../wire.js';
import { actorOf } from './actor.js';
import { paged } from './paged.js';

/** Project key routes; every key shows all of its roles and links to its org. */
export function projectKeyRoutes(keys: ProjectKeyService): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/groups/:groupId/apiKeys',
      action: 'projectKeys.read',
      summary: 'API keys with roles in a project',
      response: { status: 200, schema: ListSchema(ApiKeySchema) },
      handler: (req) =>
        paged(
          req,
          (offset, limit) => keys.list(params(req).groupId!, offset, limit),
          (k: ApiKeyRecord) => apiKeyToWire(req.ctx.origin, k, undefined, keys.now()),
        ),
    },
    {
      method: 'POST',
      url: '/groups/:groupId/apiKeys',
      action: 'projectKeys.write',
      summary: "Create an API key of the project's organization with roles in the project",
      response: { status: 200, schema: ApiKeySchema },
      body: ApiKeyCreateBody,
      handler: async (req) => {
        const body = bodyOf(req, ApiKeyCreateBody);
        const made = await keys.create(
          actorOf(req),
          params(req).groupId!,
          body.desc,
          body.roles,
          body.expiresAt,
        );
        return ok(apiKeyToWire(req.ctx.origin, made.key, made.privateKey, keys.now()));
      },
    },
    {
      method: 'PATCH',
      url: '/groups/:groupId/apiKeys/:apiKeyId',
      action: 'projectKeys.write',
      summary: 'Assign an organization API key to a project (its roles there)',
      response: { status: 200, schema: ApiKeySchema },
      body: ProjectKeyAssignBody,
      handler: async (req) => {
        const { groupId, apiKeyId } = params(req);
        const body = bodyOf(req, ProjectKeyAssignBody);
        return ok(
          apiKeyToWire(
            req.ctx.origin,
            await keys.assign(actorOf(req), groupId!, apiKeyId!, body.roles),
            undefined,
            keys.now(),
          ),
        );
      },
    },
    {
      method: 'DELETE',
      url: '/groups/:groupId/apiKeys/:apiKeyId',
      action: 'projectKeys.write',
      summary: 'Unassign an API key from a project',
      handler: async (req) => {
        const { groupId, apiKeyId } = params(req);
        await keys.unassign(actorOf(req), groupId!, apiKeyId!);
        return noContent();
      },
    },
  ];
}
