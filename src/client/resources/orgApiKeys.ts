/** `/orgs/{ORG-ID}/apiKeys`: organization programmatic API keys. */
import type {
  ApiKeyCreateBody,
  ApiKeyPolicyBody,
  ApiKeyRotateBody,
  ApiKeyUpdateBody,
  RateLimitBody,
} from '../../schema/bodies.js';
import type { ApiKey, ApiKeyPolicy, KeyUsage, List, RateLimit } from '../../schema/responses.js';
import { type Core, type PageOptions, seg } from '../core.js';
import type { KeyUsageOptions, UnusedKeysOptions } from '../types.js';

/** Organization API keys. */
export class OrgApiKeysApi {
  constructor(private readonly core: Core) {}

  #path(orgId: string, keyId?: string): string {
    return `/orgs/${seg(orgId)}/apiKeys${keyId === undefined ? '' : `/${seg(keyId)}`}`;
  }

  /** `GET /orgs/{ORG-ID}/apiKeys`: one page, private keys redacted. */
  list(orgId: string, opts: PageOptions = {}): Promise<List<ApiKey>> {
    return this.core.list(this.#path(orgId), { ...opts });
  }

  /** Every key of the org, following `next` links. */
  iterate(orgId: string, opts: { itemsPerPage?: number } = {}): AsyncGenerator<ApiKey, void, undefined> {
    return this.core.iterate(this.#path(orgId), { ...opts });
  }

  /** Every page of the org's keys (for progress reporting). */
  pages(orgId: string, opts: { itemsPerPage?: number } = {}): AsyncGenerator<List<ApiKey>, void, undefined> {
    return this.core.pages(this.#path(orgId), { ...opts });
  }

  /** `GET /orgs/{ORG-ID}/apiKeys/{API-KEY-ID}`. */
  get(orgId: string, keyId: string): Promise<ApiKey> {
    return this.core.json('GET', this.#path(orgId, keyId));
  }

  /** `POST /orgs/{ORG-ID}/apiKeys`: the answer holds the private key in full, once. */
  create(orgId: string, body: ApiKeyCreateBody): Promise<ApiKey> {
    return this.core.json('POST', this.#path(orgId), { body });
  }

  /** `PATCH /orgs/{ORG-ID}/apiKeys/{API-KEY-ID}`: roles replace the key's org roles. */
  update(orgId: string, keyId: string, body: ApiKeyUpdateBody): Promise<ApiKey> {
    return this.core.json('PATCH', this.#path(orgId, keyId), { body });
  }

  /**
   * `POST …/apiKeys/{API-KEY-ID}/rotate` (extension): a new private key, in full, once; the old one works
   * until `graceEndsAt`.
   */
  rotate(orgId: string, keyId: string, body: ApiKeyRotateBody): Promise<ApiKey> {
    return this.core.json('POST', `${this.#path(orgId, keyId)}/rotate`, { body });
  }

  /** `GET …/apiKeys/{API-KEY-ID}/usage` (extension): requests per hour or day. */
  usage(orgId: string, keyId: string, opts: KeyUsageOptions = {}): Promise<KeyUsage> {
    return this.core.json('GET', `${this.#path(orgId, keyId)}/usage`, { query: { ...opts } });
  }

  /** `GET /orgs/{ORG-ID}/apiKeys/unused` (extension): one page of keys unused for `days` days. */
  unused(orgId: string, opts: UnusedKeysOptions = {}): Promise<List<ApiKey>> {
    return this.core.list(`${this.#path(orgId)}/unused`, { ...opts });
  }

  /** `GET /orgs/{ORG-ID}/apiKeyPolicy` (extension). */
  policy(orgId: string): Promise<ApiKeyPolicy> {
    return this.core.json('GET', `/orgs/${seg(orgId)}/apiKeyPolicy`);
  }

  /** `PATCH /orgs/{ORG-ID}/apiKeyPolicy` (extension): null removes the cap. */
  setPolicy(orgId: string, body: ApiKeyPolicyBody): Promise<ApiKeyPolicy> {
    return this.core.json('PATCH', `/orgs/${seg(orgId)}/apiKeyPolicy`, { body });
  }

  /** `GET …/apiKeys/{API-KEY-ID}/rateLimit` (extension): the key's own limit; 404 when none is set. */
  rateLimit(orgId: string, keyId: string): Promise<RateLimit> {
    return this.core.json('GET', `${this.#path(orgId, keyId)}/rateLimit`);
  }

  /** `PUT …/apiKeys/{API-KEY-ID}/rateLimit` (extension): sets or replaces the key's own limit (it wins over the org's). */
  setRateLimit(orgId: string, keyId: string, body: RateLimitBody): Promise<RateLimit> {
    return this.core.json('PUT', `${this.#path(orgId, keyId)}/rateLimit`, { body });
  }

  /** `DELETE …/apiKeys/{API-KEY-ID}/rateLimit` (extension): the org's default applies again; 404 when none is set. */
  async deleteRateLimit(orgId: string, keyId: string): Promise<void> {
    await this.core.raw('DELETE', `${this.#path(orgId, keyId)}/rateLimit`);
  }

  /** `DELETE /orgs/{ORG-ID}/apiKeys/{API-KEY-ID}`. */
  async delete(orgId: string, keyId: string): Promise<void> {
    await this.core.raw('DELETE', this.#path(orgId, keyId));
  }
}
