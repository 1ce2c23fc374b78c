/** `/orgs`: organizations, their projects and users. */
import type { OrgCreateBody, OrgUpdateBody, RateLimitBody } from '../../schema/bodies.js';
import type { List, Org, Project, RateLimit, User } from '../../schema/responses.js';
import { type Core, type PageOptions, seg } from '../core.js';
import type { OrgListOptions } from '../types.js';

/** Organizations. */
export class OrgsApi {
  constructor(private readonly core: Core) {}

  /** `GET /orgs`: one page of the orgs the caller can see, optionally filtered by exact name. */
  list(opts: OrgListOptions = {}): Promise<List<Org>> {
    return this.core.list('/orgs', { ...opts });
  }

  /** Every visible org, following `next` links. */
  iterate(opts: Omit<OrgListOptions, 'pageNum'> = {}): AsyncGenerator<Org, void, undefined> {
    return this.core.iterate('/orgs', { ...opts });
  }

  /** Every page of visible orgs (for progress reporting). */
  pages(opts: Omit<OrgListOptions, 'pageNum'> = {}): AsyncGenerator<List<Org>, void, undefined> {
    return this.core.pages('/orgs', { ...opts });
  }

  /** `GET /orgs/{ORG-ID}`. */
  get(orgId: string): Promise<Org> {
    return this.core.json('GET', `/orgs/${seg(orgId)}`);
  }

  /** `POST /orgs` (global owner): returns `{id, links, name}`. */
  create(body: OrgCreateBody): Promise<Org> {
    return this.core.json('POST', '/orgs', { body });
  }

  /** `PATCH /orgs/{ORG-ID}`: rename. */
  update(orgId: string, body: OrgUpdateBody): Promise<Org> {
    return this.core.json('PATCH', `/orgs/${seg(orgId)}`, { body });
  }

  /** `DELETE /orgs/{ORG-ID}`: refused while the org has projects. */
  async delete(orgId: string): Promise<void> {
    await this.core.raw('DELETE', `/orgs/${seg(orgId)}`);
  }

  /** `GET /orgs/{ORG-ID}/rateLimit` (extension): the org's default limit for its keys; 404 when none is set. */
  rateLimit(orgId: string): Promise<RateLimit> {
    return this.core.json('GET', `/orgs/${seg(orgId)}/rateLimit`);
  }

  /** `PUT /orgs/{ORG-ID}/rateLimit` (extension): sets or replaces the org's default limit. */
  setRateLimit(orgId: string, body: RateLimitBody): Promise<RateLimit> {
    return this.core.json('PUT', `/orgs/${seg(orgId)}/rateLimit`, { body });
  }

  /** `DELETE /orgs/{ORG-ID}/rateLimit` (extension): removes the org's default; 404 when none is set. */
  async deleteRateLimit(orgId: string): Promise<void> {
    await this.core.raw('DELETE', `/orgs/${seg(orgId)}/rateLimit`);
  }

  /** `GET /orgs/{ORG-ID}/groups`: one page of the org's projects. */
  projects(orgId: string, opts: PageOptions & { name?: string } = {}): Promise<List<Project>> {
    return this.core.list(`/orgs/${seg(orgId)}/groups`, { ...opts });
  }

  /** Every project of the org. */
  iterateProjects(
    orgId: string,
    opts: { itemsPerPage?: number } = {},
  ): AsyncGenerator<Project, void, undefined> {
    return this.core.iterate(`/orgs/${seg(orgId)}/groups`, { ...opts });
  }

  /** Every page of the org's projects (for progress reporting). */
  projectPages(
    orgId: string,
    opts: { itemsPerPage?: number } = {},
  ): AsyncGenerator<List<Project>, void, undefined> {
    return this.core.pages(`/orgs/${seg(orgId)}/groups`, { ...opts });
  }

  /** `GET /orgs/{ORG-ID}/users`: one page of the org's users. */
  users(orgId: string, opts: PageOptions = {}): Promise<List<User>> {
    return this.core.list(`/orgs/${seg(orgId)}/users`, { ...opts });
  }

  /** Every user of the org. */
  iterateUsers(orgId: string, opts: { itemsPerPage?: number } = {}): AsyncGenerator<User, void, undefined> {
    return this.core.iterate(`/orgs/${seg(orgId)}/users`, { ...opts });
  }
}
