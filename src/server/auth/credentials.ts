/** Key material: generating programmatic keys and deriving what may be stored about them. */
import { newPrivateKey, newPublicKey } from '../../schema/ids.js';
import { computeHa1 } from './digest.js';

/** What the database keeps about a secret: HA1 per algorithm and the last 12 characters. */
export interface StoredSecret {
  ha1Md5: string;
  ha1Sha256: string;
  keyTail: string;
}

/** Derives the stored form of a secret for a digest username. The secret itself is never kept. */
export function storedSecret(username: string, secret: string): StoredSecret {
  return {
    ha1Md5: computeHa1('MD5', username, secret),
    ha1Sha256: computeHa1('SHA-256', username, secret),
    keyTail: secret.slice(-12),
  };
}

/** A freshly generated programmatic key pair, with its stored form. */
export interface NewKeyMaterial extends StoredSecret {
  publicKey: string;
  /** Returned once to the caller; never persisted or logged. */
  privateKey: string;
}

/** Generates a public/private key pair. */
export function generateKeyPair(): NewKeyMaterial {
  const publicKey = newPublicKey();
  const privateKey = newPrivateKey();
  return { publicKey, privateKey, ...storedSecret(publicKey, privateKey) };
}
