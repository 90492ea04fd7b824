// A real external OpenID provider for the browser tests: panva's oidc-provider with its own login and consent
// pages (dev interactions: any login name signs in), discovery, PKCE, JWKS and userinfo. Its token endpoint can
// be made to fail or to answer a tampered id_token, to prove Warden notices.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:http';
import { decodeJwt, SignJWT } from 'jose';
import Provider from 'oidc-provider';
import { rsaKey } from '../external/provider.ts';
import { freePort } from '../helpers/server.ts';

export const WARDEN_AT_IDP = { id: 'warden', secret: 'warden-at-corporate-idp-secret' };

/** fail: the token endpoint answers 500; nonce, signature: its id_token is tampered; state: the redirect back is. */
export type TokenTamper = 'none' | 'fail' | 'nonce' | 'signature' | 'state';

export interface OidcIdp {
  issuer: string;
  /** The people the provider knows, by login name: their claims. */
  accounts: Map<string, Record<string, unknown>>;
  tamper: TokenTamper;
  close(): Promise<void>;
}

export async function startOidcIdp(wardenCallback: string): Promise<OidcIdp> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const key = await rsaKey('idp-key-1');
  const state: OidcIdp = { issuer, accounts: new Map(), tamper: 'none', close: async () => {} };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: WARDEN_AT_IDP.id,
        client_secret: WARDEN_AT_IDP.secret,
        redirect_uris: [wardenCallback],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [key.privateJwk] },
    cookies: { keys: ['idp-cookie-key-for-tests-only'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name'] },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    async findAccount(_ctx: unknown, id: string) {
      return {
        accountId: id,
        claims: async () => ({ sub: id, ...(state.accounts.get(id) ?? {}) }),
      };
    },
  });
  provider.use(async (ctx, next) => {
    if (ctx.path === '/token' && state.tamper === 'fail') {
      ctx.status = 500;
      ctx.body = 'token endpoint down';
      return;
    }
    await next();
    const location = ctx.response.get('location');
    if (state.tamper === 'state' && location.startsWith(wardenCallback)) {
      const tampered = new URL(location);
      tampered.searchParams.set('state', 'tampered');
      ctx.redirect(tampered.href);
    }
    if (ctx.path !== '/token' || state.tamper === 'none' || !ctx.body || typeof ctx.body !== 'object') return;
    const body = ctx.body as { id_token?: string };
    if (!body.id_token) return;
    if (state.tamper === 'signature') {
      // Same header and signature, another subject: a forgery only the signature check can catch.
      const [header, payload, signature] = body.id_token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      body.id_token = [header, Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url'), signature].join('.');
    } else if (state.tamper === 'nonce') {
      // Properly signed by the provider's own key, for another authorization request.
      const claims = decodeJwt(body.id_token);
      body.id_token = await new SignJWT({ ...claims, nonce: 'a-nonce-from-another-request' })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid })
        .sign(key.privateKey);
    }
  });
  const handler = provider.callback();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  state.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}
