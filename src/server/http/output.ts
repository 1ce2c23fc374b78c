/**
 * The single place where response bodies become bytes: compact or Jackson-pretty JSON, optionally
 * enveloped (api.md §1). Bodies arrive with their fields already in alphabetical order.
 */
import type { FastifyReply } from 'fastify';
import { ApiError } from '../../schema/errors.js';
import { secondsSince } from '../metrics.js';
import { prettyJson, prettyJsonAt } from './jackson.js';
import { itemBytes, listBytes } from './prerendered.js';

/** Presentation options parsed once per request from `pretty` and `envelope`. */
export interface OutputOptions {
  pretty: boolean;
  envelope: boolean;
}

/** Parses an Ops Manager boolean query parameter (`true`/`false`, any case). */
export function parseBooleanParam(name: string, raw: unknown): boolean {
  if (raw === undefined) return false;
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw new ApiError('INVALID_QUERY_PARAMETER', [name]);
}

/** Reads `pretty` and `envelope` from a parsed query string. */
export function parseOutputOptions(query: Record<string, unknown>): OutputOptions {
  return {
    pretty: parseBooleanParam('pretty', query.pretty),
    envelope: parseBooleanParam('envelope', query.envelope),
  };
}

/** A rendered response: the final HTTP status and the body (undefined for an empty 204). */
export interface Rendered {
  status: number;
  /** JSON text, or its UTF-8 bytes when parts of it were rendered before (http/prerendered.ts). */
  body: string | Buffer | undefined;
}

function isList(body: unknown): body is { links: unknown; results: unknown; totalCount: unknown } {
  return (
    typeof body === 'object' && body !== null && 'results' in body && 'totalCount' in body && 'links' in body
  );
}

/**
 * Renders a body for the wire. `body === undefined` means "no content" (204). Under `envelope=true` a
 * list gains `status`; anything else becomes `{content, status}`; a 204 becomes 200 `{content:{},status:204}`.
 */
export function render(status: number, body: unknown, options: OutputOptions): Rendered {
  if (isList(body)) {
    const bytes = renderPrerenderedList(status, body, options);
    if (bytes) return { status, body: bytes };
  }
  let out: unknown = body;
  let httpStatus = status;
  if (options.envelope) {
    if (body === undefined) {
      out = { content: {}, status };
      httpStatus = 200;
    } else if (isList(body)) {
      out = { links: body.links, results: body.results, status, totalCount: body.totalCount };
    } else {
      out = { content: body, status };
    }
  }
  if (out === undefined) return { status: httpStatus, body: undefined };
  return { status: httpStatus, body: options.pretty ? prettyJson(out) : JSON.stringify(out) };
}

/**
 * A list whose every item carries its own bytes, assembled around them: byte for byte what printing the
 * whole body would give (prerendered.test.ts holds both ways equal), without printing the items again.
 */
function renderPrerenderedList(
  status: number,
  body: { links: unknown; results: unknown; totalCount: unknown },
  options: OutputOptions,
): Buffer | undefined {
  const { results } = body;
  if (!Array.isArray(results) || results.length === 0 || !itemBytes(results[0])) return undefined;
  const total = JSON.stringify(body.totalCount);
  let head: string;
  let tail: string;
  if (options.pretty) {
    head = `{\n  "links" : ${prettyJsonAt(body.links, 1)},\n  "results" : [ `;
    tail = ` ],\n${options.envelope ? `  "status" : ${status},\n` : ''}  "totalCount" : ${total}\n}`;
  } else {
    head = `{"links":${JSON.stringify(body.links)},"results":[`;
    tail = `],${options.envelope ? `"status":${status},` : ''}"totalCount":${total}}`;
  }
  return listBytes(results, options.pretty, head, tail);
}

const identity = (payload: unknown) => payload as string;

/** A reply sent, or about to be once the request's replay check has answered. */
export type Sent = FastifyReply | Promise<FastifyReply>;

/**
 * Sends rendered JSON text, and `headers`, with exactly `Content-Type: application/json` (Fastify would
 * append a charset unless the reply has its own serializer) — once the request's replay check lets it out
 * (`RequestContext.gate`): every response passes here or through `sendText`.
 */
export function sendJson(
  reply: FastifyReply,
  status: number,
  text: string | Buffer | undefined,
  headers?: Readonly<Record<string, string>>,
): Sent {
  return whenReleased(reply, () => {
    reply.code(status);
    observe(reply, status);
    if (headers) for (const [k, v] of Object.entries(headers)) reply.header(k, v);
    if (text === undefined) return reply.send();
    return reply.serializer(identity).header('content-type', 'application/json').send(text);
  });
}

/** Sends a plain-text body (the version probe, the metrics), under the same gate as `sendJson`. */
export function sendText(
  reply: FastifyReply,
  status: number,
  text: string,
  type = 'text/plain; charset=utf-8',
): Sent {
  return whenReleased(reply, () => {
    observe(reply, status);
    return reply.code(status).type(type).send(text);
  });
}

/** Counts the response in its route's metrics (metrics.ts): a Map update and a bucket increment. */
function observe(reply: FastifyReply, status: number): void {
  const ctx = reply.request.ctx;
  if (ctx) ctx.stats.observe(status, secondsSince(ctx.start));
}

function whenReleased(reply: FastifyReply, send: () => FastifyReply): Sent {
  const ctx = reply.request.ctx;
  const gate = ctx?.gate;
  if (gate === undefined) return send();
  ctx.gate = undefined;
  return gate.then((instead) => (instead ? instead(reply) : send()));
}
