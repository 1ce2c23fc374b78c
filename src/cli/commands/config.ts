/**
 * `pakman config`: saves connection profiles (base URL, key pair, default org and project) to a file
 * only its owner can read, as mongocli keeps its own profiles.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { printJson } from '../output.js';
import { die, EXIT } from '../shared.js';

/** One saved profile. */
export interface Profile {
  baseUrl?: string;
  publicKey?: string;
  privateKey?: string;
  orgId?: string;
  projectId?: string;
}

/** The profile file: named profiles. */
interface ProfileFile {
  profiles: Record<string, Profile>;
}

const FIELDS = ['baseUrl', 'publicKey', 'privateKey', 'orgId', 'projectId'] as const;

/** The profile file: PAKMAN_CONFIG_FILE, else $XDG_CONFIG_HOME/pakman/config.json, else ~/.config/…. */
export function profilePath(): string {
  if (process.env.PAKMAN_CONFIG_FILE) return process.env.PAKMAN_CONFIG_FILE;
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'pakman', 'config.json');
}

function readFile(): ProfileFile {
  let text: string;
  try {
    text = readFileSync(profilePath(), 'utf8');
  } catch {
    return { profiles: {} };
  }
  try {
    const parsed = JSON.parse(text) as Partial<ProfileFile>;
    return { profiles: parsed.profiles && typeof parsed.profiles === 'object' ? parsed.profiles : {} };
  } catch {
    return die(`${profilePath()} is not valid JSON; fix or remove it`, EXIT.usage);
  }
}

/** The named profile from the file (empty when the file or the profile does not exist). */
export function readProfile(name: string): Profile {
  return readFile().profiles[name] ?? {};
}

/** Writes the file atomically with mode 0600 (0700 directory): it holds private keys. */
function writeFileSecure(file: ProfileFile): string {
  const path = profilePath();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}

const redact = (p: Profile): Profile =>
  p.privateKey ? { ...p, privateKey: `********-****-****-${p.privateKey.slice(-12)}` } : p;

async function prompt(missing: (typeof FIELDS)[number][], into: Profile): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    for (const f of missing) {
      const answer = (await rl.question(`${f}: `)).trim();
      if (answer) into[f] = answer;
    }
  } finally {
    rl.close();
  }
}

/** Registers `config`, `config list` and `config describe`. */
export function registerConfigCommands(program: Command): void {
  const config = program
    .command('config')
    .description(`save a connection profile (file: ${profilePath()}, mode 0600)`)
    .option('--profile <name>', 'profile to write (PAKMAN_PROFILE, default "default")')
    .option('--base-url <url>', 'server, e.g. https://opsmanager.example.com:8080')
    .option('--public-key <key>', 'programmatic API key: public key')
    .option('--private-key <key>', 'programmatic API key: private key')
    .option('--orgId <id>', 'default organization for org commands')
    .option('--projectId <id>', 'default project for project commands')
    .action(async (opts: Profile & { profile?: string }) => {
      const name = opts.profile ?? process.env.PAKMAN_PROFILE ?? 'default';
      const file = readFile();
      const profile: Profile = { ...(file.profiles[name] ?? {}) };
      for (const f of FIELDS) if (opts[f] !== undefined) profile[f] = opts[f];
      const required = (['baseUrl', 'publicKey', 'privateKey'] as const).filter((f) => !profile[f]);
      if (required.length && process.stdin.isTTY) await prompt(required, profile);
      const still = (['baseUrl', 'publicKey', 'privateKey'] as const).filter((f) => !profile[f]);
      if (still.length)
        die(
          `missing ${still.map((f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`,
          EXIT.usage,
        );
      try {
        new URL(profile.baseUrl!);
      } catch {
        die(`--base-url: not a URL: ${profile.baseUrl}`, EXIT.usage);
      }
      file.profiles[name] = profile;
      const path = writeFileSecure(file);
      process.stdout.write(`Profile '${name}' saved to ${path}\n`);
    });

  config
    .command('list')
    .description('list the saved profiles')
    .action(() => {
      for (const name of Object.keys(readFile().profiles)) process.stdout.write(`${name}\n`);
    });

  config
    .command('describe [name]')
    .description('show a profile (private key redacted) as JSON')
    .action((name?: string) => {
      const n = name ?? process.env.PAKMAN_PROFILE ?? 'default';
      const p = readFile().profiles[n];
      if (!p) die(`no profile named '${n}' in ${profilePath()}`);
      printJson(redact(p));
    });
}
