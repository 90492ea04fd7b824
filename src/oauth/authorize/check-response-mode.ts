// Where the response goes in the redirect: the query for codes, the fragment for tokens (OAuth 2.0 Multiple
// Response Type Encoding Practices §2.1). A token must never travel in a query, which servers and proxies log.
import { toClient } from './authorize-error.ts';
import type { AuthorizeParams } from './params.ts';
import type { ResponseType } from './check-response-type.ts';

export type ResponseMode = 'query' | 'fragment';

export function checkResponseMode(responseType: ResponseType, params: AuthorizeParams): ResponseMode {
  const fallback: ResponseMode = responseType === 'code' ? 'query' : 'fragment';
  const mode = params.values.response_mode;
  if (mode === undefined || mode === '') return fallback;
  if (mode !== 'query' && mode !== 'fragment') throw toClient('invalid_request', `response_mode "${mode.slice(0, 40)}" is not supported`);
  if (responseType === 'token' && mode === 'query') throw toClient('invalid_request', 'response_mode=query is not allowed with response_type=token');
  return mode;
}

/** Where the response to a request goes before its response type is known to be valid. */
export function fallbackResponseMode(params: AuthorizeParams): ResponseMode {
  return params.values.response_type === 'token' ? 'fragment' : 'query';
}
