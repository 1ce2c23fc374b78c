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

/**
 * What is cached about a programmatic key. Expiry and the replaced secret's grace end are kept as
 * milliseconds and compared with the clock on every request (issue 16): the cache can never keep a key
 * alive past them, on any node, and an entry needs no invalidation when they pass.
 */
interface KeyEntry {
  ha1Md5: string;
  ha1Sha256: string;
  /** Refused from this instant on; Infinity: never. */
  expiresMs: number;
  /** The HA1 values a rotation replaced, accepted before `prevUntilMs` (0: none). */
  prevMd5: string;
  prevSha256: string;
  prevUntilMs: number;
  authenticated: Authenticated;
}

/** What is cached about a user's personal API keys (each refused from its `expiresMs` on). */
interface UserEntry {
  ha1s: { ha1Md5: string; ha1Sha256: string; expiresMs: number }[];
  authenticated: Authenticated;
}

/** Milliseconds of an ISO timestamp column; `none` when null. */
const msOf = (iso: string | null, none: number) => (iso === null ? none : Date.parse(iso));

const KEY_COLUMNS =
  'k.id, k.org_id, k.ha1_md5, k.ha1_sha256, k.expires_at, k.prev_ha1_md5, k.prev_ha1_sha256, k.prev_valid_until';

/**
 * A key's credentials, roles, access list and rate limits (its own, kind 'q' / 'k', and its org's default,
 * 'q' / 'o') in one statement, so one snapshot.
 */
const KEY_SQL = (
  p: string,
) => `SELECT ${KEY_COLUMNS}, 'r' AS kind, r.scope AS a, r.scope_id AS b, r.role_name AS c
     FROM api_keys k LEFT JOIN api_key_roles r ON r.api_key_id = k.id WHERE k.public_key = ${p}
   UNION ALL
   SELECT ${KEY_COLUMNS}, 'l', l.cidr_block, NULL, NULL
     FROM api_keys k JOIN api_key_access_list l ON l.api_key_id = k.id WHERE k.public_key = ${p}
   UNION ALL
   SELECT ${KEY_COLUMNS}, 'q', CAST(q.requests AS TEXT), CAST(q.period_seconds AS TEXT),
          CASE WHEN q.api_key_id IS NULL THEN 'o' ELSE 'k' END
     FROM api_keys k JOIN rate_limits q ON q.api_key_id = k.id OR q.org_id = k.org_id WHERE k.public_key = ${p}
   ORDER BY 9, 10`;
const KEY = statement('auth_key', KEY_SQL('?1'));
interface KeyRow {
  id: string;
  org_id: string | null;
  ha1_md5: string;
  ha1_sha256: string;
  expires_at: string | null;
  prev_ha1_md5: string | null;
  prev_ha1_sha256: string | null;
  prev_valid_until: string | null;
  kind: 'r' | 'l' | 'q';
  a: string | null;
  b: string | null;
  c: string | null;
}

/** Whether `params.response` is right for a holder of these HA1s. */
function matches(ha1s: { ha1Md5: string; ha1Sha256: string }, params: DigestParams, method: string): boolean {
  const ha1 = params.algorithm === 'MD5' ? ha1s.ha1Md5 : ha1s.ha1Sha256;
  return digestsEqual(expectedResponse(ha1, params, method), params.response);
}

