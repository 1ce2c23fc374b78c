/** The only place errors become response bodies: the error handler and the 404/405 handler. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../schema/errors.js';
import { bodyPending } from './connections.js';
import { render, type Sent, sendJson } from './output.js';

/** True for failures that mean the database cannot be reached right now. */
export function isDatabaseUnavailable(e: unknown): boolean {
  const err = e as { code?: string; message?: string } | null;
  if (!err) return false;
  // Connecting to a host name with several addresses fails with one error per address.
  if (e instanceof AggregateError && e.errors.some(isDatabaseUnavailable)) return true;
  const code = err.code ?? '';
  if (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'SQLITE_BUSY'].includes(
      code,
    )
  )
    return true;
  // PostgreSQL: 08xxx connection exceptions, 57P0x shutdown/cannot connect now.
  if (/^(08|57P0)/.test(code)) return true;
  const msg = err.message ?? '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|connection is closed/i.test(
    msg,
  );
}

/** Maps any thrown value to the Ops Manager error it should show. */
export function toApiError(e: unknown, bodyLimit: number): ApiError {
  if (e instanceof ApiError) return e;
  const fe = e as FastifyError;
  switch (fe?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('REQUEST_TOO_LARGE', [bodyLimit]);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return fe.statusCode === 415 ? new ApiError('UNSUPPORTED_MEDIA_TYPE') : new ApiError('INVALID_JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError('INVALID_JSON');
  }
  if (isDatabaseUnavailable(e)) return new ApiError('SERVICE_UNAVAILABLE');
  if (fe?.statusCode === 413) return new ApiError('REQUEST_TOO_LARGE', [bodyLimit]);
  if (fe?.statusCode === 415) return new ApiError('UNSUPPORTED_MEDIA_TYPE');
  if (fe?.statusCode === 400) return new ApiError('INVALID_JSON');
  return new ApiError('UNEXPECTED_ERROR');
}

/** Writes an error response in the caller's presentation (pretty/envelope). */
export function sendError(req: FastifyRequest, reply: FastifyReply, err: ApiError): Sent {
  const output = req.ctx?.output ?? { pretty: false, envelope: false };
  const r = render(err.status, err.toBody(), output);
  return sendJson(reply, r.status, r.body, err.headers);
}

/** The Fastify error handler: known errors as they are, anything else a logged 500 with no details. */
export function errorHandler(bodyLimit: number) {
  return (error: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const api = toApiError(error, bodyLimit);
    if (api.code === 'UNEXPECTED_ERROR') req.log.error({ err: error }, 'unexpected error');
    else if (api.code === 'SERVICE_UNAVAILABLE')
      req.log.warn({ err: (error as Error).message }, 'database unavailable');
    // Refused before its body was read (too large, from a refused address…): do not wait for the rest.
    if (bodyPending(req.raw)) reply.header('Connection', 'close');
    return sendError(req, reply, api);
  };
}

/** Compiled path patterns of every route, to tell 405 (known path) from 404 (unknown path). */
export class RouteTable {
  readonly #routes: { re: RegExp; method: string }[] = [];
  readonly #patterns: string[][] = [];

  add(method: string, url: string): void {
    this.#patterns.push(url.split('/'));
    const re = new RegExp(
      `^${url
        .split('/')
        .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/')}/?$`,
    );
    this.#routes.push({ re, method });
  }

  /**
   * The name of the path parameter at `index` of a path split on `/`, in a route whose other segments
   * match; undefined when no route has a parameter there.
   */
  paramAt(segments: readonly string[], index: number): string | undefined {
    for (const pattern of this.#patterns) {
      if (pattern.length !== segments.length || !pattern[index]!.startsWith(':')) continue;
      if (pattern.every((p, i) => i === index || p.startsWith(':') || p === segments[i]))
        return pattern[index]!.slice(1);
    }
    return undefined;
  }

  /** The methods a path supports (empty: unknown path). */
  methodsFor(path: string): string[] {
    return [...new Set(this.#routes.filter((r) => r.re.test(path)).map((r) => r.method))];
  }
}

/** 404/405 after authentication (the pipeline already ran). */
export function notFoundHandler(table: RouteTable) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.ctx?.path ?? req.url.split('?')[0]!;
    const methods = table.methodsFor(path);
    if (methods.length > 0) {
      return sendError(
        req,
        reply,
        new ApiError('METHOD_NOT_ALLOWED', [req.method, path], { Allow: methods.join(', ') }),
      );
    }
    return sendError(req, reply, new ApiError('RESOURCE_NOT_FOUND', [path]));
  };
}
