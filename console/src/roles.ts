/**
 * Role names as people read them (Ops Manager's UI labels), and what the signed-in user may change, to
 * show only the controls that would work. The server decides anyway: a hidden control is a courtesy.
 */
import { GLOBAL_ROLES, GROUP_ROLES, ORG_ROLES } from '../../src/schema/roles.js';
import type { Role } from './api.js';

export { GLOBAL_ROLES, GROUP_ROLES, ORG_ROLES };

const NAMES: Record<string, string> = {
  ORG_OWNER: 'Organization Owner',
  ORG_MEMBER: 'Organization Member',
  ORG_GROUP_CREATOR: 'Organization Project Creator',
  ORG_READ_ONLY: 'Organization Read Only',
  GROUP_AUTOMATION_ADMIN: 'Project Automation Admin',
  GROUP_BACKUP_ADMIN: 'Project Backup Admin',
  GROUP_DATA_ACCESS_ADMIN: 'Project Data Access Admin',
  GROUP_DATA_ACCESS_READ_ONLY: 'Project Data Access Read Only',
  GROUP_DATA_ACCESS_READ_WRITE: 'Project Data Access Read/Write',
  GROUP_MONITORING_ADMIN: 'Project Monitoring Admin',
  GROUP_OWNER: 'Project Owner',
  GROUP_READ_ONLY: 'Project Read Only',
  GROUP_USER_ADMIN: 'Project User Admin',
  GLOBAL_AUTOMATION_ADMIN: 'Global Automation Admin',
  GLOBAL_BACKUP_ADMIN: 'Global Backup Admin',
  GLOBAL_BILLING_ADMIN: 'Global Billing Admin',
  GLOBAL_MONITORING_ADMIN: 'Global Monitoring Admin',
  GLOBAL_OWNER: 'Global Owner',
  GLOBAL_READ_ONLY: 'Global Read Only',
  GLOBAL_USER_ADMIN: 'Global User Admin',
};

/** A role's human name (the code itself for an unknown one). */
export function roleLabel(name: string): string {
  return NAMES[name] ?? name;
}

/** What the signed-in user holds, for showing or hiding controls. */
export class Powers {
  readonly global: Set<string>;
  constructor(readonly roles: readonly Role[]) {
    this.global = new Set(roles.filter((r) => !r.orgId && !r.groupId).map((r) => r.roleName));
  }
  #inOrg(orgId: string, ...names: string[]): boolean {
    return this.roles.some((r) => r.orgId === orgId && names.includes(r.roleName));
  }
  #inGroup(groupId: string, ...names: string[]): boolean {
    return this.roles.some((r) => r.groupId === groupId && names.includes(r.roleName));
  }
  get anyGlobal(): boolean {
    return this.global.size > 0;
  }
  get globalAdmin(): boolean {
    return this.global.has('GLOBAL_OWNER') || this.global.has('GLOBAL_USER_ADMIN');
  }
  /** Create, edit and delete the org's keys and their access lists. */
  orgKeysWrite(orgId: string): boolean {
    return this.globalAdmin || this.#inOrg(orgId, 'ORG_OWNER');
  }
  projectCreate(orgId: string): boolean {
    return this.global.has('GLOBAL_OWNER') || this.#inOrg(orgId, 'ORG_OWNER', 'ORG_GROUP_CREATOR');
  }
  projectDelete(orgId: string, groupId: string): boolean {
    return (
      this.global.has('GLOBAL_OWNER') ||
      this.#inOrg(orgId, 'ORG_OWNER') ||
      this.#inGroup(groupId, 'GROUP_OWNER')
    );
  }
  projectKeysWrite(orgId: string, groupId: string): boolean {
    return (
      this.globalAdmin ||
      this.#inOrg(orgId, 'ORG_OWNER') ||
      this.#inGroup(groupId, 'GROUP_OWNER', 'GROUP_USER_ADMIN')
    );
  }
}
