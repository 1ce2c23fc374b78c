/** IP addresses and CIDR blocks of access lists (IPv4 and IPv6), parsed with ipaddr.js. */
import ipaddr from 'ipaddr.js';

/** A normalized access-list address: always a CIDR block; `ipAddress` set for single-address entries. */
export interface AccessAddress {
  cidrBlock: string;
  ipAddress: string | null;
}

type Addr = ipaddr.IPv4 | ipaddr.IPv6;

function parseAddr(text: string): Addr | null {
  if (!ipaddr.isValid(text)) return null;
  // ipaddr.isValid accepts shorthand like "1" or "0x1"; require canonical dotted quads for IPv4.
  if (!text.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
  if (text.includes('%')) return null;
  const a = ipaddr.parse(text);
  return a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()
    ? (a as ipaddr.IPv6).toIPv4Address()
    : a;
}

function fullBits(a: Addr): number {
  return a.kind() === 'ipv4' ? 32 : 128;
}

/** A single IP address → its entry (`x/32` or `x/128`); null when not a valid address. */
export function parseIpAddress(text: string): AccessAddress | null {
  const a = parseAddr(text.trim() === text ? text : '');
  if (!a) return null;
  const ip = a.toString();
  return { cidrBlock: `${ip}/${fullBits(a)}`, ipAddress: ip };
}

/**
 * A CIDR block → its entry; null when malformed or when host bits are set. A bare address is accepted as
 * a full-length block (Ops Manager's own examples include one). Full-length blocks keep `ipAddress` null:
 * they were given as CIDR blocks.
 */
export function parseCidrBlock(text: string): AccessAddress | null {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const single = parseIpAddress(text);
    return single && { cidrBlock: single.cidrBlock, ipAddress: null };
  }
  const a = parseAddr(text.slice(0, slash));
  const bitsText = text.slice(slash + 1);
  if (!a || !/^[0-9]{1,3}$/.test(bitsText)) return null;
  const bits = Number(bitsText);
  if (bits > fullBits(a)) return null;
  const network = networkAddress(a, bits);
  if (network.toString() !== a.toString()) return null;
  return { cidrBlock: `${a.toString()}/${bits}`, ipAddress: null };
}

/** Either form: `a.b.c.d`, `a.b.c.d/n`, IPv6 alike. */
export function parseIpOrCidr(text: string): AccessAddress | null {
  return text.includes('/') ? parseCidrBlock(text) : parseIpAddress(text);
}

function networkAddress(a: Addr, bits: number): Addr {
  const bytes = a.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return ipaddr.fromByteArray(bytes) as Addr;
}

/** Normalizes a client address (strips IPv4-mapped IPv6); returns the input when unparsable. */
export function normalizeClientIp(text: string): string {
  const a = parseAddr(text);
  return a ? a.toString() : text;
}

/** A compiled CIDR block for fast membership tests. */
export interface CompiledCidr {
  readonly cidrBlock: string;
  readonly range: [Addr, number];
}

/** Compiles a stored CIDR block. */
export function compileCidr(cidrBlock: string): CompiledCidr {
  const [addr, bits] = cidrBlock.split('/');
  return { cidrBlock, range: [ipaddr.parse(addr!) as Addr, Number(bits)] };
}

/** The first block containing `ip`, or undefined. */
export function findContaining(ip: string, blocks: readonly CompiledCidr[]): CompiledCidr | undefined {
  const a = parseAddr(ip);
  if (!a) return undefined;
  return blocks.find((b) => b.range[0].kind() === a.kind() && a.match(b.range));
}
