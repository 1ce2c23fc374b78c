/** `/groups`: projects and their users. */

import type { ProjectCreateBody } from '../../schema/bodies.js';
import type { List, Project, User } from '../../schema/responses.js';
import { type Core, type PageOptions, seg } from '../core.js';

/** Projects (groups). */
export class ProjectsApi {
  constructor(private readonly core: Core) {}

  /** `GET /groups`: one page of the projects the caller can see. */
  list(opts: PageOptions = {}): Promise<List<Project>> {
    return this.core.list('/groups', { ...opts });
  }

  /** Every visible project. */
  iterate(opts: { itemsPerPage?: number } = {}): AsyncGenerator<Project, void, undefined> {
    return this.core.iterate('/groups', { ...opts });
  }

  /** Every page of visible projects (for progress reporting). */
  pages(opts: { itemsPerPage?: number } = {}): AsyncGenerator<List<Project>, void, undefined> {
    return this.core.pages('/groups', { ...opts });
  }

  /** `GET /groups/{PROJECT-ID}`. */
  get(projectId: string): Promise<Project> {
    return this.core.json('GET', `/groups/${seg(projectId)}`);
  }

  /** `GET /groups/byName/{NAME}`. */
  getByName(name: string): Promise<Project> {
    return this.core.json('GET', `/groups/byName/${seg(name)}`);
  }

  /** `POST /groups`. */
  create(body: ProjectCreateBody): Promise<Project> {
    return this.core.json('POST', '/groups', { body });
  }

  /** `DELETE /groups/{PROJECT-ID}`. */
  async delete(projectId: string): Promise<void> {
    await this.core.raw('DELETE', `/groups/${seg(projectId)}`);
  }

  /** `GET /groups/{PROJECT-ID}/users`: one page. */
  users(projectId: string, opts: PageOptions = {}): Promise<List<User>> {
    return this.core.list(`/groups/${seg(projectId)}/users`, { ...opts });
  }

  /** Every user of the project. */
  iterateUsers(projectId: string): AsyncGenerator<User, void, undefined> {
    return this.core.iterate(`/groups/${seg(projectId)}/users`);
  }
}
