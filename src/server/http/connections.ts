/**
 * The HTTP/1.1 server and the limits that keep slow or idle clients from holding a node's connections:
 * how long a request may take to arrive (headers, and the whole of it), how long a connection may stay
 * silent, how many connections a node holds, and no lingering after an early answer.
 */
import http, { type IncomingMessage, type RequestListener } from 'node:http';
import type { Socket } from 'node:net';
import { ApiError } from '../../schema/errors.js';

/** Connection limits (README's settings table; milliseconds). */
export interface ConnectionLimits {
  /** The whole request, headers and body, must have arrived within this. */
  requestTimeoutMs: number;
  /** Its headers within this (at most `requestTimeoutMs`). */
  headersTimeoutMs: number;
  /**
   * A connection on which neither side sends anything for this long in the middle of a request or its
   * response is closed (a client that stopped reading, or stopped sending). Between requests the
   * keep-alive timeout applies instead.
   */
  idleTimeoutMs: number;
  /** Connections this node holds at once; further ones are closed as they are accepted. */
  maxConnections: number;
}

/** The defaults: generous for any real client, short enough that slow ones cannot pile up. */
export const DEFAULT_LIMITS: ConnectionLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  maxConnections: 4096,
};

/** How long a connection may wait for its next request (Fastify's own default, which pakman always had). */
export const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/**
 * The server Fastify would make (lib/server.js), with `limits` applied. Node checks the request and
 * headers deadlines every `connectionsCheckingInterval` (30 s by default, which would let a 10 s deadline
 * run to 40 s): here a quarter of the shorter deadline, from 50 ms to 1 s — one pass over the open
 * connections, no work per request. The idle timeout is the socket's own inactivity timer, which Node
 * swaps for the keep-alive timeout between requests and restores when the next one begins.
 */
export function createHttpServer(handler: RequestListener, limits: ConnectionLimits): http.Server {
  const shorter = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  const server = http.createServer(
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(shorter / 4))),
    },
    handler,
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.setTimeout(limits.idleTimeoutMs);
  server.maxConnections = limits.maxConnections;
  server.on('clientError', onClientError);
  return server;
}

/**
 * Whether `req` announced a body that has not all arrived. A response sent before the body (a challenge,
 * an error found from the headers) then asks for the connection to be closed (`Connection: close`):
 * otherwise Node reads and discards the rest of the body, however slowly it comes, and the connection
 * stays held for as long as the client cares to trickle it.
 */
export function bodyPending(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const h = req.headers;
  return (
    h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0')
  );
}

/** A whole response in the Ops Manager error shape, written to a socket no request was made for. */
function rawResponse(error: ApiError): string {
  const body = error.toBody();
  const text = JSON.stringify(body);
  return `HTTP/1.1 ${error.status} ${body.reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
}

const TIMEOUT_RESPONSE = rawResponse(new ApiError('REQUEST_TIMEOUT'));
const HEADERS_TOO_LARGE_RESPONSE = rawResponse(
  new ApiError('REQUEST_HEADERS_TOO_LARGE', [String(http.maxHeaderSize)]),
);
const MALFORMED_RESPONSE = rawResponse(new ApiError('MALFORMED_REQUEST'));

/** The answer to a client error: Node's parser codes (HPE_*) and the request deadline; else none. */
function clientErrorResponse(code: string | undefined): string | undefined {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return TIMEOUT_RESPONSE;
  if (code === 'HPE_HEADER_OVERFLOW') return HEADERS_TOO_LARGE_RESPONSE;
  if (code?.startsWith('HPE_')) return MALFORMED_RESPONSE;
  return undefined;
}

/**
 * Client errors get the Ops Manager error shape, as every other answer does: a request that missed its
 * deadline 408 `REQUEST_TIMEOUT`, headers over Node's limit 431 `REQUEST_HEADERS_TOO_LARGE`, bytes that are
 * not HTTP/1.1 400 `MALFORMED_REQUEST` (unless a response already began on that connection); the
 * connection is then closed. Registered before Fastify's own clientError listener, which then finds the
 * socket destroyed and leaves it; what is left (a reset connection) is Fastify's, as before.
 */
function onClientError(err: Error & { code?: string }, socket: Socket): void {
  const response = clientErrorResponse(err.code);
  if (response === undefined || socket.destroyed) return;
  const inProgress = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inProgress?.headersSent) socket.write(response);
  socket.destroy();
}
