import { describe, expect, it } from 'vitest';
import { GROUP_ROLES, ORG_ROLES, type RoleAssignment, type RoleName } from '../../schema/roles.js';
import { type Action, allowed, canChangeRoles, canGrant, POLICY, type Target } from './policy.js';
import { makePrincipal, type Principal } from './principal.js';

const ORG = 'o'.repeat(24);
const OTHER_ORG = 'p'.repeat(24);
const GROUP = 'g'.repeat(24);

function who(...roles: string[]): Principal {
  const assignments: RoleAssignment[] = roles.map((r) => {
    const [name, scopeId] = r.split('@') as [RoleName, string | undefined];
    const scope = name.startsWith('GLOBAL_') ? 'global' : name.startsWith('ORG_') ? 'org' : 'group';
    return {
      scope,
      scopeId: scopeId ?? (scope === 'global' ? '' : scope === 'org' ? ORG : GROUP),
      roleName: name,
    };
  });
  return makePrincipal('apiKey', 'k'.repeat(24), 'abcdefgh', ORG, assignments);
}

const inOrg: Target = { orgId: ORG };
const inGroup: Target = { orgId: ORG, groupId: GROUP };

// action, target, principal roles, expected
const TABLE: [Action, Target, string[], boolean][] = [
  ['org.read', inOrg, ['GLOBAL_READ_ONLY'], true],
  ['org.read', inOrg, ['ORG_READ_ONLY'], true],
  ['org.read', inOrg, ['ORG_MEMBER'], true],
  ['org.read', inOrg, [`ORG_OWNER@${OTHER_ORG}`], false],
  ['org.read', inOrg, ['GROUP_OWNER'], false],
  ['org.read', inOrg, [], false],
  ['orgs.create', {}, ['GLOBAL_OWNER'], true],
  ['orgs.create', {}, ['GLOBAL_USER_ADMIN'], true],
  ['orgs.create', {}, ['GLOBAL_READ_ONLY'], false],
  ['orgs.create', {}, ['ORG_OWNER'], false],
  ['org.update', inOrg, ['ORG_OWNER'], false],
  ['org.delete', inOrg, ['GLOBAL_OWNER'], true],
  ['orgKeys.read', inOrg, ['ORG_READ_ONLY'], true],
  ['orgKeys.read', inOrg, ['GLOBAL_MONITORING_ADMIN'], true],
  ['orgKeys.write', inOrg, ['ORG_OWNER'], true],
  ['orgKeys.write', inOrg, ['ORG_MEMBER'], false],
  ['orgKeys.write', inOrg, ['ORG_READ_ONLY'], false],
  ['orgKeys.write', inOrg, ['ORG_GROUP_CREATOR'], false],
  ['orgKeys.write', inOrg, ['GLOBAL_USER_ADMIN'], true],
  ['orgKeys.write', inOrg, ['GLOBAL_READ_ONLY'], false],
  ['orgKeys.write', inOrg, [`ORG_OWNER@${OTHER_ORG}`], false],
  ['rateLimits.write', inOrg, ['ORG_OWNER'], true],
  ['rateLimits.write', inOrg, ['GLOBAL_OWNER'], true],
  ['rateLimits.write', inOrg, ['GLOBAL_USER_ADMIN'], true],
  ['rateLimits.write', inOrg, ['ORG_MEMBER'], false],
  ['rateLimits.write', inOrg, ['ORG_READ_ONLY'], false],
  ['rateLimits.write', inOrg, ['GLOBAL_READ_ONLY'], false],
  ['rateLimits.write', inOrg, [`ORG_OWNER@${OTHER_ORG}`], false],
  ['rateLimits.read', inOrg, ['ORG_MEMBER'], true],
  ['rateLimits.read', inOrg, ['GLOBAL_READ_ONLY'], true],
  ['rateLimits.read', inOrg, [`ORG_OWNER@${OTHER_ORG}`], false],
  ['accessList.read', { ...inOrg, keyId: 'k'.repeat(24) }, [], true],
  ['accessList.write', { ...inOrg, keyId: 'x'.repeat(24) }, [], false],
  ['accessList.write', { ...inOrg, keyId: 'x'.repeat(24) }, ['ORG_MEMBER'], true],
  ['project.create', inOrg, ['ORG_GROUP_CREATOR'], true],
  ['project.create', inOrg, ['ORG_OWNER'], true],
  ['project.create', inOrg, ['ORG_MEMBER'], false],
  ['project.create', inOrg, ['GLOBAL_OWNER'], true],
  ['project.create', inOrg, ['GLOBAL_USER_ADMIN'], false],
  ['project.read', inGroup, ['GROUP_READ_ONLY'], true],
  ['project.read', inGroup, ['ORG_READ_ONLY'], true],
  ['project.read', inGroup, ['ORG_OWNER'], true],
  ['project.read', inGroup, ['ORG_MEMBER'], false],
  ['project.read', inGroup, [`GROUP_OWNER@${'h'.repeat(24)}`], false],
  ['projectKeys.write', inGroup, ['GROUP_OWNER'], true],
  ['projectKeys.write', inGroup, ['GROUP_USER_ADMIN'], true],
  ['projectKeys.write', inGroup, ['GROUP_READ_ONLY'], false],
  ['projectKeys.write', inGroup, ['ORG_OWNER'], true],
  ['projectKeys.write', inGroup, ['GLOBAL_USER_ADMIN'], true],
  ['globalKeys.read', {}, ['GLOBAL_READ_ONLY'], true],
  ['globalKeys.read', {}, ['ORG_OWNER'], false],
  ['globalKeys.write', {}, ['GLOBAL_USER_ADMIN'], true],
  ['globalKeys.write', {}, ['GLOBAL_READ_ONLY'], false],
  ['globalAccessList.write', {}, ['GLOBAL_OWNER'], true],
  ['globalAccessList.write', {}, ['GLOBAL_BACKUP_ADMIN'], false],
  ['users.create', {}, ['GLOBAL_USER_ADMIN'], true],
  ['users.create', {}, ['ORG_OWNER'], false],
  ['orgEvents.read', inOrg, ['ORG_READ_ONLY'], true],
  ['projectEvents.read', inGroup, ['GROUP_READ_ONLY'], true],
  ['projectEvents.read', inGroup, ['ORG_MEMBER'], false],
];

