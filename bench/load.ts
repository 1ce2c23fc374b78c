/**
 * Load generation with autocannon, speaking HTTP Digest: `reuse` fetches one nonce up front and signs
 * every request with the next nc (nonce reuse, as the official clients do); `handshake` makes every
 * call a full challenge–response (an unauthenticated request, then the signed one).
 */
import autocannon, { type AutocannonRequest, type Result } from 'autocannon';
import { type Creds, DigestSigner, headerOf, nonceOf, send } from './digest.js';

/** One load run. */
export interface LoadSpec {
  port: number;
  /** Request target (path + query); several are requested in turn. */
  path: string | readonly string[];
  creds: Creds;
  mode: 'reuse' | 'handshake';
  connections: number;
  /** Seconds (default), or a number of calls (`handshake`: signed calls; `reuse`: requests). */
  duration?: number;
  calls?: number;
}

/** What one run measured. */
export interface LoadResult {
  /** Successful (2xx) calls per second. */
  rps: number;
  /** Per-request latency percentiles, ms. */
  p50: number;
  p99: number;
  calls: number;
  non2xx: number;
  errors: number;
  seconds: number;
  /** Load generator CPU use over the run, as a share of one core. */
  loadgenCpu: number;
  /** Every response time, ms (for merging runs; percentiles above are over these). */
  latencies: Float64Array;
}

/** Runs load; throws when a signed request was refused (the measurement would be meaningless). */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const origin = `http://127.0.0.1:${spec.port}`;
  const signer = new DigestSigner(spec.creds);
  const paths = typeof spec.path === 'string' ? [spec.path] : spec.path;
  let turn = 0;
  let requests: AutocannonRequest[];
  if (spec.mode === 'reuse') {
    const nonce = nonceOf(headerOf(await send(origin, 'GET', paths[0]!), 'www-authenticate'));
    requests = [
      {
        method: 'GET',
        path: paths[0]!,
        setupRequest: (req) => {
          const path = paths[turn++ % paths.length]!;
          req.path = path;
          req.headers = { ...req.headers, authorization: signer.header('GET', path, nonce) };
          return req;
        },
      },
    ];
  } else {
    if (paths.length !== 1) throw new Error('handshake runs take one path');
    const path = paths[0]!;
    requests = [
      {
        method: 'GET',
        path,
        onResponse: (_status, _body, context, headers) => {
          context.nonce = nonceOf(headers['www-authenticate'] ?? headers['WWW-Authenticate']);
        },
      },
      {
        method: 'GET',
        path,
        setupRequest: (req, context) => {
          req.headers = {
            ...req.headers,
            authorization: signer.header('GET', path, context.nonce as string),
          };
          return req;
        },
      },
    ];
  }
  const perCall = spec.mode === 'handshake' ? 2 : 1;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const job = autocannon({
    url: origin,
    connections: spec.connections,
    pipelining: 1,
    timeout: 30,
    requests,
    ...(spec.calls ? { amount: spec.calls * perCall } : { duration: spec.duration ?? 10 }),
  });
  // autocannon's own histogram keeps whole milliseconds; keep every latency at full resolution instead.
  const latencies = new Latencies();
  let last = t0;
  job.on('response', (_client, _status, _bytes, ms) => {
    latencies.add(ms);
    last = process.hrtime.bigint();
  });
  const r: Result = await job;
  // Until the last response: autocannon reports on its next whole-second tick, up to 1 s later.
  const seconds = Number(last - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const ok = r['2xx'];
  // Handshake runs answer every first request with a challenge; nothing else may fail.
  const challenges = spec.mode === 'handshake' ? (r.statusCodeStats['401']?.count ?? 0) : 0;
  const refused = r.non2xx - challenges + (challenges > ok + spec.connections ? challenges - ok : 0);
  if (r.errors > 0 || r.timeouts > 0 || refused > 0 || ok === 0) {
    throw new Error(
      `load on ${paths[0]}: ${ok} ok, ${r.non2xx} non-2xx (${JSON.stringify(r.statusCodeStats)}), ${r.errors} errors, ${r.timeouts} timeouts`,
    );
  }
  return {
    rps: ok / seconds,
    p50: percentile(latencies.values, 50),
    p99: percentile(latencies.values, 99),
    calls: ok,
    non2xx: r.non2xx,
    errors: r.errors,
    seconds,
    loadgenCpu: (cpu.user + cpu.system) / 1e6 / seconds,
    latencies: latencies.values,
  };
}

/** Response times in ms, kept whole for exact percentiles. */
class Latencies {
  #values = new Float64Array(1 << 16);
  #n = 0;

  add(ms: number): void {
    if (this.#n === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#n++] = ms;
  }

  get values(): Float64Array {
    return this.#values.subarray(0, this.#n);
  }
}

/** The p-th percentile of response times (ms), NaN for none. */
export function percentile(values: Float64Array, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
