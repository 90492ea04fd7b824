// Modal dialogs on the native <dialog> element: focus trapping and Escape come with it.
import { h, type Child } from './dom.ts';

export function openDialog(title: string, body: Child, actions: (close: () => void) => Child): HTMLDialogElement {
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'dialog-title' });
  const close = () => {
    dialog.close();
    dialog.remove();
  };
  dialog.append(
    h('h2', { id: 'dialog-title' }, title),
    h('div', { class: 'dialog-body' }, body),
    h('div', { class: 'dialog-actions' }, actions(close)),
  );
  dialog.addEventListener('close', () => dialog.remove());
  document.body.appendChild(dialog);
  dialog.showModal();
  return dialog;
}

export function confirmDialog(title: string, message: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    let answered = false;
    const dialog = openDialog(title, h('p', {}, message), (close) => [
      h('button', { type: 'button', class: 'btn', onclick: () => { answered = true; close(); resolve(false); } }, 'Cancel'),
      h('button', { type: 'button', class: 'btn btn-danger', onclick: () => { answered = true; close(); resolve(true); } }, confirmLabel),
    ]);
    dialog.addEventListener('close', () => { if (!answered) resolve(false); });
  });
}
