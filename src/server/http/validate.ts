/**
 * Request-body validation driven by the TypeBox schemas, mapped onto Ops Manager's error codes:
 * read-only field → ATTRIBUTE_READ_ONLY, unknown field → INVALID_ATTRIBUTE, wrong type →
 * INVALID_JSON_ATTRIBUTE, missing → MISSING_ATTRIBUTE, out of range → INVALID_ATTRIBUTE, unknown enum
 * value → INVALID_ENUM_VALUE, wrong top-level shape → INVALID_JSON. A string with a character a database
 * cannot store (NUL, lone surrogate: schema/text.ts) → INVALID_ATTRIBUTE, whatever the field.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { ApiError } from '../../schema/errors.js';
import { isStorableText } from '../../schema/text.js';

/** Fields Ops Manager reports as read-only wherever they are sent. */
export const READ_ONLY_FIELDS = ['id', 'publicKey', 'privateKey', 'links', 'created'] as const;

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  /** null is a value of this property (it clears something), not an absent field. */
  'x-nullable'?: boolean;
  /** At least one of these properties must be present (PATCH bodies). */
  'x-atLeastOne'?: string[];
  /** Further properties that satisfy `x-atLeastOne` without being named in its message (extensions). */
  'x-orAlso'?: string[];
}

/** Validates a parsed body against a schema and returns it typed. */
export function validateBody<T extends TSchema>(schema: T, body: unknown): Static<T> {
  const node = schema as unknown as SchemaNode;
  if (node.type === 'object') {
    if (!isPlainObject(body)) throw new ApiError('INVALID_JSON');
    checkObject(node, body);
  } else if (node.type === 'array') {
    if (!Array.isArray(body)) throw new ApiError('INVALID_JSON');
    // Elements that are not objects are a malformed body, not a field error without a field name.
    if (node.items?.type === 'object' && body.some((e) => !isPlainObject(e)))
      throw new ApiError('INVALID_JSON');
    checkArray(node, body, '');
  }
  return body as Static<T>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkObject(node: SchemaNode, obj: Record<string, unknown>): void {
  const props = node.properties ?? {};
  for (const key of Object.keys(obj)) {
    if (Object.hasOwn(props, key)) continue;
    if ((READ_ONLY_FIELDS as readonly string[]).includes(key))
      throw new ApiError('ATTRIBUTE_READ_ONLY', [key]);
    throw new ApiError('INVALID_ATTRIBUTE', [key]);
  }
  const required = new Set(node.required ?? []);
  for (const [key, sub] of Object.entries(props)) {
    const value = obj[key];
    if (value === null && sub['x-nullable']) continue;
    if (value === undefined || value === null) {
      if (required.has(key)) throw new ApiError('MISSING_ATTRIBUTE', [key]);
      delete obj[key];
      continue;
    }
    checkValue(sub, value, key);
  }
  const oneOf = node['x-atLeastOne'];
  const present = (k: string) => obj[k] !== undefined;
  if (oneOf && !oneOf.some(present) && !node['x-orAlso']?.some(present))
    throw new ApiError('MISSING_ATTRIBUTE', [oneOf.join(' or ')]);
}

function checkArray(node: SchemaNode, arr: unknown[], name: string): void {
  if (node.minItems !== undefined && arr.length < node.minItems)
    throw new ApiError('INVALID_ATTRIBUTE', [name]);
  if (node.maxItems !== undefined && arr.length > node.maxItems)
    throw new ApiError('INVALID_ATTRIBUTE', [name]);
  if (node.items) for (const item of arr) checkValue(node.items, item, name);
}

function checkValue(node: SchemaNode, value: unknown, name: string): void {
  if (node.anyOf) {
    const consts = node.anyOf.map((s) => s.const);
    if (typeof value !== typeof consts[0]) throw new ApiError('INVALID_JSON_ATTRIBUTE', [name]);
    if (!consts.includes(value)) throw new ApiError('INVALID_ENUM_VALUE', [String(value)]);
    return;
  }
  switch (node.type) {
    case 'string':
      if (typeof value !== 'string') throw new ApiError('INVALID_JSON_ATTRIBUTE', [name]);
      if (!isStorableText(value)) throw new ApiError('INVALID_ATTRIBUTE', [name]);
      if (node.minLength !== undefined && value.length < node.minLength)
        throw new ApiError('INVALID_ATTRIBUTE', [name]);
      if (node.maxLength !== undefined && value.length > node.maxLength)
        throw new ApiError('INVALID_ATTRIBUTE', [name]);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw new ApiError('INVALID_JSON_ATTRIBUTE', [name]);
      return;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || (node.type === 'integer' && !Number.isInteger(value))) {
        throw new ApiError('INVALID_JSON_ATTRIBUTE', [name]);
      }
      if (node.minimum !== undefined && value < node.minimum) throw new ApiError('INVALID_ATTRIBUTE', [name]);
      if (node.maximum !== undefined && value > node.maximum) throw new ApiError('INVALID_ATTRIBUTE', [name]);
      return;
    case 'array':
      if (!Array.isArray(value)) throw new ApiError('INVALID_JSON_ATTRIBUTE', [name]);
      checkArray(node, value, name);
      return;
    case 'object':
      if (!isPlainObject(value)) throw new ApiError('INVALID_JSON_ATTRIBUTE', [name]);
      checkObject(node, value);
      return;
    default:
      return;
  }
}
