/** `/groups/{PROJECT-ID}/apiKeys`: org keys as seen, created and assigned through a project. */
import type { ProjectKeyAssignBody } from '../../schema/bodies.js';
import type { ApiKey, List } from '../../schema/responses.js';
import { type Core, type PageOptions, seg } from '../core.js';
import type { ProjectKeyCreateBody } from '../types.js';

/** Project API keys. */
export class ProjectApiKeysApi {
  constructor(private readonly core: Core) {}

  #path(projectId: string, keyId?: string): string {
    return `/groups/${seg(projectId)}/apiKeys${keyId === undefined ? '' : `/${seg(keyId)}`}`;
  }

  /** One page of the keys holding a role in the project; each shows all its roles. */
  list(projectId: string, opts: PageOptions = {}): Promise<List<ApiKey>> {
    return this.core.list(this.#path(projectId), { ...opts });
  }

  /** Every key of the project. */
  iterate(projectId: string, opts: { itemsPerPage?: number } = {}): AsyncGenerator<ApiKey, void, undefined> {
    return this.core.iterate(this.#path(projectId), { ...opts });
  }

  /** Every page of the project's keys (for progress reporting). */
  pages(
    projectId: string,
    opts: { itemsPerPage?: number } = {},
  ): AsyncGenerator<List<ApiKey>, void, undefined> {
    return this.core.pages(this.#path(projectId), { ...opts });
  }

  /** Creates an org key in the project's org holding these project roles; private key in full, once. */
  create(projectId: string, body: ProjectKeyCreateBody): Promise<ApiKey> {
    return this.core.json('POST', this.#path(projectId), { body });
  }

  /** Assigns an org key to the project, or replaces its roles there. */
  assign(projectId: string, keyId: string, body: ProjectKeyAssignBody): Promise<ApiKey> {
    return this.core.json('PATCH', this.#path(projectId, keyId), { body });
  }

  /** Removes the key's roles in the project; the key stays in its org. */
  async unassign(projectId: string, keyId: string): Promise<void> {
    await this.core.raw('DELETE', this.#path(projectId, keyId));
  }
}
