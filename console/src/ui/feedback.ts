// Telling the person what happened: toasts for success, inline alerts for errors they must fix.
import { ApiError } from '../api.ts';
import { h, icon } from './dom.ts';

export function toast(message: string, kind: 'success' | 'error' = 'success'): void {
  let region = document.getElementById('toasts');
  if (!region) {
    region = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(region);
  }
  const item = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : null }, icon(kind === 'error' ? 'alert' : 'check'), h('span', {}, message));
  region.appendChild(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

export function alertBox(message: string, kind: 'error' | 'info' = 'error'): HTMLElement {
  return h('div', { class: `alert alert-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, icon(kind === 'error' ? 'alert' : 'check'), h('span', {}, message));
}

/**
 * A refused save in the console's words: an id already taken (409) says so and links to what holds it, rather
 * than the API's "use PUT".
 */
export function saveErrorBox(error: unknown, what: string, id: string | undefined, href: string | undefined): HTMLElement {
  if (error instanceof ApiError && error.status === 409 && id && href) {
    return h('div', { class: 'alert alert-error', role: 'alert', 'data-testid': 'id-taken' }, icon('alert'),
      h('span', {}, `A ${what} with the id "${id}" exists already: `, h('a', { href }, 'open it'), ', or choose another id.'));
  }
  return alertBox(errorMessage(error));
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