describe('policy table', () => {
  it.each(TABLE)('%s on %j by [%s] → %s', (action, target, roles, expected) => {
    expect(allowed(action, who(...roles), target)).toBe(expected);
  });
});

describe('grant rule', () => {
  const orgRole = (name: RoleName, scopeId = ORG): RoleAssignment => ({
    scope: 'org',
    scopeId,
    roleName: name,
  });
  const groupRole = (name: RoleName): RoleAssignment => ({ scope: 'group', scopeId: GROUP, roleName: name });
  const globalRole = (name: RoleName): RoleAssignment => ({ scope: 'global', scopeId: '', roleName: name });
  const groupOrgs = new Map([[GROUP, ORG]]);

  it.each([
    [['ORG_OWNER'], [orgRole('ORG_OWNER')], true],
    [['ORG_OWNER'], [groupRole('GROUP_OWNER')], true],
    [['ORG_OWNER'], [orgRole('ORG_MEMBER', OTHER_ORG)], false],
    [['ORG_OWNER'], [globalRole('GLOBAL_READ_ONLY')], false],
    [['GROUP_OWNER'], [groupRole('GROUP_READ_ONLY')], true],
    [['GROUP_USER_ADMIN'], [groupRole('GROUP_OWNER')], false],
    [['GROUP_USER_ADMIN'], [groupRole('GROUP_USER_ADMIN')], true],
    [[`GROUP_OWNER@${'h'.repeat(24)}`], [groupRole('GROUP_READ_ONLY')], false],
    [['ORG_OWNER'], [groupRole('GROUP_OWNER')], true],
    [['GLOBAL_USER_ADMIN'], [groupRole('GROUP_OWNER')], true],
    [['GROUP_OWNER'], [orgRole('ORG_MEMBER')], false],
    [['GROUP_READ_ONLY'], [groupRole('GROUP_READ_ONLY')], false],
    [['GLOBAL_USER_ADMIN'], [globalRole('GLOBAL_READ_ONLY'), orgRole('ORG_OWNER')], true],
    [['GLOBAL_USER_ADMIN'], [globalRole('GLOBAL_OWNER')], false],
    [['GLOBAL_OWNER'], [globalRole('GLOBAL_OWNER')], true],
    [['GLOBAL_READ_ONLY'], [orgRole('ORG_READ_ONLY')], false],
  ] as const)('[%s] granting %j → %s', (held, roles, expected) => {
    expect(canGrant(who(...held), roles, groupOrgs)).toBe(expected);
  });
});

describe('grant rule at project scope, every project role', () => {
  const groupOrgs = new Map([[GROUP, ORG]]);
  // held role → whether it grants each project role
  const expected: Record<string, (r: string) => boolean> = {
    GROUP_OWNER: () => true,
    GROUP_USER_ADMIN: (r) => r !== 'GROUP_OWNER',
    GROUP_READ_ONLY: () => false,
    GROUP_DATA_ACCESS_ADMIN: () => false,
  };
  const cases = Object.keys(expected).flatMap((held) => GROUP_ROLES.map((r) => [held, r] as const));
  it.each(cases)('%s grants %s: per the table', (held, r) => {
    const role: RoleAssignment = { scope: 'group', scopeId: GROUP, roleName: r };
    expect(canGrant(who(held), [role], groupOrgs)).toBe(expected[held]!(r));
  });
});

