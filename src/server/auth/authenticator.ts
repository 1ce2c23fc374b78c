/**
 * Verifies a request's digest credentials against the stored HA1 values and loads the caller's roles
 * and access list. Failure reasons stay inside; the caller only learns "challenge" or "stale".
 *
 * What it reads about a key or user is cached (auth/cache.ts): a signed request by a known caller costs
 * the digest arithmetic and no database round trip, and a change to the caller is honoured at once on this
 * node and within a second on every other. Unknown usernames are never cached, so a key created on any node
 * works everywhere on its first request.
 */
import { sql } from 'kysely';
import { PUBLIC_KEY_RE } from '../../schema/ids.js';
import { type CompiledCidr, compileCidr, findContaining } from '../../schema/ip.js';
import type { RoleName, RoleScope } from '../../schema/roles.js';
import { DIGEST_FAILURES, type DigestFailure } from '../metrics.js';
import { makePrincipal, type Principal } from '../rbac/principal.js';
import { loadOnce } from '../storage/coalesce.js';
import type { Db } from '../storage/database.js';
import { readerFor, statement } from '../storage/reader.js';
import { sortRoles } from '../storage/repositories/roles.js';
import { users } from '../storage/repositories/users.js';
import { CredentialCache } from './cache.js';
import {
  type DigestAlgorithm,
  type DigestParams,
  digestsEqual,
  expectedResponse,
  type NonceSigner,
  type NonceState,
  parseDigestHeader,
  REALM,
  uriMatches,
} from './digest.js';
import type { RateLimit } from './rateLimit.js';
import type { ReplayGuard } from './replay.js';

/** An authenticated caller and the address rules that apply to it. */
export interface Authenticated {
  ok: true;
  principal: Principal;
  /** The key's own access list (org keys). Empty: any address. */
  accessList: AccessList;
  /** True for global keys, which the global access list restricts. */
  globalKey: boolean;
  /** The key's rate limit (its own or its org's default); undefined: unlimited, nothing else to do. */
  rateLimit: RateLimit | undefined;
}

/**
 * A request whose digest is correct, on a nonce still valid. It is genuine only if its (nonce, cnonce, nc)
 * is used for the first time: `firstUse` answers that — at once where the replay memory is this process's,
 * later where it is the shared table (PostgreSQL), so that a read can run meanwhile (http/pipeline.ts).
 * False means a replay (answer 401 with `stale=true`); a rejection, that the replay memory is unreachable.
 */
export interface Verified {
  ok: true;
  caller: Authenticated;
  firstUse: boolean | Promise<boolean>;
}

/** A refused attempt; `stale` asks the client to retry with the fresh nonce. */
export interface Refused {
  ok: false;
  stale: boolean;
  /** Why, for the metrics only (never on the wire). */
  reason: DigestFailure | 'replay';
}

/** One frozen answer per reason: refusing allocates nothing. */
const REFUSED = Object.fromEntries(
  [...DIGEST_FAILURES, 'replay' as const].map((reason) => [
    reason,
    Object.freeze({ ok: false, stale: reason === 'stale' || reason === 'replay', reason }),
  ]),
) as unknown as Readonly<Record<Refused['reason'], Refused>>;

