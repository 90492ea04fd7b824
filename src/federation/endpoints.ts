// GET /auth/redirect/{id} and GET /auth/callback/{id}: sign in through an IdentityProvider with the
// authorization code flow, Warden being the provider's client (openid-client).
//   redirect: a fresh state, nonce and PKCE verifier, bound to this browser (flow-store.ts), and off to the
//             provider's authorization endpoint.
//   callback: the flow this browser started, for this very provider (mix-up defence, RFC 9700 §4.4), then
//             openid-client checks state, exchanges the code with the verifier, and verifies the id_token
//             (iss, aud, signature from the provider's JWKS, nonce, exp: OIDC Core §3.1.3.7); userinfo adds
//             claims for the same `sub` (§5.3.4). The User is found or made by link-user.ts, a browser session
//             starts, and the original /auth/authorize request continues (consent, SMART pickers, code to the app).
import type { FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import type { IdentityProvider } from '../iam/identity-provider.ts';
import type { BrowserFlows } from '../oauth/browser-flows.ts';
import { errorPage } from '../pages/error.ts';
import { sendPage } from '../pages/layout.ts';
import { safeReturnTo } from '../oauth/return-to.ts';
import { completeSignIn } from '../oauth/sign-in.ts';
import { FederationFlows } from './flow-store.ts';
import { LinkRefused, userForSignIn, type Claims } from './link-user.ts';
import { ProviderClients, ProviderUnavailable } from './provider-client.ts';

/** Claims about the token itself, not the person: not kept in User.data. */
const TOKEN_CLAIMS = ['iss', 'aud', 'exp', 'iat', 'nbf', 'nonce', 'at_hash', 'c_hash', 's_hash', 'auth_time', 'azp', 'sid', 'jti', 'acr', 'amr'];
/** oauth4webapi codes that mean the provider did not answer properly, rather than that its answer failed a check. */
const PROVIDER_FAILURES = new Set(['OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_RESPONSE_IS_NOT_JSON', 'OAUTH_RESPONSE_BODY_ERROR', 'OAUTH_PARSE_ERROR']);

const providerName = (provider: IdentityProvider) => provider.title ?? provider.id;

export function federationEndpoints(flows: BrowserFlows) {
  const { ctx } = flows;
  const pending = new FederationFlows(ctx.db, ctx.config.baseUrl);
  const clients = new ProviderClients(ctx.db, ctx.config);

  const showError = (reply: FastifyReply, status: number, title: string, message: string, error: string) =>
    sendPage(reply, status, errorPage({ title, message, error }));

  async function activeProvider(id: string): Promise<IdentityProvider | null> {
    if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) return null;
    const current = await ctx.resources.read('IdentityProvider', id);
    const provider = current && !current.deleted ? (current.resource as IdentityProvider) : null;
    return provider && provider.active !== false ? provider : null;
  }

  const unknownProvider = (reply: FastifyReply) =>
    showError(reply, 404, 'Unknown sign-in method', 'This sign-in method does not exist or has been turned off.', 'invalid_request');

  const unavailable = (request: FastifyRequest, reply: FastifyReply, provider: IdentityProvider, reason: string) => {
    request.log.warn({ event: 'federation_failed', provider: provider.id, reason }, 'identity provider failed');
    return showError(
      reply,
      502,
      `${providerName(provider)} is not available`,
      `Signing in with ${providerName(provider)} did not work: the provider did not answer as expected. Try again later, or sign in another way.`,
      'temporarily_unavailable',
    );
  };

  return {
    async redirect(request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) {
      const provider = await activeProvider(request.params.id);
      if (!provider) return unknownProvider(reply);
      const returnTo = safeReturnTo((request.query as Record<string, unknown>).return_to);
      let configuration: oidc.Configuration;
      try {
        configuration = await clients.configuration(provider);
      } catch (error) {
        if (error instanceof ProviderUnavailable) return unavailable(request, reply, provider, error.message);
        throw error;
      }
      const flow = await pending.begin(reply, provider.id, returnTo);
      const scopes = new Set(['openid', ...(provider.scopes ?? ['profile', 'email'])]);
      const url = oidc.buildAuthorizationUrl(configuration, {
        redirect_uri: clients.redirectUri(provider),
        scope: [...scopes].join(' '),
        state: flow.state,
        nonce: flow.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(flow.codeVerifier),
        code_challenge_method: 'S256',
      });
      return reply.code(303).headers({ location: url.href, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).send();
    },

    async callback(request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) {
      const flow = await pending.take(request, reply);
      if (!flow) {
        return showError(reply, 400, 'This sign-in cannot be completed', 'This sign-in has expired or was not started in this browser. Go back to the application and sign in again.', 'invalid_request');
      }
      // The answer must come back from the provider this browser was sent to (RFC 9700 §4.4, mix-up attacks).
      if (flow.providerId !== request.params.id) {
        return showError(reply, 400, 'This sign-in cannot be completed', 'The answer came from another sign-in method than the one this sign-in started with.', 'invalid_request');
      }
      const provider = await activeProvider(request.params.id);
      if (!provider) return unknownProvider(reply);
      const name = providerName(provider);

      let claims: Claims;
      try {
        const configuration = await clients.configuration(provider);
        const redirectUri = clients.redirectUri(provider);
        const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
        const tokens = await oidc.authorizationCodeGrant(
          configuration,
          new URL(`${redirectUri}${query}`),
          { pkceCodeVerifier: flow.codeVerifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true },
          { redirect_uri: redirectUri },
        );
        claims = { ...tokens.claims()! };
        if (provider['userinfo-source'] !== 'id-token' && configuration.serverMetadata().userinfo_endpoint) {
          // fetchUserInfo refuses an answer about another `sub` than the id_token's (OIDC Core §5.3.4).
          const userinfo = await oidc.fetchUserInfo(configuration, tokens.access_token, String(claims.sub));
          claims = { ...claims, ...userinfo };
        }
      } catch (error) {
        if (error instanceof ProviderUnavailable) return unavailable(request, reply, provider, error.message);
        if (error instanceof oidc.AuthorizationResponseError) {
          request.log.info({ event: 'federation_denied', provider: provider.id, error: error.error }, 'identity provider refused the sign-in');
          const cancelled = error.error === 'access_denied';
          return showError(
            reply,
            cancelled ? 403 : 400,
            cancelled ? 'Sign-in cancelled' : 'This sign-in cannot be completed',
            cancelled ? `${name} did not sign you in. Go back to the application to try again.` : `${name} refused the sign-in.`,
            error.error,
          );
        }
        const code = (error as { code?: unknown }).code;
        const verification = error instanceof oidc.ClientError && !PROVIDER_FAILURES.has(String(code));
        if (!verification) return unavailable(request, reply, provider, `${String(code ?? (error as Error).name)}: ${(error as Error).message}`);
        request.log.warn({ event: 'federation_rejected', provider: provider.id, reason: `${String(code)}: ${(error as Error).message}` }, 'identity provider answer failed a check');
        return showError(reply, 400, 'This sign-in cannot be completed', `The answer from ${name} could not be verified, so you were not signed in. Go back to the application and try again.`, 'invalid_grant');
      }

      for (const claim of TOKEN_CLAIMS) delete claims[claim];
      let user;
      try {
        user = await userForSignIn(ctx.db, ctx.resources, provider, claims);
      } catch (error) {
        if (!(error instanceof LinkRefused)) throw error;
        request.log.info({ event: 'federation_refused', provider: provider.id, reason: error.message }, 'sign-in through identity provider refused');
        return showError(reply, 403, 'This account cannot sign in', 'Your account is not allowed to sign in here. Contact your administrator.', 'access_denied');
      }
      return completeSignIn(flows, request, reply, user, flow.returnTo, { provider: provider.id });
    },
  };
}

/** The providers the login page offers: every IdentityProvider not turned off (`active: false`). */
export async function activeProviders(flows: BrowserFlows): Promise<{ id: string; title: string }[]> {
  const rows = await flows.ctx.db.query<{ id: string; title: string | null }>(
    `select id, resource->>'title' as title from resource
     where type = 'IdentityProvider' and not deleted and coalesce(resource->>'active', 'true') <> 'false' order by id`,
  );
  return rows.map((row) => ({ id: row.id, title: row.title ?? row.id }));
}
