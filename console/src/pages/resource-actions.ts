// Actions every resource page offers the same way: delete after confirmation, save with a precise error.
import { create, remove, update, type Resource } from '../api.ts';
import { confirmDialog } from '../ui/dialog.ts';
import { h, icon, replace } from '../ui/dom.ts';
import { alertBox, errorMessage, toast } from '../ui/feedback.ts';

export function deleteButton(type: string, id: string, what: string, consequence: string, afterwards: () => void): HTMLElement {
  return h('button', {
    type: 'button', class: 'btn btn-danger-outline',
    onclick: async () => {
      if (!(await confirmDialog(`Delete this ${what}?`, consequence, `Delete ${what}`))) return;
      try {
        await remove(type, id);
        toast(`${what[0]!.toUpperCase()}${what.slice(1)} ${id} deleted`);
        afterwards();
      } catch (error) {
        toast(`Delete failed: ${errorMessage(error)}`, 'error');
      }
    },
  }, icon('trash'), 'Delete');
}

/** Wires a form's submit to create or update the resource `build` returns, showing any refusal in `errors`. */
export function onSave(form: HTMLFormElement, errors: HTMLElement, existing: Resource | null, build: () => Resource, saved: (resource: Resource) => void): void {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(errors);
    const submit = form.querySelector<HTMLButtonElement>('button[type=submit]');
    if (submit) submit.disabled = true;
    try {
      const resource = build();
      const result = existing ? await update(resource) : await create(resource);
      toast(`${result.resourceType} ${result.id} ${existing ? 'saved' : 'created'}`);
      saved(result);
    } catch (error) {
      replace(errors, alertBox(errorMessage(error)));
      if (submit) submit.disabled = false;
    }
  });
}

export function formActions(cancelHref: string, existing: Resource | null, deleteControl: HTMLElement | null, createLabel: string): HTMLElement {
  return h('div', { class: 'form-actions' },
    h('a', { href: cancelHref, class: 'btn btn-ghost' }, 'Cancel'),
    existing ? deleteControl : null,
    h('button', { type: 'submit', class: 'btn btn-primary' }, existing ? 'Save changes' : createLabel),
  );
}

export const text = (value: unknown): string => (typeof value === 'string' ? value : '');