describe('changing roles: the grant rule read both ways, nobody raises themselves', () => {
  const groupOrgs = new Map([[GROUP, ORG]]);
  const g = (...names: RoleName[]): RoleAssignment[] =>
    names.map((roleName) => ({ scope: 'group', scopeId: GROUP, roleName }));
  const self = { kind: 'apiKey', id: 'k'.repeat(24) } as const;
  const other = { kind: 'apiKey', id: 'x'.repeat(24) } as const;
  const aUser = { kind: 'user', id: 'k'.repeat(24) } as const;
  // caller roles, subject, before, after, expected
  const CASES: [string[], typeof self | typeof aUser, RoleAssignment[], RoleAssignment[], boolean][] = [
    [['GROUP_USER_ADMIN'], other, g('GROUP_READ_ONLY'), g('GROUP_BACKUP_ADMIN'), true],
    [['GROUP_USER_ADMIN'], other, g(), g('GROUP_OWNER'), false],
    [['GROUP_USER_ADMIN'], other, g('GROUP_OWNER'), g('GROUP_READ_ONLY'), false],
    [['GROUP_USER_ADMIN'], other, g('GROUP_OWNER'), g('GROUP_OWNER', 'GROUP_READ_ONLY'), false],
    [['GROUP_USER_ADMIN'], other, g('GROUP_OWNER'), g(), false],
    [['GROUP_OWNER'], other, g('GROUP_OWNER'), g(), true],
    [['GROUP_USER_ADMIN'], self, g('GROUP_USER_ADMIN'), g('GROUP_OWNER'), false],
    [['GROUP_USER_ADMIN'], self, g('GROUP_USER_ADMIN'), g('GROUP_USER_ADMIN', 'GROUP_READ_ONLY'), false],
    [['GROUP_OWNER'], self, g('GROUP_OWNER'), g('GROUP_OWNER', 'GROUP_READ_ONLY'), true],
    [['GROUP_OWNER'], self, g('GROUP_OWNER'), g('GROUP_READ_ONLY'), true],
    [['ORG_OWNER'], self, g(), g('GROUP_OWNER'), true],
    [[`ORG_OWNER@${OTHER_ORG}`], self, g(), g('GROUP_READ_ONLY'), false],
    [['GROUP_READ_ONLY'], self, g('GROUP_READ_ONLY'), g('GROUP_READ_ONLY', 'GROUP_MONITORING_ADMIN'), false],
    [
      ['GROUP_OWNER', 'GROUP_READ_ONLY'],
      self,
      g('GROUP_OWNER', 'GROUP_READ_ONLY'),
      g('GROUP_READ_ONLY'),
      true,
    ],
    [['GROUP_USER_ADMIN'], self, g('GROUP_USER_ADMIN'), g(), true],
    [['GROUP_READ_ONLY'], self, g('GROUP_READ_ONLY'), g(), true],
    [['GROUP_USER_ADMIN'], self, g('GROUP_USER_ADMIN'), g('GROUP_USER_ADMIN'), true],
    // A user with the same id is another subject than the key.
    [['GROUP_OWNER'], aUser, g(), g('GROUP_READ_ONLY'), true],
    [['GLOBAL_OWNER'], self, [], g('GROUP_OWNER'), true],
    [['GLOBAL_USER_ADMIN'], self, [], g('GROUP_READ_ONLY'), false],
    [['GLOBAL_USER_ADMIN'], other, g('GROUP_OWNER'), g(), true],
  ];
  it.each(CASES)('[%s] changing %j from %j to %j → %s', (held, subject, before, after, ok) => {
    expect(canChangeRoles(who(...held), subject, before, after, groupOrgs)).toBe(ok);
  });

  it('an owner role passes every rule a role of its scope or below passes (OWNER_OF_SCOPE)', () => {
    const targets: Target[] = [
      {},
      inOrg,
      inGroup,
      { ...inGroup, keyId: 'k'.repeat(24), userId: 'y'.repeat(24) },
    ];
    const below: Record<string, readonly string[]> = {
      ORG_OWNER: [...ORG_ROLES, ...GROUP_ROLES],
      GROUP_OWNER: GROUP_ROLES,
    };
    for (const [owner, roles] of Object.entries(below))
      for (const r of roles)
        for (const action of Object.keys(POLICY) as Action[])
          for (const t of targets)
            if (allowed(action, who(r), t))
              expect(allowed(action, who(owner), t), `${owner} ⊇ ${r}: ${action} ${JSON.stringify(t)}`).toBe(
                true,
              );
  });

  it('GLOBAL_OWNER passes every rule of the table, so no role added to it raises it', () => {
    const owner = who('GLOBAL_OWNER');
    const targets: Target[] = [
      {},
      inOrg,
      inGroup,
      { ...inGroup, keyId: 'x'.repeat(24), userId: 'y'.repeat(24) },
    ];
    for (const action of Object.keys(POLICY) as Action[])
      for (const t of targets) expect(allowed(action, owner, t), `${action} ${JSON.stringify(t)}`).toBe(true);
  });
});
