/** `/admin/accessList` and its legacy alias `/admin/whitelist`: the addresses global keys may come from. */
import type { GlobalAccessListCreateBody, GlobalAccessListUpdateBody } from '../../schema/bodies.js';
import type { GlobalAccessListEntry, List } from '../../schema/responses.js';
import { type Core, type PageOptions, seg } from '../core.js';

/** The global access list; entries are addressed by id. */
export class GlobalAccessListApi {
  /** @param segment `accessList`, or `whitelist` for older servers and clients. */
  constructor(
    private readonly core: Core,
    private readonly segment: 'accessList' | 'whitelist' = 'accessList',
  ) {}

  #path(id?: string): string {
    return `/admin/${this.segment}${id === undefined ? '' : `/${seg(id)}`}`;
  }

  /** One page of entries. */
  list(opts: PageOptions = {}): Promise<List<GlobalAccessListEntry>> {
    return this.core.list(this.#path(), { ...opts });
  }

  /** Every entry. */
  iterate(): AsyncGenerator<GlobalAccessListEntry, void, undefined> {
    return this.core.iterate(this.#path());
  }

  /** Every page of entries. */
  pages(): AsyncGenerator<List<GlobalAccessListEntry>, void, undefined> {
    return this.core.pages(this.#path());
  }

  /** One entry by id. */
  get(id: string): Promise<GlobalAccessListEntry> {
    return this.core.json('GET', this.#path(id));
  }

  /** Adds one entry `{cidrBlock, description}`. */
  create(body: GlobalAccessListCreateBody): Promise<GlobalAccessListEntry> {
    return this.core.json('POST', this.#path(), { body });
  }

  /** Changes an entry's block and/or description. */
  update(id: string, body: GlobalAccessListUpdateBody): Promise<GlobalAccessListEntry> {
    return this.core.json('PATCH', this.#path(id), { body });
  }

  /** Removes an entry. */
  async delete(id: string): Promise<void> {
    await this.core.raw('DELETE', this.#path(id));
  }
}
