/** Output shared by every command that creates a key: its private key is shown this once. */
import type { ApiKey } from '../../schema/responses.js';
import { type OutputFormat, out, printJson } from '../output.js';

/** Prints a created key the way mongocli does, or the full key as JSON. */
export function printCreatedKey(format: OutputFormat, key: ApiKey): void {
  if (format === 'json') printJson(key);
  else
    out(`API Key '${key.id}' created.\nPublic API Key ${key.publicKey}\nPrivate API Key ${key.privateKey}\n`);
}
