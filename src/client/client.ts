/** PakmanClient: the typed SDK for every endpoint of the Ops Manager Public API v1.0 that pakman serves. */
import type { FirstUserBody } from '../schema/bodies.js';
import type { FirstUserResponse, Root } from '../schema/responses.js';
import { Core, type PakmanClientOptions } from './core.js';
import { AccessListsApi } from './resources/accessLists.js';
import { EventsApi } from './resources/events.js';
import { GlobalAccessListApi } from './resources/globalAccessList.js';
import { GlobalApiKeysApi } from './resources/globalApiKeys.js';
import { OrgApiKeysApi } from './resources/orgApiKeys.js';
import { OrgsApi } from './resources/orgs.js';
import { ProjectApiKeysApi } from './resources/projectApiKeys.js';
import { ProjectsApi } from './resources/projects.js';
import { UsersApi } from './resources/users.js';

/** What `GET /api/private/unauth/version` tells. */
export interface ServiceVersion {
  /** The plain-text body: the server's git sha (or `unknown`). */
  gitHash: string;
  /** `X-MongoDB-Service-Version` parsed into its `gitHash` and `versionString` parts. */
  header: Record<string, string>;
}

/**
 * A client of one server with one set of credentials. Safe to share: concurrent calls reuse one nonce
 * with distinct nonce counts.
 */
export class PakmanClient {
  /** The request core (URL building, raw requests, paging), for endpoints the SDK does not wrap. */
  readonly core: Core;
  /** `/orgs`. */
  readonly orgs: OrgsApi;
  /** `/orgs/{ORG-ID}/apiKeys`. */
  readonly orgApiKeys: OrgApiKeysApi;
  /** `/orgs/{ORG-ID}/apiKeys/{API-KEY-ID}/accessList`. */
  readonly accessLists: AccessListsApi;
  /** The same, through the legacy `/whitelist` path. */
  readonly whitelists: AccessListsApi;
  /** `/groups`. */
  readonly projects: ProjectsApi;
  /** `/groups/{PROJECT-ID}/apiKeys`. */
  readonly projectApiKeys: ProjectApiKeysApi;
  /** `/admin/apiKeys`. */
  readonly globalApiKeys: GlobalApiKeysApi;
  /** `/admin/accessList`. */
  readonly globalAccessList: GlobalAccessListApi;
  /** The same, through the legacy `/admin/whitelist` path. */
  readonly globalWhitelist: GlobalAccessListApi;
  /** `/users`. */
  readonly users: UsersApi;
  /** `/orgs/{ORG-ID}/events`, `/groups/{PROJECT-ID}/events`. */
  readonly events: EventsApi;

  constructor(opts: PakmanClientOptions) {
    this.core = new Core(opts);
    this.orgs = new OrgsApi(this.core);
    this.orgApiKeys = new OrgApiKeysApi(this.core);
    this.accessLists = new AccessListsApi(this.core, 'accessList');
    this.whitelists = new AccessListsApi(this.core, 'whitelist');
    this.projects = new ProjectsApi(this.core);
    this.projectApiKeys = new ProjectApiKeysApi(this.core);
    this.globalApiKeys = new GlobalApiKeysApi(this.core);
    this.globalAccessList = new GlobalAccessListApi(this.core, 'accessList');
    this.globalWhitelist = new GlobalAccessListApi(this.core, 'whitelist');
    this.users = new UsersApi(this.core);
    this.events = new EventsApi(this.core);
  }

  /** `GET /api/public/v1.0`: application name and build; a cheap credentials check. */
  root(): Promise<Root> {
    return this.core.json('GET', '');
  }

  /** `GET /api/private/unauth/version` (no credentials needed). */
  async version(): Promise<ServiceVersion> {
    const res = await this.core.raw('GET', '/api/private/unauth/version');
    const header: Record<string, string> = {};
    for (const part of (res.headers.get('x-mongodb-service-version') ?? '').split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k) header[k] = v.join('=');
    }
    return { gitHash: res.text.trim(), header };
  }

  /**
   * `POST /unauth/users`: creates the first user and its GLOBAL_OWNER key (only while no user exists).
   * `accessList` addresses (IPs or CIDRs) go onto the global access list.
   */
  createFirstUser(
    body: FirstUserBody,
    opts: { accessList?: readonly string[] } = {},
  ): Promise<FirstUserResponse> {
    return this.core.json('POST', '/unauth/users', { body, query: { accessList: opts.accessList } });
  }
}
