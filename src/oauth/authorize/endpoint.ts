// GET|POST /auth/authorize (RFC 6749 §4.1.1, §4.2.1): validate the request, make sure the user is signed in and
// has consented, then answer at the client's redirect URI with a code or (implicit) a token.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { displayName, loadActiveUser } from '../../authn/user-login.ts';
import type { BrowserSession } from '../../authn/browser-session.ts';
import { clientDisplayName } from '../../iam/client.ts';
import { clientModel } from '../../iam/client-model.ts';
import type { BrowserFlows } from '../browser-flows.ts';
import { consentPage } from '../../pages/consent.ts';
import { errorPage } from '../../pages/error.ts';
import { sendPage } from '../../pages/layout.ts';
import { authorizeUrl } from '../return-to.ts';
import { describeScope } from '../../pages/scope-descriptions.ts';
import { checkAudience } from './check-audience.ts';
import { PICKER_FIELDS, resolveLaunch } from './launch.ts';
import type { LaunchContext } from '../../smart/launch-contexts.ts';
import type { Resource } from '../../store/resource-store.ts';
import { AuthorizeError, toClient } from './authorize-error.ts';
import { needsConsent, rememberGrant } from './consent.ts';
import { auditConsent } from '../../audit/iam-events.ts';
import { authorizationResponse } from './respond.ts';
import { readParams } from './params.ts';
import { issueImplicitToken } from './issue-token.ts';
import { carriedParams, RedirectableError, validateAuthorizationRequest, type AuthorizationRequest, type ErrorTarget } from './validate.ts';

/** Form fields of Warden's own pages, never part of the authorization request. */
const FORM_FIELDS = ['csrf_token', 'decision', ...PICKER_FIELDS];

export function authorizeEndpoint(flows: BrowserFlows) {
  const { ctx } = flows;
  const issuer = ctx.config.baseUrl;

  const redirect = (reply: FastifyReply, location: string) =>
    reply.code(303).headers({ location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).send();

  const redirectError = (reply: FastifyReply, error: AuthorizeError, target: ErrorTarget) =>
    redirect(
      reply,
      authorizationResponse(target.redirectUri, target.responseMode, issuer, {
        error: error.error,
        error_description: error.description,
        state: target.state,
      }),
    );

  const showError = (reply: FastifyReply, status: number, error: string, message: string) =>
    sendPage(reply, status, errorPage({ title: 'This request cannot be completed', message, error }));

  async function respond(request: FastifyRequest, reply: FastifyReply, authz: AuthorizationRequest, user: Resource, session: BrowserSession) {
    const target: ErrorTarget = { redirectUri: authz.redirectUri, responseMode: authz.responseMode, state: authz.state };
    const decision = request.method === 'POST' ? authz.params.decision : undefined;
    if (decision !== undefined && decision !== 'allow' && decision !== 'deny') {
      return showError(reply, 400, 'invalid_request', 'The consent form sent an unknown decision.');
    }
    if (decision !== undefined) auditConsent(decision === 'allow', { clientId: authz.client.id, userId: user.id, scope: authz.scopes.join(' ') });
    if (decision === 'deny') return redirectError(reply, toClient('access_denied', 'The user denied the request'), target);
    if (decision === 'allow') {
      await rememberGrant(ctx.resources, authz.client.id, user.id, authz.scopes);
    } else if ((authz.prompt.has('consent') && !clientModel(authz.client).firstParty) || (await needsConsent(ctx.resources, authz.client, user.id, authz.scopes))) {
      if (authz.prompt.has('none')) return redirectError(reply, toClient('consent_required', 'The user has not allowed this client these scopes'), target);
      return sendPage(
        reply,
        200,
        consentPage({
          csrf: flows.csrf.issue(request, reply),
          clientName: clientDisplayName(authz.client),
          userName: displayName(user),
          scopes: authz.scopes.map((scope) => ({ scope, description: describeScope(scope) })),
          request: carriedParams(authz, [...FORM_FIELDS, 'prompt']),
        }),
      );
    }

    if (authz.responseType === 'code') {
      // SMART: the launch context (EHR launch value, or the patient chosen in the picker) rides with the code.
      let launchContext: LaunchContext | undefined;
      try {
        const step = await resolveLaunch(flows, request, reply, authz, user);
        if (step.done) return reply;
        launchContext = step.context;
      } catch (error) {
        if (error instanceof AuthorizeError) return redirectError(reply, error, target);
        throw error;
      }
      const code = await flows.codes.create({
        clientId: authz.client.id,
        userId: user.id,
        redirectUri: authz.redirectUri,
        redirectUriRequired: authz.redirectUriGiven,
        scope: authz.scopes.join(' '),
        codeChallenge: authz.codeChallenge ?? null,
        nonce: authz.nonce ?? null,
        sid: session.sid,
        authTime: session.authTime,
        ...(launchContext && { launchContext }),
      });
      return redirect(reply, authorizationResponse(authz.redirectUri, authz.responseMode, issuer, { code, state: authz.state }));
    }
    const token = await issueImplicitToken(flows, { client: authz.client, user, scopes: authz.scopes, session });
    return redirect(
      reply,
      authorizationResponse(authz.redirectUri, authz.responseMode, issuer, {
        access_token: token.access_token,
        token_type: token.token_type,
        expires_in: String(token.expires_in),
        scope: token.scope,
        state: authz.state,
      }),
    );
  }

  return async function authorize(request: FastifyRequest, reply: FastifyReply) {
    const params = readParams(request);
    let authz: AuthorizationRequest;
    try {
      authz = await validateAuthorizationRequest(ctx.resources, params);
      try {
        checkAudience(authz, issuer);
      } catch (error) {
        if (error instanceof AuthorizeError) throw new RedirectableError(error, { redirectUri: authz.redirectUri, responseMode: authz.responseMode, state: authz.state });
        throw error;
      }
    } catch (error) {
      if (error instanceof RedirectableError) return redirectError(reply, error.error, error.target);
      if (error instanceof AuthorizeError) return showError(reply, 400, error.error, error.description);
      throw error;
    }

    // A decision comes from Warden's consent form (a POST); without a valid token it may be a forged cross-site one.
    const deciding = request.method === 'POST' && authz.params.decision !== undefined;
    if (deciding && !flows.csrf.verify(request, authz.params.csrf_token)) {
      return showError(reply, 403, 'invalid_request', 'This form has expired or did not come from this page. Go back to the application and try again.');
    }

    const session = await flows.sessions.current(request);
    const user = session ? await loadActiveUser(ctx.db, session.userId) : null;
    const ageSeconds = session ? (Date.now() - session.authTime.getTime()) / 1000 : Infinity;
    const mustLogin =
      !session || !user || (authz.prompt.has('login') && !deciding) || (authz.maxAge !== undefined && ageSeconds > authz.maxAge);
    if (mustLogin) {
      const target: ErrorTarget = { redirectUri: authz.redirectUri, responseMode: authz.responseMode, state: authz.state };
      if (authz.prompt.has('none')) return redirectError(reply, toClient('login_required', 'The user is not signed in'), target);
      // The login satisfies prompt=login and max_age: dropping them keeps the return from asking again.
      const rest = { ...authz.params };
      delete rest.prompt;
      const prompt = [...authz.prompt].filter((value) => value !== 'login');
      if (prompt.length > 0) rest.prompt = prompt.join(' ');
      const returnTo = authorizeUrl(rest, [...FORM_FIELDS, 'max_age']);
      return redirect(reply, `/auth/login?return_to=${encodeURIComponent(returnTo)}`);
    }
    return respond(request, reply, authz, user, session);
  };
}
