/** The OpenAPI document as `docs/openapi.json` holds it (written by `npm run build`, checked by a test). */
import { allRoutes } from './app.js';
import { openApiText } from './http/openapi.js';
import { VERSION } from './version.js';

/** The document of every route, as text: two-space JSON and a final newline. */
export function openApiFile(): string {
  // The routes are only described, never run: no database behind them.
  const routes = allRoutes({ db: undefined as never, clock: Date.now }, VERSION);
  return openApiText(routes, VERSION.versionString);
}
