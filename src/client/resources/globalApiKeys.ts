/** `/admin/apiKeys`: global (Ops Manager administration) keys. */
import type {
  ApiKeyCreateBody,
  ApiKeyRotateBody,
  ApiKeyUpdateBody,
  RateLimitBody,
} from '../../schema/bodies.js';
import type { ApiKey, KeyUsage, List, RateLimit } from '../../schema/responses.js';
import { type Core, type PageOptions, seg } from '../core.js';
import type { KeyUsageOptions } from '../types.js';

/** Global API keys. */
export class GlobalApiKeysApi {
  constructor(private readonly core: Core) {}

  /** One page of the global keys. */
  list(opts: PageOptions = {}): Promise<List<ApiKey>> {
    return this.core.list('/admin/apiKeys', { ...opts });
  }

  /** Every global key. */
  iterate(opts: { itemsPerPage?: number } = {}): AsyncGenerator<ApiKey, void, undefined> {
    return this.core.iterate('/admin/apiKeys', { ...opts });
  }

  /** Every page of global keys (for progress reporting). */
  pages(opts: { itemsPerPage?: number } = {}): AsyncGenerator<List<ApiKey>, void, undefined> {
    return this.core.pages('/admin/apiKeys', { ...opts });
  }

  /** `GET /admin/apiKeys/{ID}`. */
  get(keyId: string): Promise<ApiKey> {
    return this.core.json('GET', `/admin/apiKeys/${seg(keyId)}`);
  }

  /** `POST /admin/apiKeys` with global role names; private key in full, once. */
  create(body: ApiKeyCreateBody): Promise<ApiKey> {
    return this.core.json('POST', '/admin/apiKeys', { body });
  }

  /** `PATCH /admin/apiKeys/{ID}`. */
  update(keyId: string, body: ApiKeyUpdateBody): Promise<ApiKey> {
    return this.core.json('PATCH', `/admin/apiKeys/${seg(keyId)}`, { body });
  }

  /** `POST /admin/apiKeys/{ID}/rotate` (extension): a new private key; the old one works until `graceEndsAt`. */
  rotate(keyId: string, body: ApiKeyRotateBody): Promise<ApiKey> {
    return this.core.json('POST', `/admin/apiKeys/${seg(keyId)}/rotate`, { body });
  }

  /** `GET /admin/apiKeys/{ID}/usage` (extension): requests per hour or day. */
  usage(keyId: string, opts: KeyUsageOptions = {}): Promise<KeyUsage> {
    return this.core.json('GET', `/admin/apiKeys/${seg(keyId)}/usage`, { query: { ...opts } });
  }

  /** `GET /admin/apiKeys/{ID}/rateLimit` (extension): the global key's limit; 404 when none is set. */
  rateLimit(keyId: string): Promise<RateLimit> {
    return this.core.json('GET', `/admin/apiKeys/${seg(keyId)}/rateLimit`);
  }

  /** `PUT /admin/apiKeys/{ID}/rateLimit` (extension): sets or replaces the global key's limit. */
  setRateLimit(keyId: string, body: RateLimitBody): Promise<RateLimit> {
    return this.core.json('PUT', `/admin/apiKeys/${seg(keyId)}/rateLimit`, { body });
  }

  /** `DELETE /admin/apiKeys/{ID}/rateLimit` (extension): the key is unlimited again; 404 when none is set. */
  async deleteRateLimit(keyId: string): Promise<void> {
    await this.core.raw('DELETE', `/admin/apiKeys/${seg(keyId)}/rateLimit`);
  }

  /** `DELETE /admin/apiKeys/{ID}`. */
  async delete(keyId: string): Promise<void> {
    await this.core.raw('DELETE', `/admin/apiKeys/${seg(keyId)}`);
  }

  /** `GET /admin/apiKeys/roles`: the global role names a key may hold. */
  roles(): Promise<string[]> {
    return this.core.json('GET', '/admin/apiKeys/roles');
  }
}
