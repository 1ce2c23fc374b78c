/** Organizations: create, read, rename, delete. Authorization happens before these calls. */
import { ApiError } from '../../schema/errors.js';
import { newObjectId } from '../../schema/ids.js';
import type { Principal } from '../rbac/principal.js';
import { isUniqueViolation } from '../storage/connect.js';
import { type OrgRecord, orgs } from '../storage/repositories/orgs.js';
import { recordEvent } from './audit.js';
import { type Actor, isoSeconds, type ServiceDeps } from './context.js';

/** Organization operations. */
export class OrgService {
  constructor(private readonly deps: ServiceDeps) {}

  async get(orgId: string): Promise<OrgRecord> {
    const org = await orgs.findById(this.deps.db, orgId);
    if (!org) throw new ApiError('ORG_NOT_FOUND', [orgId]);
    return org;
  }

  /** Orgs the caller can see: all for a global role, else those it holds an org role in. */
  list(caller: Principal, name: string | undefined, offset: number, limit: number) {
    const ids = caller.global.size > 0 ? null : [...caller.org.keys()];
    return orgs.list(this.deps.db, { name, ids }, offset, limit);
  }

  async create(actor: Actor, name: string): Promise<OrgRecord> {
    const now = this.deps.clock();
    const org = { id: newObjectId(now), name, created: isoSeconds(now) };
    try {
      await this.deps.db.transaction().execute(async (trx) => {
        await orgs.insert(trx, org);
        await recordEvent(trx, this.deps.clock, actor, 'ORG_CREATED', { orgId: org.id });
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ApiError('DUPLICATE_ORG_NAME', [name]);
      throw e;
    }
    return org;
  }

  async rename(actor: Actor, orgId: string, name: string): Promise<OrgRecord> {
    try {
      return await this.deps.db.transaction().execute(async (trx) => {
        const org = await orgs.findById(trx, orgId);
        if (!org) throw new ApiError('ORG_NOT_FOUND', [orgId]);
        if (org.name === name) return org;
        await orgs.rename(trx, orgId, name);
        await recordEvent(trx, this.deps.clock, actor, 'ORG_RENAMED', { orgId });
        return { ...org, name };
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ApiError('DUPLICATE_ORG_NAME', [name]);
      throw e;
    }
  }

  /** Deletes an org with no projects, with its keys and the roles anyone held in it. */
  async delete(actor: Actor, orgId: string): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      if (!(await orgs.exists(trx, orgId))) throw new ApiError('ORG_NOT_FOUND', [orgId]);
      if (await orgs.hasProjects(trx, orgId)) throw new ApiError('CANNOT_DELETE_ORG_WITH_PROJECTS', [orgId]);
      const keyIds = trx.selectFrom('api_keys').select('id').where('org_id', '=', orgId);
      await trx.deleteFrom('api_key_roles').where('api_key_id', 'in', keyIds).execute();
      await trx.deleteFrom('api_key_access_list').where('api_key_id', 'in', keyIds).execute();
      await trx.deleteFrom('api_keys').where('org_id', '=', orgId).execute();
      await trx.deleteFrom('api_key_roles').where('scope_id', '=', orgId).execute();
      await trx.deleteFrom('user_roles').where('scope_id', '=', orgId).execute();
      await orgs.delete(trx, orgId);
      await recordEvent(trx, this.deps.clock, actor, 'ORG_DELETED', { orgId });
    });
  }
}
