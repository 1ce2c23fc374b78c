/** The acting principal and address of a request, for services and the audit log. */
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../../domain/context.js';

export function actorOf(req: FastifyRequest): Actor {
  return { principal: req.ctx.principal, remoteAddress: req.ctx.remoteAddress };
}
