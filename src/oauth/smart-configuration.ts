// GET /.well-known/smart-configuration (SMART App Launch 2.x §"Conformance"): how a SMART app finds the
// endpoints and what this server supports. The FHIR base is the server root, so this one route serves both
// `{server}/.well-known/...` and `{fhir base}/.well-known/...`. Open to any origin: browser apps read it first.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';

/** Claims only what Warden does; each capability is backed by a test in test/smart/. */
export const SMART_CAPABILITIES = [
  'launch-ehr',
  'launch-standalone',
  'authorize-post',
  'client-public',
  'client-confidential-symmetric',
  'client-confidential-asymmetric',
  'sso-openid-connect',
  'context-passthrough-banner',
  'context-passthrough-style',
  'context-ehr-patient',
  'context-ehr-encounter',
  'context-standalone-patient',
  'context-standalone-encounter',
  'permission-offline',
  'permission-online',
  'permission-patient',
  'permission-user',
  'permission-v1',
  'permission-v2',
] as const;

export function smartConfiguration(baseUrl: string) {
  return {
    issuer: baseUrl,
    jwks_uri: `${baseUrl}/.well-known/jwks.json`,
    authorization_endpoint: `${baseUrl}/auth/authorize`,
    token_endpoint: `${baseUrl}/auth/token`,
    introspection_endpoint: `${baseUrl}/auth/introspect`,
    revocation_endpoint: `${baseUrl}/auth/revoke`,
    userinfo_endpoint: `${baseUrl}/auth/userinfo`,
    grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
    response_types_supported: ['code'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    // Backend services (SMART §"Backend Services"): RS384 and ES384 must be accepted for client assertions.
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384', 'RS256', 'ES256'],
    scopes_supported: [
      'openid', 'fhirUser', 'profile', 'launch', 'launch/patient', 'launch/encounter', 'offline_access', 'online_access',
      'patient/*.rs', 'user/*.rs', 'user/*.cruds', 'patient/*.cruds', 'system/*.rs', 'system/*.cruds',
      'patient/*.read', 'user/*.read', 'user/*.write', 'system/*.read',
    ],
    // RFC 7636: only S256; `plain` would let an intercepted code be redeemed.
    code_challenge_methods_supported: ['S256'],
    capabilities: [...SMART_CAPABILITIES],
  };
}

/** SMART styling (App Launch 2.x §"Styling"): what `smart_style_url` points at unless an EHR launch names its own. */
export const SMART_STYLE = {
  color_background: '#f6f7f9',
  color_error: '#b42318',
  color_highlight: '#1d4ed8',
  color_modal_backdrop: 'rgba(15, 23, 42, 0.5)',
  color_success: '#067647',
  color_text: '#111827',
  dim_border_radius: '8px',
  dim_font_size: '16px',
  dim_spacing_size: '16px',
  font_family_body: 'system-ui, sans-serif',
  font_family_heading: 'system-ui, sans-serif',
};

export function smartConfigurationRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/smart-style.json', { config: { public: true } }, async (_request, reply) => {
    reply.header('access-control-allow-origin', '*');
    reply.header('cache-control', 'public, max-age=3600');
    return reply.send(SMART_STYLE);
  });
  const body = JSON.stringify(smartConfiguration(ctx.config.baseUrl));
  app.get('/.well-known/smart-configuration', { config: { public: true } }, async (_request, reply) => {
    // Public metadata: any origin may read it, whatever WARDEN_CORS_ORIGINS says about the API.
    reply.header('access-control-allow-origin', '*');
    reply.header('cache-control', 'public, max-age=300');
    return reply.type('application/json').send(body);
  });
}

/** The CapabilityStatement's SMART part (App Launch 2.x §"Capability Statement"), for clients that look there. */
export function smartSecurity(baseUrl: string) {
  return {
    service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
    extension: [
      {
        url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
        extension: [
          { url: 'authorize', valueUri: `${baseUrl}/auth/authorize` },
          { url: 'token', valueUri: `${baseUrl}/auth/token` },
          { url: 'introspect', valueUri: `${baseUrl}/auth/introspect` },
          { url: 'revoke', valueUri: `${baseUrl}/auth/revoke` },
        ],
      },
    ],
  };
}
