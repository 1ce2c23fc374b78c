/** The shape every list handler shares: page parameters in, one page fetched, the list body out. */
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../../schema/errors.js';
import { isStorableText } from '../../../schema/text.js';
import { listBody, type Page, parsePageRequest } from '../pagination.js';
import { type HandlerResult, ok, query } from '../route.js';

/** Fetches the page the request asks for and renders it as `{links, results, totalCount}`. */
export async function paged<T>(
  req: FastifyRequest,
  fetch: (offset: number, limit: number) => Promise<Page<T>>,
  toWire: (item: T) => unknown,
): Promise<HandlerResult> {
  const page = parsePageRequest(query(req));
  const result = await fetch((page.pageNum - 1) * page.itemsPerPage, page.itemsPerPage);
  return ok(
    listBody(req.ctx.origin + req.ctx.path, req.ctx.rawQuery, page, {
      items: result.items.map(toWire),
      totalCount: result.totalCount,
    }),
  );
}

/** The last value of a query parameter given once or more. */
export function lastValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/**
 * The last value of a free-text query parameter (a `name` filter), refused with INVALID_QUERY_PARAMETER
 * when it holds a character no stored value can hold (schema/text.ts): it would otherwise reach the query.
 */
export function textQuery(
  q: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const v = lastValue(q[name]);
  if (v !== undefined && !isStorableText(v)) throw new ApiError('INVALID_QUERY_PARAMETER', [name]);
  return v;
}
