// GET|POST /auth/login: the login page and its form.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authServices } from '../authn/services.ts';
import { Throttled } from '../authn/throttle.ts';
import { verifyUserLogin } from '../authn/user-login.ts';
import { clientDisplayName } from '../iam/client.ts';
import { handOverBrowserSession } from './grants/user-session.ts';
import type { BrowserFlows } from './browser-flows.ts';
import { html } from '../pages/html.ts';
import { page, sendPage } from '../pages/layout.ts';
import { loginPage } from '../pages/login.ts';
import { safeReturnTo } from './return-to.ts';

/** One message for every failure, so the page never tells whether an account exists. */
const LOGIN_FAILED = 'Incorrect email, user id or password.';
const FORM_EXPIRED = 'This sign-in form has expired. Please try again.';
const throttledMessage = (seconds: number) =>
  `Too many failed sign-in attempts. Please wait ${seconds < 120 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`} and try again.`;

export function loginEndpoints(flows: BrowserFlows) {
  const { ctx } = flows;

  /** The name of the application the login is for, read from the client_id of the request it returns to. */
  async function clientName(returnTo: string): Promise<string | undefined> {
    if (!returnTo) return undefined;
    const clientId = new URLSearchParams(returnTo.slice(returnTo.indexOf('?') + 1)).get('client_id');
    if (!clientId || clientId.length > 256) return undefined;
    const current = await ctx.resources.read('Client', clientId);
    const client = current && !current.deleted ? current.resource : null;
    if (!client) return undefined;
    return clientDisplayName(client);
  }

  async function show(request: FastifyRequest, reply: FastifyReply, status: number, returnTo: string, extra: { username?: string; error?: string } = {}) {
    return sendPage(
      reply,
      status,
      loginPage({ csrf: flows.csrf.issue(request, reply), returnTo, clientName: await clientName(returnTo), ...extra }),
    );
  }

  return {
    async get(request: FastifyRequest, reply: FastifyReply) {
      const query = request.query as Record<string, unknown>;
      return show(request, reply, 200, safeReturnTo(query.return_to));
    },

    async post(request: FastifyRequest, reply: FastifyReply) {
      const form = (request.body && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>;
      const returnTo = safeReturnTo(form.return_to);
      const username = typeof form.username === 'string' ? form.username.trim() : '';
      const password = typeof form.password === 'string' ? form.password : '';
      if (!flows.csrf.verify(request, form.csrf_token)) return show(request, reply, 403, returnTo, { username, error: FORM_EXPIRED });
      let user;
      try {
        user = await verifyUserLogin(ctx.db, authServices(ctx).secrets, { login: username, password, address: request.ip });
      } catch (error) {
        if (!(error instanceof Throttled)) throw error;
        reply.header('retry-after', String(error.retryAfter));
        return show(request, reply, 429, returnTo, { username, error: throttledMessage(error.retryAfter) });
      }
      if (!user) {
        request.log.info({ event: 'login_failed' }, 'login failed');
        return show(request, reply, 401, returnTo, { username, error: LOGIN_FAILED });
      }
      const { session, replaced } = await flows.sessions.start(request, reply, user.id);
      if (replaced) await handOverBrowserSession(authServices(ctx), replaced, session);
      request.log.info({ event: 'login', user: user.id }, 'user signed in');
      if (returnTo) return reply.code(303).headers({ location: returnTo, 'cache-control': 'no-store' }).send();
      return sendPage(reply, 200, page('Signed in', html`<h1>You are signed in</h1><p class="lead">You can close this window.</p>`));
    },
  };
}
