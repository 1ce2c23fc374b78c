/**
 * Key lifecycle beyond Ops Manager (issue 16, docs/compatibility.md): expiry and the org's cap on key
 * lifetimes, rotation with a grace period, and per-key usage. Org keys are addressed with their org id,
 * global keys with null.
 */
import { ApiError } from '../../schema/errors.js';
import { newPrivateKey } from '../../schema/ids.js';
import { storedSecret } from '../auth/credentials.js';
import type { Db } from '../storage/database.js';
import { type ApiKeyRecord, apiKeys } from '../storage/repositories/apiKeys.js';
import { keyLifecycle, type UnusedKey, type UsageBucket } from '../storage/repositories/keyLifecycle.js';
import { orgs } from '../storage/repositories/orgs.js';
import { lockOrgKey } from './apiKeys.js';
import { recordEvent } from './audit.js';
import { type Actor, isoSeconds, type ServiceDeps } from './context.js';
import { assertCanTouch } from './globalKeys.js';

// The bounds of graceSeconds (0 to 7 days) and maxKeyLifetimeSeconds (60 s to 10 years) are in the body
// schemas (schema/bodies.ts), which the SDK shares.
/** How long hourly usage is kept. */
export const USAGE_RETENTION_DAYS = 90;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** Milliseconds of an ISO-8601 UTC timestamp with second precision (`2026-01-31T12:00:00Z`), else undefined. */
export function parseIsoSeconds(s: string): number | undefined {
  if (!ISO_SECONDS.test(s)) return undefined;
  const ms = Date.parse(s);
  // Date.parse rolls 2026-02-30 over to March; such a date is malformed, not another day.
  return Number.isFinite(ms) && isoSeconds(ms) === s ? ms : undefined;
}

/**
 * The expiry to store for a key of `orgId` (null: a global key, no cap), checked against the clock and the
 * org's cap. `input` is what the request said: undefined (nothing: on creation the cap, if any, applies),
 * null (never expires) or a timestamp. Answers undefined for "leave as it is" (a PATCH without it).
 */
export async function resolveExpiry(
  db: Db,
  orgId: string | null,
  input: string | null | undefined,
  now: number,
  creating: boolean,
): Promise<string | null | undefined> {
  if (input === undefined && !creating) return undefined;
  let ms: number | undefined;
  if (typeof input === 'string') {
    ms = parseIsoSeconds(input);
    if (ms === undefined) throw new ApiError('INVALID_JSON_ATTRIBUTE', ['expiresAt']);
    if (ms <= now) throw new ApiError('INVALID_ATTRIBUTE', ['expiresAt']);
  }
  const cap = orgId === null ? null : await keyLifecycle.maxLifetime(db, orgId);
  if (cap === null) return input === undefined && creating ? null : input;
  if (input === undefined) return creating ? isoSeconds(now + cap * 1000) : undefined;
  if (ms === undefined || ms > now + cap * 1000)
    throw new ApiError('API_KEY_EXPIRY_EXCEEDS_POLICY', ['expiresAt', cap]);
  return input;
}

/** Records API_KEY_EXPIRY_SET / _CHANGED for a key whose expiry went from `before` to `after`. */
export async function recordExpiryChange(
  db: Db,
  deps: ServiceDeps,
  actor: Actor,
  key: { id: string; orgId: string | null; publicKey: string },
  before: string | null,
  after: string | null,
): Promise<void> {
  if (before === after) return;
  await recordEvent(
    db,
    deps.clock,
    actor,
    before === null ? 'API_KEY_EXPIRY_SET' : 'API_KEY_EXPIRY_CHANGED',
    {
      orgId: key.orgId,
      apiKeyId: key.id,
      targetPublicKey: key.publicKey,
      expiresAt: after,
    },
  );
}

/** A rotated key: its record, the new private key (shown once) and when the old one stops working. */
export interface RotatedKey {
  key: ApiKeyRecord;
  privateKey: string;
  graceEndsAt: string | null;
}

/** A key's usage over a range, bucketed. */
export interface KeyUsage {
  apiKeyId: string;
  start: string;
  end: string;
  granularity: 'HOURLY' | 'DAILY';
  lastUsed: string | null;
  buckets: UsageBucket[];
}

/** Locks a key of `orgId` (null: a global key) or answers the Ops Manager not-found errors. */
async function lockKey(trx: Db, orgId: string | null, keyId: string) {
  if (orgId !== null) return lockOrgKey(trx, orgId, keyId);
  const key = await apiKeys.lock(trx, keyId);
  if (!key || key.orgId !== null) throw new ApiError('API_KEY_NOT_FOUND', [keyId]);
  return key;
}

/** Rotation, usage, the unused-keys report and the org key policy. */
export class KeyLifecycleService {
  constructor(private readonly deps: ServiceDeps) {}

  /** The clock's now (ms), for wire objects that depend on it (`expired`). */
  now(): number {
    return this.deps.clock();
  }

