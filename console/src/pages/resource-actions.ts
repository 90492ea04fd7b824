// Actions every resource page offers the same way: delete after confirmation, save with a precise error.
import { create, remove, update, type Resource } from '../api.ts';
import { labelOf } from '../resource.ts';
import { confirmDialog } from '../ui/dialog.ts';
import { h, icon, replace } from '../ui/dom.ts';
import { errorMessage, saveErrorBox, toast } from '../ui/feedback.ts';

/** Where the console shows a resource of each type it manages. */
const PAGES: Record<string, { path: string; what: string }> = {
  Client: { path: 'clients', what: 'client' },
  User: { path: 'users', what: 'user' },
  Role: { path: 'roles', what: 'role' },
  AccessPolicy: { path: 'policies', what: 'policy' },
  TokenIntrospector: { path: 'introspectors', what: 'token introspector' },
};

/** The console page of a resource, when the console has one. */
export function pageOf(type: string, id: string): string | undefined {
  const page = PAGES[type];
  return page && `/console/${page.path}/${encodeURIComponent(id)}`;
}

/** A refused save of `resource`, in the console's words. */
export function refusal(error: unknown, resource: Resource | null): HTMLElement {
  const type = resource?.resourceType ?? '';
  const id = resource?.id;
  return saveErrorBox(error, PAGES[type]?.what ?? type, id, id ? pageOf(type, id) : undefined);
}

export function deleteButton(type: string, id: string, what: string, consequence: string, afterwards: () => void, label = id): HTMLElement {
  return h('button', {
    type: 'button', class: 'btn btn-danger-outline',
    onclick: async () => {
      if (!(await confirmDialog(`Delete this ${what}?`, consequence, `Delete ${what}`))) return;
      try {
        await remove(type, id);
        toast(`${what[0]!.toUpperCase()}${what.slice(1)} ${label} deleted`);
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
    let resource: Resource | null = null;
    try {
      resource = build();
      const result = existing ? await update(resource) : await create(resource);
      const what = PAGES[result.resourceType]?.what ?? result.resourceType;
      toast(`${what[0]!.toUpperCase()}${what.slice(1)} ${labelOf(result)} ${existing ? 'saved' : 'created'}`);
      saved(result);
    } catch (error) {
      replace(errors, refusal(error, resource));
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
