// The error page: for requests that cannot be answered by redirecting to the client (RFC 6749 §4.1.2.1: an
// unknown client or an unregistered redirect URI must never be redirected to).
import { html } from './html.ts';
import { page } from './layout.ts';

export interface ErrorView {
  title: string;
  message: string;
  /** The RFC 6749 error code, shown for the developer of the client. */
  error: string;
}

export function errorPage(view: ErrorView) {
  return page(
    view.title,
    html`<h1>${view.title}</h1>
<p class="alert" role="alert">${view.message}</p>
<p class="muted">If you came here from an application, its developer can fix this. Error code:</p>
<p class="detail">${view.error}</p>`,
  );
}
