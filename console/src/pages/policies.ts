// Access policies: list, and an editor that checks the policy as it is typed, with a "try it" panel that asks
// the server (POST /auth/test-policy) what the policy decides for a request, before anyone depends on it.
import { stringify } from 'yaml';
import { call, create, list, read, update, type Resource } from '../api.ts';
import { pageHeader } from '../layout.ts';
import type { PageContext } from '../router.ts';
import { h, icon, replace } from '../ui/dom.ts';
import { alertBox, errorMessage, toast } from '../ui/feedback.ts';
import { codeEditor } from '../ui/code-editor.ts';
import { selectField, textArea, textField } from '../ui/fields.ts';
import { badge, dateCell, table } from '../ui/table.ts';
import { checkPolicy, detectFormat, type Format } from './policy-check.ts';
import { deleteButton, refusal } from './resource-actions.ts';

type Json = Record<string, unknown>;

function linksOf(policy: Resource): string[] {
  const links = Array.isArray(policy.link) ? (policy.link as Json[]) : [];
  return links.map((link) => String(link.reference ?? `${String(link.resourceType)}/${String(link.id)}`));
}

export async function policiesPage({ main }: PageContext): Promise<void> {
  const policies = await list('AccessPolicy');
  replace(main,
    pageHeader('Access policies', 'Who may do what. A request is allowed when one policy that applies to it allows it; otherwise it is denied.',
      h('a', { href: '/console/policies/new', class: 'btn btn-primary' }, icon('plus'), 'New policy')),
    table(policies, [
      { title: 'Policy', cell: (policy) => h('div', { class: 'cell-title' }, h('a', { href: `/console/policies/${encodeURIComponent(policy.id!)}`, class: 'mono' }, policy.id), typeof policy.description === 'string' ? h('span', { class: 'muted' }, policy.description) : null) },
      { title: 'Engine', cell: (policy) => badge(String(policy.engine ?? '?'), 'blue') },
      { title: 'Applies to', cell: (policy) => {
        const targets = [...linksOf(policy).map((link) => badge(link)), typeof policy.roleName === 'string' ? badge(`role: ${policy.roleName}`, 'green') : null].filter(Boolean);
        return targets.length ? h('div', { class: 'chips' }, targets) : badge('every request', 'amber');
      } },
      { title: 'Updated', cell: (policy) => dateCell(policy.meta?.lastUpdated) },
    ], [h('strong', {}, 'No policies.'), ' Without one, every caller but the root client is denied.']),
  );
}

const TEMPLATES: Record<string, { label: string; policy: Json }> = {
  seed: {
    label: 'A client may read Patients (json-schema)',
    policy: {
      resourceType: 'AccessPolicy', id: 'basic-policy', engine: 'json-schema',
      schema: { required: ['client', 'uri', 'request-method'], properties: { uri: { type: 'string', pattern: '^/Patient.*$' }, 'request-method': { constant: 'get' } } },
      link: [{ reference: 'Client/basic' }],
    },
  },
  matcho: {
    label: 'Practitioners read clinical data (matcho)',
    policy: { resourceType: 'AccessPolicy', id: 'practitioner-read', engine: 'matcho', roleName: 'practitioner', matcho: { 'request-method': { $enum: ['get'] }, uri: '#^/(Patient|Observation|Encounter)' } },
  },
  allow: {
    label: 'Allow everything for one client (allow)',
    policy: { resourceType: 'AccessPolicy', id: 'trusted-service', engine: 'allow', link: [{ reference: 'Client/trusted-service' }] },
  },
  complex: {
    label: 'Reads, or writes by an admin (complex)',
    policy: {
      resourceType: 'AccessPolicy', id: 'read-or-admin', engine: 'complex',
      or: [{ engine: 'matcho', matcho: { 'request-method': 'get' } }, { engine: 'matcho', matcho: { user: { id: 'admin' } } }],
    },
  },
};

function render(policy: Json, format: Format): string {
  return format === 'json' ? `${JSON.stringify(policy, null, 2)}\n` : stringify(policy);
}

