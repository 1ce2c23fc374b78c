/**
 * The web console's own routes (docs/console.md): its session endpoints under `/console/api/` and its
 * static assets under `/console/`. Everything else the console does goes through the public API's routes,
 * with the session as the principal (http/pipeline.ts). Security headers go on these responses only.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler } from 'fastify';
import { ApiError } from '../../schema/errors.js';
import { isoSeconds } from '../domain/context.js';
import { sendJson } from '../http/output.js';
import { roleToWire } from '../http/wire.js';
import { type ConsoleSessions, CSRF_HEADER, cookieValue, SESSION_COOKIE, type Session } from './sessions.js';

/** The console's path prefix. */
export const CONSOLE_BASE = '/console';

/** The console's own endpoints, for docs/api.md (test/apiDoc.test.ts). */
export const CONSOLE_ROUTES: readonly { method: string; url: string; status: number; who: string }[] = [
  { method: 'GET', url: '/console/api/session', status: 200, who: 'anyone (answers whether signed in)' },
  { method: 'POST', url: '/console/api/session', status: 201, who: 'anyone (username and password)' },
  { method: 'DELETE', url: '/console/api/session', status: 204, who: 'the session (X-CSRF-Token)' },
];

/** The Content-Security-Policy of every console response: no inline script, no framing, same origin only. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** A built asset, held in memory with its gzip form (the console is small; built once per start). */
interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer | undefined;
  /** Under assets/: file names carry a content hash, so they never change. */
  immutable: boolean;
}

/** Where `npm run build` puts the console: dist/console, found from src/ (tests, tsx) or dist/ (npm start). */
export function defaultConsoleDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [join(here, '..', '..', 'console'), join(here, '..', '..', '..', 'dist', 'console')];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? candidates[1]!;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(dir)) return assets;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const file = join(d, name);
      if (statSync(file).isDirectory()) walk(file);
      else {
        const rel = relative(dir, file).split(sep).join('/');
        const body = readFileSync(file);
        const type = TYPES[extname(name)] ?? 'application/octet-stream';
        const compressible = /text|javascript|json|svg/.test(type) && body.length > 512;
        assets.set(rel, {
          type,
          body,
          gzip: compressible ? gzipSync(body, { level: 9 }) : undefined,
          immutable: rel.startsWith('assets/'),
        });
      }
    }
  };
  walk(dir);
  return assets;
}

/** The signed-in session as the console sees it (fields in alphabetical order, as everywhere in pakman). */
function sessionToWire(s: Session, clientAddress: string) {
  return {
    clientAddress,
    csrfToken: s.csrfToken,
    expires: isoSeconds(s.row.expires),
    idleExpires: isoSeconds(s.idleExpires),
    roles: s.principal.roles.map(roleToWire),
    signedIn: true,
    user: {
      firstName: s.row.firstName,
      id: s.row.userId,
      lastName: s.row.lastName,
      username: s.row.username,
    },
  };
}

function str(body: unknown, name: string): string {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  if (v === undefined || v === null || v === '') throw new ApiError('MISSING_ATTRIBUTE', [name]);
  if (typeof v !== 'string' || v.length > 1024) throw new ApiError('INVALID_JSON_ATTRIBUTE', [name]);
  return v;
}

/** Registers the console's session endpoints and static assets on `app`. */
export function registerConsole(app: FastifyInstance, sessions: ConsoleSessions, dir: string): void {
  const assets = loadAssets(dir);
  const secure: onSendHookHandler = (_req, reply, payload, done) => {
    reply.headers(SECURITY_HEADERS);
    done(null, payload);
  };
  const noStore: onSendHookHandler = (_req, reply, payload, done) => {
    reply.headers(SECURITY_HEADERS).header('cache-control', 'no-store');
    done(null, payload);
  };
  const session = (req: FastifyRequest) => sessions.resolve(cookieValue(req.headers.cookie, SESSION_COOKIE));
  const json = (reply: FastifyReply, status: number, body: unknown, headers?: Record<string, string>) =>
    sendJson(reply, status, JSON.stringify(body), headers);
  const config = { action: 'public' as const };

  app.get(`${CONSOLE_BASE}/api/session`, { config, onSend: noStore }, async (req, reply) => {
    const s = await session(req);
    if (s) return json(reply, 200, sessionToWire(s, req.ctx.remoteAddress));
    return json(reply, 200, {
      clientAddress: req.ctx.remoteAddress,
      firstUser: !(await sessions.anyUser()),
      signedIn: false,
    });
  });

  app.post(`${CONSOLE_BASE}/api/session`, { config, onSend: noStore }, async (req, reply) => {
    const username = str(req.body, 'username');
    const password = str(req.body, 'password');
    const { token, session: s } = await sessions.signIn(username, password, req.ctx.remoteAddress);
    return json(reply, 201, sessionToWire(s, req.ctx.remoteAddress), {
      'set-cookie': sessions.cookie(token),
    });
  });

  app.delete(`${CONSOLE_BASE}/api/session`, { config, onSend: noStore }, async (req, reply) => {
    const s = await session(req);
    if (s) {
      if (!sessions.csrfOk(s, req.headers[CSRF_HEADER])) throw new ApiError('CONSOLE_CSRF_TOKEN_INVALID');
      await sessions.signOut(s);
    }
    return sendJson(reply, 204, undefined, { 'set-cookie': sessions.cookie(undefined) });
  });

  const serve = async (req: FastifyRequest, reply: FastifyReply) => {
    const rest = (req.params as { '*'?: string })['*'] ?? '';
    // Unknown paths (the console's own client-side routes) get index.html; unknown assets a 404.
    let asset = assets.get(rest);
    if (!asset && !rest.startsWith('assets/')) asset = assets.get('index.html');
    if (!asset) {
      const text = assets.size === 0 ? 'The console is not built: run npm run build.' : 'Not found.';
      return reply.code(404).type('text/plain; charset=utf-8').send(text);
    }
    reply.type(asset.type);
    reply.header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (asset.gzip) reply.header('vary', 'accept-encoding');
    if (asset.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      return reply.header('content-encoding', 'gzip').send(asset.gzip);
    }
    return reply.send(asset.body);
  };
  app.get(CONSOLE_BASE, { config, onSend: secure }, serve);
  app.get(`${CONSOLE_BASE}/*`, { config, onSend: secure }, serve);
}
