/**
 * The console's one way to the server: the public API's own routes with the session cookie (sent by the
 * browser, HttpOnly, never visible here) and, on every change, the session's CSRF token.
 */

/** The public API's base path. */
export const API = '/api/public/v1.0';

/** What GET /console/api/session answers. */
export interface SessionInfo {
  signedIn: boolean;
  firstUser?: boolean;
  clientAddress: string;
  csrfToken?: string;
  user?: { id: string; username: string; firstName: string; lastName: string };
  roles?: Role[];
  idleExpires?: string;
  expires?: string;
}

/** A role as the API writes it. */
export interface Role {
  roleName: string;
  orgId?: string;
  groupId?: string;
}

/** An API failure: the Ops Manager error body's detail, shown next to what caused it. */
export class ApiFailure extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode: string | undefined,
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;
let onSignedOut: () => void = () => {};

/** Remembers the session's CSRF token (in memory only) and what to do when the session is gone. */
export function useSession(token: string | undefined, signedOut: () => void): void {
  csrfToken = token;
  onSignedOut = signedOut;
}

async function send<T>(method: string, url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiFailure('The server cannot be reached. Check the connection and try again.', 0, undefined);
  }
  if (res.status === 204) return undefined as T;
  const json = (await res.json().catch(() => undefined)) as
    | { detail?: string; errorCode?: string; [k: string]: unknown }
    | undefined;
  if (res.ok) return json as T;
  // A digest challenge (no errorCode): the session has ended.
  if (res.status === 401 && !json?.errorCode && url.startsWith(API)) {
    onSignedOut();
    throw new ApiFailure('Your session has ended. Sign in again.', 401, undefined);
  }
  throw new ApiFailure(json?.detail ?? `The server answered ${res.status}.`, res.status, json?.errorCode);
}

/**
 * Whether the session is still alive, asked of the console's own endpoint before every API call (calls made
 * together share one question). An API call with an ended session would get the digest challenge, and a
 * browser answers a challenge to fetch() with its own sign-in dialog: the console asks first and goes back
 * to its sign-in page instead.
 */
let pending: Promise<boolean> | undefined;
function sessionAlive(): Promise<boolean> {
  pending ??= send<SessionInfo>('GET', '/console/api/session')
    .then(
      (s) => s.signedIn,
      () => true,
    )
    .finally(() => {
      pending = undefined;
    });
  return pending;
}

/** Calls the public API (path relative to /api/public/v1.0). */
export async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  if (csrfToken && !(await sessionAlive())) {
    onSignedOut();
    throw new ApiFailure('Your session has ended. Sign in again.', 401, undefined);
  }
  return send<T>(method, `${API}${path}`, body);
}

/** Calls the console's own session endpoint. */
export function sessionCall(method: 'GET' | 'POST' | 'DELETE', body?: unknown): Promise<SessionInfo> {
  return send<SessionInfo>(method, '/console/api/session', body);
}

/** A list page as the API answers it. */
export interface ListPage<T> {
  results: T[];
  totalCount: number;
}

/**
 * An API key as the API answers it. `expiresAt` and `expired` (pakman extensions) only on keys given an
 * expiry; `graceEndsAt` only in the answer to a rotation with a grace period.
 */
export interface ApiKey {
  id: string;
  desc: string;
  publicKey: string;
  privateKey: string;
  roles: Role[];
  expiresAt?: string;
  expired?: boolean;
  graceEndsAt?: string;
}

/** A key's requests per UTC hour or day (`GET …/apiKeys/{ID}/usage`, a pakman extension). */
export interface KeyUsage {
  granularity: 'HOURLY' | 'DAILY';
  start: string;
  end: string;
  lastUsed?: string;
  results: { start: string; count: number }[];
  total: number;
}

/** An org's cap on its keys' lifetimes (`/orgs/{ID}/apiKeyPolicy`, a pakman extension); null: no cap. */
export interface ApiKeyPolicy {
  maxKeyLifetimeSeconds: number | null;
  orgId: string;
}

/** An access-list entry as the API answers it. */
export interface AccessEntry {
  cidrBlock: string;
  ipAddress?: string;
  count?: number;
  lastUsed?: string;
  lastUsedAddress?: string;
  created?: string;
  id?: string;
  description?: string;
}

/** The path segment of an access-list entry: its address, or its block with `/` as %2F. */
export function entryPath(e: AccessEntry): string {
  return encodeURIComponent(e.ipAddress ?? e.cidrBlock);
}

/** The body that adds one address or block to a key's access list. */
export function entryBody(value: string): { ipAddress: string } | { cidrBlock: string } {
  const v = value.trim();
  return v.includes('/') ? { cidrBlock: v } : { ipAddress: v };
}
