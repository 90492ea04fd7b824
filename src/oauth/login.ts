// GET|POST /auth/login: the login page and its form.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authServices } from '../authn/services.ts';
import { Throttled } from '../errors.ts';
import { auditLogin } from '../audit/iam-events.ts';
import { hasTwoFactor } from '../authn/two-factor.ts';
import { verifyUserLogin } from '../authn/user-login.ts';
import { activeProviders } from '../federation/endpoints.ts';
import { clientDisplayName } from '../iam/client.ts';
import type { Resource } from '../store/resource-store.ts';
import type { BrowserFlows } from './browser-flows.ts';
import { sendPage } from '../pages/layout.ts';
import { loginPage } from '../pages/login.ts';
import { safeReturnTo } from './return-to.ts';
import { completeSignIn } from './sign-in.ts';

/** One message for every failure, so the page never tells whether an account exists. */
const LOGIN_FAILED = 'Incorrect email, user id or password.';
const FORM_EXPIRED = 'This sign-in form has expired. Please try again.';
export const throttledMessage = (seconds: number) =>
  `Too many failed sign-in attempts. Please wait ${seconds < 120 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`} and try again.`;

/** The code step after the password (two-factor-endpoint.ts). */
interface TwoFactorStep {
  challenge(request: FastifyRequest, reply: FastifyReply, user: Resource, returnTo: string): Promise<unknown>;
}

export function loginEndpoints(flows: BrowserFlows, twoFactor: TwoFactorStep) {
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
      loginPage({ csrf: flows.csrf.issue(request, reply), returnTo, clientName: await clientName(returnTo), providers: await activeProviders(flows), ...extra }),
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
        auditLogin({ login: username }, 'invalid username or password');
        return show(request, reply, 401, returnTo, { username, error: LOGIN_FAILED });
      }
      // The password was right; a user with two-factor still owes the code before any session starts.
      if (hasTwoFactor(user)) return twoFactor.challenge(request, reply, user, returnTo);
      return completeSignIn(flows, request, reply, user, returnTo);
    },
  };
}
