// GET /.well-known/jwks.json (RFC 7517): the public keys of every live signing key, the newest first.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KeyStore } from '../tokens/keys.ts';

export function jwksHandler(keys: KeyStore) {
  return async function jwks(_request: FastifyRequest, reply: FastifyReply) {
    // Short caching: a verifier seeing an unknown kid after a rotation refetches soon.
    return reply.header('cache-control', 'public, max-age=60').type('application/jwk-set+json').send(keys.jwks());
  };
}
