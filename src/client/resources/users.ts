/** `/users`: users (the password is accepted on create and update, never returned). */

import type { UserCreateBody, UserUpdateBody } from '../../schema/bodies.js';
import type { User } from '../../schema/responses.js';
import { type Core, seg } from '../core.js';

/** Users. */
export class UsersApi {
  constructor(private readonly core: Core) {}

  /** `POST /users`. */
  create(body: UserCreateBody): Promise<User> {
    return this.core.json('POST', '/users', { body });
  }

  /** `GET /users/{USER-ID}`. */
  get(userId: string): Promise<User> {
    return this.core.json('GET', `/users/${seg(userId)}`);
  }

  /** `GET /users/byName/{USERNAME}`. */
  getByName(username: string): Promise<User> {
    return this.core.json('GET', `/users/byName/${seg(username)}`);
  }

  /** `PATCH /users/{USER-ID}`. */
  update(userId: string, body: UserUpdateBody): Promise<User> {
    return this.core.json('PATCH', `/users/${seg(userId)}`, { body });
  }

  /** `DELETE /users/{USER-ID}`. */
  async delete(userId: string): Promise<void> {
    await this.core.raw('DELETE', `/users/${seg(userId)}`);
  }
}
