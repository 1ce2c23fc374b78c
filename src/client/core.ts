/**
 * The request core every resource uses: URL building under the API base, JSON in and out, typed errors,
 * and paging that follows `next` links.
 */
import type { List } from '../schema/responses.js';
import { PakmanApiError } from './errors.js';
import { type Credentials, DigestTransport, type RawResponse } from './transport.js';

/** The public API's base path, appended to a base URL that does not already end with it. */
export const API_PATH = '/api/public/v1.0';

/** Query values: arrays repeat the parameter; undefined leaves it out. */
export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

/** Paging of one list call. */
export interface PageOptions {
  /** 1-based page number (default 1). */
  pageNum?: number;
  /** Items per page, 1..500 (server default 100). */
  itemsPerPage?: number;
}

/** Options of a client. */
export interface PakmanClientOptions {
  /** e.g. `https://opsmanager.example.com:8080`; `/api/public/v1.0` is appended unless already there. */
  baseUrl: string;
  /** Programmatic key (or username + personal API key); omit for the open endpoints only. */
  credentials?: Credentials | undefined;
  /** A fetch implementation (e.g. one with a custom undici dispatcher for private CAs). */
  fetch?: typeof fetch | undefined;
  /** Per-request timeout (default 60 s). */
  timeoutMs?: number | undefined;
  /** User-Agent header. */
  userAgent?: string | undefined;
}

/** Turns a base URL into the API root URL (no trailing slash). */
export function apiRoot(baseUrl: string): URL {
  const u = new URL(baseUrl);
  const path = u.pathname.replace(/\/+$/, '');
  u.pathname = path.endsWith(API_PATH) ? path : `${path}${API_PATH}`;
  u.search = '';
  u.hash = '';
  return u;
}

/** Encodes one path segment (a CIDR's `/` becomes `%2F`, as Ops Manager expects). */
export const seg = (v: string) => encodeURIComponent(v);

/** Does the HTTP work for the resource classes. */
export class Core {
  /** The API root, e.g. `https://host:8080/api/public/v1.0`. */
  readonly root: URL;
  /** The digest transport, shared by every call of this client. */
  readonly transport: DigestTransport;

  constructor(opts: PakmanClientOptions) {
    this.root = apiRoot(opts.baseUrl);
    this.transport = new DigestTransport(opts);
  }

  /** The URL of `path` (relative to the API root unless it starts with `/api/`) with `query`. */
  url(path: string, query: Query = {}): URL {
    const u = new URL(this.root);
    if (path.startsWith('/api/')) u.pathname = u.pathname.slice(0, -API_PATH.length) + path;
    else u.pathname += path;
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const item of v) u.searchParams.append(k, item);
      else u.searchParams.append(k, String(v));
    }
    return u;
  }

  /** Sends a request and returns the raw answer, throwing PakmanApiError on a non-2xx status. */
  async raw(
    method: string,
    path: string,
    opts: { query?: Query; body?: unknown } = {},
  ): Promise<RawResponse> {
    const url = this.url(path, opts.query);
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const res = await this.transport.send(method, url, body);
    if (res.status < 200 || res.status > 299)
      throw PakmanApiError.fromResponse(
        res.status,
        res.statusText,
        res.text,
        { method, url: url.href },
        res.headers,
      );
    return res;
  }

  /** Sends a request and parses the JSON answer (undefined for 204 or an empty body). */
  async json<T>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
    const res = await this.raw(method, path, opts);
    return (res.status === 204 || res.text === '' ? undefined : JSON.parse(res.text)) as T;
  }

  /** One page of a list. */
  list<T>(path: string, query: Query = {}): Promise<List<T>> {
    return this.json<List<T>>('GET', path, { query });
  }

  /**
   * Every page of a list, following `next` links until there is none. Only the link's query is taken,
   * applied to our own path and origin: a server behind a proxy may print hrefs with a host we cannot reach.
   */
  async *pages<T>(path: string, query: Query = {}): AsyncGenerator<List<T>, void, undefined> {
    // Largest page by default: fewest round trips; the server caps it at 500 anyway.
    let q: Query = { ...query, itemsPerPage: query.itemsPerPage ?? 500 };
    for (;;) {
      const page = await this.list<T>(path, q);
      yield page;
      const next = page.links?.find((l) => l.rel === 'next');
      if (!next || page.results.length === 0) return;
      const nextQuery: Record<string, string | string[]> = {};
      for (const [k, v] of new URL(next.href, this.root).searchParams) {
        const prev = nextQuery[k];
        nextQuery[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      q = nextQuery;
    }
  }

  /** Every item of a list, page after page. */
  async *iterate<T>(path: string, query: Query = {}): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages<T>(path, query)) yield* page.results;
  }
}