const compiled = new Map<string, CompiledCidr>();
function compile(cidr: string): CompiledCidr {
  let c = compiled.get(cidr);
  if (!c) {
    if (compiled.size > 100_000) compiled.clear();
    c = compileCidr(cidr);
    compiled.set(cidr, c);
  }
  return c;
}

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4Number(ip: string): number | undefined {
  const m = DOTTED_QUAD.exec(ip);
  if (!m) return undefined;
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

/**
 * An access list compiled for matching: IPv4 blocks as (network, mask) integers, so even a long list costs
 * a few integer comparisons per request. `find` answers the first entry, in list order, containing `ip`.
 */
export class AccessList {
  readonly #v4: { net: number; mask: number; entry: CompiledCidr }[] = [];

  constructor(readonly entries: CompiledCidr[]) {
    for (const entry of entries) {
      const [addr, bits] = entry.cidrBlock.split('/');
      const net = ipv4Number(addr ?? '');
      if (net === undefined) continue;
      const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
      this.#v4.push({ net: (net & mask) >>> 0, mask, entry });
    }
  }

  /** Number of entries (0: the key may be used from anywhere). */
  get size(): number {
    return this.entries.length;
  }

  /** The first entry containing `ip` (a normalized client address), or undefined. */
  find(ip: string): CompiledCidr | undefined {
    const n = ipv4Number(ip);
    if (n === undefined) return findContaining(ip, this.entries);
    for (const b of this.#v4) if ((n & b.mask) >>> 0 === b.net) return b.entry;
    return undefined;
  }
}

const EMPTY = new AccessList([]);

/** A bounded map: when the newer half fills, the older half is dropped (recently used entries survive). */
class TwoGenerationMap<K, V> {
  #newer = new Map<K, V>();
  #older = new Map<K, V>();

  constructor(private readonly half: number) {}

  get(key: K): V | undefined {
    return this.#newer.get(key) ?? this.#older.get(key);
  }

  set(key: K, value: V): void {
    if (this.#newer.size >= this.half) {
      this.#older = this.#newer;
      this.#newer = new Map();
    }
    this.#newer.set(key, value);
  }
}

/** What is cached about a programmatic key. */
interface KeyEntry {
  ha1Md5: string;
  ha1Sha256: string;
  authenticated: Authenticated;
}

/** What is cached about a user's personal API keys. */
interface UserEntry {
  ha1s: { ha1Md5: string; ha1Sha256: string }[];
  authenticated: Authenticated;
}

/**
 * A key's credentials, roles, access list and rate limits (its own, kind 'q' / 'k', and its org's default,
 * 'q' / 'o') in one statement, so one snapshot.
 */
const KEY_SQL = (
  p: string,
) => `SELECT k.id, k.org_id, k.ha1_md5, k.ha1_sha256, 'r' AS kind, r.scope AS a, r.scope_id AS b, r.role_name AS c
     FROM api_keys k LEFT JOIN api_key_roles r ON r.api_key_id = k.id WHERE k.public_key = ${p}
   UNION ALL
   SELECT k.id, k.org_id, k.ha1_md5, k.ha1_sha256, 'l', l.cidr_block, NULL, NULL
     FROM api_keys k JOIN api_key_access_list l ON l.api_key_id = k.id WHERE k.public_key = ${p}
   UNION ALL
   SELECT k.id, k.org_id, k.ha1_md5, k.ha1_sha256, 'q', CAST(q.requests AS TEXT), CAST(q.period_seconds AS TEXT),
          CASE WHEN q.api_key_id IS NULL THEN 'o' ELSE 'k' END
     FROM api_keys k JOIN rate_limits q ON q.api_key_id = k.id OR q.org_id = k.org_id WHERE k.public_key = ${p}
   ORDER BY 5, 6`;
const KEY = statement('auth_key', KEY_SQL('?1'));
interface KeyRow {
  id: string;
  org_id: string | null;
  ha1_md5: string;
  ha1_sha256: string;
  kind: 'r' | 'l' | 'q';
  a: string | null;
  b: string | null;
  c: string | null;
}

const GLOBAL_LIST = statement(
  'auth_global_list',
  'SELECT cidr_block FROM global_access_list ORDER BY cidr_block',
);

/** Digest verification against the database. */
export class Authenticator {
  readonly #cache: CredentialCache;
  /** Key loads in flight, by cache epoch and public key. */
  readonly #loading = new Map<string, Promise<KeyEntry | undefined>>();
  /** Nonces known to be genuine (issued here, or whose signature checked out), with their expiry second. */
  readonly #signedNonces = new TwoGenerationMap<string, number>(20_000);

  constructor(
    private readonly db: Db,
    private readonly signer: NonceSigner,
    private readonly replay: ReplayGuard,
    private readonly algorithms: ReadonlySet<DigestAlgorithm>,
    private readonly clock: () => number = Date.now,
  ) {
    this.#cache = new CredentialCache(readerFor(db));
  }

  /**
   * Verifies `header` for `method` on `target` (path + query as received), and starts its replay check
   * (`Verified.firstUse`): the caller must not act on the request, nor answer it, before that says true.
   */
  async authenticate(
    header: string | undefined,
    method: string,
    target: string,
  ): Promise<Verified | Refused> {
    const params = parseDigestHeader(header);
    if (!params) return REFUSED.malformed;
    if (params.realm !== REALM) return REFUSED.realm;
    if (!this.algorithms.has(params.algorithm)) return REFUSED.algorithm;
    if (!uriMatches(params.uri, target)) return REFUSED.uri;
    const now = this.clock();
    const nonceState = this.#nonceState(params.nonce, now);
    if (nonceState === 'invalid') return REFUSED.nonce;

    const who = await this.#verify(params, method);
    if (!who) return REFUSED.credentials;
    // Only a correct response earns the stale hint, so it never confirms a guessed key.
    if (nonceState === 'expired') return REFUSED.stale;
    const firstUse = this.replay.firstUse(
      params.nonce,
      params.cnonce,
      params.nc,
      this.#signedNonces.get(params.nonce) ?? this.signer.expiresAt(params.nonce),
    );
    if (firstUse === false) return REFUSED.replay;
    return { ok: true, caller: who, firstUse };
  }

  /**
   * Records a nonce this node just issued (the challenge): its answer then needs no HMAC to be trusted.
   */
  issued(nonce: string): void {
    this.#signedNonces.set(nonce, this.signer.expiresAt(nonce));
  }

  /**
   * `signer.check`, with the signature verified at most once per nonce — none at all for nonces this node
   * issued: clients reuse a nonce for many requests, and its HMAC is the dearest part of checking one. Only
   * the age is worked out again, as `check` does (issued = expiresAt - lifetime - 1; more than 5 s ahead:
   * invalid; older than the lifetime: expired).
   */
  #nonceState(nonce: string, now: number): NonceState {
    const expiresAt = this.#signedNonces.get(nonce);
    if (expiresAt === undefined) {
      const state = this.signer.check(nonce, now);
      // A copy as the key: the parsed nonce is a slice of the whole Authorization header.
      if (state !== 'invalid')
        this.#signedNonces.set(Buffer.from(nonce, 'latin1').toString('latin1'), this.signer.expiresAt(nonce));
      return state;
    }
    const age = Math.floor(now / 1000) - (expiresAt - this.signer.lifetimeSeconds - 1);
    if (age < -5) return 'invalid';
    return age > this.signer.lifetimeSeconds ? 'expired' : 'valid';
  }

  /** Drops every cached credential: something may have changed through this node. */
  invalidate(): void {
    this.#cache.invalidate();
  }

  /** Credential-cache lookups so far (for the metrics). */
  cacheStats(): { hits: number; misses: number } {
    return { hits: this.#cache.hits, misses: this.#cache.misses };
  }

  /** Stops the cache's generation polling. */
  close(): void {
    this.#cache.close();
  }

  /** The global access list, compiled (cached like credentials). */
  async globalAccessList(): Promise<AccessList> {
    const hit = this.#cache.get<AccessList>('g');
    if (hit) return hit;
    const epoch = this.#cache.epoch();
    const reader = readerFor(this.db);
    const blocks = reader
      ? (await reader.all<{ cidr_block: string }>(GLOBAL_LIST, [])).map((r) => r.cidr_block)
      : (
          await this.db.selectFrom('global_access_list').select('cidr_block').orderBy('cidr_block').execute()
        ).map((r) => r.cidr_block);
    const list = new AccessList(blocks.map(compile));
    this.#cache.set('g', list, epoch);
    return list;
  }

  async #verify(params: DigestParams, method: string): Promise<Authenticated | null> {
    const { username } = params;
    if (PUBLIC_KEY_RE.test(username)) {
      const key = await this.#key(username);
      if (key) {
        const ha1 = params.algorithm === 'MD5' ? key.ha1Md5 : key.ha1Sha256;
        return digestsEqual(expectedResponse(ha1, params, method), params.response)
          ? key.authenticated
          : null;
      }
    }
    // A user's personal keys can grow after its entry was cached (a key made by the CLI or on another node):
    // when no cached key matches, read them afresh once before refusing.
    for (const fresh of [false, true]) {
      const user = await this.#user(username, fresh);
      if (!user) return null;
      for (const cred of user.ha1s) {
        const ha1 = params.algorithm === 'MD5' ? cred.ha1Md5 : cred.ha1Sha256;
        if (digestsEqual(expectedResponse(ha1, params, method), params.response)) return user.authenticated;
      }
      if (!user.cached) return null;
    }
    return null;
  }

  async #key(publicKey: string): Promise<KeyEntry | undefined> {
    const cacheKey = `k:${publicKey}`;
    const hit = this.#cache.get<KeyEntry>(cacheKey);
    if (hit) return hit;
    const epoch = this.#cache.epoch();
    if (epoch < 0) return this.#loadKey(publicKey, epoch);
    // After an invalidation every request of the moment misses at once: they share one load, which began
    // after the invalidation (same epoch) and so reads what caused it.
    return loadOnce(this.#loading, `${epoch}:${publicKey}`, () => this.#loadKey(publicKey, epoch));
  }

  async #loadKey(publicKey: string, epoch: number): Promise<KeyEntry | undefined> {
    const cacheKey = `k:${publicKey}`;
    const rows = await this.#keyRows(publicKey);
    const first = rows[0];
    if (!first) return undefined;
    const roles = [];
    const blocks: CompiledCidr[] = [];
    let keyLimit: RateLimit | undefined;
    let orgLimit: RateLimit | undefined;
    for (const r of rows) {
      if (r.kind === 'l') blocks.push(compile(r.a!));
      else if (r.kind === 'q') {
        const limit = { requests: Number(r.a), periodSeconds: Number(r.b) };
        if (r.c === 'k') keyLimit = limit;
        else orgLimit = limit;
      } else if (r.a !== null)
        roles.push({ scope: r.a as RoleScope, scopeId: r.b ?? '', roleName: r.c as RoleName });
    }
    const entry: KeyEntry = {
      ha1Md5: first.ha1_md5,
      ha1Sha256: first.ha1_sha256,
      authenticated: {
        ok: true,
        principal: makePrincipal('apiKey', first.id, publicKey, first.org_id, sortRoles(roles)),
        accessList: blocks.length ? new AccessList(blocks) : EMPTY,
        globalKey: first.org_id === null,
        // The key's own limit, else its org's default.
        rateLimit: keyLimit ?? orgLimit,
      },
    };
    this.#cache.set(cacheKey, entry, epoch);
    return entry;
  }

  async #keyRows(publicKey: string): Promise<KeyRow[]> {
    const reader = readerFor(this.db);
    if (reader) return reader.all<KeyRow>(KEY, [publicKey]);
    // A handle without a reader (not opened by connect.ts): the same rows through Kysely.
    const parts = KEY_SQL('\u0000').split('\u0000');
    const strings = Object.assign(parts, { raw: parts }) as unknown as TemplateStringsArray;
    const res = await sql<KeyRow>(strings, ...parts.slice(1).map(() => publicKey)).execute(this.db);
    return res.rows;
  }

  async #user(username: string, fresh: boolean): Promise<(UserEntry & { cached: boolean }) | undefined> {
    const cacheKey = `u:${username}`;
    const hit = fresh ? undefined : this.#cache.get<UserEntry>(cacheKey);
    if (hit) return { ...hit, cached: true };
    const epoch = this.#cache.epoch();
    const creds = await users.personalKeyCredentials(this.db, username);
    const userId = creds[0]?.userId;
    if (!userId) return undefined;
    const roles = await users.roles(this.db, userId);
    const entry: UserEntry = {
      ha1s: creds.map((c) => ({ ha1Md5: c.ha1Md5, ha1Sha256: c.ha1Sha256 })),
      authenticated: {
        ok: true,
        principal: makePrincipal('user', userId, username, null, roles),
        accessList: EMPTY,
        globalKey: false,
        rateLimit: undefined,
      },
    };
    this.#cache.set(cacheKey, entry, epoch);
    return { ...entry, cached: false };
  }

  /** A compiled view of CIDR blocks (for the global access list). */
  static compile(blocks: readonly string[]): CompiledCidr[] {
    return blocks.map(compile);
  }
}