/** HA1s no secret has (not hex): the digest a refusal works out when there is no key to check. */
const DECOY = { ha1Md5: 'x'.repeat(32), ha1Sha256: 'x'.repeat(64) };

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
  /** Nonces issued in or before this second by another process are refused as stale (see #nonceState). */
  readonly #heldSince: number;

  constructor(
    private readonly db: Db,
    private readonly signer: NonceSigner,
    private readonly replay: ReplayGuard,
    private readonly algorithms: ReadonlySet<DigestAlgorithm>,
    private readonly clock: () => number = Date.now,
    /** Told when a correct digest was refused because its key had expired (the expiry sweep's cue). */
    private readonly onExpired: () => void = () => {},
  ) {
    this.#cache = new CredentialCache(readerFor(db));
    this.#heldSince = replay.heldSince ?? Number.NEGATIVE_INFINITY;
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

    const who = await this.#verify(params, method, now);
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
   *
   * A replay memory that began empty when this process started (`ReplayGuard.heldSince`, SQLite) knows
   * nothing of the requests signed on nonces issued before: such a nonce is 'expired' here, whatever its age,
   * so a request captured before a restart is answered `stale=true` (its client retries on a fresh nonce,
   * once) and never served. Nonces of the start second itself may come from either process; those this
   * process issued are in `#signedNonces` already (`issued`), so only the others get this far. They are
   * remembered with expiry 0, which the age check reads as expired: a known nonce, the hot path, costs
   * nothing more, and an unknown one an integer comparison.
   */
  #nonceState(nonce: string, now: number): NonceState {
    const expiresAt = this.#signedNonces.get(nonce);
    if (expiresAt === undefined) {
      let state = this.signer.check(nonce, now);
      if (state === 'invalid') return state;
      let expiry = this.signer.expiresAt(nonce);
      if (expiry - this.signer.lifetimeSeconds - 1 <= this.#heldSince) {
        state = 'expired';
        expiry = 0;
      }
      // A copy as the key: the parsed nonce is a slice of the whole Authorization header.
      this.#signedNonces.set(Buffer.from(nonce, 'latin1').toString('latin1'), expiry);
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

  /**
   * The caller `params` name, if its response is right. A right response from a known caller is answered
   * from the cache (the hot path). Every refusal costs the same, whether or not the key or user exists, so
   * that how long a 401 takes does not tell which public keys and usernames exist (docs/security.md): the
   * keys table is read for a public key and the personal keys for any username (an unknown name is never
   * cached, so it reads both; a known one is read again), and one digest at least is worked out.
   * test/timing.test.ts holds the reads to this; bench/timing.ts measures what is left.
   */
  async #verify(params: DigestParams, method: string, now: number): Promise<Authenticated | null> {
    const { username } = params;
    let digested = false;
    if (PUBLIC_KEY_RE.test(username)) {
      const hit = this.#cache.get<KeyEntry>(`k:${username}`);
      const key = hit ?? (await this.#key(username));
      if (key) {
        // The secret a rotation replaced counts while its grace lasts (worked out only on a mismatch).
        const right =
          matches(key, params, method) ||
          (now < key.prevUntilMs &&
            matches({ ha1Md5: key.prevMd5, ha1Sha256: key.prevSha256 }, params, method));
        if (right) {
          // An expired key is refused like a wrong one, at the same cost (below).
          if (now < key.expiresMs) return key.authenticated;
          this.onExpired();
        }
        digested = true;
        // The read an unknown key costs (its own, in #key): of a key that cannot exist (public keys are
        // lowercase), so that it also finds no rows, as an unknown key's does.
        if (hit) await this.#keyRows(username.toUpperCase());
      }
    }
    return this.#verifyUser(params, method, now, digested);
  }

  /**
   * A user's personal keys. One can be made after the user's entry was cached (by the CLI or on another
   * node): when no cached key matches, they are read afresh — as they are for an unknown username — and
   * the user's roles only once one of them matches.
   */
  async #verifyUser(
    params: DigestParams,
    method: string,
    now: number,
    digested: boolean,
  ): Promise<Authenticated | null> {
    const { username } = params;
    const cacheKey = `u:${username}`;
    const hit = this.#cache.get<UserEntry>(cacheKey);
    if (hit)
      for (const cred of hit.ha1s)
        if (now < cred.expiresMs && matches(cred, params, method)) return hit.authenticated;
    const epoch = this.#cache.epoch();
    const creds = await users.personalKeyCredentials(this.db, username);
    // Keys checked above already failed: a digest for each new one only (a refusal of a known user then
    // works out as many digests as its keys, like an unknown user's one decoy for its one key).
    const match = creds.find(
      (cred) =>
        !hit?.ha1s.some((h) => h.ha1Md5 === cred.ha1Md5) &&
        now < msOf(cred.expiresAt, Number.POSITIVE_INFINITY) &&
        matches(cred, params, method),
    );
    if (!match) {
      // No key to check: one digest on a decoy, as a caller with one key costs.
      if (creds.length === 0 && !digested && !hit) matches(DECOY, params, method);
      return null;
    }
    const roles = await users.roles(this.db, match.userId);
    const entry: UserEntry = {
      ha1s: creds.map((c) => ({
        ha1Md5: c.ha1Md5,
        ha1Sha256: c.ha1Sha256,
        expiresMs: msOf(c.expiresAt, Number.POSITIVE_INFINITY),
      })),
      authenticated: {
        ok: true,
        principal: makePrincipal('user', match.userId, username, null, roles),
        accessList: EMPTY,
        globalKey: false,
        rateLimit: undefined,
      },
    };
    this.#cache.set(cacheKey, entry, epoch);
    return entry.authenticated;
  }

  async #key(publicKey: string): Promise<KeyEntry | undefined> {
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
    const prevUntilMs = first.prev_ha1_md5 === null ? 0 : msOf(first.prev_valid_until, 0);
    const entry: KeyEntry = {
      ha1Md5: first.ha1_md5,
      ha1Sha256: first.ha1_sha256,
      expiresMs: msOf(first.expires_at, Number.POSITIVE_INFINITY),
      prevMd5: first.prev_ha1_md5 ?? '',
      prevSha256: first.prev_ha1_sha256 ?? '',
      prevUntilMs,
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

  /** A compiled view of CIDR blocks (for the global access list). */
  static compile(blocks: readonly string[]): CompiledCidr[] {
    return blocks.map(compile);
  }
}
