// The implicit flow's answer (RFC 6749 §4.2.2): an access token in the redirect's fragment. Never a refresh
// token (§4.2.2: "MUST NOT issue a refresh token"), whatever the client's settings say.
import { authServices } from '../../authn/services.ts';
import type { BrowserSession } from '../../authn/browser-session.ts';
import type { BrowserFlows } from '../browser-flows.ts';
import type { Resource } from '../../store/resource-store.ts';
import { clientModel } from '../../iam/client-model.ts';
import { issueUserTokens } from '../grants/user-session.ts';

export async function issueImplicitToken(
  flows: BrowserFlows,
  request: { client: Resource; user: Resource; scopes: string[]; session: BrowserSession },
) {
  const services = authServices(flows.ctx);
  const { response } = await issueUserTokens(services, {
    grant: 'implicit',
    issuer: flows.ctx.config.baseUrl,
    client: request.client,
    user: request.user,
    scope: request.scopes.length > 0 ? request.scopes.join(' ') : undefined,
    settings: { ...clientModel(request.client).settings('implicit'), refreshToken: false },
    browser: { sid: request.session.sid, authTime: request.session.authTime },
  });
  // response_type=token asks for an access token only; an ID token needs response_type "id_token token".
  return { access_token: response.access_token, token_type: response.token_type, expires_in: response.expires_in, scope: response.scope };
}
