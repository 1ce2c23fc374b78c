import { randomBytes, randomInt, randomUUID } from 'node:crypto';

/** 24 lowercase hexadecimal characters: the only accepted shape of a path id. */
export const OBJECT_ID_RE = /^[0-9a-f]{24}$/;

/** 8 lowercase letters: the shape of a public key. */
export const PUBLIC_KEY_RE = /^[a-z]{8}$/;

const processRandom = randomBytes(5).toString('hex');
let counter = randomInt(0, 0xffffff);

/**
 * A new ObjectId (4-byte seconds, 5 random bytes per process, 3-byte counter), so ids sort by creation
 * time, as Ops Manager's do.
 */
export function newObjectId(nowMs: number = Date.now()): string {
  counter = (counter + 1) & 0xffffff;
  const seconds = Math.floor(nowMs / 1000);
  return seconds.toString(16).padStart(8, '0') + processRandom + counter.toString(16).padStart(6, '0');
}

/** 8 random lowercase letters, each drawn uniformly by crypto.randomInt. */
export function newPublicKey(): string {
  let out = '';
  for (let i = 0; i < 8; i++) out += String.fromCharCode(97 + randomInt(0, 26));
  return out;
}

/** A new private key: a random lowercase UUID v4. */
export function newPrivateKey(): string {
  return randomUUID();
}

/** The redacted form of a private key from its last 12 characters. */
export function redactPrivateKey(tail: string): string {
  return `********-****-****-${tail}`;
}

/** Path parameters holding 24-hex ids, by route name, as Ops Manager's documentation spells them. */
export const ID_PARAM_NAMES: Readonly<Record<string, string>> = {
  orgId: 'ORG-ID',
  groupId: 'PROJECT-ID',
  apiKeyId: 'API-KEY-ID',
  userId: 'USER-ID',
  entryId: 'ACCESS-LIST-ID',
  eventId: 'EVENT-ID',
};
