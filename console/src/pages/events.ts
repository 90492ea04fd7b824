// Events: the audit trail, newest first, filtered by user, client, patient, kind and outcome; and the recent
// events of one Client or User, shown on its page. Read-only: the server never lets an AuditEvent change.
import { call, type Resource } from '../api.ts';
import { pageHeader } from '../layout.ts';
import type { PageContext } from '../router.ts';
import { h, replace } from '../ui/dom.ts';
import { errorMessage } from '../ui/feedback.ts';
import { badge, table } from '../ui/table.ts';

interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
interface Bundle {
  entry?: { resource: Resource }[];
}

const KINDS: [string, string][] = [
  ['', 'Any kind'],
  ['rest', 'Data access (read, search, write)'],
  ['110113', 'Refusals (security alerts)'],
  ['110114', 'Logins and logouts'],
];
const OUTCOMES: [string, string][] = [['', 'Any outcome'], ['0', 'Success'], ['4', 'Refused or failed'], ['8', 'Server error']];

/**
 * The events matching these filters, newest first: by `date` (when each happened), not `_lastUpdated`, which is
 * when its batch was written and the same for every event of a batch.
 */
async function searchEvents(filters: { user?: string; client?: string; patient?: string; type?: string; outcome?: string }, count: number): Promise<Resource[]> {
  const params = new URLSearchParams({ _sort: '-date', _count: String(count), _total: 'none' });
  if (filters.user) params.append('agent', `User/${filters.user}`);
  if (filters.client) params.append('agent', `Client/${filters.client}`);
  if (filters.patient) params.append('patient', `Patient/${filters.patient}`);
  if (filters.type) params.append('type', filters.type);
  if (filters.outcome) params.append('outcome', filters.outcome);
  const bundle = await call<Bundle>('GET', `/AuditEvent?${params}`);
  return (bundle.entry ?? []).map((entry) => entry.resource);
}

const agentsOf = (event: Resource, type: string): string[] =>
  ((event.agent ?? []) as { who?: { reference?: string } }[])
    .map((agent) => agent.who?.reference ?? '')
    .filter((reference) => reference.startsWith(`${type}/`))
    .map((reference) => reference.slice(type.length + 1));

interface Entity {
  what?: { reference?: string };
  description?: string;
  role?: Coding;
}

/** What the event acted on: its entities other than the Patient it concerns (BALP: role 1), by reference or query. */
const targetsOf = (event: Resource): string[] =>
  ((event.entity ?? []) as Entity[])
    .filter((entity) => entity.role?.code !== '1')
    .map((entity) => entity.what?.reference ?? entity.description)
    .filter(Boolean) as string[];

/** The Patients an event names, agent or entity, without version: what the `patient` filter finds it by. */
function patientsOf(event: Resource): string[] {
  const references = [...((event.agent ?? []) as { who?: { reference?: string } }[]).map((agent) => agent.who), ...((event.entity ?? []) as Entity[]).map((entity) => entity.what)]
    .map((reference) => /^Patient\/[^/]+/.exec(reference?.reference ?? '')?.[0])
    .filter(Boolean) as string[];
  return [...new Set(references)];
}

function what(event: Resource): string {
  const subtype = ((event.subtype ?? []) as Coding[]).map((coding) => coding.display ?? coding.code).filter(Boolean);
  const type = event.type as Coding | undefined;
  return [type?.code === 'rest' ? null : (type?.display ?? type?.code), ...subtype].filter(Boolean).join(' · ');
}

function outcome(event: Resource): HTMLElement {
  if (event.outcome === '0') return badge('success', 'green');
  return h('span', { title: String(event.outcomeDesc ?? '') }, badge(event.outcome === '4' ? 'refused' : 'failed', event.outcome === '4' ? 'amber' : 'red'));
}

const link = (section: string, id: string) => h('a', { href: `/console/${section}/${encodeURIComponent(id)}`, class: 'mono nowrap' }, id);

