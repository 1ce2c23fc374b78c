/** Records audit events for changes, naming the actor and its address, never a secret. */
import { newObjectId } from '../../schema/ids.js';
import type { Db } from '../storage/database.js';
import { events } from '../storage/repositories/events.js';
import { type Actor, isoSeconds } from './context.js';

/** Event type names pakman emits (Ops Manager / Atlas audit names). */
export type EventType =
  | 'API_KEY_CREATED'
  | 'API_KEY_DELETED'
  | 'API_KEY_DESCRIPTION_CHANGED'
  | 'API_KEY_ROLES_CHANGED'
  | 'API_KEY_ADDED_TO_GROUP'
  | 'API_KEY_REMOVED_FROM_GROUP'
  | 'API_KEY_ACCESS_LIST_ENTRY_ADDED'
  | 'API_KEY_ACCESS_LIST_ENTRY_DELETED'
  | 'GLOBAL_API_KEY_CREATED'
  | 'GLOBAL_API_KEY_DELETED'
  | 'GLOBAL_API_KEY_DESCRIPTION_CHANGED'
  | 'GLOBAL_API_KEY_ROLES_CHANGED'
  | 'GLOBAL_ACCESS_LIST_ENTRY_ADDED'
  | 'GLOBAL_ACCESS_LIST_ENTRY_UPDATED'
  | 'GLOBAL_ACCESS_LIST_ENTRY_DELETED'
  | 'ORG_CREATED'
  | 'ORG_RENAMED'
  | 'ORG_DELETED'
  | 'GROUP_CREATED'
  | 'GROUP_DELETED'
  | 'JOINED_ORG'
  | 'JOINED_GROUP'
  | 'USER_CREATED'
  | 'USER_UPDATED'
  | 'USER_DELETED'
  | 'USER_ROLES_CHANGED'
  | 'USER_API_KEY_CREATED'
  | 'API_KEY_EXPIRY_SET'
  | 'API_KEY_EXPIRY_CHANGED'
  | 'API_KEY_EXPIRED'
  | 'API_KEY_ROTATED'
  | 'API_KEY_POLICY_CHANGED'
  | 'USER_API_KEYS_REVOKED'
  | 'ORG_RATE_LIMIT_SET'
  | 'ORG_RATE_LIMIT_REMOVED'
  | 'API_KEY_RATE_LIMIT_SET'
  | 'API_KEY_RATE_LIMIT_REMOVED'
  | 'GLOBAL_API_KEY_RATE_LIMIT_SET'
  | 'GLOBAL_API_KEY_RATE_LIMIT_REMOVED';

/** What an event is about. */
export interface EventSubject {
  orgId?: string | null;
  groupId?: string | null;
  apiKeyId?: string | null;
  targetPublicKey?: string | null;
  targetUsername?: string | null;
  whitelistEntry?: string | null;
  /** The expiry a lifecycle event set (null: cleared). */
  expiresAt?: string | null;
  /** The end of a rotation's grace period. */
  graceEndsAt?: string | null;
}

/** Writes one event with `db` (pass the transaction of the change). */
export function recordEvent(
  db: Db,
  clock: () => number,
  actor: Actor,
  type: EventType,
  subject: EventSubject,
): Promise<void> {
  return recordEvents(db, clock, actor, [[type, subject]]);
}

/** Writes several events of one change with `db`, in one statement, in the order given. */
export async function recordEvents(
  db: Db,
  clock: () => number,
  actor: Actor,
  list: readonly (readonly [EventType, EventSubject])[],
): Promise<void> {
  const p = actor.principal;
  await events.insert(
    db,
    list.map(([type, subject]) => {
      const now = clock();
      return {
        id: newObjectId(now),
        created: isoSeconds(now),
        event_type: type,
        org_id: subject.orgId ?? null,
        group_id: subject.groupId ?? null,
        api_key_id: subject.apiKeyId ?? null,
        target_public_key: subject.targetPublicKey ?? null,
        target_username: subject.targetUsername ?? null,
        actor_public_key: p?.kind === 'apiKey' ? p.name : null,
        actor_username: p?.kind === 'user' ? p.name : null,
        actor_user_id: p?.kind === 'user' ? p.id : null,
        remote_address: actor.remoteAddress,
        whitelist_entry: subject.whitelistEntry ?? null,
        is_global_admin: p && p.global.size > 0 ? 1 : 0,
        expires_at: subject.expiresAt ?? null,
        grace_ends_at: subject.graceEndsAt ?? null,
      };
    }),
  );
}
