/**
 * A JSON printer byte-compatible with Jackson's DefaultPrettyPrinter, which Ops Manager uses for
 * `pretty=true`. Field order is the object's own (callers build objects alphabetically).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };

/** Pretty-prints a JSON value in Jackson's layout: `"k" : v`, `[ {` … `}, {` … `} ]`, `[ ]`, `{ }`. */
export function prettyJson(value: unknown): string {
  return prettyJsonAt(value, 0);
}

/**
 * The same for a value nested `level` objects deep (what it looks like inside its parent), so that a
 * list's items can be printed once and reused (http/prerendered.ts).
 */
export function prettyJsonAt(value: unknown, level: number): string {
  return print(value as Json, level);
}

const INDENTS: string[] = [''];
function indent(level: number): string {
  let s = INDENTS[level];
  if (s === undefined) {
    s = '  '.repeat(level);
    INDENTS[level] = s;
  }
  return s;
}

// Characters JSON.stringify would escape (or that need its care: lone surrogates).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string literal: copied as it is unless something in it needs escaping. */
export function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function print(value: Json, level: number): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
    case 'boolean':
      return JSON.stringify(value);
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? printArray(value, level) : printObject(value, level);
    default:
      return JSON.stringify(value) ?? 'null';
  }
}

function printArray(value: Json[], level: number): string {
  if (value.length === 0) return '[ ]';
  // Jackson keeps array elements on the opening line and separates them with ", ".
  let out = `[ ${print(value[0]!, level)}`;
  for (let i = 1; i < value.length; i++) out += `, ${print(value[i]!, level)}`;
  return `${out} ]`;
}

function printObject(value: { [key: string]: Json | undefined }, level: number): string {
  const inner = indent(level + 1);
  let out = '';
  for (const k of Object.keys(value)) {
    const v = value[k];
    if (v === undefined) continue;
    out += `${out === '' ? '{\n' : ',\n'}${inner}${quote(k)} : ${print(v, level + 1)}`;
  }
  return out === '' ? '{ }' : `${out}\n${indent(level)}}`;
}
