import { describe, expect, it } from 'vitest';
import { isStorableText } from './text.js';

describe('isStorableText', () => {
  it('takes any well-formed text, emoji (surrogate pairs) and control characters other than NUL included', () => {
    for (const s of ['', 'Org A', 'é€', '🦊', 'a🦊b🦊', '\u0001\u001f\u007f', '\uffff', '\u{10ffff}'])
      expect(isStorableText(s), JSON.stringify(s)).toBe(true);
  });
  it('refuses NUL anywhere and every lone surrogate', () => {
    for (const s of [
      '\u0000',
      'a\u0000',
      '\u0000b',
      '\ud800',
      'a\ud800',
      '\ud800a',
      '\udc00',
      'a\udfff',
      '\udc00\ud800',
      '🦊\ud83d',
      '\udca6🦊',
    ])
      expect(isStorableText(s), JSON.stringify(s)).toBe(false);
  });
});
