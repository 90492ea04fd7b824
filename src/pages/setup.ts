// The first-start setup page (src/console/first-admin.ts): the form that makes the first administrator.
import { html } from './html.ts';
import { page } from './layout.ts';

export interface SetupView {
  csrf: string;
  username?: string;
  error?: string;
}

export function setupPage(view: SetupView) {
  return page(
    'Set up Warden',
    html`<h1>Create the first administrator</h1>
<p class="lead">Warden has no administrator yet. This page answers only on the machine Warden runs on, and only until
an administrator exists. The administrator signs in to the console and holds the Role <strong>admin</strong>.</p>
${view.error ? html`<p class="alert" role="alert" id="setup-error">${view.error}</p>` : ''}
<form method="post" action="/console/setup" novalidate>
<input type="hidden" name="csrf_token" value="${view.csrf}">
<label for="username">User id</label>
<input type="text" id="username" name="username" value="${view.username ?? ''}" autocomplete="username"
  autocapitalize="none" spellcheck="false" required autofocus placeholder="e.g. jane.doe">
<label for="password">Password (at least 12 characters)</label>
<input type="password" id="password" name="password" autocomplete="new-password" required>
<label for="password_again">Password, again</label>
<input type="password" id="password_again" name="password_again" autocomplete="new-password" required>
<div class="actions"><button type="submit" class="primary">Create administrator</button></div>
</form>`,
  );
}

/** Why the setup page is not offered, and where to go instead. */
export function setupDonePage(message: string) {
  return page(
    'Set up Warden',
    html`<h1>Setup is not available</h1>
<p class="alert" role="alert">${message}</p>
<p><a href="/console/">Open the console</a></p>`,
  );
}
