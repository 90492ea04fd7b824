// Clients: the applications that call Warden. List, register one per flow, edit, rotate the secret, delete.
import { ApiError, create, list, read, remove, update, type Resource } from '../api.ts';
import { pageHeader } from '../layout.ts';
import type { PageContext } from '../router.ts';
import { recentEvents } from './events.ts';
import { confirmDialog } from '../ui/dialog.ts';
import { h, icon, replace } from '../ui/dom.ts';
import { labelOf } from '../resource.ts';
import { consoleSettings } from '../settings.ts';
import { errorMessage, toast } from '../ui/feedback.ts';
import { checkbox, formValues, selectField, textArea, textField } from '../ui/fields.ts';
import { badge, dateCell, table } from '../ui/table.ts';
import { FLOWS, flowById, flowOf, hasSmartPolicy, smartPolicyFor, toClient, valuesOf, type FieldName, type Flow } from './client-flows.ts';
import { refusal } from './resource-actions.ts';
import { generateSecret, showSecretOnce } from './secret.ts';

const ID_PATTERN = '[A-Za-z0-9\\-.]{1,64}';
const baseUrl = () => window.location.origin;

export async function clientsPage({ main }: PageContext): Promise<void> {
  const clients = await list('Client');
  replace(main,
    pageHeader('Clients', 'Applications allowed to call Warden, and how each one proves who it is.',
      h('a', { href: '/console/clients/new', class: 'btn btn-primary' }, icon('plus'), 'Register client')),
    table(clients, [
      { title: 'Client', cell: (client) => h('div', { class: 'cell-title' },
        h('a', { href: `/console/clients/${encodeURIComponent(client.id!)}`, class: 'mono' }, client.id),
        typeof client.name === 'string' ? h('span', { class: 'muted' }, client.name) : null) },
      { title: 'Flow', cell: (client) => badge(flowOf(client).title, 'blue') },
      { title: 'Grant types', cell: (client) => h('div', { class: 'chips' }, ((client.grant_types as string[] | undefined) ?? []).map((grant) => badge(grant))) },
      { title: 'Secret', cell: (client) => (client.secret ? badge('confidential', 'green') : badge('public', 'amber')) },
      { title: 'Updated', cell: (client) => dateCell(client.meta?.lastUpdated) },
    ], [h('strong', {}, 'No clients yet.'), ' Register one for each application that calls Warden.']),
  );
}

export async function clientNewPage({ main, navigate }: PageContext): Promise<void> {
  const chosen = flowById(new URLSearchParams(window.location.search).get('flow') ?? '') ?? null;
  if (!chosen) {
    replace(main,
      pageHeader('Register a client', 'Choose how the application will authenticate. The form then asks only for what that flow needs.'),
      h('div', { class: 'flow-grid' }, FLOWS.map((flow) =>
        h('a', { href: `/console/clients/new?flow=${flow.id}`, class: 'flow-card', 'data-flow': flow.id },
          h('strong', {}, flow.title),
          h('span', {}, flow.summary),
          h('span', { class: 'flow-meta' }, badge(flow.grant, 'blue'), h('span', { class: 'muted' }, flow.spec)),
        ))),
    );
    return;
  }
  replace(main, clientForm(chosen, null, navigate));
}

export async function clientEditPage({ main, params, navigate }: PageContext): Promise<void> {
  const client = await read('Client', params.id!);
  const flow = flowOf(client);
  const smartNotice = flow.id === 'smart' && !hasSmartPolicy(await list('AccessPolicy'), client.id!) ? missingSmartPolicy(client, navigate) : null;
  replace(main, clientForm(flow, client, navigate, smartNotice), await recentEvents('Client', client.id!));
}

/** A SMART app without a smart-on-fhir policy launches, then every FHIR call is 403: say so, and offer the fix. */
function missingSmartPolicy(client: Resource, navigate: (path: string) => void): HTMLElement {
  const policy = smartPolicyFor(client.id!);
  return h('div', { class: 'alert alert-error', role: 'alert', 'data-testid': 'smart-policy-missing' },
    h('span', {}, 'No smart-on-fhir AccessPolicy links this app, so its FHIR calls are refused (403) although its launch succeeds. '),
    h('button', { type: 'button', class: 'btn btn-small', onclick: async () => {
      try {
        await create(policy);
        toast(`Policy ${policy.id} made: the SMART scopes of ${labelOf(client)} now decide what it may do`);
        navigate(`/console/clients/${encodeURIComponent(client.id!)}`);
      } catch (error) {
        toast(`Could not make the policy: ${errorMessage(error)}`, 'error');
      }
    } }, `Create policy ${policy.id}`));
}

