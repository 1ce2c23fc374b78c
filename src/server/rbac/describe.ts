/** Who may perform each action, in words, for docs/api.md (kept in step with the route table by a test). */
import { fullPath } from '../http/route.js';
import type { Action } from './policy.js';

/** One sentence per action; exhaustive, so a new action cannot go undocumented. */
export const WHO_MAY: Record<Action | 'public', string> = {
  public: 'anyone (no credentials)',
  authenticated: 'any authenticated caller (sees only what its roles reach)',
  'orgs.create': 'GLOBAL_OWNER, GLOBAL_USER_ADMIN',
  'org.read': 'any role in the org; any global role',
  'org.update': 'GLOBAL_OWNER, GLOBAL_USER_ADMIN',
  'org.delete': 'GLOBAL_OWNER, GLOBAL_USER_ADMIN',
  'orgKeys.read': 'any role in the org; any global role',
  'orgKeys.write': 'ORG_OWNER of the org; GLOBAL_OWNER, GLOBAL_USER_ADMIN',
  'accessList.read': 'the key itself; ORG_OWNER of the org; any global role (other org members: 400)',
  'accessList.write':
    'the key itself; ORG_OWNER of the org; GLOBAL_OWNER, GLOBAL_USER_ADMIN (other org members: 400)',
  'project.create': 'ORG_OWNER, ORG_GROUP_CREATOR of the org; GLOBAL_OWNER',
  'project.read': 'any role in the project; ORG_OWNER, ORG_READ_ONLY of its org; any global role',
  'project.delete': 'GROUP_OWNER of the project; ORG_OWNER of its org; GLOBAL_OWNER',
  'projectKeys.read': 'any role in the project; ORG_OWNER, ORG_READ_ONLY of its org; any global role',
  'projectKeys.write':
    'GROUP_OWNER, GROUP_USER_ADMIN of the project (only GROUP_OWNER grants or touches GROUP_OWNER); ORG_OWNER of its org; GLOBAL_OWNER, GLOBAL_USER_ADMIN',
  'globalKeys.read': 'any global role',
  'globalKeys.write': 'GLOBAL_OWNER, GLOBAL_USER_ADMIN (only GLOBAL_OWNER grants or touches GLOBAL_OWNER)',
  'globalAccessList.read': 'any global role',
  'globalAccessList.write': 'GLOBAL_OWNER, GLOBAL_USER_ADMIN',
  'users.create': 'GLOBAL_OWNER, GLOBAL_USER_ADMIN',
  'user.read': 'the user itself; any global role',
  'user.update':
    'the user itself (never raising its own roles); GLOBAL_OWNER, GLOBAL_USER_ADMIN (grant rule applies to roles)',
  'user.delete': 'GLOBAL_OWNER, GLOBAL_USER_ADMIN',
  'orgUsers.read': 'any role in the org; any global role',
  'orgEvents.read': 'any role in the org; any global role',
  'projectEvents.read': 'any role in the project; ORG_OWNER, ORG_READ_ONLY of its org; any global role',
  'rateLimits.read': 'any role in the org; any global role',
  'rateLimits.write': 'ORG_OWNER of the org; GLOBAL_OWNER, GLOBAL_USER_ADMIN',
};

const PLACEHOLDERS: [RegExp, string][] = [
  [/:orgId/g, '{ORG-ID}'],
  [/:groupId/g, '{PROJECT-ID}'],
  [/:apiKeyId/g, '{API-KEY-ID}'],
  [/:userId/g, '{USER-ID}'],
  [/:entryId/g, '{ACCESS-LIST-ID}'],
  [/:eventId/g, '{EVENT-ID}'],
  [/:address\/:prefix/g, '{IP}/{BITS}'],
  [/:entry/g, '{ENTRY}'],
  [/:name/g, '{NAME}'],
  [/:username/g, '{USERNAME}'],
];

/** A route path as Ops Manager's documentation writes it (`/orgs/{ORG-ID}/apiKeys`). */
export function docPath(url: string): string {
  let path = fullPath(url);
  for (const [re, name] of PLACEHOLDERS) path = path.replace(re, name);
  return path;
}
