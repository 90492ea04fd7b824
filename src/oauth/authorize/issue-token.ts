// PLACEHOLDER until the token service (issue 3) is merged: the implicit flow's access token.
import type { BrowserSession } from '../../authn/browser-session.ts';
import type { BrowserFlows } from '../../pages/browser-flows.ts';
import type { Resource } from '../../store/resource-store.ts';

export interface ImplicitToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
}

export async function issueImplicitToken(
  _flows: BrowserFlows,
  _request: { client: Resource; user: Resource; scopes: string[]; session: BrowserSession },
): Promise<ImplicitToken> {
  throw new Error('implicit flow needs the token service');
}
