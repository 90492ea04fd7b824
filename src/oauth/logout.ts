// GET|POST /auth/logout: a confirmation page, then the end of the browser session and of every token issued in it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { displayName, loadActiveUser } from '../authn/user-login.ts';
import type { BrowserFlows } from './browser-flows.ts';
import { errorPage } from '../pages/error.ts';
import { sendPage } from '../pages/layout.ts';
import { loggedOutPage, logoutConfirmPage } from '../pages/logout.ts';
import { authServices } from '../authn/services.ts';
import { endTokensOfBrowserSession } from './grants/user-session.ts';

export function logoutEndpoints(flows: BrowserFlows) {
  const { ctx } = flows;
  return {
    async get(request: FastifyRequest, reply: FastifyReply) {
      const session = await flows.sessions.current(request);
      const user = session ? await loadActiveUser(ctx.db, session.userId) : null;
      return sendPage(reply, 200, logoutConfirmPage({ csrf: flows.csrf.issue(request, reply), userName: user ? displayName(user) : null }));
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
      const ended = await flows.sessions.end(request, reply);
      if (ended) await endTokensOfBrowserSession(authServices(ctx), ended.sid);
      return sendPage(reply, 200, loggedOutPage());
    },
  };
}
