// Sessions: who is logged in through which client, newest first, filtered by client or user as you type.
// Ending one ends the tokens issued in it.
import { list, remove, type Resource } from '../api.ts';
import { pageHeader } from '../layout.ts';
import type { PageContext } from '../router.ts';
import { confirmDialog } from '../ui/dialog.ts';
import { h, replace } from '../ui/dom.ts';
import { errorMessage, toast } from '../ui/feedback.ts';
import { badge, dateCell, table } from '../ui/table.ts';

/** A reference in any of the shapes Aidbox uses: {id}, {reference: "Type/id"}, or a bare id. */
function refId(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const ref = value as { id?: string; reference?: string };
    return ref.id ?? ref.reference?.split('/').pop() ?? '';
  }
  return '';
}

function expiry(session: Resource): unknown {
  return session.exp !== undefined && typeof session.exp === 'number' ? session.exp * 1000 : session.expires ?? session.expires_at;
}

function status(session: Resource): HTMLElement {
  if (session.status === 'ended' || session.ended || session.end) return badge('ended', 'neutral');
  const until = expiry(session);
  if (until !== undefined && new Date(until as string | number).getTime() < Date.now()) return badge('expired', 'amber');
  return badge('active', 'green');
}

export async function sessionsPage({ main, navigate }: PageContext): Promise<void> {
  const sessions = await list('Session', 500, '-_lastUpdated');
  const end = async (session: Resource) => {
    if (!(await confirmDialog('End this session?', 'The tokens issued in it stop working at once, and the user must log in again.', 'End session'))) return;
    try {
      await remove('Session', session.id!);
      toast(refId(session.user) ? `Session of ${refId(session.user)} in ${refId(session.client)} ended` : `Session of client ${refId(session.client)} ended`);
      navigate('/console/sessions');
    } catch (error) {
      toast(`Could not end the session: ${errorMessage(error)}`, 'error');
    }
  };
  drawSessions(main, sessions, end);
}

/** Whether a session's client or user id contains the filter text. */
function matches(session: Resource, filter: string): boolean {
  const wanted = filter.trim().toLowerCase();
  return !wanted || [refId(session.client), refId(session.user)].some((id) => id.toLowerCase().includes(wanted));
}

function drawSessions(main: HTMLElement, sessions: Resource[], end: (session: Resource) => void): void {
  const rows = h('div', {});
  const filter = h('input', {
    type: 'search', class: 'input', placeholder: 'Filter by client or user', 'aria-label': 'Filter sessions by client or user', 'data-testid': 'session-filter',
  });
  const draw = () => replace(rows, sessionTable(sessions.filter((session) => matches(session, filter.value)), end));
  filter.addEventListener('input', draw);
  draw();
  main.replaceChildren(
    pageHeader('Sessions', 'Logins and token grants, newest first. End one to sign its user out everywhere it was used.', filter),
    rows,
  );
}

function sessionTable(sessions: Resource[], end: (session: Resource) => void): HTMLElement {
  return table(sessions, [
    { title: 'Session', cell: (session) => h('span', { class: 'mono', title: session.id }, `${session.id!.slice(0, 8)}…`) },
    { title: 'User', cell: (session) => (refId(session.user) ? h('a', { href: `/console/users/${encodeURIComponent(refId(session.user))}`, class: 'mono' }, refId(session.user)) : h('span', { class: 'muted nowrap' }, 'client only')) },
    { title: 'Client', cell: (session) => (refId(session.client) ? h('a', { href: `/console/clients/${encodeURIComponent(refId(session.client))}`, class: 'mono nowrap' }, refId(session.client)) : '—') },
    { title: 'Kind', cell: (session) => badge(String(session.type ?? session.grant_type ?? session.audience ?? 'token'), 'blue') },
    { title: 'Started', cell: (session) => dateCell(session.created ?? session.meta?.lastUpdated) },
    { title: 'Expires', cell: (session) => dateCell(expiry(session)) },
    { title: 'Status', cell: status },
    { title: '', className: 'actions', cell: (session) => h('button', { type: 'button', class: 'btn btn-small btn-danger-outline', onclick: () => end(session) }, 'End') },
  ], [h('strong', {}, 'No sessions.'), ' They appear when users log in or clients get tokens.']);
}