/** Why a client Warden makes at every start may not be deleted or given a new secret here; null for any other. */
function managedReason(client: Resource): string | null {
  return consoleSettings()?.managedClients?.[client.id ?? ''] ?? null;
}

function fieldFor(name: FieldName, flow: Flow, values: Record<string, string>): HTMLElement {
  switch (name) {
    case 'redirect_uri':
      return textArea('redirect_uri', {
        label: 'Redirect URIs', required: true, rows: 2, value: values.redirect_uri,
        placeholder: flow.id === 'spa' ? 'https://app.example.org/callback' : 'https://portal.example.org/auth/callback',
        hint: 'One per line. Matched exactly, character for character (RFC 9700 §4.1).',
      });
    case 'access_token_expiration':
      return textField('access_token_expiration', { label: 'Access token lifetime (seconds)', type: 'number', min: 1, value: values.access_token_expiration, placeholder: '3600' });
    case 'token_format':
      return selectField('token_format', { label: 'Access token format', value: values.token_format, choices: [['jwt', 'JWT (RFC 9068)'], ['opaque', 'Opaque (introspect to read)']] });
    case 'refresh_token':
      return checkbox('refresh_token', 'Issue refresh tokens', values.refresh_token === 'on', 'Rotated on every use; a reused one revokes the grant.');
    case 'first_party':
      return checkbox('first_party', 'First-party application', values.first_party === 'on', 'Users are not asked for consent.');
    case 'allowed_origins':
      return textArea('allowed_origins', { label: 'Allowed origins (CORS)', rows: 2, value: values.allowed_origins, placeholder: 'https://app.example.org', hint: 'Origins the browser app is served from, one per line.' });
    case 'scope':
      return textArea('scope', {
        label: 'Scopes', rows: 2, value: values.scope,
        placeholder: flow.id === 'smart' ? 'launch/patient openid fhirUser patient/*.rs offline_access' : 'openid profile',
        hint: 'Separated by spaces or new lines.',
      });
    case 'launch_uri':
      return textField('launch_uri', { label: 'Launch URL', type: 'url', value: values.launch_uri, placeholder: 'https://smart-app.example.org/launch', hint: 'Where an EHR launch opens the app.' });
    case 'audience':
      return textField('audience', { label: 'Audience', value: values.audience, placeholder: 'https://fhir.example.org', hint: 'The aud claim of the tokens issued, when not this server.' });
  }
}

