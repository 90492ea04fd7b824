// A scripted OpenID provider for raw-HTTP attack tests: its authorization endpoint is never visited (the test
// reads state and nonce from Warden's redirect and comes back itself); its token endpoint answers whatever
// id_token the test signs, so each check of OIDC Core §3.1.3.7 can be made to fail on its own.
import { createServer, type Server } from 'node:http';
import { SignJWT, type JWTPayload } from 'jose';
import { rsaKey, type SigningKey } from '../external/provider.ts';
import { freePort } from '../helpers/server.ts';

export const SCRIPTED_CLIENT = { id: 'warden-at-scripted', secret: 'scripted-client-secret-0123456789' };

export interface ScriptedIdp {
  issuer: string;
  key: SigningKey;
  /** What the token endpoint answers next; by default an id_token for `sub` with the nonce of the flow. */
  tokenResponse: (params: URLSearchParams) => Promise<{ status: number; body: unknown }>;
  userinfo: Record<string, unknown>;
  tokenRequests: { params: URLSearchParams; authorization: string | undefined }[];
  /** How many times the userinfo endpoint was called. */
  userinfoRequests: number;
  /** Signs an id_token with the provider's key (or `key`), any claims and header. */
  sign(claims: JWTPayload, options?: { key?: SigningKey; header?: Record<string, unknown> }): Promise<string>;
  provider(id: string, extra?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startScriptedIdp(): Promise<ScriptedIdp> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const key = await rsaKey('scripted-1');
  const idp: ScriptedIdp = {
    issuer,
    key,
    tokenResponse: async () => ({ status: 500, body: { error: 'server_error' } }),
    userinfo: {},
    tokenRequests: [],
    userinfoRequests: 0,
    async sign(claims, options = {}) {
      const signer = options.key ?? key;
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: signer.kid, ...options.header }).sign(signer.privateKey);
    },
    provider: (id, extra = {}) => ({
      resourceType: 'IdentityProvider',
      id,
      title: `Scripted ${id}`,
      issuer,
      authorize_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      userinfo_endpoint: `${issuer}/userinfo`,
      jwks_uri: `${issuer}/jwks`,
      client: { id: SCRIPTED_CLIENT.id, secret: SCRIPTED_CLIENT.secret },
      ...extra,
    }),
    close: async () => {},
  };
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', issuer);
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify(body));
    };
    if (url.pathname === '/jwks') return send(200, { keys: [key.publicJwk] });
    if (url.pathname === '/.well-known/openid-configuration') {
      return send(200, { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, userinfo_endpoint: `${issuer}/userinfo`, jwks_uri: `${issuer}/jwks`, response_types_supported: ['code'] });
    }
    if (url.pathname === '/userinfo') {
      idp.userinfoRequests++;
      return send(200, idp.userinfo);
    }
    if (url.pathname === '/token' && request.method === 'POST') {
      let body = '';
      for await (const chunk of request) body += chunk;
      const params = new URLSearchParams(body);
      idp.tokenRequests.push({ params, authorization: request.headers.authorization });
      const answer = await idp.tokenResponse(params);
      return send(answer.status, answer.body);
    }
    send(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  idp.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return idp;
}
