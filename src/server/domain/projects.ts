/** Projects ("groups"): create, read, list, delete, and their members. */
import { ApiError } from '../../schema/errors.js';
import { newObjectId, OBJECT_ID_RE } from '../../schema/ids.js';
import type { RoleAssignment } from '../../schema/roles.js';
import { allowed, managesOrg } from '../rbac/policy.js';
import type { Principal } from '../rbac/principal.js';
import { isUniqueViolation } from '../storage/connect.js';
import type { Db } from '../storage/database.js';
import { apiKeys } from '../storage/repositories/apiKeys.js';
import { orgs } from '../storage/repositories/orgs.js';
import { type ProjectRecord, projects } from '../storage/repositories/projects.js';
import { users } from '../storage/repositories/users.js';
import { recordEvent } from './audit.js';
import { type Actor, isoSeconds, type ServiceDeps } from './context.js';

/** Throws GROUP_NOT_FOUND unless the project exists; returns it. */
export async function requireProject(db: Db, groupId: string): Promise<ProjectRecord> {
  const project = await projects.findById(db, groupId);
  if (!project) throw new ApiError('GROUP_NOT_FOUND', [groupId]);
  return project;
}

/** Project operations. Path-addressed calls are authorized by the pipeline; the others check here. */
export class ProjectService {
  constructor(private readonly deps: ServiceDeps) {}

  get(groupId: string): Promise<ProjectRecord> {
    return requireProject(this.deps.db, groupId);
  }

  /**
   * A project by name. Callers without a global role who may not read it get USER_UNAUTHORIZED whether
   * or not it exists, so names of other orgs' projects do not leak.
   */
  async getByName(caller: Principal, name: string): Promise<ProjectRecord> {
    const project = await projects.findByName(this.deps.db, name);
    if (project && allowed('project.read', caller, { groupId: project.id, orgId: project.orgId }))
      return project;
    if (caller.global.size > 0) throw new ApiError('GROUP_NAME_NOT_FOUND', [name]);
    throw new ApiError('USER_UNAUTHORIZED');
  }

  /** Projects the caller can read: all for global roles; else its projects and those of orgs it reads. */
  list(caller: Principal, offset: number, limit: number) {
    const visible =
      caller.global.size > 0
        ? null
        : {
            groupIds: [...caller.group.keys()],
            orgIds: [...caller.org]
              .filter(([, r]) => r.has('ORG_OWNER') || r.has('ORG_READ_ONLY'))
              .map(([id]) => id),
          };
    return projects.list(this.deps.db, { visible }, offset, limit);
  }

  /** An org's projects, optionally only the one named `name`. */
  async listByOrg(orgId: string, name: string | undefined, offset: number, limit: number) {
    if (!(await orgs.exists(this.deps.db, orgId))) throw new ApiError('ORG_NOT_FOUND', [orgId]);
    return projects.list(this.deps.db, { orgId, name, visible: null }, offset, limit);
  }

  /**
   * Creates a project. The org comes from the body, so authorization happens here. A creator that holds
   * the org only as ORG_GROUP_CREATOR becomes GROUP_OWNER of the new project, or it could not use it.
   */
  async create(actor: Actor, name: string, orgId: string): Promise<ProjectRecord> {
    const p = actor.principal;
    if (!OBJECT_ID_RE.test(orgId)) throw new ApiError('INVALID_ATTRIBUTE', ['orgId']);
    if (!p || !allowed('project.create', p, { orgId })) throw new ApiError('USER_UNAUTHORIZED');
    const now = this.deps.clock();
    const project: ProjectRecord = { id: newObjectId(now), orgId, name, created: isoSeconds(now) };
    const ownerRole: RoleAssignment = { scope: 'group', scopeId: project.id, roleName: 'GROUP_OWNER' };
    const grantOwner = p.global.size === 0 && !managesOrg(p, orgId);
    try {
      await this.deps.db.transaction().execute(async (trx) => {
        if (!(await orgs.exists(trx, orgId))) throw new ApiError('ORG_NOT_FOUND', [orgId]);
        await projects.insert(trx, project);
        await recordEvent(trx, this.deps.clock, actor, 'GROUP_CREATED', { orgId, groupId: project.id });
        if (!grantOwner) return;
        const subject = { orgId, groupId: project.id };
        if (p.kind === 'apiKey') {
          await apiKeys.lock(trx, p.id);
          await apiKeys.replaceRoles(trx, p.id, project.id, [ownerRole]);
          await recordEvent(trx, this.deps.clock, actor, 'API_KEY_ADDED_TO_GROUP', {
            ...subject,
            apiKeyId: p.id,
            targetPublicKey: p.name,
          });
        } else {
          await users.addRoles(trx, p.id, [ownerRole]);
          await recordEvent(trx, this.deps.clock, actor, 'JOINED_GROUP', {
            ...subject,
            targetUsername: p.name,
          });
        }
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ApiError('GROUP_ALREADY_EXISTS', [name]);
      throw e;
    }
    return project;
  }

  /** Deletes the project; every key and user loses its roles in it. */
  async delete(actor: Actor, groupId: string): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      const project = await requireProject(trx, groupId);
      await projects.delete(trx, groupId);
      await recordEvent(trx, this.deps.clock, actor, 'GROUP_DELETED', { orgId: project.orgId, groupId });
    });
  }

  /** A page of the users holding any role in the project. */
  async users(groupId: string, offset: number, limit: number) {
    await requireProject(this.deps.db, groupId);
    return users.listByGroup(this.deps.db, groupId, offset, limit);
  }
}