export async function policyEditPage({ main, params, navigate }: PageContext): Promise<void> {
  const existing = params.id ? await read('AccessPolicy', params.id) : null;
  const startFrom = existing ? (() => { const { meta: _meta, ...rest } = existing; return rest; })() : TEMPLATES.seed!.policy;

  // ----- the editor -----
  const saveErrors = h('div', { class: 'form-errors' });
  const saveButton = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'policy-save' }, existing ? 'Save policy' : 'Create policy');
  let check = checkPolicy(render(startFrom, 'yaml'));
  const validate = () => {
    check = checkPolicy(area.value);
    source.report(check.problems, check.policy ? `Valid AccessPolicy · ${check.format.toUpperCase()} · engine ${String(check.policy.engine)}` : '');
    saveButton.disabled = check.problems.length > 0;
  };
  const source = codeEditor({ label: 'Policy (JSON or YAML)', value: render(startFrom, 'yaml'), testId: 'policy-source', statusTestId: 'policy-status', rows: 22, onInput: validate });
  const area = source.area;

  const convert = (format: Format) => {
    if (!check.policy) return toast('Fix the policy before converting it', 'error');
    area.value = render(check.policy, format);
    validate();
  };
  const templates = selectField('template', { label: 'Start from an example', value: '', choices: [['', 'Choose…'], ...Object.entries(TEMPLATES).map(([key, item]): [string, string] => [key, item.label])] });
  templates.querySelector('select')!.addEventListener('change', (event) => {
    const key = (event.target as HTMLSelectElement).value;
    const template = TEMPLATES[key];
    if (!template) return;
    const policy = { ...template.policy, ...(existing && { id: existing.id }) };
    area.value = render(policy, detectFormat(area.value));
    validate();
  });

  saveButton.addEventListener('click', async () => {
    replace(saveErrors);
    if (!check.policy) return;
    const policy = check.policy as Resource;
    if (existing && policy.id !== undefined && policy.id !== existing.id) {
      replace(saveErrors, alertBox(`The id cannot change here (it is ${existing.id}); create a new policy instead.`));
      return;
    }
    saveButton.disabled = true;
    try {
      const saved = existing ? await update({ ...policy, id: existing.id, meta: existing.meta }) : await create(policy);
      toast(`Policy ${saved.id} ${existing ? 'saved' : 'created'}`);
      navigate(`/console/policies/${encodeURIComponent(saved.id!)}`);
    } catch (error) {
      replace(saveErrors, refusal(error, existing ?? policy));
      saveButton.disabled = false;
    }
  });

  const editor = h('section', { class: 'card editor-card', 'aria-labelledby': 'editor-title' },
    h('div', { class: 'card-head' },
      h('h2', { id: 'editor-title' }, 'Policy'),
      h('div', { class: 'seg' },
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => convert('yaml') }, 'YAML'),
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => convert('json') }, 'JSON'),
      ),
    ),
    existing ? null : templates,
    source.root,
    source.status,
    saveErrors,
    h('div', { class: 'form-actions' },
      h('a', { href: '/console/policies', class: 'btn btn-ghost' }, 'Cancel'),
      existing ? deleteButton('AccessPolicy', existing.id!, 'policy', 'Requests it allowed will be denied unless another policy allows them.', () => navigate('/console/policies')) : null,
      saveButton,
    ),
  );

  // ----- try it -----
  const result = h('div', { class: 'try-result', 'data-testid': 'try-result' }, h('p', { class: 'muted' }, 'Describe a request and run it against the policy as written above, saved or not.'));
  const tryForm = h('form', { class: 'try-form' },
    h('div', { class: 'row row-tight' },
      selectField('method', { label: 'Method', value: 'GET', choices: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((method): [string, string] => [method, method]) }),
      textField('uri', { label: 'Path', value: '/Patient', required: true, placeholder: '/Patient/pt-1' }),
    ),
    h('div', { class: 'row row-tight' },
      textField('client', { label: 'Client id', value: firstLink(startFrom, 'Client'), placeholder: 'my-app' }),
      textField('user', { label: 'User id', value: firstLink(startFrom, 'User'), placeholder: '(none)' }),
    ),
    textArea('body', { label: 'Body (JSON, optional)', rows: 3, placeholder: '{"resourceType": "Patient"}' }),
    h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'try-run' }, icon('play'), 'Run'),
  );
  tryForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!check.policy) {
      replace(result, alertBox('The policy has errors; fix them first.'));
      return;
    }
    const values = Object.fromEntries(new FormData(tryForm).entries()) as Record<string, string>;
    const request: Json = { 'request-method': values.method!.toLowerCase(), uri: values.uri!.trim() };
    if (values.client?.trim()) request.client = { id: values.client.trim(), resourceType: 'Client' };
    if (values.user?.trim()) request.user = { id: values.user.trim(), resourceType: 'User' };
    if (values.body?.trim()) {
      try {
        request.body = JSON.parse(values.body);
      } catch (error) {
        replace(result, alertBox(`Body: ${errorMessage(error)}`));
        return;
      }
    }
    replace(result, h('p', { class: 'muted' }, 'Running…'));
    try {
      const answer = await call<Json>('POST', '/auth/test-policy', { policy: check.policy, request });
      const verdict = decisionOf(answer);
      replace(result,
        verdict === null ? null : h('div', { class: `verdict ${verdict ? 'allow' : 'deny'}`, 'data-testid': 'verdict' }, icon(verdict ? 'check' : 'alert'), verdict ? 'Allowed' : 'Denied'),
        h('details', { open: verdict === null }, h('summary', {}, 'What the server evaluated'), h('pre', { class: 'code' }, JSON.stringify(answer, null, 2))),
      );
    } catch (error) {
      replace(result, alertBox(errorMessage(error)));
    }
  });
  const tryPanel = h('section', { class: 'card try-card', 'aria-labelledby': 'try-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'try-title' }, 'Try it'), badge('POST /auth/test-policy')),
    tryForm, result,
  );

  replace(main,
    pageHeader(existing ? `Policy ${existing.id}` : 'New access policy', 'Write it in YAML or JSON; it is checked as you type.'),
    h('div', { class: 'split' }, editor, tryPanel),
  );
  validate();
}

function firstLink(policy: Json, type: string): string {
  const links = Array.isArray(policy.link) ? (policy.link as Json[]) : [];
  for (const link of links) {
    const reference = String(link.reference ?? `${String(link.resourceType)}/${String(link.id)}`);
    if (reference.startsWith(`${type}/`)) return reference.slice(type.length + 1);
  }
  return '';
}

/** The server's verdict, in the shapes /auth/test-policy may use; null when it gives none. */
function decisionOf(answer: Json): boolean | null {
  for (const key of ['allowed', 'allow', 'result', 'eval-result']) if (typeof answer[key] === 'boolean') return answer[key] as boolean;
  const decision = answer.decision;
  if (typeof decision === 'string') return decision === 'allow' || decision === 'allowed';
  if (decision && typeof decision === 'object' && typeof (decision as Json).allowed === 'boolean') return (decision as Json).allowed as boolean;
  const policies = answer.policies;
  if (policies && typeof policies === 'object') {
    const results = Object.values(policies as Record<string, Json>).map((entry) => entry?.['eval-result'] ?? entry?.result);
    if (results.some((value) => typeof value === 'boolean')) return results.includes(true);
  }
  return null;
}
