// Server metadata (RFC 8414 and OpenID Connect Discovery 1.0): what this server supports, and nothing more.
// No authorization endpoint yet, so no response types; no ID tokens, so no ID token algorithms.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ASSERTION_ALGS, CLIENT_AUTH_METHODS } from './client-auth.ts';
import { GRANTS } from './token.ts';
import { USERINFO_CLAIMS } from './userinfo.ts';

export function serverMetadata(issuer: string) {
  return {
    issuer,
    token_endpoint: `${issuer}/auth/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    introspection_endpoint: `${issuer}/auth/introspect`,
    revocation_endpoint: `${issuer}/auth/revoke`,
    userinfo_endpoint: `${issuer}/auth/userinfo`,
    grant_types_supported: Object.keys(GRANTS),
    response_types_supported: [],
    token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    subject_types_supported: ['public'],
    claims_supported: ['sub', ...USERINFO_CLAIMS],
  };
}

export function discoveryHandler(issuer: string) {
  const metadata = serverMetadata(issuer);
  return async function discovery(_request: FastifyRequest, reply: FastifyReply) {
    return reply.header('cache-control', 'public, max-age=300').send(metadata);
  };
}
