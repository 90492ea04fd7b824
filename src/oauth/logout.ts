// GET|POST /auth/logout: a confirmation page, then the end of the browser session and of every token issued in it;
// also OpenID Connect RP-Initiated Logout (../oauth/end-session.ts).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { displayName, loadActiveUser } from '../authn/user-login.ts';
import type { BrowserFlows } from './browser-flows.ts';
import { errorPage } from '../pages/error.ts';
import { sendPage } from '../pages/layout.ts';
import { loggedOutPage, logoutConfirmPage } from '../pages/logout.ts';
import { authServices } from '../authn/services.ts';
import { checkLogoutRequest, InvalidLogoutRequest, postLogoutRedirect } from './end-session.ts';
import { endTokensOfBrowserSession } from './grants/user-session.ts';
import { auditLogout } from '../audit/iam-events.ts';

export function logoutEndpoints(flows: BrowserFlows) {
  const { ctx } = flows;
  const services = authServices(ctx);
  const check = (params: unknown) =>
    checkLogoutRequest(ctx.resources, services.keys, ctx.config.baseUrl, (params && typeof params === 'object' ? params : {}) as Record<string, unknown>).catch(
      (error: unknown) => {
        if (error instanceof InvalidLogoutRequest) return error;
        throw error;
      },
    );
  const refuse = (reply: FastifyReply, error: InvalidLogoutRequest) =>
    sendPage(reply, 400, errorPage({ title: 'This sign-out request cannot be completed', message: error.message, error: 'invalid_request' }));
  return {
    async get(request: FastifyRequest, reply: FastifyReply) {
      const logout = await check(request.query);
      if (logout instanceof InvalidLogoutRequest) return refuse(reply, logout);
      const session = await flows.sessions.current(request);
      const user = session ? await loadActiveUser(ctx.db, session.userId) : null;
      return sendPage(reply, 200, logoutConfirmPage({ csrf: flows.csrf.issue(request, reply), userName: user ? displayName(user) : null, carried: logout.carried }));
    },

    async post(request: FastifyRequest, reply: FastifyReply) {
      const form = (request.body && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>;
      // Without this check any site could sign users out (logout CSRF).
      if (!flows.csrf.verify(request, form.csrf_token)) {
        return sendPage(
          reply,
          403,
          errorPage({ title: 'Sign-out not confirmed', message: 'This form has expired. Open the sign-out page again.', error: 'invalid_request' }),
        );
      }
      // Checked again: the form's hidden fields come back from the browser.
      const logout = await check(form);
      if (logout instanceof InvalidLogoutRequest) return refuse(reply, logout);
      const ended = await flows.sessions.end(request, reply);
      if (ended) await endTokensOfBrowserSession(services, ended.sid);
      if (ended) auditLogout({ userId: ended.userId, sessionId: ended.sid });
      const redirect = postLogoutRedirect(logout);
      if (redirect) return reply.code(303).headers({ location: redirect, 'cache-control': 'no-store' }).send();
      return sendPage(reply, 200, loggedOutPage());
    },
  };
}
