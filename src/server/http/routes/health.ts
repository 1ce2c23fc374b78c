/**
 * Liveness and readiness probes for load balancers and orchestrators, without credentials:
 * `GET /health/live` (the process answers) and `GET /health/ready` (it should be sent traffic: the
 * database answers and the node is not draining for shutdown). Cheap by design: one probe of the
 * database at a time, its answer reused for a second, and no line in the request log at info.
 */

import { Type } from '@sinclair/typebox';
import { ERROR_CATALOG } from '../../../schema/errors.js';
import type { Db } from '../../storage/database.js';
import { ping } from '../../storage/ping.js';
import type { HandlerResult, RouteSpec } from '../route.js';

/** How long a probe's answer is reused. */
const PROBE_REUSE_MS = 1000;
/** A database slower than this to answer `SELECT 1` counts as unreachable. */
const PROBE_TIMEOUT_MS = 2000;

/** The readiness of this node: draining (set once on shutdown) and the last database probe. */
export class Health {
  #draining = false;
  #probe: Promise<boolean> | undefined;
  #probedAt = 0;

  constructor(
    private readonly db: Db,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Marks the node as shutting down: readiness answers 503 from now on. */
  drain(): void {
    this.#draining = true;
  }

  /** True once drain() was called. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Whether the database answered (a probe at most once a second, shared by concurrent callers). */
  databaseUp(): Promise<boolean> {
    const now = this.clock();
    if (this.#probe && now - this.#probedAt < PROBE_REUSE_MS) return this.#probe;
    this.#probedAt = now;
    this.#probe = probe(this.db);
    return this.#probe;
  }
}

async function probe(db: Db): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([ping(db).then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** `{status}` of a probe. */
export const HealthSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('draining'), Type.Literal('unavailable')]),
});

const UNAVAILABLE = ERROR_CATALOG.SERVICE_UNAVAILABLE.status;

/** The two probe routes. */
export function healthRoutes(health: Health): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/health/live',
      action: 'public',
      quiet: true,
      summary: 'Liveness: 200 while the process serves HTTP',
      response: { status: 200, schema: HealthSchema },
      handler: async (): Promise<HandlerResult> => ({ status: 200, body: { status: 'ok' } }),
    },
    {
      method: 'GET',
      url: '/health/ready',
      action: 'public',
      quiet: true,
      summary: 'Readiness: 200 while the database answers and the node is not draining, else 503',
      response: { status: 200, schema: HealthSchema },
      handler: async (): Promise<HandlerResult> => {
        if (health.draining) return { status: UNAVAILABLE, body: { status: 'draining' } };
        if (!(await health.databaseUp())) return { status: UNAVAILABLE, body: { status: 'unavailable' } };
        return { status: 200, body: { status: 'ok' } };
      },
    },
  ];
}
