// Step 3 of the pipeline: may the caller do this. Until AccessPolicies arrive only the root client may;
// everything else is denied (default deny): 401 without an identity, 403 with one.
import type { FastifyRequest } from 'fastify';
import { BASIC_CHALLENGE } from '../authn/basic.ts';
import type { AppContext } from '../context.ts';
import { forbidden, unauthorized } from '../resources/outcome.ts';

export function authorizer(ctx: AppContext) {
  return async function authorize(request: FastifyRequest): Promise<void> {
    if (request.routeOptions.config.public) return;
    const identity = request.identity;
    if (!identity) throw unauthorized('Authentication required', BASIC_CHALLENGE);
    if (ctx.config.rootClient && identity.client.id === ctx.config.rootClient.id) return;
    throw forbidden(`Client "${identity.client.id}" is not allowed to ${request.method} ${request.url.split('?')[0]}`);
  };
}
