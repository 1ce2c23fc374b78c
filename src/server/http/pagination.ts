/** Paging of list endpoints (api.md §2): parameters, and the self/previous/next links. */
import { ApiError } from '../../schema/errors.js';

/** A validated page request. */
export interface PageRequest {
  pageNum: number;
  itemsPerPage: number;
}

/** A page of items with the total size of the whole set. */
export interface Page<T> {
  items: T[];
  totalCount: number;
}

/** Ops Manager's maximum page size. */
export const MAX_ITEMS_PER_PAGE = 500;

const POSITIVE_INT = /^[0-9]+$/;

function parseIntParam(name: string, raw: unknown, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (typeof value !== 'string' || !POSITIVE_INT.test(value) || value.length > 9) {
    throw new ApiError('INVALID_QUERY_PARAMETER', [name]);
  }
  const n = Number(value);
  if (n < 1 || n > max) throw new ApiError('INVALID_QUERY_PARAMETER', [name]);
  return n;
}

/** Validates `pageNum` (≥ 1) and `itemsPerPage` (1..500). */
export function parsePageRequest(query: Record<string, unknown>): PageRequest {
  return {
    pageNum: parseIntParam('pageNum', query.pageNum, 1, 999_999_999),
    itemsPerPage: parseIntParam('itemsPerPage', query.itemsPerPage, 100, MAX_ITEMS_PER_PAGE),
  };
}

/** One link object, fields in alphabetical order. */
export interface Link {
  href: string;
  rel: string;
}

/**
 * Builds the list links. `base` is the absolute URL of the path; `rawQuery` the caller's query string,
 * whose parameters other than the paging ones are kept in their order.
 */
export function pageLinks(base: string, rawQuery: string, page: PageRequest, totalCount: number): Link[] {
  const kept = rawQuery
    .split('&')
    .filter(
      (p) =>
        p !== '' &&
        !p.startsWith('pageNum=') &&
        !p.startsWith('itemsPerPage=') &&
        p !== 'pageNum' &&
        p !== 'itemsPerPage',
    );
  const prefix = `${base}?${kept.length ? `${kept.join('&')}&` : ''}`;
  const { pageNum, itemsPerPage } = page;
  const links: Link[] = [{ href: `${prefix}pageNum=${pageNum}&itemsPerPage=${itemsPerPage}`, rel: 'self' }];
  if (pageNum > 1)
    links.push({ href: `${prefix}itemsPerPage=${itemsPerPage}&pageNum=${pageNum - 1}`, rel: 'previous' });
  if (pageNum * itemsPerPage < totalCount) {
    links.push({ href: `${prefix}itemsPerPage=${itemsPerPage}&pageNum=${pageNum + 1}`, rel: 'next' });
  }
  return links;
}

/** The list body `{links, results, totalCount}`. */
export function listBody<T>(base: string, rawQuery: string, page: PageRequest, result: Page<T>) {
  return {
    links: pageLinks(base, rawQuery, page, result.totalCount),
    results: result.items,
    totalCount: result.totalCount,
  };
}
