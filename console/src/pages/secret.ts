// Client secrets: made in the browser from its CSPRNG, sent once over the API (the server stores only a hash),
// shown once in a dialog, and never put in a URL, the history, or any storage.
import { h, icon } from '../ui/dom.ts';
import { openDialog } from '../ui/dialog.ts';
import { toast } from '../ui/feedback.ts';
import { randomToken } from '../pkce.ts';

/** 32 random octets: 256 bits, well past RFC 6749 §10.10's "unguessable". */
export function generateSecret(): string {
  return randomToken(32);
}

export function showSecretOnce(clientId: string, secret: string, grant: string, baseUrl: string): Promise<void> {
  return new Promise((resolve) => {
    const input = h('input', { type: 'text', readonly: true, value: secret, class: 'mono secret-value', 'aria-label': 'Client secret', 'data-testid': 'secret-value' });
    const copy = async () => {
      try {
        await navigator.clipboard.writeText(secret);
        toast('Secret copied to the clipboard');
      } catch {
        input.select();
      }
    };
    const example = grant === 'client_credentials'
      ? `curl -u '${clientId}:<secret>' -d grant_type=client_credentials ${baseUrl}/auth/token`
      : grant === 'basic'
        ? `curl -u '${clientId}:<secret>' ${baseUrl}/Patient`
        : null;
    const dialog = openDialog('Copy the client secret now',
      [
        h('p', {}, 'This is the only time the secret of ', h('strong', { class: 'mono' }, clientId), ' is shown. Warden keeps only a hash of it; if it is lost, rotate it.'),
        h('div', { class: 'secret-row' }, input, h('button', { type: 'button', class: 'btn', onclick: copy }, icon('copy'), 'Copy')),
        example ? [h('p', { class: 'hint' }, 'Try it:'), h('pre', { class: 'code' }, example)] : null,
      ],
      (close) => h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'secret-done', onclick: close }, 'I have stored it'),
    );
    dialog.addEventListener('close', () => {
      input.value = '';
      resolve();
    });
    input.focus();
    input.select();
  });
}
