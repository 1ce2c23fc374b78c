/**
 * The OpenAPI 3.1 document of every route, made from the route table itself: paths and methods from
 * the declarations, request bodies from the schemas the app validates them with (RouteSpec.body),
 * responses from the declared wire schemas (src/schema/responses.ts). A route declared without schemas
 * is still documented, with generic bodies, so no route can be missing from it.
 */
import type { TSchema } from '@sinclair/typebox';
import * as bodies from '../../schema/bodies.js';
import { ID_PARAM_NAMES } from '../../schema/ids.js';
import * as responses from '../../schema/responses.js';
import { fullPath, type RouteSpec } from './route.js';

/** A JSON value of the document. */
type Json = Record<string, unknown>;

/** Every named schema of src/schema that is not a bare primitive, by component name. */
function namedSchemas(): Map<TSchema, string> {
  const named = new Map<TSchema, string>();
  for (const [name, value] of [...Object.entries(responses), ...Object.entries(bodies)]) {
    if (typeof value !== 'object' || value === null) continue;
    const node = value as Json;
    if (node.type !== 'object' && node.type !== 'array' && !node.anyOf) continue;
    named.set(value as TSchema, name.replace(/Schema$/, ''));
  }
  return named;
}

/** The request-body schemas: the server refuses properties they do not name (INVALID_ATTRIBUTE). */
const CLOSED = new Set<unknown>(Object.values(bodies));

/**
 * A plain JSON Schema (2020-12, as OpenAPI 3.1 uses) of a TypeBox schema, named ones as $refs; objects
 * of a request body (`closed`) say that other properties are refused.
 */
function toJsonSchema(node: unknown, named: Map<TSchema, string>, top = false, closed = false): unknown {
  if (typeof node !== 'object' || node === null) return node;
  if (Array.isArray(node)) return node.map((n) => toJsonSchema(n, named, false, closed));
  const name = named.get(node as TSchema);
  if (name && !top) return { $ref: `#/components/schemas/${name}` };
  const src = node as Json;
  const props = src.properties as Json | undefined;
  // A list page `{links, results, totalCount}`: the shared envelope, with its item type.
  if (!top && props && 'results' in props && 'totalCount' in props && 'links' in props) {
    return {
      allOf: [
        { $ref: '#/components/schemas/ListEnvelope' },
        { type: 'object', properties: { results: toJsonSchema(props.results, named) } },
      ],
    };
  }
  const out: Json = {};
  closed ||= CLOSED.has(node);
  if (closed && src.type === 'object') out.additionalProperties = false;
  for (const [key, value] of Object.entries(src)) {
    // pakman's "at least one of these" (PATCH bodies) in JSON Schema's own words.
    if (key === 'x-atLeastOne') out.anyOf = (value as string[]).map((k) => ({ required: [k] }));
    else if (key === 'properties' || key === 'patternProperties') {
      out[key] = Object.fromEntries(
        Object.entries(value as Json).map(([k, v]) => [k, toJsonSchema(v, named, false, closed)]),
      );
    } else if (key === 'items' || key === 'anyOf' || key === 'additionalProperties') {
      out[key] = toJsonSchema(value, named, false, closed);
    } else out[key] = value;
  }
  return out;
}

function isList(schema: TSchema | null | undefined): boolean {
  const props = (schema as Json | null | undefined)?.properties as Json | undefined;
  return !!props && 'results' in props && 'totalCount' in props && 'links' in props;
}

/** `/orgs/:orgId/apiKeys` → `/api/public/v1.0/orgs/{orgId}/apiKeys`, and the parameter names. */
function templated(url: string): { path: string; names: string[] } {
  const names: string[] = [];
  const path = fullPath(url)
    .split('/')
    .map((seg) => {
      if (!seg.startsWith(':')) return seg;
      names.push(seg.slice(1));
      return `{${seg.slice(1)}}`;
    })
    .join('/');
  return { path, names };
}

