// The login page: a User signs in with their id or email and password.
import { html } from './html.ts';
import { page } from './layout.ts';

export interface LoginView {
  csrf: string;
  /** Where to go once signed in: an /auth/authorize URL, checked before it is used. */
  returnTo: string;
  /** Name of the application asking, when the login is part of an authorization. */
  clientName?: string;
  username?: string;
  /** The IdentityProviders offered beside the password: "Sign in with <title>". */
  providers?: { id: string; title: string }[];
  error?: string;
}

export function loginPage(view: LoginView) {
  const providers = view.providers ?? [];
  return page(
    'Sign in',
    html`<h1>Sign in</h1>
<p class="lead">${view.clientName ? html`to continue to <strong>${view.clientName}</strong>` : 'to your Warden account'}</p>
${view.error ? html`<p class="alert" role="alert" id="login-error">${view.error}</p>` : ''}
<form method="post" action="/auth/login" novalidate>
<input type="hidden" name="csrf_token" value="${view.csrf}">
<input type="hidden" name="return_to" value="${view.returnTo}">
<label for="username">Email or user id</label>
<input type="text" id="username" name="username" value="${view.username ?? ''}" autocomplete="username"
  autocapitalize="none" spellcheck="false" required autofocus${view.error ? html` aria-describedby="login-error" aria-invalid="true"` : ''}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form>
${providers.length > 0 ? html`<ul class="providers">${providers.map(
    (provider) =>
      html`<li><a class="button" href="/auth/redirect/${encodeURIComponent(provider.id)}${view.returnTo ? `?return_to=${encodeURIComponent(view.returnTo)}` : ''}">Sign in with ${provider.title}</a></li>`,
  )}</ul>` : ''}`,
  );
}
