/** The build's identity for `X-MongoDB-Service-Version` and the version probe. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function gitHash(): string {
  if (process.env.PAKMAN_GIT_SHA) return process.env.PAKMAN_GIT_SHA;
  try {
    const head = readFileSync(join(root, '.git', 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head;
    const ref = head.slice(5);
    try {
      return readFileSync(join(root, '.git', ref), 'utf8').trim();
    } catch {
      const packed = readFileSync(join(root, '.git', 'packed-refs'), 'utf8');
      const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
      return line?.split(' ')[0] ?? 'unknown';
    }
  } catch {
    return 'unknown';
  }
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** The git sha (or `unknown`) and the package version, read once. */
export const VERSION = { gitHash: gitHash(), versionString: packageVersion() };
