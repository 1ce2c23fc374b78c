/**
 * Test clients. `digest` drives requests through urllib's own HTTP Digest implementation (a real,
 * third-party Node digest client); `raw` sends unauthenticated requests. Both return status, headers,
 * text and parsed JSON.
 */
import { request } from 'urllib';

/** A response as tests look at it. */
export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

/** Credentials for digest auth. */
export interface Creds {
  publicKey: string;
  privateKey: string;
}

/** Request options. */
export interface CallOptions {
  body?: unknown;
  /** Raw body text (sent as-is). */
  rawBody?: string;
  contentType?: string | null;
  headers?: Record<string, string>;
}

function parse(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  assertAlphabetical(value, '$');
  return value;
}

/**
 * Ops Manager prints fields in alphabetical order at every level (api.md §1); every JSON response any
 * test receives is checked here, so no endpoint can drift.
 */
export function assertAlphabetical(value: unknown, path: string): void {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) assertAlphabetical(v, `${path}[${i}]`);
  } else if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    const sorted = [...keys].sort();
    if (keys.join() !== sorted.join())
      throw new Error(`fields out of alphabetical order at ${path}: ${keys.join(', ')}`);
    for (const k of keys) assertAlphabetical((value as Record<string, unknown>)[k], `${path}.${k}`);
  }
}

async function send(
  method: string,
  url: string,
  opts: CallOptions,
  digestAuth?: string,
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let content: string | undefined;
  if (opts.rawBody !== undefined) content = opts.rawBody;
  else if (opts.body !== undefined) content = JSON.stringify(opts.body);
  if (content !== undefined && opts.contentType !== null)
    headers['content-type'] = opts.contentType ?? 'application/json';
  const res = await request(url, {
    method: method as 'GET',
    headers,
    content,
    digestAuth,
    dataType: 'text',
    timeout: 20_000,
    retry: 0,
  });
  const text = String(res.data ?? '');
  return { status: res.status, headers: res.headers as TestResponse['headers'], text, json: parse(text) };
}

/** An HTTP Digest request as urllib performs it (challenge, then response). */
export function digest(
  creds: Creds | { username: string; password: string },
  method: string,
  url: string,
  opts: CallOptions = {},
) {
  const auth =
    'publicKey' in creds ? `${creds.publicKey}:${creds.privateKey}` : `${creds.username}:${creds.password}`;
  return send(method, url, opts, auth);
}

/** A request with no credentials (or hand-made headers). */
export function raw(method: string, url: string, opts: CallOptions = {}) {
  return send(method, url, opts);
}

/** Creates the first user; returns its GLOBAL_OWNER key. */
export async function bootstrap(base: string, query = ''): Promise<Creds & { id: string; userId: string }> {
  const res = await raw('POST', `${base}/unauth/users${query}`, {
    body: { username: 'admin@example.com', password: 'Correct-Horse-9', firstName: 'Ada', lastName: 'Admin' },
  });
  if (res.status !== 201) throw new Error(`bootstrap failed: ${res.status} ${res.text}`);
  const body = res.json as {
    programmaticApiKey: { id: string; publicKey: string; privateKey: string };
    user: { id: string };
  };
  return { ...body.programmaticApiKey, userId: body.user.id };
}
