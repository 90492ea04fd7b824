// oidc-provider (panva), the reference Node OAuth server, set up like Warden's bench client: one confidential
// client with client_secret_basic, client_credentials, JWT access tokens signed with the same algorithm.
// Its Basic-authenticated endpoint is token introspection, measured as its "Basic-auth read".
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const alg = (process.env.BENCH_ALG ?? 'RS256') as 'RS256' | 'ES256';
const issuer = `http://127.0.0.1:${port}`;
const resource = issuer;

const { privateKey } = await generateKeyPair(alg, { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), alg, use: 'sig', kid: 'bench' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'bench',
      client_secret: 'bench-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: alg,
    },
  ],
  jwks: { keys: [jwk] },
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: '',
        audience: resource,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg } },
      }),
    },
  },
});
provider.listen(port, '127.0.0.1', () => process.send?.('ready'));
