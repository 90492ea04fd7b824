// The consent page: the signed-in user allows or denies an application the scopes it asks for.
import { html } from './html.ts';
import { page } from './layout.ts';

export interface ConsentView {
  csrf: string;
  clientName: string;
  userName: string;
  scopes: { scope: string; description: string }[];
  /** The authorization request, carried through the form and checked again when it comes back. */
  request: Record<string, string>;
}

export function consentPage(view: ConsentView) {
  return page(
    'Allow access',
    html`<h1><strong>${view.clientName}</strong> wants to access your account</h1>
<p class="lead">Signed in as <strong>${view.userName}</strong>.</p>
${view.scopes.length > 0
  ? html`<p id="scopes-heading">It will be able to:</p>
<ul class="scopes" aria-labelledby="scopes-heading">
${view.scopes.map((item) => html`<li>${item.description}<code>${item.scope}</code></li>`)}
</ul>`
  : html`<p>It asks for no particular permissions.</p>`}
<form method="post" action="/auth/authorize">
<input type="hidden" name="csrf_token" value="${view.csrf}">
${Object.entries(view.request).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<div class="actions split">
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
<button type="submit" name="decision" value="allow" class="primary">Allow</button>
</div>
</form>
<p class="muted">${view.scopes.some((item) => item.scope === 'offline_access')
  ? 'This application keeps its access after you sign out of Warden, until you or an administrator revoke it.'
  : 'Signing out of Warden ends the access you give here.'}</p>`,
  );
}