function clientForm(flow: Flow, existing: Resource | null, navigate: (path: string) => void, notice: HTMLElement | null = null): HTMLElement {
  const values = existing ? valuesOf(existing, flow) : { token_format: 'jwt', first_party: '', pkce: 'on' };
  const managed = existing ? managedReason(existing) : null;
  const errors = h('div', { class: 'form-errors' });
  const secretPanel = (() => {
    if (flow.secret === 'none') {
      return h('p', { class: 'hint' }, 'A public client has no secret: it could not keep one.');
    }
    const note = existing
      ? h('p', { class: 'hint' }, existing.secret ? 'The secret is stored hashed and cannot be shown. Rotate it to get a new one.' : 'This client has no secret.')
      : h('p', { class: 'hint' }, 'A strong secret is generated in your browser when you save, and shown once.');
    return [
      flow.secret === 'optional' ? checkbox('confidential', 'Confidential client (has a secret)', values.confidential === 'on', 'Leave unticked for apps that cannot keep a secret.') : null,
      note,
      existing && existing.secret && !managed ? h('button', { type: 'button', class: 'btn', 'data-testid': 'rotate-secret', onclick: () => rotateSecret(existing, flow, navigate) }, icon('key'), 'Rotate secret') : null,
    ];
  })();

  const form = h('form', { class: 'card form', novalidate: false, 'data-flow': flow.id },
    h('fieldset', {},
      h('legend', {}, 'Identity'),
      textField('id', {
        label: 'Client id', required: true, value: values.id, readonly: Boolean(existing), pattern: ID_PATTERN,
        placeholder: flow.id === 'basic' ? 'billing-service' : 'my-app',
        hint: existing ? 'The id cannot change.' : 'Letters, digits, "-" and "."; at most 64. Sent as client_id.',
      }),
      h('div', { class: 'row' },
        textField('name', { label: 'Name', value: values.name, placeholder: 'Billing service' }),
        textField('description', { label: 'Description', value: values.description, placeholder: 'What the app does' }),
      ),
    ),
    flow.fields.length ? h('fieldset', {}, h('legend', {}, 'Flow settings'), flow.fields.map((name) => fieldFor(name, flow, values)),
      flow.id === 'web' ? checkbox('pkce', 'Require PKCE', values.pkce === 'on',
        'On by default, as RFC 9700 §2.1.1 recommends for every client. A confidential web app may turn it off (Aidbox allows it): ' +
        'its secret then alone proves that a code is its own. Public apps always use PKCE.') : null) : null,
    h('fieldset', {}, h('legend', {}, 'Secret'), secretPanel),
    errors,
    h('div', { class: 'form-actions' },
      h('a', { href: '/console/clients', class: 'btn btn-ghost' }, 'Cancel'),
      existing && !managed ? h('button', { type: 'button', class: 'btn btn-danger-outline', onclick: () => deleteClient(existing, navigate) }, icon('trash'), 'Delete') : null,
      h('button', { type: 'submit', class: 'btn btn-primary' }, existing ? 'Save changes' : 'Register client'),
    ),
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(errors);
    const submit = form.querySelector<HTMLButtonElement>('button[type=submit]')!;
    submit.disabled = true;
    try {
      const input = formValues(form);
      const client = toClient(flow, input, existing);
      const needsSecret = !existing && (flow.secret === 'required' || (flow.secret === 'optional' && input.confidential === 'on'));
      const gainsSecret = existing && !existing.secret && flow.secret === 'optional' && input.confidential === 'on';
      const secret = needsSecret || gainsSecret ? generateSecret() : null;
      if (secret) client.secret = secret;
      const saved = existing ? await update(client) : await create(client);
      const policyNote = !existing && flow.id === 'smart' ? await ensureSmartPolicy(saved.id!) : '';
      if (secret) await showSecretOnce(saved.id!, secret, flow.grant, baseUrl());
      toast(existing ? `Client ${labelOf(saved)} saved` : `Client ${labelOf(saved)} registered${policyNote}`);
      navigate(`/console/clients/${encodeURIComponent(saved.id!)}`);
    } catch (error) {
      replace(errors, refusal(error, existing ?? { resourceType: 'Client', id: formValues(form).id?.trim() }));
      submit.disabled = false;
    }
  });

  const kind = h('div', { class: 'flow-banner' }, badge(flow.title, 'blue'), h('span', {}, flow.summary), h('span', { class: 'muted' }, flow.spec));
  return h('div', {},
    pageHeader(existing ? `Client ${existing.id}` : `New client · ${flow.title}`,
      existing ? 'Change how this application authenticates. Settings of other flows it uses are kept.' : 'Only the fields this flow uses are shown.',
      existing ? null : h('a', { href: '/console/clients/new', class: 'btn btn-ghost' }, 'Choose another flow')),
    kind,
    managed ? h('div', { class: 'alert alert-info', role: 'status', 'data-testid': 'managed-client' }, icon('check'), h('span', {}, managed)) : null,
    notice,
    form,
  );
}

/**
 * Makes the new SMART app's smart-on-fhir policy, unless one by that id exists already; says what it did. The
 * client is saved by then, so a refusal is told, not thrown: the app's page then offers to make the policy.
 */
async function ensureSmartPolicy(clientId: string): Promise<string> {
  const policy = smartPolicyFor(clientId);
  try {
    await create(policy);
    return `, with policy ${policy.id} letting its SMART scopes decide`;
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) return '';
    return `, but its policy ${policy.id} could not be made: ${errorMessage(error)}`;
  }
}

async function rotateSecret(client: Resource, flow: Flow, navigate: (path: string) => void): Promise<void> {
  const ok = await confirmDialog('Rotate the secret?', `Client ${client.id} gets a new secret; the current one stops working at once.`, 'Rotate secret');
  if (!ok) return;
  try {
    // Read again so the If-Match of the update is the version stored now.
    const current = await read('Client', client.id!);
    const secret = generateSecret();
    await update({ ...current, secret });
    await showSecretOnce(client.id!, secret, flow.grant, baseUrl());
    toast(`Secret of ${labelOf(client)} rotated`);
    navigate(`/console/clients/${encodeURIComponent(client.id!)}`);
  } catch (error) {
    toast(`Rotation failed: ${errorMessage(error)}`, 'error');
  }
}

async function deleteClient(client: Resource, navigate: (path: string) => void): Promise<void> {
  const ok = await confirmDialog('Delete this client?', `Client ${client.id} will no longer be able to authenticate.`, 'Delete client');
  if (!ok) return;
  try {
    await remove('Client', client.id!);
    toast(`Client ${labelOf(client)} deleted`);
    navigate('/console/clients');
  } catch (error) {
    toast(`Delete failed: ${errorMessage(error)}`, 'error');
  }
}
