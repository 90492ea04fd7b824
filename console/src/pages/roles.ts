// Roles: a named role given to a User (Aidbox's Role resource). Policies select callers by `roleName`.
import { list, read, type Resource } from '../api.ts';
import { pageHeader } from '../layout.ts';
import type { PageContext } from '../router.ts';
import { h, icon, replace } from '../ui/dom.ts';
import { formValues, selectField, textField } from '../ui/fields.ts';
import { badge, dateCell, table } from '../ui/table.ts';
import { deleteButton, formActions, onSave, text } from './resource-actions.ts';

const userOf = (role: Resource) => {
  const user = role.user as { id?: string; reference?: string } | undefined;
  return user?.id ?? user?.reference?.replace(/^User\//, '') ?? '';
};

export async function rolesPage({ main }: PageContext): Promise<void> {
  const roles = await list('Role');
  replace(main,
    pageHeader('Roles', 'Roles given to users. An access policy with a roleName applies to every user holding that role.',
      h('a', { href: '/console/roles/new', class: 'btn btn-primary' }, icon('plus'), 'Assign role')),
    table(roles, [
      { title: 'Role', cell: (role) => h('a', { href: `/console/roles/${encodeURIComponent(role.id!)}` }, badge(text(role.name) || '(unnamed)', 'blue')) },
      { title: 'User', cell: (role) => (userOf(role) ? h('a', { href: `/console/users/${encodeURIComponent(userOf(role))}`, class: 'mono' }, userOf(role)) : '—') },
      { title: 'Description', cell: (role) => text(role.description) || '—' },
      { title: 'Updated', cell: (role) => dateCell(role.meta?.lastUpdated) },
    ], [h('strong', {}, 'No roles assigned.'), ' Give a user a role, then write policies for the role rather than for each user.']),
  );
}

export async function roleEditPage({ main, params, navigate }: PageContext): Promise<void> {
  const [existing, users] = await Promise.all([params.id ? read('Role', params.id) : null, list('User')]);
  const errors = h('div', { class: 'form-errors' });
  const current = existing ? userOf(existing) : '';
  const choices: [string, string][] = users.map((user) => [user.id!, `${user.id}${user.email ? ` (${String(user.email)})` : ''}`]);
  if (current && !choices.some(([id]) => id === current)) choices.unshift([current, `${current} (not found)`]);
  const form = h('form', { class: 'card form' },
    h('fieldset', {}, h('legend', {}, 'Role'),
      h('div', { class: 'row' },
        textField('name', { label: 'Role name', required: true, value: text(existing?.name), placeholder: 'practitioner', pattern: '[A-Za-z0-9_\\-.:]{1,64}' }),
        choices.length
          ? selectField('user', { label: 'User', value: current, choices })
          : textField('user', { label: 'User id', required: true, placeholder: 'jane', hint: 'No users exist yet.' }),
      ),
      textField('description', { label: 'Description', value: text(existing?.description) }),
    ),
    errors,
    formActions('/console/roles', existing, existing ? deleteButton('Role', existing.id!, 'role', 'The user loses this role and what policies grant through it.', () => navigate('/console/roles')) : null, 'Assign role'),
  );
  onSave(form, errors, existing, () => {
    const values = formValues(form);
    const role: Resource = { ...(existing ?? {}), resourceType: 'Role', name: values.name!.trim(), user: { id: values.user!.trim(), resourceType: 'User' } };
    if (values.description?.trim()) role.description = values.description.trim();
    else delete role.description;
    return role;
  }, () => navigate('/console/roles'));
  replace(main, pageHeader(existing ? `Role ${text(existing.name)}` : 'Assign a role', 'A role links one user to a name that policies can refer to.'), form);
}