function operationId(method: string, path: string): string {
  const words = `${method.toLowerCase()} ${path.replace(/^\/api\/public\/v1\.0/, '')}`
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('') || 'root';
}

function pathParameter(name: string): Json {
  const label = ID_PARAM_NAMES[name];
  return {
    name,
    in: 'path',
    required: true,
    description: label ? `${label}: a 24-character hexadecimal id` : undefined,
    schema: label ? { type: 'string', pattern: '^[0-9a-f]{24}$' } : { type: 'string' },
  };
}

function queryParameters(schema: TSchema | undefined, named: Map<TSchema, string>): Json[] {
  if (!schema) return [];
  const node = schema as unknown as { properties?: Json; required?: string[] };
  return Object.entries(node.properties ?? {}).map(([name, sub]) => {
    const s = toJsonSchema(sub, named) as Json;
    const { description, ...rest } = s;
    return { name, in: 'query', required: node.required?.includes(name) ?? false, description, schema: rest };
  });
}

/**
 * Plain JSON with every object's keys in alphabetical order, as every pakman response prints them
 * (api.md §1); undefined values (parameters without a description) dropped.
 */
function clean(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clean);
  if (typeof value !== 'object' || value === null) return value;
  const out: Json = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Json)[key];
    if (v !== undefined) out[key] = clean(v);
  }
  return out;
}

const ERROR_STATUSES: Record<string, string> = {
  '400': 'Malformed id, query parameter or body (errorCode says which)',
  '403': 'The caller address is not on the access list (IP_ADDRESS_NOT_ON_ACCESS_LIST)',
  '404': 'No such resource, or not one the caller may know of',
  '405': 'The path exists, the method does not (METHOD_NOT_ALLOWED; Allow lists the methods)',
  '409': 'A name conflict',
  '413': 'The body is larger than the configured limit (REQUEST_TOO_LARGE)',
  '415': 'The body is not application/json (UNSUPPORTED_MEDIA_TYPE)',
  '500': 'An unexpected error (UNEXPECTED_ERROR); details only in the server log',
  '503': 'The database cannot be reached right now (SERVICE_UNAVAILABLE)',
};

/** A route's success status and body schema: as declared, else 204 without a body for DELETE, else 200 with any body. */
export function declaredResponse(spec: RouteSpec): { status: number; schema: TSchema | null } {
  if (spec.response) return spec.response;
  return spec.method === 'DELETE' ? { status: 204, schema: null } : { status: 200, schema: {} as TSchema };
}

function operation(spec: RouteSpec, names: string[], path: string, named: Map<TSchema, string>): Json {
  const response = declaredResponse(spec);
  const list = isList(response.schema);
  const success: Json = {
    description: spec.summary ?? 'Success',
    headers: { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } },
  };
  if (response.schema) {
    const text = (response.schema as Json).type === 'string';
    success.content = {
      [text ? 'text/plain' : 'application/json']: { schema: toJsonSchema(response.schema, named) },
    };
  }
  const responsesOut: Json = { [String(response.status)]: success };
  const hasBody = spec.method === 'POST' || spec.method === 'PATCH' || spec.method === 'PUT';
  if (spec.action !== 'public') responsesOut['401'] = { $ref: '#/components/responses/Unauthorized' };
  for (const status of ['400', '403', '404', '409', '413', '415', '500', '503']) {
    if (spec.action === 'public' && status === '403') continue;
    if (!hasBody && (status === '409' || status === '413' || status === '415')) continue;
    responsesOut[status] = { $ref: `#/components/responses/Error${status}` };
  }
  const op: Json = {
    operationId: operationId(spec.method, path),
    summary: spec.summary,
    parameters: [
      ...names.map(pathParameter),
      ...queryParameters(spec.query, named),
      ...(list
        ? [{ $ref: '#/components/parameters/pageNum' }, { $ref: '#/components/parameters/itemsPerPage' }]
        : []),
      { $ref: '#/components/parameters/pretty' },
      { $ref: '#/components/parameters/envelope' },
    ],
    responses: responsesOut,
  };
  if (spec.action === 'public') op.security = [];
  if (hasBody) {
    op.requestBody = {
      required: spec.body !== undefined,
      content: { 'application/json': { schema: spec.body ? toJsonSchema(spec.body, named) : {} } },
    };
  }
  return op;
}

