// DELETE /Session with a Bearer token: the caller ends its own session, and with it every token issued in it
// (Aidbox's logout for API clients). No policy is needed: ending one's own session gives no access.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authServices } from '../authn/services.ts';
import type { AppContext } from '../context.ts';
import { bearerChallenge, BEARER_CHALLENGE } from '../http/challenges.ts';
import { sendResource } from '../http/reply-format.ts';
import { unauthorized } from '../fhir/outcome.ts';

export function deleteCurrentSession(ctx: AppContext) {
  const services = authServices(ctx);
  return async function endCurrentSession(request: FastifyRequest, reply: FastifyReply) {
    const [scheme, token = ''] = (request.headers.authorization ?? '').trim().split(/\s+/, 2);
    if (!/^bearer$/i.test(scheme)) throw unauthorized('DELETE /Session ends the session of the Bearer token it is sent with; send one', BEARER_CHALLENGE);
    const { session } = await services.bearer.identify(token);
    if (!session) throw unauthorized('This token belongs to no session', bearerChallenge('invalid_token', 'This token belongs to no session'));
    await services.sessions.end(session.id);
    request.log.info({ event: 'session_ended', session: session.id }, 'session ended by its token');
    return sendResource(request, reply, 200, session);
  };
}