  /**
   * Gives the key a new private key; the replaced one keeps working for `graceSeconds` (0: not at all).
   * Refused while an earlier rotation's grace period lasts.
   */
  async rotate(actor: Actor, orgId: string | null, keyId: string, graceSeconds: number): Promise<RotatedKey> {
    const now = this.deps.clock();
    const privateKey = newPrivateKey();
    return this.deps.db.transaction().execute(async (trx) => {
      const key = await lockKey(trx, orgId, keyId);
      // Whoever may not change a global key holding GLOBAL_OWNER may not rotate it either.
      if (orgId === null) assertCanTouch(actor, (await apiKeys.findById(trx, keyId)) as ApiKeyRecord);
      const pending = await keyLifecycle.graceEnd(trx, keyId);
      if (pending !== null && Date.parse(pending) > now)
        throw new ApiError('API_KEY_ROTATION_IN_PROGRESS', [keyId, pending]);
      // Whole seconds, rounded up: the old secret works at least graceSeconds, and stops on a second's edge.
      const graceEndsAt =
        graceSeconds > 0 ? isoSeconds(Math.ceil((now + graceSeconds * 1000) / 1000) * 1000) : null;
      await keyLifecycle.rotate(trx, keyId, storedSecret(key.publicKey, privateKey), graceEndsAt);
      await recordEvent(trx, this.deps.clock, actor, 'API_KEY_ROTATED', {
        orgId,
        apiKeyId: keyId,
        targetPublicKey: key.publicKey,
        graceEndsAt,
      });
      return { key: (await apiKeys.findById(trx, keyId)) as ApiKeyRecord, privateKey, graceEndsAt };
    });
  }

  /**
   * The key's requests per hour or day (UTC) from `start` to `end` (ISO seconds; default: the last 24 hours,
   * or 30 days for DAILY), every bucket present, empty ones with 0.
   */
  async usage(
    orgId: string | null,
    keyId: string,
    q: { start?: string | undefined; end?: string | undefined; granularity?: string | undefined },
  ): Promise<KeyUsage> {
    const granularity = q.granularity ?? 'HOURLY';
    if (granularity !== 'HOURLY' && granularity !== 'DAILY')
      throw new ApiError('INVALID_QUERY_PARAMETER', ['granularity']);
    const step = granularity === 'HOURLY' ? HOUR_MS : DAY_MS;
    const now = this.deps.clock();
    const endMs = q.end === undefined ? Math.ceil(now / step) * step : parseQueryTime(q.end, 'end');
    const startMs =
      q.start === undefined
        ? endMs - (granularity === 'HOURLY' ? DAY_MS : 30 * DAY_MS)
        : parseQueryTime(q.start, 'start');
    if (startMs >= endMs) throw new ApiError('INVALID_QUERY_PARAMETER', ['start']);
    if (endMs - startMs > (USAGE_RETENTION_DAYS + 1) * DAY_MS)
      throw new ApiError('INVALID_QUERY_PARAMETER', ['start']);
    const from = Math.floor(startMs / step) * step;
    const to = Math.ceil(endMs / step) * step;
    const db = this.deps.db;
    const key = await apiKeys.findById(db, keyId);
    if (!key || key.orgId !== orgId) {
      if (orgId !== null && !(await orgs.exists(db, orgId))) throw new ApiError('ORG_NOT_FOUND', [orgId]);
      throw new ApiError('API_KEY_NOT_FOUND', [keyId]);
    }
    const [hours, lastUsed] = await Promise.all([
      keyLifecycle.usage(db, keyId, isoSeconds(from), isoSeconds(to)),
      keyLifecycle.lastUsed(db, keyId),
    ]);
    const counts = new Map<number, number>();
    for (const h of hours) {
      const bucket = Math.floor(Date.parse(h.start) / step) * step;
      counts.set(bucket, (counts.get(bucket) ?? 0) + h.count);
    }
    const buckets: UsageBucket[] = [];
    for (let t = from; t < to; t += step) buckets.push({ start: isoSeconds(t), count: counts.get(t) ?? 0 });
    return {
      apiKeyId: keyId,
      start: isoSeconds(from),
      end: isoSeconds(to),
      granularity,
      lastUsed: lastUsed ?? null,
      buckets,
    };
  }

  /** One page of the org's keys not used for `days` days (never-used keys count from their creation). */
  async unused(
    orgId: string,
    days: number,
    offset: number,
    limit: number,
  ): Promise<{ items: UnusedKey[]; totalCount: number }> {
    if (!(await orgs.exists(this.deps.db, orgId))) throw new ApiError('ORG_NOT_FOUND', [orgId]);
    const cutoff = isoSeconds(this.deps.clock() - days * DAY_MS);
    return keyLifecycle.unused(this.deps.db, orgId, cutoff, offset, limit);
  }

  /** The org's key policy. */
  async policy(orgId: string): Promise<{ maxKeyLifetimeSeconds: number | null; orgId: string }> {
    if (!(await orgs.exists(this.deps.db, orgId))) throw new ApiError('ORG_NOT_FOUND', [orgId]);
    return { maxKeyLifetimeSeconds: await keyLifecycle.maxLifetime(this.deps.db, orgId), orgId };
  }

  /** Sets (null: removes) the cap on the lifetime of the org's new or patched keys; existing keys keep theirs. */
  async setPolicy(actor: Actor, orgId: string, maxKeyLifetimeSeconds: number | null) {
    await this.deps.db.transaction().execute(async (trx) => {
      if (!(await orgs.exists(trx, orgId))) throw new ApiError('ORG_NOT_FOUND', [orgId]);
      await keyLifecycle.setMaxLifetime(trx, orgId, maxKeyLifetimeSeconds);
      await recordEvent(trx, this.deps.clock, actor, 'API_KEY_POLICY_CHANGED', { orgId });
    });
    return { maxKeyLifetimeSeconds, orgId };
  }
}

/** A query timestamp: ISO seconds, else 400 INVALID_QUERY_PARAMETER naming it. */
function parseQueryTime(value: string, name: string): number {
  const ms = parseIsoSeconds(value);
  if (ms === undefined) throw new ApiError('INVALID_QUERY_PARAMETER', [name]);
  return ms;
}