function components(named: Map<TSchema, string>): Json {
  const schemas: Json = {};
  for (const [schema, name] of named) schemas[name] = toJsonSchema(schema, named, true);
  schemas.ListEnvelope = {
    type: 'object',
    description: 'A page of a list (api.md §2): links to this, the previous and the next page, and the total',
    required: ['links', 'results', 'totalCount'],
    properties: {
      links: { type: 'array', items: { $ref: '#/components/schemas/Link' } },
      results: { type: 'array' },
      totalCount: { type: 'integer' },
    },
  };
  const errorResponse = (description: string): Json => ({
    description,
    headers: { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } },
    content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
  });
  const responsesOut: Json = {
    Unauthorized: {
      ...errorResponse(
        'No or wrong credentials: a digest challenge (one WWW-Authenticate per algorithm; stale=true after an expired or replayed nonce), or USER_UNAUTHORIZED',
      ),
      headers: {
        'WWW-Authenticate': { description: 'Digest challenge', schema: { type: 'string' } },
        'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' },
      },
    },
  };
  for (const [status, description] of Object.entries(ERROR_STATUSES))
    responsesOut[`Error${status}`] = errorResponse(description);
  const bool = (description: string): Json => ({
    in: 'query',
    required: false,
    description,
    schema: { type: 'string', enum: ['true', 'false'] },
  });
  return {
    schemas,
    responses: responsesOut,
    parameters: {
      pretty: { name: 'pretty', ...bool('Indented JSON, as Ops Manager (Jackson) prints it') },
      envelope: {
        name: 'envelope',
        ...bool('Wrap the body as {content, status} (lists gain a status field; a 204 becomes 200)'),
      },
      pageNum: {
        name: 'pageNum',
        in: 'query',
        required: false,
        description: 'Page number, from 1',
        schema: { type: 'integer', minimum: 1, default: 1 },
      },
      itemsPerPage: {
        name: 'itemsPerPage',
        in: 'query',
        required: false,
        description: 'Items per page',
        schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
      },
    },
    headers: {
      'X-Request-Id': {
        description:
          "The request's id, as in the server's request log: the caller's X-Request-Id when it is 1–128 characters of [A-Za-z0-9._:@=+/-], else one made by the server",
        schema: { type: 'string' },
      },
    },
    securitySchemes: {
      digest: {
        type: 'http',
        scheme: 'digest',
        description:
          'HTTP Digest (RFC 7616; algorithm=MD5, qop=auth; SHA-256 when enabled) with {PUBLIC-KEY}:{PRIVATE-KEY} or {USERNAME}:{PERSONAL-API-KEY}',
      },
    },
  };
}

/** The OpenAPI 3.1 document of these routes (paths as `fullPath` gives them). */
export function openApiDocument(routes: readonly RouteSpec[], version: string): Json {
  const named = namedSchemas();
  const paths: Record<string, Json> = {};
  for (const spec of routes) {
    const { path, names } = templated(spec.url);
    paths[path] ??= {};
    paths[path][spec.method.toLowerCase()] = operation(spec, names, path, named);
  }
  return clean({
    openapi: '3.1.0',
    info: {
      title: 'pakman',
      version,
      summary: 'Programmatic API keys, wire-compatible with the MongoDB Ops Manager Public API v1.0',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    security: [{ digest: [] }],
    paths,
    components: components(named),
  }) as Json;
}

/** The document as `docs/openapi.json` holds it: two-space JSON and a final newline. */
export function openApiText(routes: readonly RouteSpec[], version: string): string {
  return `${JSON.stringify(openApiDocument(routes, version), null, 2)}\n`;
}
