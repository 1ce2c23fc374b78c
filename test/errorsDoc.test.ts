/** docs/errors.md and the error catalog in code must agree, code for code. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../src/schema/errors.js';

function documented(): Map<string, { status: number; detail: string }> {
  const rows = new Map<string, { status: number; detail: string }>();
  for (const line of readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8').split('\n')) {
    const m = /^\| `([A-Z_]+)` \| (\d{3}) \| (.*) \|$/.exec(line);
    if (m) rows.set(m[1]!, { status: Number(m[2]), detail: m[3]!.replace(/\\\|/g, '|') });
  }
  return rows;
}

describe('docs/errors.md', () => {
  it('lists every catalog code with its status and detail template, and nothing else', () => {
    const doc = documented();
    const code = new Map(
      Object.entries(ERROR_CATALOG).map(([k, v]) => [k, { status: v.status, detail: v.detail }]),
    );
    expect([...doc.keys()].sort()).toEqual([...code.keys()].sort());
    for (const [k, v] of code) expect(doc.get(k), k).toEqual(v);
  });
});
