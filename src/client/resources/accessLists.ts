/** `/orgs/{ORG-ID}/apiKeys/{API-KEY-ID}/accessList` and its legacy alias `/whitelist`. */
import type { AccessListAddBody } from '../../schema/bodies.js';
import type { AccessListEntry, List } from '../../schema/responses.js';
import { type Core, type PageOptions, seg } from '../core.js';

/**
 * The path segment of an entry: a single address as the bare IP (as the server's own links print it),
 * a block with its `/` as `%2F`.
 */
export function entrySegment(entry: string): string {
  const [ip, bits] = entry.split('/');
  const single = bits === undefined || bits === (ip!.includes(':') ? '128' : '32');
  return seg(single ? ip! : `${ip}/${bits}`).replace(/%3A/gi, ':');
}

/** An org key's IP access list. */
export class AccessListsApi {
  /** @param segment `accessList`, or `whitelist` for servers older than Ops Manager 5.0. */
  constructor(
    private readonly core: Core,
    private readonly segment: 'accessList' | 'whitelist' = 'accessList',
  ) {}

  #path(orgId: string, keyId: string, entry?: string): string {
    const base = `/orgs/${seg(orgId)}/apiKeys/${seg(keyId)}/${this.segment}`;
    return entry === undefined ? base : `${base}/${entrySegment(entry)}`;
  }

  /** One page of the key's access list. */
  list(orgId: string, keyId: string, opts: PageOptions = {}): Promise<List<AccessListEntry>> {
    return this.core.list(this.#path(orgId, keyId), { ...opts });
  }

  /** Every entry of the key's access list. */
  iterate(orgId: string, keyId: string): AsyncGenerator<AccessListEntry, void, undefined> {
    return this.core.iterate(this.#path(orgId, keyId));
  }

  /** Every page of the key's access list. */
  pages(orgId: string, keyId: string): AsyncGenerator<List<AccessListEntry>, void, undefined> {
    return this.core.pages(this.#path(orgId, keyId));
  }

  /** One entry, by IP or CIDR block. */
  get(orgId: string, keyId: string, entry: string): Promise<AccessListEntry> {
    return this.core.json('GET', this.#path(orgId, keyId, entry));
  }

  /** Appends entries (`{ipAddress}` or `{cidrBlock}` each); returns the whole list. */
  add(orgId: string, keyId: string, entries: AccessListAddBody): Promise<List<AccessListEntry>> {
    return this.core.json('POST', this.#path(orgId, keyId), { body: entries });
  }

  /** Removes one entry, by IP or CIDR block. */
  async delete(orgId: string, keyId: string, entry: string): Promise<void> {
    await this.core.raw('DELETE', this.#path(orgId, keyId, entry));
  }
}
