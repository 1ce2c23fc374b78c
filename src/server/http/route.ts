/**
 * Route declarations. Every route names its authorization action (or `public`), so one hook can
 * authorize every request and a test can prove no route was left without one.
 */
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

/** A route: method, path (relative to /api/public/v1.0 unless it starts with /api/), action and handler. */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  url: string;
  action: Action | 'public';
  handler: (req: FastifyRequest, reply: FastifyReply) => Promise<HandlerResult>;
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
