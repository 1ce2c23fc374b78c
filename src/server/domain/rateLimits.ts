/**
 * Rate limits (issue 17): an org's default for its keys, a key's own (which wins), and a global key's.
 * Callers are authorized for the org (or as global admins) before these run. Every change writes an event
 * in its transaction and, through migration 008's triggers, reaches every node's credential cache within
 * the revocation window.
 */
import { ApiError } from '../../schema/errors.js';
import type { RateLimit } from '../auth/rateLimit.js';
import type { Db } from '../storage/database.js';
import { apiKeys } from '../storage/repositories/apiKeys.js';
import { orgs } from '../storage/repositories/orgs.js';
import { type LimitSubject, rateLimits } from '../storage/repositories/rateLimits.js';
import { lockOrgKey } from './apiKeys.js';
import { type EventSubject, type EventType, recordEvent } from './audit.js';
import { type Actor, isoSeconds, type ServiceDeps } from './context.js';
import { assertCanTouch } from './globalKeys.js';

/** Which limit a call is about: an org's default, an org key's, or a global key's. */
export type LimitTarget =
  | { kind: 'org'; orgId: string }
  | { kind: 'orgKey'; orgId: string; keyId: string }
  | { kind: 'globalKey'; keyId: string };

const EVENTS: Record<LimitTarget['kind'], [set: EventType, removed: EventType]> = {
  org: ['ORG_RATE_LIMIT_SET', 'ORG_RATE_LIMIT_REMOVED'],
  orgKey: ['API_KEY_RATE_LIMIT_SET', 'API_KEY_RATE_LIMIT_REMOVED'],
  globalKey: ['GLOBAL_API_KEY_RATE_LIMIT_SET', 'GLOBAL_API_KEY_RATE_LIMIT_REMOVED'],
};

/** Rate-limit operations. */
export class RateLimitService {
  constructor(private readonly deps: ServiceDeps) {}

  /** The limit set on the target; RATE_LIMIT_NOT_FOUND when none is. */
  async get(t: LimitTarget): Promise<RateLimit> {
    const { subject } = await this.#resolve(this.deps.db, t, false);
    const limit = await rateLimits.get(this.deps.db, subject);
    if (!limit) throw new ApiError('RATE_LIMIT_NOT_FOUND', [idOf(t)]);
    return limit;
  }

  /** Sets or replaces the target's limit. */
  async set(actor: Actor, t: LimitTarget, limit: RateLimit): Promise<RateLimit> {
    const now = this.deps.clock();
    await this.deps.db.transaction().execute(async (trx) => {
      const { subject, event } = await this.#resolve(trx, t, true, actor);
      await rateLimits.set(trx, subject, limit, isoSeconds(now));
      await recordEvent(trx, this.deps.clock, actor, EVENTS[t.kind][0], event);
    });
    return limit;
  }

  /** Removes the target's limit; RATE_LIMIT_NOT_FOUND when none was set. */
  async remove(actor: Actor, t: LimitTarget): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      const { subject, event } = await this.#resolve(trx, t, true, actor);
      if (!(await rateLimits.delete(trx, subject))) throw new ApiError('RATE_LIMIT_NOT_FOUND', [idOf(t)]);
      await recordEvent(trx, this.deps.clock, actor, EVENTS[t.kind][1], event);
    });
  }

  /** The row a target names, and the event subject of a change to it; 404s for unknown orgs and keys. */
  async #resolve(
    db: Db,
    t: LimitTarget,
    lock: boolean,
    actor?: Actor,
  ): Promise<{ subject: LimitSubject; event: EventSubject }> {
    if (t.kind === 'org') {
      if (!(await orgs.exists(db, t.orgId))) throw new ApiError('ORG_NOT_FOUND', [t.orgId]);
      return { subject: { orgId: t.orgId }, event: { orgId: t.orgId } };
    }
    if (t.kind === 'orgKey') {
      let publicKey: string;
      if (lock) publicKey = (await lockOrgKey(db, t.orgId, t.keyId)).publicKey;
      else {
        const key = await apiKeys.findById(db, t.keyId);
        if (key?.orgId !== t.orgId) {
          if (!(await orgs.exists(db, t.orgId))) throw new ApiError('ORG_NOT_FOUND', [t.orgId]);
          throw new ApiError('API_KEY_NOT_FOUND', [t.keyId]);
        }
        publicKey = key.publicKey;
      }
      return {
        subject: { keyId: t.keyId },
        event: { orgId: t.orgId, apiKeyId: t.keyId, targetPublicKey: publicKey },
      };
    }
    if (lock) await apiKeys.lock(db, t.keyId);
    const key = await apiKeys.findById(db, t.keyId);
    // An org key is not a global key: the two id spaces never answer for each other.
    if (!key || key.orgId !== null) throw new ApiError('API_KEY_NOT_FOUND', [t.keyId]);
    // As for every other change of a global key: only a GLOBAL_OWNER touches a GLOBAL_OWNER's key.
    if (actor) assertCanTouch(actor, key);
    return { subject: { keyId: t.keyId }, event: { apiKeyId: t.keyId, targetPublicKey: key.publicKey } };
  }
}

function idOf(t: LimitTarget): string {
  return t.kind === 'org' ? t.orgId : t.keyId;
}
