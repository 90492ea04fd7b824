// Labelled form fields. Every input has a visible label and, when useful, a hint tied to it by aria-describedby.
import { h, type Child } from './dom.ts';

let counter = 0;
const nextId = (name: string) => `f-${name.replace(/[^a-z0-9]/gi, '-')}-${++counter}`;

export interface FieldOptions {
  label: string;
  hint?: Child;
  required?: boolean;
  placeholder?: string;
  value?: string;
  type?: string;
  pattern?: string;
  readonly?: boolean;
  autocomplete?: string;
  min?: number;
}

function wrap(id: string, options: FieldOptions, control: HTMLElement): HTMLElement {
  const hintId = options.hint ? `${id}-hint` : undefined;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' },
    h('label', { for: id }, options.label, options.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    control,
    options.hint ? h('p', { class: 'hint', id: hintId }, options.hint) : null,
  );
}

export function textField(name: string, options: FieldOptions): HTMLElement {
  const id = nextId(name);
  const input = h('input', {
    id, name, type: options.type ?? 'text', value: options.value ?? '', placeholder: options.placeholder,
    required: options.required, pattern: options.pattern, readonly: options.readonly,
    autocomplete: options.autocomplete ?? 'off', spellcheck: 'false', min: options.min,
  });
  return wrap(id, options, input);
}

export function textArea(name: string, options: FieldOptions & { rows?: number }): HTMLElement {
  const id = nextId(name);
  const area = h('textarea', { id, name, rows: options.rows ?? 3, placeholder: options.placeholder, required: options.required, spellcheck: 'false' });
  area.value = options.value ?? '';
  return wrap(id, options, area);
}

export function selectField(name: string, options: FieldOptions & { choices: [string, string][] }): HTMLElement {
  const id = nextId(name);
  const select = h('select', { id, name }, options.choices.map(([value, label]) => h('option', { value, selected: value === options.value }, label)));
  return wrap(id, options, select);
}

export function checkbox(name: string, label: string, checked: boolean, hint?: string): HTMLElement {
  const id = nextId(name);
  return h('div', { class: 'field field-check' },
    h('input', { id, name, type: 'checkbox', checked }),
    h('label', { for: id }, label, hint ? h('span', { class: 'hint' }, hint) : null),
  );
}

/** Reads a form into a map of name → string (checkboxes as "on" or absent). */
export function formValues(form: HTMLFormElement): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of new FormData(form).entries()) if (typeof value === 'string') values[key] = value;
  return values;
}
