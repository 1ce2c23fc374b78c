/**
 * Benchmark child for B5: writes through the API at a fixed rate while the list is under load — each
 * cycle creates a key, adds two access-list entries, deletes one, then deletes the key. Reports
 * `{ type: 'done', ops, failures, accessList, cpuMs }` when told to stop (cpuMs: its own CPU time while
 * writing).
 *
 * Environment: BENCH_ORIGIN, BENCH_ORG, BENCH_PUBLIC_KEY, BENCH_PRIVATE_KEY, BENCH_RATE (requests/s).
 */
import http from 'node:http';
import { DigestClient } from './digest.js';

const env = process.env;
// One kept-alive connection, as an API client (the Go client, Terraform, mongocli) keeps.
const client = new DigestClient(
  env.BENCH_ORIGIN!,
  { publicKey: env.BENCH_PUBLIC_KEY!, privateKey: env.BENCH_PRIVATE_KEY! },
  new http.Agent({ keepAlive: true, maxSockets: 1 }),
);
const base = `/api/public/v1.0/orgs/${env.BENCH_ORG}/apiKeys`;
const interval = 1000 / Number(env.BENCH_RATE ?? '20');
let stopping = false;
let ops = 0;
let failures = 0;
/** Whether the access-list endpoints exist in this build (they are skipped when they do not). */
let accessList = true;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let next = Date.now();

async function paced<T>(op: () => Promise<T>): Promise<T | undefined> {
  next += interval;
  const wait = next - Date.now();
  if (wait > 0) await sleep(wait);
  try {
    const out = await op();
    ops++;
    return out;
  } catch (e) {
    failures++;
    if (failures <= 3) process.stderr.write(`writer: ${(e as Error).message}\n`);
    return undefined;
  }
}

async function cycle(n: number): Promise<void> {
  const key = await paced(() =>
    client.json<{ id: string }>('POST', base, { desc: `b5 churn ${n}`, roles: ['ORG_MEMBER'] }),
  );
  if (!key) return;
  if (accessList) {
    const res = await paced(() =>
      client.request('POST', `${base}/${key.id}/accessList`, [
        { ipAddress: `10.9.${(n >> 8) & 255}.${n & 255}` },
        { cidrBlock: '10.10.0.0/16' },
      ]),
    );
    if (res && res.status >= 300) {
      accessList = false;
      process.stderr.write(
        `writer: access-list endpoint answered ${res.status}; skipping access-list writes\n`,
      );
    } else if (res) {
      await paced(() => client.json('DELETE', `${base}/${key.id}/accessList/10.10.0.0%2F16`));
    }
  }
  await paced(() => client.json('DELETE', `${base}/${key.id}`));
}

process.on('message', (m: { type?: string }) => {
  if (m?.type === 'stop') stopping = true;
});
process.send?.({ type: 'ready', port: 0, pids: [process.pid] });
const cpu0 = process.cpuUsage();
for (let n = 0; !stopping; n++) await cycle(n);
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
process.send?.({ type: 'done', ops, failures, accessList, cpuMs }, undefined, {}, () => process.exit(0));
