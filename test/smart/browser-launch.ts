// A user in a browser going through /auth/authorize for a SMART app: sign in, consent, and the pickers, each
// answered as the test says. Stops at the first answer that is neither a page of Warden's nor a redirect back
// into /auth/authorize: the redirect to the app, or a page the test did not expect.
import assert from 'node:assert/strict';
import { CookieBrowser, hiddenFields, type PageResponse } from '../helpers/browser.ts';

export interface Login {
  email: string;
  password: string;
}

export interface Choices {
  patient?: string;
  encounter?: string;
}

/** A SMART app's code-flow authorization request (PKCE S256, `aud` naming the server): `params` add the rest. */
export function smartAuthorizePath(serverUrl: string, params: { client_id: string; redirect_uri: string; code_challenge: string } & Record<string, string>): string {
  return `/auth/authorize?${new URLSearchParams({ response_type: 'code', state: 'st-1', aud: serverUrl, code_challenge_method: 'S256', ...params })}`;
}

/** The hidden fields of the page's POST form (the pickers have a GET search form first). */
export const postFormFields = (page: string) => hiddenFields(page.slice(page.indexOf('method="post"')));

export async function authorizeInBrowser(browser: CookieBrowser, path: string, login: Login, choices: Choices = {}): Promise<PageResponse> {
  let response = await browser.get(path);
  if (response.location?.startsWith('/auth/login')) {
    const page = await browser.get(response.location);
    response = await browser.post('/auth/login', { ...hiddenFields(page.text), username: login.email, password: login.password });
  }
  for (let step = 0; step < 6 && (response.status === 200 || response.location?.startsWith('/auth/authorize')); step++) {
    if (response.status !== 200) {
      response = await browser.get(response.location!);
    } else if (response.text.includes('name="decision"')) {
      response = await browser.post('/auth/authorize', { ...hiddenFields(response.text), decision: 'allow' });
    } else if (response.text.includes('name="smart_patient"') && choices.patient) {
      response = await browser.post('/auth/authorize', { ...postFormFields(response.text), smart_patient: choices.patient });
    } else if (response.text.includes('name="smart_encounter"') && choices.encounter) {
      response = await browser.post('/auth/authorize', { ...postFormFields(response.text), smart_encounter: choices.encounter });
    } else {
      return response;
    }
  }
  return response;
}

/** The code in the redirect to the app; fails the test with what came instead. */
export function codeOf(response: PageResponse, callback: string): string {
  assert.equal(response.status, 303, response.text.slice(0, 500));
  const redirect = new URL(response.location!);
  assert.equal(`${redirect.origin}${redirect.pathname}`, callback, response.location!);
  const code = redirect.searchParams.get('code');
  assert.ok(code, `no code in the redirect: error=${redirect.searchParams.get('error')} ${redirect.searchParams.get('error_description')}`);
  return code;
}

/** Signs the browser out through the logout form. */
export async function logout(browser: CookieBrowser): Promise<void> {
  const page = await browser.get('/auth/logout');
  const response = await browser.post('/auth/logout', hiddenFields(page.text));
  assert.equal(response.status, 200, response.text.slice(0, 300));
  assert.match(response.text, /signed out/);
}
