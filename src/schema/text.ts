/**
 * Text either database can store. PostgreSQL's `text` refuses U+0000 (the driver's error became a 500);
 * a lone UTF-16 surrogate has no UTF-8 form, so both drivers would store U+FFFD instead of what was sent
 * and the stored value would differ from the one answered. Every string that comes from a request and
 * may reach a query is tested here once, where it enters: body fields (http/validate.ts), text path
 * parameters (http/pipeline.ts) and text query parameters (routes/paged.ts).
 */

// A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what PostgreSQL cannot store
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when `s` holds only characters both SQLite and PostgreSQL store as they are. */
export function isStorableText(s: string): boolean {
  return !UNSTORABLE.test(s);
}
