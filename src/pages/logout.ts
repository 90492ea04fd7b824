// Logging out: a confirmation form (a plain link must not log anyone out, or any site could), then the result.
import { html } from './html.ts';
import { page } from './layout.ts';

export function logoutConfirmPage(view: { csrf: string; userName: string | null; carried?: Record<string, string> }) {
  return page(
    'Sign out',
    html`<h1>Sign out</h1>
${view.userName
  ? html`<p class="lead">You are signed in as <strong>${view.userName}</strong>. Signing out also ends the access
of the applications you signed in to here, except those you allowed to keep access after you sign out.</p>`
  : html`<p class="lead">You are not signed in.</p>`}
<form method="post" action="/auth/logout">
<input type="hidden" name="csrf_token" value="${view.csrf}">
${Object.entries(view.carried ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<div class="actions"><button type="submit" class="primary">Sign out</button></div>
</form>`,
  );
}

export function loggedOutPage() {
  return page(
    'Signed out',
    html`<h1>You are signed out</h1>
<p class="lead">Your session has ended and the tokens issued in it no longer work, except those of applications
you allowed to keep access after you sign out.</p>
<p class="muted">You can close this window.</p>`,
  );
}
