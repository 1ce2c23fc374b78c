import { describe, expect, it } from 'vitest';
import { prettyJson } from './jackson.js';

describe('prettyJson (Jackson DefaultPrettyPrinter layout)', () => {
  it('prints the seed document list exactly', () => {
    const body = {
      links: [
        {
          href: 'http://h/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6/apiKeys?pretty=true&pageNum=1&itemsPerPage=100',
          rel: 'self',
        },
      ],
      results: [
        {
          desc: 'Test Docs Service User',
          id: '5c47503320eef5699e1cce8d',
          links: [{ href: 'http://h/k', rel: 'self' }],
          privateKey: '********-****-****-db2c132ca78d',
          publicKey: 'ewmaqvdo',
          roles: [{ orgId: '5980cfc70b6d97029d82e3f6', roleName: 'ORG_MEMBER' }],
        },
      ],
      totalCount: 1,
    };
    expect(prettyJson(body)).toBe(
      [
        '{',
        '  "links" : [ {',
        '    "href" : "http://h/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6/apiKeys?pretty=true&pageNum=1&itemsPerPage=100",',
        '    "rel" : "self"',
        '  } ],',
        '  "results" : [ {',
        '    "desc" : "Test Docs Service User",',
        '    "id" : "5c47503320eef5699e1cce8d",',
        '    "links" : [ {',
        '      "href" : "http://h/k",',
        '      "rel" : "self"',
        '    } ],',
        '    "privateKey" : "********-****-****-db2c132ca78d",',
        '    "publicKey" : "ewmaqvdo",',
        '    "roles" : [ {',
        '      "orgId" : "5980cfc70b6d97029d82e3f6",',
        '      "roleName" : "ORG_MEMBER"',
        '    } ]',
        '  } ],',
        '  "totalCount" : 1',
        '}',
      ].join('\n'),
    );
  });

  it('separates array objects with "}, {" and keeps scalar arrays on one line', () => {
    expect(prettyJson({ a: [{ x: 1 }, { x: 2 }], b: ['A', 'B'] })).toBe(
      '{\n  "a" : [ {\n    "x" : 1\n  }, {\n    "x" : 2\n  } ],\n  "b" : [ "A", "B" ]\n}',
    );
  });

  it('prints empty containers with one space and no trailing newline', () => {
    expect(prettyJson({ a: [], b: {} })).toBe('{\n  "a" : [ ],\n  "b" : { }\n}');
    expect(prettyJson([])).toBe('[ ]');
    expect(prettyJson({})).toBe('{ }');
  });

  it('prints scalars, nulls and escapes like JSON', () => {
    expect(prettyJson({ n: null, s: 'a"b\\c\n', t: true, z: 0 })).toBe(
      '{\n  "n" : null,\n  "s" : "a\\"b\\\\c\\n",\n  "t" : true,\n  "z" : 0\n}',
    );
    expect(prettyJson([1, 'x'])).toBe('[ 1, "x" ]');
  });

  it('nests objects inside objects with growing indentation', () => {
    expect(prettyJson({ content: { id: 'x', links: [] }, status: 200 })).toBe(
      '{\n  "content" : {\n    "id" : "x",\n    "links" : [ ]\n  },\n  "status" : 200\n}',
    );
  });
});
