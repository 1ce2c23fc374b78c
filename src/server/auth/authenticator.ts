/**
 * Verifies a request's digest credentials against the stored HA1 values and loads the caller's roles
 * and access list. Failure reasons stay inside; the caller only learns "challenge" or "stale".
 */
import { PUBLIC_KEY_RE } from '../../schema/ids.js';
import { type CompiledCidr, compileCidr } from '../../schema/ip.js';
import { makePrincipal, type Principal } from '../rbac/principal.js';
import type { Db } from '../storage/database.js';
import { apiKeys } from '../storage/repositories/apiKeys.js';
import { users } from '../storage/repositories/users.js';
import {
  type DigestAlgorithm,
  type DigestParams,
  digestsEqual,
  expectedResponse,
  type NonceSigner,
  parseDigestHeader,
  REALM,
  uriMatches,
} from './digest.js';
import type { ReplayGuard } from './replay.js';

/** An authenticated caller and the address rules that apply to it. */
export interface Authenticated {
  ok: true;
  principal: Principal;
  /** The key's own access list (org keys). Empty: any address. */
  accessList: CompiledCidr[];
  /** True for global keys, which the global access list restricts. */
  globalKey: boolean;
}

/** A refused attempt; `stale` asks the client to retry with the fresh nonce. */
export interface Refused {
  ok: false;
  stale: boolean;
}

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

/** Digest verification against the database. */
export class Authenticator {
  constructor(
    private readonly db: Db,
    private readonly signer: NonceSigner,
    private readonly replay: ReplayGuard,
    private readonly algorithms: ReadonlySet<DigestAlgorithm>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Verifies `header` for `method` on `target` (path + query as received). */
  async authenticate(
    header: string | undefined,
    method: string,
    target: string,
  ): Promise<Authenticated | Refused> {
    const params = parseDigestHeader(header);
    if (
      !params ||
      params.realm !== REALM ||
      !this.algorithms.has(params.algorithm) ||
      !uriMatches(params.uri, target)
    ) {
      return { ok: false, stale: false };
    }
    const now = this.clock();
    const nonceState = this.signer.check(params.nonce, now);
    if (nonceState === 'invalid') return { ok: false, stale: false };

    const who = await this.#verify(params, method);
    if (!who) return { ok: false, stale: false };
    // Only a correct response earns the stale hint, so it never confirms a guessed key.
    if (nonceState === 'expired') return { ok: false, stale: true };
    const first = await this.replay.firstUse(
      params.nonce,
      params.cnonce,
      params.nc,
      this.signer.expiresAt(params.nonce),
    );
    if (!first) return { ok: false, stale: true };
    return who;
  }

  async #verify(params: DigestParams, method: string): Promise<Authenticated | null> {
    const { username } = params;
    if (PUBLIC_KEY_RE.test(username)) {
      const cred = await apiKeys.findCredential(this.db, username);
      if (cred) {
        const ha1 = params.algorithm === 'MD5' ? cred.ha1Md5 : cred.ha1Sha256;
        if (!digestsEqual(expectedResponse(ha1, params, method), params.response)) return null;
        const [roles, entries] = await Promise.all([
          apiKeys.roles(this.db, cred.id),
          this.db
            .selectFrom('api_key_access_list')
            .select('cidr_block')
            .where('api_key_id', '=', cred.id)
            .execute(),
        ]);
        return {
          ok: true,
          principal: makePrincipal('apiKey', cred.id, cred.publicKey, cred.orgId, roles),
          accessList: entries.map((e) => compile(e.cidr_block)),
          globalKey: cred.orgId === null,
        };
      }
    }
    const personal = await users.personalKeyCredentials(this.db, username);
    for (const cred of personal) {
      const ha1 = params.algorithm === 'MD5' ? cred.ha1Md5 : cred.ha1Sha256;
      if (digestsEqual(expectedResponse(ha1, params, method), params.response)) {
        const roles = await users.roles(this.db, cred.userId);
        return {
          ok: true,
          principal: makePrincipal('user', cred.userId, username, null, roles),
          accessList: [],
          globalKey: false,
        };
      }
    }
    return null;
  }

  /** A compiled view of CIDR blocks (for the global access list). */
  static compile(blocks: readonly string[]): CompiledCidr[] {
    return blocks.map(compile);
  }
}
