// TokenIntrospectors: tokens from other identity providers that Warden trusts (JWT by key, opaque by RFC 7662).
import { list, read, type Resource } from '../api.ts';
import { pageHeader } from '../layout.ts';
import type { PageContext } from '../router.ts';
import { h, icon, replace } from '../ui/dom.ts';
import { formValues, selectField, textField } from '../ui/fields.ts';
import { badge, dateCell, table } from '../ui/table.ts';
import { deleteButton, formActions, onSave, text } from './resource-actions.ts';

type Settings = Record<string, unknown>;

export async function introspectorsPage({ main }: PageContext): Promise<void> {
  const introspectors = await list('TokenIntrospector');
  replace(main,
    pageHeader('Token introspectors', 'Access tokens issued by other servers that Warden accepts, and how it checks them.',
      h('a', { href: '/console/introspectors/new', class: 'btn btn-primary' }, icon('plus'), 'New introspector')),
    table(introspectors, [
      { title: 'Introspector', cell: (item) => h('a', { href: `/console/introspectors/${encodeURIComponent(item.id!)}`, class: 'mono' }, item.id) },
      { title: 'Type', cell: (item) => badge(text(item.type) || '?', item.type === 'jwt' ? 'blue' : 'amber') },
      { title: 'Issuer / endpoint', cell: (item) => h('span', { class: 'mono' }, text((item.jwt as Settings | undefined)?.iss) || text((item.introspection_endpoint as Settings | undefined)?.url) || '—') },
      { title: 'Keys', cell: (item) => (item.jwks_uri ? h('span', { class: 'mono' }, text(item.jwks_uri)) : (item.jwt as Settings | undefined)?.secret ? badge('shared secret') : '—') },
      { title: 'Updated', cell: (item) => dateCell(item.meta?.lastUpdated) },
    ], [h('strong', {}, 'No introspectors.'), ' Add one to accept tokens from an external identity provider.']),
  );
}

export async function introspectorEditPage({ main, params, navigate }: PageContext): Promise<void> {
  const existing = params.id ? await read('TokenIntrospector', params.id) : null;
  const jwt = (existing?.jwt ?? {}) as Settings;
  const endpoint = (existing?.introspection_endpoint ?? {}) as Settings;
  const errors = h('div', { class: 'form-errors' });
  const jwtFields = h('fieldset', { 'data-type': 'jwt' }, h('legend', {}, 'JWT'),
    textField('iss', { label: 'Issuer (iss)', value: text(jwt.iss), placeholder: 'https://idp.example.org', hint: 'Only tokens whose iss is exactly this are checked with these keys.' }),
    textField('aud', { label: 'Audience (aud)', value: ([] as unknown[]).concat(jwt.aud ?? []).map(text).join(', '), placeholder: 'https://warden.example.org', hint: 'Required: the name this API has at the provider; tokens minted for other APIs are refused. Several, comma-separated.' }),
    textField('jwks_uri', { label: 'JWKS URL', type: 'url', value: text(existing?.jwks_uri), placeholder: 'https://idp.example.org/.well-known/jwks.json' }),
    textField('jwt_secret', { label: 'Shared secret (HS256)', type: 'password', autocomplete: 'new-password', hint: existing && jwt.secret ? 'A secret is set. Leave empty to keep it.' : 'Only when the provider signs with a shared key instead of a JWKS.' }),
  );
  const opaqueFields = h('fieldset', { 'data-type': 'opaque' }, h('legend', {}, 'Introspection endpoint (RFC 7662)'),
    textField('url', { label: 'URL', type: 'url', value: text(endpoint.url), placeholder: 'https://idp.example.org/introspect' }),
    textField('authorization', { label: 'Authorization header', type: 'password', autocomplete: 'new-password', hint: existing && endpoint.authorization ? 'A value is set. Leave empty to keep it.' : 'Sent to the endpoint, e.g. "Basic …".' }),
  );
  const typeSelect = selectField('type', { label: 'Token type', value: text(existing?.type) || 'jwt', choices: [['jwt', 'JWT, checked by signature'], ['opaque', 'Opaque, checked by introspection']] });
  const showFields = () => {
    const type = (typeSelect.querySelector('select') as HTMLSelectElement).value;
    jwtFields.hidden = type !== 'jwt';
    opaqueFields.hidden = type !== 'opaque';
  };
  typeSelect.querySelector('select')!.addEventListener('change', showFields);
  const form = h('form', { class: 'card form' },
    h('fieldset', {}, h('legend', {}, 'Introspector'),
      h('div', { class: 'row' },
        textField('id', { label: 'Id', value: existing?.id ?? '', readonly: Boolean(existing), required: true, pattern: '[A-Za-z0-9\\-.]{1,64}', placeholder: 'corporate-idp' }),
        typeSelect,
      ),
    ),
    jwtFields, opaqueFields, errors,
    formActions('/console/introspectors', existing, existing ? deleteButton('TokenIntrospector', existing.id!, 'introspector', 'Tokens from this provider will no longer be accepted.', () => navigate('/console/introspectors')) : null, 'Create introspector'),
  );
  showFields();
  onSave(form, errors, existing, () => {
    const values = formValues(form);
    const item: Resource = { ...(existing ?? {}), resourceType: 'TokenIntrospector', type: values.type };
    if (!existing) item.id = values.id?.trim();
    if (values.type === 'jwt') {
      const settings: Settings = { ...jwt };
      if (values.iss?.trim()) settings.iss = values.iss.trim();
      const audiences = (values.aud ?? '').split(',').map((aud) => aud.trim()).filter(Boolean);
      if (audiences.length > 0) settings.aud = audiences.length === 1 ? audiences[0] : audiences;
      else delete settings.aud;
      if (values.jwt_secret) settings.secret = values.jwt_secret;
      item.jwt = settings;
      if (values.jwks_uri?.trim()) item.jwks_uri = values.jwks_uri.trim();
      else delete item.jwks_uri;
      delete item.introspection_endpoint;
    } else {
      const settings: Settings = { ...endpoint, url: values.url?.trim() };
      if (values.authorization) settings.authorization = values.authorization;
      item.introspection_endpoint = settings;
      delete item.jwt;
      delete item.jwks_uri;
    }
    return item;
  }, () => navigate('/console/introspectors'));
  replace(main, pageHeader(existing ? `Introspector ${existing.id}` : 'New token introspector', 'Tell Warden how to recognise tokens it did not issue.'), form);
}
