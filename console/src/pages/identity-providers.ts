// IdentityProviders: other OpenID Connect servers users may sign in with ("Sign in with <title>" on the login
// page). The client secret is typed here, sent once, and stored sealed; "Test sign-in" opens the real flow.
import { list, read, type Resource } from '../api.ts';
import { pageHeader } from '../layout.ts';
import type { PageContext } from '../router.ts';
import { h, icon, replace } from '../ui/dom.ts';
import { checkbox, formValues, selectField, textField } from '../ui/fields.ts';
import { badge, dateCell, table } from '../ui/table.ts';
import { deleteButton, formActions, onSave, text } from './resource-actions.ts';

type Settings = Record<string, unknown>;

/** Opens the provider's sign-in in a new tab, as a user would start it from the login page. */
const testSignIn = (id: string) =>
  h('a', { href: `/auth/redirect/${encodeURIComponent(id)}`, target: '_blank', rel: 'noopener noreferrer', class: 'btn btn-secondary' }, 'Test sign-in');

export async function identityProvidersPage({ main }: PageContext): Promise<void> {
  const providers = await list('IdentityProvider');
  replace(main,
    pageHeader('Identity providers', 'Other OpenID Connect servers people may sign in with, from Warden\'s login page.',
      h('a', { href: '/console/identity-providers/new', class: 'btn btn-primary' }, icon('plus'), 'New identity provider')),
    table(providers, [
      { title: 'Provider', cell: (item) => h('div', { class: 'cell-title' }, h('a', { href: `/console/identity-providers/${encodeURIComponent(item.id!)}`, class: 'mono' }, item.id), h('span', { class: 'muted' }, text(item.title))) },
      { title: 'Issuer', cell: (item) => h('span', { class: 'mono' }, text(item.issuer) || '—') },
      { title: 'Status', cell: (item) => (item.active === false ? badge('off', 'red') : badge('on login page', 'green')) },
      { title: 'Updated', cell: (item) => dateCell(item.meta?.lastUpdated) },
      { title: '', cell: (item) => (item.active === false ? '' : testSignIn(item.id!)) },
    ], [h('strong', {}, 'No identity providers.'), ' Add one to let people sign in with an account they already have.']),
  );
}

export async function identityProviderEditPage({ main, params, navigate }: PageContext): Promise<void> {
  const existing = params.id ? await read('IdentityProvider', params.id) : null;
  const client = (existing?.client ?? {}) as Settings;
  const errors = h('div', { class: 'form-errors' });
  const form = h('form', { class: 'card form' },
    h('fieldset', {}, h('legend', {}, 'Provider'),
      h('div', { class: 'row' },
        textField('id', { label: 'Id', value: existing?.id ?? '', readonly: Boolean(existing), required: true, pattern: '[A-Za-z0-9\\-.]{1,64}', placeholder: 'corporate' }),
        textField('title', { label: 'Title', value: text(existing?.title), placeholder: 'Corporate login', hint: 'Shown as "Sign in with <title>".' }),
      ),
      textField('issuer', { label: 'Issuer', type: 'url', value: text(existing?.issuer), required: true, placeholder: 'https://idp.example.org', hint: 'Its discovery document gives the endpoints and keys; id_tokens must carry this issuer.' }),
      textField('scopes', { label: 'Scopes', value: Array.isArray(existing?.scopes) ? (existing.scopes as string[]).join(' ') : 'openid profile email' }),
      checkbox('active', 'Shown on the login page', existing?.active !== false),
      checkbox('isEmailUniqueness', 'Link to an existing user with the same verified email', existing?.isEmailUniqueness === true, 'Only when the provider says the email is verified.'),
    ),
    h('fieldset', {}, h('legend', {}, 'Warden\'s client at the provider'),
      h('div', { class: 'row' },
        textField('client_id', { label: 'Client id', value: text(client.id), required: true }),
        selectField('auth_method', { label: 'Authentication', value: text(client['auth-method']) || 'client_secret_basic', choices: [['client_secret_basic', 'client_secret_basic'], ['client_secret_post', 'client_secret_post']] }),
      ),
      textField('client_secret', { label: 'Client secret', type: 'password', autocomplete: 'new-password', hint: existing && client.secret ? 'A secret is set (stored sealed). Leave empty to keep it.' : 'Stored sealed; never shown again.' }),
      h('p', { class: 'hint' }, 'Register this redirect URI at the provider: ', h('span', { class: 'mono' }, `${window.location.origin}/auth/callback/${existing?.id ?? '<id>'}`)),
    ),
    errors,
    formActions('/console/identity-providers', existing, existing ? deleteButton('IdentityProvider', existing.id!, 'identity provider', 'People will no longer be able to sign in with it.', () => navigate('/console/identity-providers')) : null, 'Create identity provider'),
  );
  onSave(form, errors, existing, () => {
    const values = formValues(form);
    const item: Resource = { ...(existing ?? {}), resourceType: 'IdentityProvider' };
    if (!existing) item.id = values.id?.trim();
    if (values.title?.trim()) item.title = values.title.trim();
    else delete item.title;
    item.issuer = values.issuer?.trim();
    item.scopes = (values.scopes ?? '').split(/\s+/).filter(Boolean);
    item.active = values.active === 'on';
    item.isEmailUniqueness = values.isEmailUniqueness === 'on';
    const settings: Settings = { ...client, id: values.client_id?.trim(), 'auth-method': values.auth_method };
    if (values.client_secret) settings.secret = values.client_secret;
    item.client = settings;
    return item;
  }, (saved) => navigate(`/console/identity-providers/${encodeURIComponent(saved.id!)}`));
  replace(main,
    pageHeader(existing ? `Identity provider ${existing.id}` : 'New identity provider', 'Let people sign in with an account at another OpenID Connect server.',
      existing && existing.active !== false ? testSignIn(existing.id!) : null),
    form,
  );
}
