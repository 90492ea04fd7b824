// Step 2 of the pipeline: who is calling. Runs before the body is read, so strangers cannot make us parse it.
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import { InvalidCredentials } from '../errors.ts';
import { FhirError } from '../fhir/outcome.ts';
import { withExternalTokens } from './external/bearer-hook.ts';
import { withClientAuthHeader } from './external/client-auth-header.ts';
import './identity.ts';
import { invalidRequestChallenge, tokenMethodProblem } from './token-in-uri.ts';
import { authServices } from './services.ts';

export function authenticator(ctx: AppContext) {
  const { basic, bearer: own, accessTokens } = authServices(ctx);
  // Warden's own tokens first; a token Warden did not issue is tried against the TokenIntrospectors.
  const bearer = withExternalTokens(ctx, own, accessTokens);
  return async function authenticate(request: FastifyRequest): Promise<void> {
    request.identity = null;
    if (request.routeOptions.config.public) return;
    const tokenProblem = tokenMethodProblem(request, 'query');
    if (tokenProblem) throw new FhirError(400, 'invalid', tokenProblem, invalidRequestChallenge(tokenProblem));
    const header = request.headers.authorization;
    if (header === undefined) return;
    const [scheme, credentials = ''] = header.trim().split(/\s+/, 2);
    if (/^basic$/i.test(scheme)) {
      request.identity = await basic.authenticate(credentials, request.ip);
      return;
    }
    if (/^bearer$/i.test(scheme)) {
      const identity = await bearer.authenticate(credentials, request.log);
      request.identity = await withClientAuthHeader(identity, request.headers['x-client-auth'], basic, request.ip);
      return;
    }
    throw new InvalidCredentials(`Unsupported authorization scheme "${scheme.slice(0, 20)}": use Basic or Bearer`, 'Basic or Bearer');
  };
}
