// Users: the people who log in on Warden's login page. Passwords are typed here, sent once, stored hashed.
import { call, list, read, type Resource } from '../api.ts';
import { pageHeader } from '../layout.ts';
import type { PageContext } from '../router.ts';
import { recentEvents } from './events.ts';
import { h, icon, replace } from '../ui/dom.ts';
import { checkbox, formValues, textField } from '../ui/fields.ts';
import { badge, dateCell, table } from '../ui/table.ts';
import { labelOf } from '../resource.ts';
import { deleteButton, formActions, onSave, text } from './resource-actions.ts';

const fullName = (user: Resource) => {
  const name = (user.name ?? {}) as { givenName?: string; familyName?: string; formatted?: string };
  return name.formatted ?? [name.givenName, name.familyName].filter(Boolean).join(' ');
};

const twoFactorOn = (user: Resource) => (user.twoFactor as { enabled?: boolean } | undefined)?.enabled === true;

/** The user's two-factor status; an administrator may reset it when they lost their authenticator. */
function twoFactorFieldset(user: Resource, afterwards: () => void): HTMLElement {
  const on = twoFactorOn(user);
  const reset = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Reset two-factor');
  reset.addEventListener('click', async () => {
    if (!window.confirm(`Turn off two-factor sign-in for ${user.id}? They will sign in with their password alone until they set it up again.`)) return;
    await call('PATCH', `/User/${encodeURIComponent(user.id!)}`, { twoFactor: { enabled: false, secretKey: null, recoveryCodes: null } });
    afterwards();
  });
  return h('fieldset', {}, h('legend', {}, 'Two-factor sign-in'),
    h('p', { id: 'two-factor-status' }, on ? badge('on', 'green') : badge('off', 'neutral'), on ? ' The user signs in with a code from an authenticator app.' : ' The user can turn it on at /auth/two-factor.'),
    on ? reset : null,
  );
}

export async function usersPage({ main }: PageContext): Promise<void> {
  const users = await list('User');
  replace(main,
    pageHeader('Users', 'People who log in through Warden\'s login page, on behalf of whom apps call the API.',
      h('a', { href: '/console/users/new', class: 'btn btn-primary' }, icon('plus'), 'New user')),
    table(users, [
      { title: 'User', cell: (user) => h('div', { class: 'cell-title' }, h('a', { href: `/console/users/${encodeURIComponent(user.id!)}`, class: 'mono' }, user.id), h('span', { class: 'muted' }, fullName(user))) },
      { title: 'Email', cell: (user) => text(user.email) || '—' },
      { title: 'Status', cell: (user) => (user.active === false ? badge('inactive', 'red') : badge('active', 'green')) },
      { title: 'Password', cell: (user) => (user.password ? badge('set', 'neutral') : badge('none', 'amber')) },
      { title: 'Two-factor', cell: (user) => (twoFactorOn(user) ? badge('on', 'green') : badge('off', 'neutral')) },
      { title: 'Updated', cell: (user) => dateCell(user.meta?.lastUpdated) },
    ], [h('strong', {}, 'No users yet.'), ' Create one so people can log in to apps.']),
  );
}

export async function userEditPage({ main, params, navigate }: PageContext): Promise<void> {
  const existing = params.id ? await read('User', params.id) : null;
  const name = (existing?.name ?? {}) as { givenName?: string; familyName?: string };
  const errors = h('div', { class: 'form-errors' });
  const form = h('form', { class: 'card form' },
    h('fieldset', {}, h('legend', {}, 'Account'),
      h('div', { class: 'row' },
        textField('id', { label: 'User id', value: existing?.id ?? '', readonly: Boolean(existing), required: true, pattern: '[A-Za-z0-9\\-.]{1,64}', placeholder: 'jane', hint: 'Also accepted as the login name.' }),
        textField('email', { label: 'Email', type: 'email', value: text(existing?.email), placeholder: 'jane@example.org', autocomplete: 'off' }),
      ),
      h('div', { class: 'row' },
        textField('givenName', { label: 'Given name', value: name.givenName ?? '' }),
        textField('familyName', { label: 'Family name', value: name.familyName ?? '' }),
      ),
      textField('fhirUser', { label: 'FHIR user', value: text((existing?.fhirUser as { reference?: string } | undefined)?.reference), placeholder: 'Practitioner/dr-who', hint: 'The fhirUser claim: the Patient, Practitioner or RelatedPerson this person is.' }),
      checkbox('active', 'Active', existing?.active !== false, 'Inactive users cannot log in.'),
    ),
    h('fieldset', {}, h('legend', {}, 'Password'),
      textField('password', {
        label: existing ? 'New password' : 'Password', type: 'password', autocomplete: 'new-password', required: !existing,
        hint: existing ? 'Leave empty to keep the current password. Stored only as a hash.' : 'Stored only as a hash.',
      }),
    ),
    existing ? twoFactorFieldset(existing, () => navigate(`/console/users/${encodeURIComponent(existing.id!)}`)) : null,
    errors,
    formActions('/console/users', existing, existing ? deleteButton('User', existing.id!, 'user', `User ${labelOf(existing)} will no longer be able to log in.`, () => navigate('/console/users'), labelOf(existing)) : null, 'Create user'),
  );
  onSave(form, errors, existing, () => {
    const values = formValues(form);
    const user: Resource = { ...(existing ?? {}), resourceType: 'User' };
    if (!existing) user.id = values.id?.trim();
    const set = (key: string, value: unknown) => {
      if (value === '' || value === undefined) delete user[key];
      else user[key] = value;
    };
    set('email', values.email?.trim());
    const given = values.givenName?.trim();
    const family = values.familyName?.trim();
    set('name', given || family ? { ...(given && { givenName: given }), ...(family && { familyName: family }) } : undefined);
    set('fhirUser', values.fhirUser?.trim() ? { reference: values.fhirUser.trim() } : undefined);
    user.active = values.active === 'on';
    if (values.password) user.password = values.password;
    return user;
  }, (saved) => navigate(`/console/users/${encodeURIComponent(saved.id!)}`));
  replace(main, pageHeader(existing ? `User ${existing.id}` : 'New user', existing ? 'Change the account; the password is never shown.' : 'Create an account for someone who logs in.'), form,
    existing ? await recentEvents('User', existing.id!) : null);
}
