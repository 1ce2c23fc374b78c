/**
 * A JSON printer byte-compatible with Jackson's DefaultPrettyPrinter, which Ops Manager uses for
 * `pretty=true`. Field order is the object's own (callers build objects alphabetically).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };

/** Pretty-prints a JSON value in Jackson's layout: `"k" : v`, `[ {` … `}, {` … `} ]`, `[ ]`, `{ }`. */
export function prettyJson(value: unknown): string {
  return print(value as Json, 0);
}

function indent(level: number): string {
  return '  '.repeat(level);
}

function print(value: Json, level: number): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[ ]';
    // Jackson keeps array elements on the opening line and separates them with ", ".
    return `[ ${value.map((v) => print(v, level)).join(', ')} ]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined) as [string, Json][];
  if (entries.length === 0) return '{ }';
  const inner = indent(level + 1);
  const body = entries.map(([k, v]) => `${inner}${JSON.stringify(k)} : ${print(v, level + 1)}`).join(',\n');
  return `{\n${body}\n${indent(level)}}`;
}
