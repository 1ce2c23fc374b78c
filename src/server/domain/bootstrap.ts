/** The first-user bootstrap (`POST /unauth/users`): a GLOBAL_OWNER user and a GLOBAL_OWNER key. */
import { ApiError } from '../../schema/errors.js';
import { newObjectId } from '../../schema/ids.js';
import type { AccessAddress } from '../../schema/ip.js';
import type { RoleAssignment } from '../../schema/roles.js';
import { generateKeyPair } from '../auth/credentials.js';
import { hashPassword } from '../auth/passwords.js';
import { isUniqueViolation } from '../storage/connect.js';
import { type ApiKeyRecord, apiKeys } from '../storage/repositories/apiKeys.js';
import { globalAccessList } from '../storage/repositories/globalAccessList.js';
import { settings } from '../storage/repositories/settings.js';
import { type UserRecord, users } from '../storage/repositories/users.js';
import { recordEvent } from './audit.js';
import { type Actor, isoSeconds, type ServiceDeps } from './context.js';

/** The body of a first-user request. */
export interface FirstUserInput {
  username: string;
  password: string;
  firstName: string;
  lastName: string;
  emailAddress?: string | undefined;
}

/** The result: the user and its key, private key in full (shown once). */
export interface FirstUserResult {
  user: UserRecord;
  key: ApiKeyRecord;
  privateKey: string;
}

const OWNER: RoleAssignment = { scope: 'global', scopeId: '', roleName: 'GLOBAL_OWNER' };

/**
 * Creates the first user exactly once, however many nodes race for it. Every refusal is the same 403
 * `INVITATION_ONLY_MODE_OR_LDAP`, whether the name asked for is taken or not: this route needs no
 * credentials, and a 409 for a taken name (what Ops Manager answers) would let anyone test which usernames
 * exist (docs/compatibility.md). A racer that lost to a concurrent first call gets it too: it is told the
 * bootstrap is closed, which is the truth that matters to it, and learns nothing about other names.
 */
export async function createFirstUser(
  deps: ServiceDeps,
  actor: Actor,
  input: FirstUserInput,
  accessList: readonly AccessAddress[],
): Promise<FirstUserResult> {
  if (await users.any(deps.db)) throw new ApiError('INVITATION_ONLY_MODE_OR_LDAP');
  const passwordHash = await hashPassword(input.password);
  const now = deps.clock();
  const created = isoSeconds(now);
  const user = {
    id: newObjectId(now),
    username: input.username,
    firstName: input.firstName,
    lastName: input.lastName,
    emailAddress: input.emailAddress ?? null,
    mobileNumber: null,
    country: null,
    created,
  };
  const material = generateKeyPair();
  const key: ApiKeyRecord = {
    id: newObjectId(now),
    orgId: null,
    publicKey: material.publicKey,
    desc: 'Automatically generated Global API key',
    keyTail: material.keyTail,
    created,
    expiresAt: null,
    roles: [OWNER],
  };
  try {
    await deps.db.transaction().execute(async (trx) => {
      // The unique settings key is the race's referee: only one transaction can insert it.
      if (!(await settings.insertOnce(trx, 'bootstrap.firstUser', user.id)))
        throw new ApiError('INVITATION_ONLY_MODE_OR_LDAP');
      await users.insert(trx, { ...user, passwordHash }, [OWNER]);
      await apiKeys.insert(trx, { ...key, ...material }, [OWNER]);
      for (const entry of accessList) {
        await globalAccessList.insert(trx, {
          id: newObjectId(now),
          cidr_block: entry.cidrBlock,
          description: 'Added by the first-user bootstrap',
          created,
          updated: created,
          count: 0,
          last_used: null,
          last_used_address: null,
        });
      }
      const self = { ...actor, principal: null };
      await recordEvent(trx, deps.clock, self, 'USER_CREATED', { targetUsername: user.username });
      await recordEvent(trx, deps.clock, self, 'GLOBAL_API_KEY_CREATED', {
        apiKeyId: key.id,
        targetPublicKey: key.publicKey,
      });
    });
  } catch (e) {
    if (e instanceof ApiError || isUniqueViolation(e)) throw new ApiError('INVITATION_ONLY_MODE_OR_LDAP');
    throw e;
  }
  return { user: { ...user, roles: [OWNER] }, key, privateKey: material.privateKey };
}
