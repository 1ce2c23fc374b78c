import { describe, expect, it } from 'vitest';
import { compileCidr, findContaining, normalizeClientIp, parseCidrBlock, parseIpAddress } from './ip.js';

describe('access-list addresses', () => {
  it('normalizes single addresses to /32 and /128', () => {
    expect(parseIpAddress('192.0.2.1')).toEqual({ cidrBlock: '192.0.2.1/32', ipAddress: '192.0.2.1' });
    expect(parseIpAddress('2001:DB8::1')).toEqual({ cidrBlock: '2001:db8::1/128', ipAddress: '2001:db8::1' });
  });
  it('accepts CIDR blocks and rejects host bits', () => {
    expect(parseCidrBlock('192.0.2.0/24')).toEqual({ cidrBlock: '192.0.2.0/24', ipAddress: null });
    expect(parseCidrBlock('0.0.0.0/1')).toEqual({ cidrBlock: '0.0.0.0/1', ipAddress: null });
    expect(parseCidrBlock('2001:db8::/32')).toEqual({ cidrBlock: '2001:db8::/32', ipAddress: null });
    expect(parseCidrBlock('192.0.2.1/24')).toBeNull();
    expect(parseCidrBlock('2001:db8::1/32')).toBeNull();
  });
  it.each(['', '1', '300.1.1.1', '1.2.3', '1.2.3.4/33', '1.2.3.4/', 'abc', '::g', '1.2.3.4 ', '1.2.3.4/-1'])(
    'rejects %j',
    (s) => {
      expect(s.includes('/') ? parseCidrBlock(s) : parseIpAddress(s)).toBeNull();
    },
  );
  it('matches addresses against blocks, IPv4-mapped IPv6 included', () => {
    const blocks = ['10.0.0.0/8', '2001:db8::/32', '127.0.0.1/32'].map(compileCidr);
    expect(findContaining('10.1.2.3', blocks)?.cidrBlock).toBe('10.0.0.0/8');
    expect(findContaining('::ffff:127.0.0.1', blocks)?.cidrBlock).toBe('127.0.0.1/32');
    expect(findContaining('2001:db8:1::5', blocks)?.cidrBlock).toBe('2001:db8::/32');
    expect(findContaining('11.0.0.1', blocks)).toBeUndefined();
    expect(normalizeClientIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
  });
});
