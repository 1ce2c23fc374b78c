/**
 * The HTTP layer of the SDK: one fetch per call once a nonce is known. The nonce of the last challenge
 * is reused with an incrementing nonce count and a fresh cnonce, so only the first call of a client
 * (and a call after the nonce expires) pays the extra 401 round trip.
 */
import {
  authorizationHeader,
  type DigestChallenge,
  newCnonce,
  parseChallenges,
  pickChallenge,
} from './digest.js';
import { PakmanConnectionError } from './errors.js';

/** Credentials of a programmatic key (or a user and one of its personal API keys). */
export interface Credentials {
  publicKey: string;
  privateKey: string;
}

/** What the transport needs; see `PakmanClientOptions`. */
export interface TransportOptions {
  credentials?: Credentials | undefined;
  fetch?: typeof fetch | undefined;
  timeoutMs?: number | undefined;
  userAgent?: string | undefined;
}

/** A raw answer: status, headers and the body text. */
export interface RawResponse {
  status: number;
  statusText: string;
  headers: Headers;
  text: string;
}

/** A nonce in use, with its own counter: nc restarts at 1 for every new nonce. */
interface NonceState {
  challenge: DigestChallenge;
  nc: number;
  /** Whether a request with this nonce was accepted, which proves the credentials right. */
  accepted: boolean;
}

/** Sends requests with HTTP Digest authentication, reusing the nonce across calls. */
export class DigestTransport {
  readonly #opts: TransportOptions;
  readonly #fetch: typeof fetch;
  #nonce: NonceState | undefined;
  /** The challenge round trip in flight, so concurrent first calls share one 401 instead of each paying one. */
  #acquiring: Promise<void> | undefined;

  constructor(opts: TransportOptions) {
    this.#opts = opts;
    this.#fetch = opts.fetch ?? fetch;
  }

  /** The nonce currently reused (for diagnostics and tests). */
  get currentNonce(): string | undefined {
    return this.#nonce?.challenge.nonce;
  }

  /** Sends one request; `body` is JSON text. Authenticates when credentials are set. */
  async send(method: string, url: URL, body?: string): Promise<RawResponse> {
    const creds = this.#opts.credentials;
    if (!creds) return this.#fetchOnce(method, url, body, undefined);
    while (!this.#nonce) {
      if (this.#acquiring) {
        await this.#acquiring;
        continue;
      }
      // This call asks for the challenge; its own request doubles as the probe.
      let release!: () => void;
      this.#acquiring = new Promise<void>((r) => {
        release = r;
      });
      try {
        const res = await this.#fetchOnce(method, url, body, undefined);
        const challenge = res.status === 401 ? pickChallenge(this.#challengesOf(res)) : undefined;
        if (!challenge) return res;
        this.#nonce = { challenge, nc: 0, accepted: false };
      } finally {
        this.#acquiring = undefined;
        release();
      }
    }
    return this.#sendAuthorized(method, url, body, creds, true);
  }

  async #sendAuthorized(
    method: string,
    url: URL,
    body: string | undefined,
    creds: Credentials,
    mayRetry: boolean,
  ): Promise<RawResponse> {
    const state = this.#nonce!;
    // Single-threaded JS: read-and-increment cannot interleave, so concurrent calls get distinct nc values.
    const nc = ++state.nc;
    const auth = authorizationHeader({
      username: creds.publicKey,
      password: creds.privateKey,
      method,
      uri: url.pathname + url.search,
      challenge: state.challenge,
      nc,
      cnonce: newCnonce(),
    });
    const res = await this.#fetchOnce(method, url, body, auth);
    const challenge = res.status === 401 ? pickChallenge(this.#challengesOf(res)) : undefined;
    // A 401 without a challenge is USER_UNAUTHORIZED: the credentials were fine, the role was not.
    if (!challenge) {
      state.accepted = true;
      return res;
    }
    // Retry once when the nonce went stale, or when a nonce that worked before is refused (a restarted
    // server, another node). A nonce never accepted and refused without stale means wrong credentials:
    // retrying would only repeat the refusal.
    if (!mayRetry || (!challenge.stale && !state.accepted)) return res;
    if (this.#nonce === state) this.#nonce = { challenge, nc: 0, accepted: false };
    return this.#sendAuthorized(method, url, body, creds, false);
  }

  #challengesOf(res: RawResponse): DigestChallenge[] {
    return parseChallenges(res.headers.get('www-authenticate'));
  }

  async #fetchOnce(
    method: string,
    url: URL,
    body: string | undefined,
    authorization: string | undefined,
  ): Promise<RawResponse> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#opts.userAgent) headers['user-agent'] = this.#opts.userAgent;
    if (authorization) headers.authorization = authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const timeout = this.#opts.timeoutMs ?? 60_000;
    // A timer of our own rather than AbortSignal.timeout, whose timer is unref'd: should fetch lose track
    // of a request (seen with a connection reset as it was accepted), nothing else may keep the process
    // alive, and a CLI run would end silently (exit 13, a top-level await never settled) instead of
    // reporting the timeout.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new DOMException('timed out', 'TimeoutError')), timeout);
    let res: Response;
    try {
      res = await this.#fetch(url, { method, headers, body, redirect: 'manual', signal: abort.signal });
      return { status: res.status, statusText: res.statusText, headers: res.headers, text: await res.text() };
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why =
        (e as Error).name === 'TimeoutError'
          ? `timed out after ${timeout} ms`
          : (cause?.code ?? cause?.message ?? (e as Error).message);
      throw new PakmanConnectionError(`cannot reach ${url.origin}: ${why}`, { method, url: url.href }, e);
    } finally {
      clearTimeout(timer);
    }
  }
}
