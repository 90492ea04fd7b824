// Server metadata (RFC 8414 and OpenID Connect Discovery 1.0): what this server supports, and nothing more.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ASSERTION_ALGS, CLIENT_AUTH_METHODS } from './client-auth.ts';
import { GRANTS } from './token.ts';
import { USERINFO_CLAIMS } from './userinfo.ts';

export function serverMetadata(issuer: string, idTokenAlg: string = 'RS256') {
  return {
    issuer,
    authorization_endpoint: `${issuer}/auth/authorize`,
    token_endpoint: `${issuer}/auth/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    introspection_endpoint: `${issuer}/auth/introspect`,
    revocation_endpoint: `${issuer}/auth/revoke`,
    userinfo_endpoint: `${issuer}/auth/userinfo`,
    end_session_endpoint: `${issuer}/auth/logout`,
    grant_types_supported: [...GRANTS.keys(), 'implicit'],
    response_types_supported: ['code', 'token'],
    response_modes_supported: ['query', 'fragment'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    id_token_signing_alg_values_supported: [idTokenAlg],
    prompt_values_supported: ['none', 'login', 'consent'],
    token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    subject_types_supported: ['public'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'sid', 'at_hash', 'azp', ...USERINFO_CLAIMS],
  };
}

export function discoveryHandler(issuer: string, idTokenAlg?: string) {
  const metadata = serverMetadata(issuer, idTokenAlg);
  return async function discovery(_request: FastifyRequest, reply: FastifyReply) {
    return reply.header('cache-control', 'public, max-age=300').send(metadata);
  };
}
