/**
 * Summarizes a V8 `.cpuprofile` (from `npm run bench -- --profile DIR`): self time by function and by
 * package/file, and inclusive time of pakman's own functions.
 *
 *   node --import tsx bench/profile-summary.ts DIR/pakman-sqlite-main-….cpuprofile [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [top]');
const top = Number(topArg ?? '25');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const self = new Map<number, number>();
profile.samples.forEach((id, i) => {
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...self.values()].reduce((a, b) => a + b, 0);

function where(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0)
    return url
      .slice(nm + 13)
      .split('/')
      .slice(0, url.includes('/@', nm) ? 2 : 1)
      .join('/');
  if (url.startsWith('node:')) return url;
  const src = ownAt(url);
  return src >= 0 ? url.slice(src + 1) : url;
}
/** Where pakman's own path starts in `url` (`/src/`, or `/dist/` as the benchmark runs it), or -1. */
function ownAt(url: string): number {
  if (url.includes('node_modules/')) return -1;
  const src = url.indexOf('/src/');
  return src >= 0 ? src : url.indexOf('/dist/');
}
const label = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const bySelf = new Map<string, number>();
const byPlace = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  bySelf.set(label(n), (bySelf.get(label(n)) ?? 0) + t);
  byPlace.set(where(n.callFrame.url), (byPlace.get(where(n.callFrame.url)) ?? 0) + t);
  // Inclusive time of pakman's functions: each distinct one on the sample's stack once.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const c = byId.get(cur)!;
    if (ownAt(c.callFrame.url) < 0) continue;
    const l = label(c);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + t);
  }
}

const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)} %`;
const print = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(`${pct(t)}  ${k}\n`);
};
process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s sampled\n`);
print('self time by package / file', byPlace);
print('self time by function', bySelf);
print('inclusive time of pakman functions', inclusive);
