import { describe, expect, it } from 'vitest';
import { ApiError } from '../../schema/errors.js';
import { pageLinks, parsePageRequest } from './pagination.js';

const base = 'http://h/api/public/v1.0/orgs/o/apiKeys';

describe('parsePageRequest', () => {
  it('defaults to page 1 of 100', () => {
    expect(parsePageRequest({})).toEqual({ pageNum: 1, itemsPerPage: 100 });
  });
  it('accepts the bounds', () => {
    expect(parsePageRequest({ pageNum: '7', itemsPerPage: '500' })).toEqual({
      pageNum: 7,
      itemsPerPage: 500,
    });
    expect(parsePageRequest({ itemsPerPage: '1' }).itemsPerPage).toBe(1);
  });
  it.each([
    ['itemsPerPage', '501'],
    ['itemsPerPage', '0'],
    ['itemsPerPage', '-1'],
    ['itemsPerPage', 'abc'],
    ['itemsPerPage', '1.5'],
    ['itemsPerPage', ''],
    ['pageNum', '0'],
    ['pageNum', '-3'],
    ['pageNum', 'x'],
    ['pageNum', '99999999999999999999'],
  ])('rejects %s=%s with INVALID_QUERY_PARAMETER naming the parameter', (name, value) => {
    try {
      parsePageRequest({ [name]: value });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).code).toBe('INVALID_QUERY_PARAMETER');
      expect((e as ApiError).parameters).toEqual([name]);
    }
  });
});

describe('pageLinks', () => {
  it('first page: self and next; next puts itemsPerPage first', () => {
    expect(pageLinks(base, '', { pageNum: 1, itemsPerPage: 100 }, 250)).toEqual([
      { href: `${base}?pageNum=1&itemsPerPage=100`, rel: 'self' },
      { href: `${base}?itemsPerPage=100&pageNum=2`, rel: 'next' },
    ]);
  });
  it('middle page: self, previous, next in that order, keeping other parameters first', () => {
    const links = pageLinks(
      base,
      'pretty=true&pageNum=2&itemsPerPage=100',
      { pageNum: 2, itemsPerPage: 100 },
      250,
    );
    expect(links.map((l) => l.rel)).toEqual(['self', 'previous', 'next']);
    expect(links[0]?.href).toBe(`${base}?pretty=true&pageNum=2&itemsPerPage=100`);
    expect(links[1]?.href).toBe(`${base}?pretty=true&itemsPerPage=100&pageNum=1`);
    expect(links[2]?.href).toBe(`${base}?pretty=true&itemsPerPage=100&pageNum=3`);
  });
  it('last page: no next', () => {
    expect(pageLinks(base, '', { pageNum: 3, itemsPerPage: 100 }, 250).map((l) => l.rel)).toEqual([
      'self',
      'previous',
    ]);
  });
  it('exactly full last page: no next', () => {
    expect(pageLinks(base, '', { pageNum: 2, itemsPerPage: 125 }, 250).map((l) => l.rel)).toEqual([
      'self',
      'previous',
    ]);
  });
  it('past the end: self and previous', () => {
    expect(pageLinks(base, '', { pageNum: 9, itemsPerPage: 100 }, 250).map((l) => l.rel)).toEqual([
      'self',
      'previous',
    ]);
  });
  it('empty set: self only', () => {
    expect(pageLinks(base, '', { pageNum: 1, itemsPerPage: 100 }, 0)).toEqual([
      { href: `${base}?pageNum=1&itemsPerPage=100`, rel: 'self' },
    ]);
  });
});