/** When, to the second (an audit trail is read second by second); the full timestamp on hover. */
function when(event: Resource): HTMLElement {
  const recorded = typeof event.recorded === 'string' ? new Date(event.recorded) : null;
  const text = recorded && !Number.isNaN(recorded.getTime())
    ? recorded.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })
    : '—';
  return h('span', { class: 'muted nowrap', title: typeof event.recorded === 'string' ? event.recorded : null }, text);
}

export function eventTable(events: Resource[]): HTMLElement {
  // Who, on what and the outcome stay in sight at 1280 px: the outcome comes second, a long query is cut (whole on hover).
  const shown = table(events, [
    { title: 'When', cell: when },
    { title: 'Outcome', cell: outcome },
    { title: 'What', cell: (event) => what(event) },
    { title: 'On', cell: (event) => h('span', { class: 'mono cut', title: targetsOf(event).join(', ') || null }, targetsOf(event).join(', ') || '—') },
    { title: 'Patient', cell: (event) => h('span', { class: 'mono nowrap' }, patientsOf(event).join(', ') || '—') },
    { title: 'User', cell: (event) => agentsOf(event, 'User').map((id) => link('users', id))[0] ?? h('span', { class: 'muted' }, '—') },
    { title: 'Client', cell: (event) => agentsOf(event, 'Client').map((id) => link('clients', id))[0] ?? h('span', { class: 'muted' }, 'anonymous') },
  ], [h('strong', {}, 'No events.'), ' They are recorded as clients and users read and change data, log in and are refused.']);
  shown.classList.add('events-table');
  return shown;
}

export async function eventsPage({ main }: PageContext): Promise<void> {
  const input = (name: string, placeholder: string) =>
    h('input', { type: 'search', class: 'input', name, placeholder, 'aria-label': placeholder, 'data-testid': `event-filter-${name}` });
  const select = (name: string, choices: [string, string][]) =>
    h('select', { class: 'input', name, 'aria-label': name, 'data-testid': `event-filter-${name}` }, choices.map(([value, label]) => h('option', { value }, label)));
  const user = input('user', 'User id');
  const client = input('client', 'Client id');
  const patient = input('patient', 'Patient id');
  const type = select('type', KINDS);
  const outcomeFilter = select('outcome', OUTCOMES);
  // A link from a Client or User page (/console/events?client=...) opens with its filter set.
  const asked = new URLSearchParams(window.location.search);
  user.value = asked.get('user') ?? '';
  client.value = asked.get('client') ?? '';
  patient.value = asked.get('patient') ?? '';
  const rows = h('div', { 'data-testid': 'events' });
  let latest = 0;
  const draw = async () => {
    const request = ++latest;
    try {
      const events = await searchEvents({ user: user.value.trim(), client: client.value.trim(), patient: patient.value.trim(), type: type.value, outcome: outcomeFilter.value }, 100);
      if (request === latest) replace(rows, eventTable(events));
    } catch (error) {
      if (request === latest) replace(rows, h('div', { class: 'alert alert-error', role: 'alert' }, `Could not load the events: ${errorMessage(error)}`));
    }
  };
  for (const field of [user, client, patient]) field.addEventListener('change', draw);
  for (const field of [type, outcomeFilter]) field.addEventListener('change', draw);
  main.replaceChildren(
    pageHeader('Events', 'The audit trail: who read, changed or was refused what, newest first. Events cannot be changed or deleted.'),
    h('div', { class: 'filters' }, user, client, patient, type, outcomeFilter),
    rows,
  );
  await draw();
}

/** The latest events where a Client or User is an agent, for its page; nothing when the caller may not read them. */
export async function recentEvents(agent: 'Client' | 'User', id: string): Promise<HTMLElement | null> {
  try {
    const events = await searchEvents(agent === 'Client' ? { client: id } : { user: id }, 10);
    return h('section', { class: 'card', 'data-testid': 'recent-events' },
      h('h2', {}, 'Recent events'),
      eventTable(events),
      h('a', { href: `/console/events?${agent === 'Client' ? 'client' : 'user'}=${encodeURIComponent(id)}` }, 'All events'));
  } catch {
    return null;
  }
}
