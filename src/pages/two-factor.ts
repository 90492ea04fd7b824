// The two-factor pages: the code asked after the password, and enrolment (QR code, confirm, recovery codes).
import { html } from './html.ts';
import { page } from './layout.ts';

const codeInput = (error?: string) => html`<label for="code">Code from your authenticator app</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" autocapitalize="none"
  spellcheck="false" required autofocus${error ? html` aria-describedby="code-error" aria-invalid="true"` : ''}>`;
const alert = (error?: string) => (error ? html`<p class="alert" role="alert" id="code-error">${error}</p>` : '');

export function codeStepPage(view: { csrf: string; error?: string }) {
  return page(
    'Two-factor sign-in',
    html`<h1>Enter your code</h1>
<p class="lead">Open your authenticator app and enter the 6-digit code, or one of your recovery codes.</p>
${alert(view.error)}
<form method="post" action="/auth/login/two-factor" novalidate>
<input type="hidden" name="csrf_token" value="${view.csrf}">
${codeInput(view.error)}
<div class="actions"><button type="submit" class="primary">Verify</button></div>
</form>`,
  );
}

export function enrolPage(view: { csrf: string; qrCode: string; secret: string; pending: string; error?: string }) {
  return page(
    'Set up two-factor sign-in',
    html`<h1>Set up two-factor sign-in</h1>
<p class="lead">Scan this code with an authenticator app, then enter the code it shows.</p>
${alert(view.error)}
<p><img class="qr" src="${view.qrCode}" alt="QR code for your authenticator app" width="200" height="200"></p>
<p class="muted">Cannot scan? Enter this key instead:</p>
<p class="detail" id="secret-key">${view.secret}</p>
<form method="post" action="/auth/two-factor" novalidate>
<input type="hidden" name="csrf_token" value="${view.csrf}">
<input type="hidden" name="action" value="enable">
<input type="hidden" name="pending" value="${view.pending}">
${codeInput(view.error)}
<div class="actions"><button type="submit" class="primary">Turn on</button></div>
</form>`,
  );
}

export function recoveryCodesPage(codes: string[]) {
  return page(
    'Two-factor sign-in is on',
    html`<h1>Two-factor sign-in is on</h1>
<p class="lead">Keep these recovery codes somewhere safe. Each works once, if you lose your authenticator app. They are not shown again.</p>
<ul class="scopes" id="recovery-codes">${codes.map((code) => html`<li><code>${code}</code></li>`)}</ul>`,
  );
}

export function twoFactorStatusPage(view: { csrf: string; error?: string }) {
  return page(
    'Two-factor sign-in',
    html`<h1>Two-factor sign-in is on</h1>
<p class="lead">To turn it off, enter a code from your authenticator app (or a recovery code).</p>
${alert(view.error)}
<form method="post" action="/auth/two-factor" novalidate>
<input type="hidden" name="csrf_token" value="${view.csrf}">
<input type="hidden" name="action" value="disable">
${codeInput(view.error)}
<div class="actions"><button type="submit" class="secondary">Turn off</button></div>
</form>`,
  );
}
