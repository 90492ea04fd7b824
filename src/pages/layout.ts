// The frame every page shares, and the headers that keep pages out of frames and caches.
import { readFileSync } from 'node:fs';
import type { FastifyReply } from 'fastify';
import { html, type SafeHtml } from './html.ts';

export const STYLESHEET = readFileSync(new URL('./styles.css', import.meta.url), 'utf8');
export const STYLESHEET_PATH = '/auth/assets/warden.css';

/**
 * frame-ancestors 'none' (and X-Frame-Options for old browsers) stops clickjacking of the login and consent
 * buttons; no script may run at all. form-action is left out on purpose: Chromium applies it to the redirect
 * that follows a form POST, and that redirect goes to the client's redirect URI.
 */
const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

const LOGO = html`<svg aria-hidden="true" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2"
  stroke-linecap="round" stroke-linejoin="round"><path d="M12 2 4 5v6c0 5 3.4 9.4 8 11 4.6-1.6 8-6 8-11V5l-8-3z"/>
  <path d="m9 12 2 2 4-4"/></svg>`;

export function page(title: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · Warden</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<main>
<div class="card">
<p class="brand">${LOGO}<span>Warden</span></p>
${body}
</div>
</main>
<footer>Protected by Warden</footer>
</body>
</html>
`;
}

export function sendPage(reply: FastifyReply, status: number, content: SafeHtml) {
  return reply
    .code(status)
    .headers({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CSP,
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      pragma: 'no-cache',
    })
    .send(content.value);
}
