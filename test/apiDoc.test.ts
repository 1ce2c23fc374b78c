/** docs/api.md lists every route the application serves, with the roles its declared action allows. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allRoutes } from '../src/server/app.js';
import { CONSOLE_ROUTES } from '../src/server/console/routes.js';
import { docPath, WHO_MAY } from '../src/server/rbac/describe.js';

describe('docs/api.md', () => {
  it('has one row per route: method, path and who may call it', () => {
    const doc = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');
    const rows = [
      ...doc.matchAll(/^\| (GET|POST|PATCH|DELETE|PUT) \| `([^`]+)` \| (\d{3}) \| (.+) \|$/gm),
    ].map((m) => `${m[1]} ${m[2]} ${m[4]}`);
    const routes = [
      ...allRoutes({ db: undefined as never, clock: Date.now }, { gitHash: 'x' }).map(
        (r) => `${r.method} ${docPath(r.url)} ${WHO_MAY[r.action]}`,
      ),
      // The web console's own endpoints (src/server/console/routes.ts).
      ...CONSOLE_ROUTES.map((r) => `${r.method} ${r.url} ${r.who}`),
    ];
    expect(rows.sort()).toEqual(routes.sort());
  });
});
