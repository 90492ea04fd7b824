// Bearer authentication with external tokens only, until Warden issues tokens of its own: a token that no
// TokenIntrospector is meant for is refused as unknown.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import type { Identity } from '../identity.ts';
import { invalidToken } from './errors.ts';
import { externalTokens } from './external-tokens.ts';
import type { OperatorLog } from './jwt-verifier.ts';

/** RFC 6750 §2.1: b64token syntax. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export function externalBearer(ctx: AppContext) {
  const external = externalTokens(ctx);
  return async function authenticateBearer(token: string, log?: OperatorLog): Promise<Identity> {
    if (!B64TOKEN.test(token)) throw invalidToken('The access token is malformed');
    const identity = await external.authenticate(token, log);
    if (!identity) throw invalidToken('The access token was not issued by a trusted issuer');
    return identity;
  };
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * After a successful write of a TokenIntrospector, this process forgets its introspectors before answering,
 * so the writer's next request already meets the change; other processes learn of it by NOTIFY (0007).
 */
export function invalidateIntrospectorsAfterWrite(ctx: AppContext) {
  const external = externalTokens(ctx);
  return async function invalidate(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    const type = (request.params as { type?: string } | undefined)?.type;
    if (type === 'TokenIntrospector' && WRITES.has(request.method) && reply.statusCode < 300) {
      external.introspectors.invalidate();
    }
    return payload;
  };
}
