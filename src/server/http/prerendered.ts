/**
 * List items rendered once, not on every request. A page of 100 keys is ~34 KB of JSON; building the wire
 * objects, printing them and encoding the text as UTF-8 cost more than everything else a list request does.
 * So a list item's wire object is made once per stored record (storage/keyPages.ts hands out the same
 * record object while the org is unchanged) and carries its own compact and pretty bytes, made when first
 * needed; `render` (output.ts) splices them into the list instead of printing the items again.
 */
import type { ApiKeyRecord } from '../storage/repositories/apiKeys.js';
import { prettyJsonAt } from './jackson.js';
import { apiKeyToWire } from './wire.js';

const BYTES = Symbol('pakman.prerendered');

/** The bytes of one list item, in both layouts. */
class ItemBytes {
  #compact: Buffer | undefined;
  #pretty: Buffer | undefined;

  constructor(private readonly wire: object) {}

  /** Compact JSON, as JSON.stringify prints it. */
  get compact(): Buffer {
    this.#compact ??= Buffer.from(JSON.stringify(this.wire));
    return this.#compact;
  }

  /** Jackson layout as an element of a list's `results` (one object level deep). */
  get pretty(): Buffer {
    this.#pretty ??= Buffer.from(prettyJsonAt(this.wire, 1));
    return this.#pretty;
  }
}

/** The pre-rendered bytes a wire object carries, if it was made here. */
export function itemBytes(item: unknown): ItemBytes | undefined {
  return typeof item === 'object' && item !== null
    ? ((item as { [BYTES]?: ItemBytes })[BYTES] ?? undefined)
    : undefined;
}

// What was made from a record, a page of records and a page of wire objects hangs off them under symbols
// (not in WeakMaps, whose entries the garbage collector pays for on every full mark).
const WIRE = Symbol('pakman.wire');
const WIRES = Symbol('pakman.wires');
const JOINED = Symbol('pakman.joined');

type Made<T> = { origin: string; made: T };
type Carrying<K extends symbol, T> = { [P in K]?: T };

/**
 * `apiKeyToWire` for a page of keys (redacted private keys), each wire object made once per record and
 * origin and frozen, so that one object can serve every request that lists the record. The same page
 * array (storage/keyPages.ts keeps one per page and org version) gives the same array of wire objects.
 */
export function apiKeysToWire(origin: string, records: readonly ApiKeyRecord[], now: number): object[] {
  const page = records as Carrying<typeof WIRES, Made<object[]>>;
  const hit = page[WIRES];
  if (hit && hit.origin === origin) return hit.made;
  // A key with an expiry prints `expired` as the clock says at each request: a page holding one is made
  // afresh every time and never kept (so a kept page, above, holds none; keys without an expiry, Ops
  // Manager's kind, keep the reuse).
  if (records.some((k) => k.expiresAt !== null))
    return records.map((k) => apiKeyToWire(origin, k, undefined, now));
  const wires = records.map((k) => {
    const rec = k as Carrying<typeof WIRE, Made<object>>;
    const known = rec[WIRE];
    if (known && known.origin === origin) return known.made;
    const wire = apiKeyToWire(origin, k);
    Object.defineProperty(wire, BYTES, { value: new ItemBytes(wire), enumerable: false });
    deepFreeze(wire);
    Object.defineProperty(rec, WIRE, { value: { origin, made: wire }, enumerable: false, writable: true });
    return wire;
  });
  Object.defineProperty(wires, JOINED, { value: { compact: {}, pretty: {} }, enumerable: false });
  Object.freeze(wires);
  Object.defineProperty(page, WIRES, { value: { origin, made: wires }, enumerable: false, writable: true });
  return wires;
}

/** What is kept with a page of wire objects, per layout: its items joined, and the last whole body. */
interface Joined {
  items?: Buffer;
  last?: { head: string; tail: string; body: Buffer };
}

/**
 * A whole list body: `head`, the items joined as they appear inside `"results" : [ … ]` (compact: `,`
 * between items; pretty: `, `), `tail`; or undefined unless every item carries its bytes. What is joined
 * is kept with an array made above (frozen, so its items cannot change), and so is the last body: a page
 * served again with the same links and total costs neither a join nor a copy.
 */
export function listBytes(
  items: readonly unknown[],
  pretty: boolean,
  head: string,
  tail: string,
): Buffer | undefined {
  const holder = (items as Carrying<typeof JOINED, { compact: Joined; pretty: Joined }>)[JOINED];
  const memo = holder && (pretty ? holder.pretty : holder.compact);
  const last = memo?.last;
  if (last && last.head === head && last.tail === tail) return last.body;
  const joined = memo?.items ?? joinItems(items, pretty);
  if (!joined) return undefined;
  const h = Buffer.from(head);
  const t = Buffer.from(tail);
  const body = Buffer.concat([h, joined, t], h.length + joined.length + t.length);
  if (memo) {
    memo.items = joined;
    memo.last = { head, tail, body };
  }
  return body;
}

function joinItems(items: readonly unknown[], pretty: boolean): Buffer | undefined {
  const parts: Buffer[] = [];
  let length = 0;
  for (let i = 0; i < items.length; i++) {
    const item = itemBytes(items[i]);
    if (!item) return undefined;
    const bytes = pretty ? item.pretty : item.compact;
    parts.push(bytes);
    length += bytes.length;
  }
  const sep = pretty ? PRETTY_COMMA : COMMA;
  const out = Buffer.allocUnsafe(length + sep.length * (parts.length - 1));
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) at += sep.copy(out, at);
    at += parts[i]!.copy(out, at);
  }
  return out;
}

const COMMA = Buffer.from(',');
const PRETTY_COMMA = Buffer.from(', ');

function deepFreeze(o: object): void {
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) deepFreeze(v);
  Object.freeze(o);
}
