/**
 * Web console sessions (docs/console.md): sign-in with a username and password, a random 256-bit token in
 * an HttpOnly cookie, only its SHA-256 in the database (so every node honours it and a sign-out ends it
 * everywhere), idle and absolute expiry, a CSRF token bound to the session, and a sign-in throttle whose
 * counts live in the database so all nodes agree.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../../schema/errors.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import { makePrincipal, type Principal } from '../rbac/principal.js';
import type { Db } from '../storage/database.js';
import { consoleSessions, type SessionRow } from '../storage/repositories/consoleSessions.js';
import { users } from '../storage/repositories/users.js';

/** The session cookie's name. */
export const SESSION_COOKIE = 'pakman_session';
/** The header every change made with a session must carry. */
export const CSRF_HEADER = 'x-csrf-token';

/** Session settings (config.ts: PAKMAN_SESSION_IDLE, PAKMAN_SESSION_MAX). */
export interface SessionSettings {
  idleSeconds: number;
  maxSeconds: number;
  /** Mark the cookie Secure (the public URL is https). */
  secure: boolean;
}

/** Failures of one username before it is locked; an address (maybe a shared NAT) is allowed more. */
const USERNAME_FAILURES = 5;
const ADDRESS_FAILURES = 20;
/** Counts start afresh after this long without a failure. */
const FAILURE_WINDOW_MS = 15 * 60_000;
/** The longest lock: the lock doubles with every failure past the threshold, from 1 s, up to this. */
const MAX_LOCK_SECONDS = 15 * 60;
/** last_seen is written at most this often per session (the idle expiry's resolution). */
const TOUCH_EVERY_MS = 30_000;
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

/** A live session and the principal it acts as. */
export interface Session {
  tokenHash: string;
  row: SessionRow;
  principal: Principal;
  csrfToken: string;
  /** When the session ends if unused (epoch ms). */
  idleExpires: number;
}

/** The token's SHA-256, hex: what the database keeps. */
function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Signs in, resolves and ends console sessions. */
export class ConsoleSessions {
  /** A hash to verify unknown usernames against, so they cost what a wrong password costs. */
  #dummyHash: Promise<string> | undefined;
  #lastSweep = 0;

  constructor(
    private readonly db: Db,
    private readonly secret: string,
    private readonly clock: () => number,
    readonly settings: SessionSettings,
  ) {}

  /** The CSRF token of a session: an HMAC of its token hash with the deployment secret (every node agrees). */
  csrfFor(tokenHash: string): string {
    return createHmac('sha256', this.secret).update(`console-csrf:${tokenHash}`).digest('base64url');
  }

  /** Whether `header` is the session's CSRF token (constant time). */
  csrfOk(session: Session, header: string | string[] | undefined): boolean {
    if (typeof header !== 'string') return false;
    const a = Buffer.from(header);
    const b = Buffer.from(session.csrfToken);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /**
   * Checks a username and password; answers the new session's token (the cookie value) and the session.
   * Refuses with CONSOLE_SIGN_IN_LOCKED while the username or the address is locked, else with
   * CONSOLE_SIGN_IN_FAILED, which never says whether the username exists.
   */
  async signIn(
    username: string,
    password: string,
    address: string,
  ): Promise<{ token: string; session: Session }> {
    const now = this.clock();
    const userKey = `u:${username}`;
    const addrKey = `a:${address}`;
    for (const f of await consoleSessions.failures(this.db, [userKey, addrKey])) {
      if (f.lockedUntil > now) {
        const seconds = Math.ceil((f.lockedUntil - now) / 1000);
        throw new ApiError(
          'CONSOLE_SIGN_IN_LOCKED',
          [f.key === userKey ? 'this username' : 'this address', seconds],
          { 'Retry-After': String(seconds) },
        );
      }
    }
    const creds = await consoleSessions.credentials(this.db, username);
    this.#dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
    const good = await verifyPassword(password, creds?.passwordHash ?? (await this.#dummyHash));
    if (!creds || !good) {
      await this.#failed(userKey, USERNAME_FAILURES, now);
      await this.#failed(addrKey, ADDRESS_FAILURES, now);
      throw new ApiError('CONSOLE_SIGN_IN_FAILED');
    }
    await consoleSessions.clear(this.db, userKey);
    const token = randomBytes(32).toString('base64url');
    const tokenHash = hashToken(token);
    await consoleSessions.insert(this.db, tokenHash, creds.id, now, now + this.settings.maxSeconds * 1000);
    this.#sweep(now);
    const session = await this.resolve(token);
    if (!session) throw new ApiError('UNEXPECTED_ERROR');
    return { token, session };
  }

  async #failed(key: string, threshold: number, now: number): Promise<void> {
    const failures = await consoleSessions.fail(this.db, key, now, now - FAILURE_WINDOW_MS);
    if (failures < threshold) return;
    const seconds = Math.min(2 ** (failures - threshold), MAX_LOCK_SECONDS);
    await consoleSessions.lock(this.db, key, now + seconds * 1000);
  }

  /** The live session of a cookie value, or undefined (unknown, malformed, idle or past its absolute expiry). */
  async resolve(token: string | undefined): Promise<Session | undefined> {
    if (token === undefined || !TOKEN_RE.test(token)) return undefined;
    const tokenHash = hashToken(token);
    const row = await consoleSessions.find(this.db, tokenHash);
    if (!row) return undefined;
    const now = this.clock();
    const idleMs = this.settings.idleSeconds * 1000;
    if (now >= row.expires || now >= row.lastSeen + idleMs) {
      await consoleSessions.delete(this.db, tokenHash);
      return undefined;
    }
    if (now - row.lastSeen >= TOUCH_EVERY_MS) {
      await consoleSessions.touch(this.db, tokenHash, now);
      row.lastSeen = now;
    }
    const roles = await users.roles(this.db, row.userId);
    return {
      tokenHash,
      row,
      principal: makePrincipal('user', row.userId, row.username, null, roles),
      csrfToken: this.csrfFor(tokenHash),
      idleExpires: Math.min(row.expires, row.lastSeen + idleMs),
    };
  }

  /** Ends a session on every node. */
  async signOut(session: Session): Promise<void> {
    await consoleSessions.delete(this.db, session.tokenHash);
  }

  /** Whether any user exists (else the console offers the first-user form). */
  async anyUser(): Promise<boolean> {
    return users.any(this.db);
  }

  /** Drops expired sessions now and then (at most once a minute, after a sign-in). */
  #sweep(now: number): void {
    if (now - this.#lastSweep < 60_000) return;
    this.#lastSweep = now;
    consoleSessions.sweep(this.db, now, now - this.settings.idleSeconds * 1000).catch(() => {});
  }

  /** The Set-Cookie value carrying `token` (or clearing the cookie when undefined). */
  cookie(token: string | undefined): string {
    const attrs = ['Path=/', 'HttpOnly', 'SameSite=Strict'];
    if (this.settings.secure) attrs.push('Secure');
    if (token === undefined) return `${SESSION_COOKIE}=; ${attrs.join('; ')}; Max-Age=0`;
    return `${SESSION_COOKIE}=${token}; ${attrs.join('; ')}; Max-Age=${this.settings.maxSeconds}`;
  }
}
