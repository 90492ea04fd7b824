// The end of every way of signing in (password, password and code, another identity provider): a new browser
// session, the tokens of the one it replaces handed over, and back to the authorization request.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authServices } from '../authn/services.ts';
import { handOverBrowserSession } from './grants/user-session.ts';
import type { Resource } from '../store/resource-store.ts';
import type { BrowserFlows } from './browser-flows.ts';
import { auditLogin } from '../audit/iam-events.ts';
import { html } from '../pages/html.ts';
import { page, sendPage } from '../pages/layout.ts';

/** `how` is logged with the event: which provider, whether a second factor was given. */
export async function completeSignIn(flows: BrowserFlows, request: FastifyRequest, reply: FastifyReply, user: Resource, returnTo: string, how: Record<string, unknown> = {}) {
  const { session, replaced } = await flows.sessions.start(request, reply, user.id);
  if (replaced) await handOverBrowserSession(authServices(flows.ctx), replaced, session);
  request.log.info({ event: 'login', user: user.id, ...how }, 'user signed in');
  auditLogin({ userId: user.id, sessionId: session.sid, login: user.id });
  if (returnTo) return reply.code(303).headers({ location: returnTo, 'cache-control': 'no-store' }).send();
  return sendPage(reply, 200, page('Signed in', html`<h1>You are signed in</h1><p class="lead">You can close this window.</p>`));
}
