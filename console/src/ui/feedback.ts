// Telling the person what happened: toasts for success, inline alerts for errors they must fix.
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

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
