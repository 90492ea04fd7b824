// The authorization request, checked in order. The first two checks decide whether errors may be redirected;
// every later one reports to the client's redirect URI.
import type { Resource, ResourceStore } from '../../store/resource-store.ts';
import { withoutUnusableRefreshScopes } from '../refresh-access.ts';
import { AuthorizeError } from './authorize-error.ts';
import { checkClient } from './check-client.ts';
import { checkNonce } from './check-nonce.ts';
import { checkPkce } from './check-pkce.ts';
import { checkPrompt, type Prompt } from './check-prompt.ts';
import { checkRedirectUri } from './check-redirect-uri.ts';
import { checkRepeated } from './check-repeated.ts';
import { checkResponseMode, fallbackResponseMode, type ResponseMode } from './check-response-mode.ts';
import { checkResponseType, type ResponseType } from './check-response-type.ts';
import { checkScope } from './check-scope.ts';
import { checkState } from './check-state.ts';
import type { AuthorizeParams } from './params.ts';

/** The request's parameters that a page's form carries back to /auth/authorize, less the fields in `omit`. */
export function carriedParams(authz: AuthorizationRequest, omit: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(authz.params).filter(([name]) => !omit.includes(name)));
}

export interface AuthorizationRequest {
  client: Resource;
  redirectUri: string;
  /** The request named redirect_uri, so the code exchange must name the same (RFC 6749 §4.1.3). */
  redirectUriGiven: boolean;
  responseType: ResponseType;
  responseMode: ResponseMode;
  state?: string;
  scopes: string[];
  nonce?: string;
  codeChallenge?: string;
  prompt: Set<Prompt>;
  maxAge?: number;
  /** The parameters as received, to carry the request through the login and consent forms. */
  params: Record<string, string>;
}

/** Where an error found after the redirect URI was trusted is sent. */
export interface ErrorTarget {
  redirectUri: string;
  responseMode: ResponseMode;
  state?: string;
}

/** An error the client should hear about, with where to send it. */
export class RedirectableError extends Error {
  constructor(
    readonly error: AuthorizeError,
    readonly target: ErrorTarget,
  ) {
    super(error.message);
  }
}

export async function validateAuthorizationRequest(resources: ResourceStore, params: AuthorizeParams): Promise<AuthorizationRequest> {
  const client = await checkClient(resources, params);
  const { redirectUri, given } = checkRedirectUri(client, params);
  const target: ErrorTarget = {
    redirectUri,
    responseMode: fallbackResponseMode(params),
    state: params.values.state && params.values.state.length <= 2048 ? params.values.state : undefined,
  };
  try {
    checkRepeated(params);
    const responseType = checkResponseType(client, params);
    target.responseMode = checkResponseMode(responseType, params);
    return {
      client,
      redirectUri,
      redirectUriGiven: given,
      responseType,
      responseMode: target.responseMode,
      state: checkState(responseType, params),
      scopes: withoutUnusableRefreshScopes(client, responseType, checkScope(client, params)),
      nonce: checkNonce(params),
      codeChallenge: checkPkce(client, responseType, params),
      ...checkPrompt(params),
      params: params.values,
    };
  } catch (error) {
    if (error instanceof AuthorizeError && error.redirectable) throw new RedirectableError(error, target);
    throw error;
  }
}
