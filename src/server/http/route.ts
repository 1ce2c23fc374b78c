/**
 * Route declarations. Every route names its authorization action (or `public`), so one hook can
 * authorize every request and a test can prove no route was left without one.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteStats } from '../metrics.js';
import type { Action } from '../rbac/policy.js';
import type { Principal } from '../rbac/principal.js';
import type { OutputOptions, Sent } from './output.js';

/** Per-request state filled in by the hooks. */
export interface RequestContext {
  output: OutputOptions;
  principal: Principal | null;
  /** Client address (forwarded headers only behind a trusted proxy), IPv4-mapped addresses unwrapped. */
  remoteAddress: string;
  /** Scheme + host for absolute hrefs: the public URL, or http://<Host>. */
  origin: string;
  /** The request path without the query string, as received. */
  path: string;
  /** The raw query string, without `?`. */
  rawQuery: string;
  /** When the pipeline began (`performance.now()`), for the latency metric. */
  start: number;
  /** The metrics of the route that took the request (http/output.ts records its response there). */
  stats: RouteStats;
  /**
   * The route's config (action, body schema, …), read once: Fastify builds a new, frozen routeOptions
   * object on every read of `req.routeOptions`.
   */
  config: FastifyRequest['routeOptions']['config'] | undefined;
  /** The project named by the path, once loaded by the authorization hook. */
  projectOrgId?: string | undefined;
  /**
   * A read signed on a nonce whose replay check (the shared replay memory) had not answered when the read
   * began: its response waits for this (http/output.ts), which resolves to null to let it out, or to what
   * must be sent instead.
   */
  gate?: Promise<((reply: FastifyReply) => Sent) | null> | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext;
  }
  interface FastifyContextConfig {
    action?: Action | 'public';
    /** The route's declared body schema, which the app validated the body against (RouteSpec.body). */
    body?: TSchema | undefined;
    /** Not written to the request log at info (health probes). */
    quiet?: boolean | undefined;
    stats?: RouteStats;
  }
}

/** What a handler returns: a status and a wire body (undefined for 204). */
export interface HandlerResult {
  status: number;
  body?: unknown;
  /** A plain-text body instead of JSON (the version probe). */
  text?: string;
}

/**
 * A route: method, path (relative to /api/public/v1.0 unless it starts with /api/ or /health/), action and
 * handler; optionally the schemas it validates and answers with, which the OpenAPI document
 * (http/openapi.ts) is made from. A route without them is still documented, with generic bodies.
 */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  url: string;
  action: Action | 'public';
  handler: (req: FastifyRequest, reply: FastifyReply) => Promise<HandlerResult>;
  /** One line for the OpenAPI document. */
  summary?: string;
  /** The request body's schema: the app validates the body against it before the handler runs (bodyOf). */
  body?: TSchema;
  /** Query parameters the route reads (documentation: the handler parses them). */
  query?: TSchema;
  /** The success status and its body's schema (null: no body); default 200, or 204 for DELETE. */
  response?: { status: number; schema: TSchema | null };
  /** Not logged per request at info (health probes: a load balancer calls them every few seconds). */
  quiet?: boolean;
}

/** Top-level paths that are not under /api/public/v1.0. */
const ROOT_PREFIXES = ['/api/', '/health/'];

/** A route's path from the server root (`/orgs` → `/api/public/v1.0/orgs`; `/api/…` and `/health/…` as they are). */
export function fullPath(url: string): string {
  return ROOT_PREFIXES.some((p) => url.startsWith(p)) ? url : `/api/public/v1.0${url}`;
}

/**
 * The request body, validated by the app against the route's declared `body` (RouteSpec.body) and typed
 * by it. Naming the schema here, not only in the declaration, keeps the two from drifting apart: a
 * handler that reads a body its route does not declare fails on its first request.
 */
export function bodyOf<T extends TSchema>(req: FastifyRequest, schema: T): Static<T> {
  if ((req.ctx.config ?? req.routeOptions.config).body !== schema)
    throw new Error(`${req.method} ${req.url}: undeclared body schema`);
  return req.body as Static<T>;
}

/** Success helpers. */
export const ok = (body: unknown): HandlerResult => ({ status: 200, body });
export const created = (body: unknown): HandlerResult => ({ status: 201, body });
export const noContent = (): HandlerResult => ({ status: 204 });

/** Typed access to parsed path parameters and query. */
export function params(req: FastifyRequest): Record<string, string> {
  return req.params as Record<string, string>;
}
export function query(req: FastifyRequest): Record<string, string | string[] | undefined> {
  return req.query as Record<string, string | string[] | undefined>;
}
