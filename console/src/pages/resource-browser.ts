// The resource browser: every resource type with its count, a search per type with the parameters the
// CapabilityStatement lists, and a resource's view with its history, a diff between versions, edit and delete.
// All through the ordinary REST API with the administrator's token; IAM types open in their own pages.
import { stringify } from 'yaml';
import { ApiError, call, create, remove, update, type Resource } from '../api.ts';
import { pageHeader } from '../layout.ts';
import type { PageContext } from '../router.ts';
import { codeEditor } from '../ui/code-editor.ts';
import { confirmDialog } from '../ui/dialog.ts';
import { h, icon, replace, type Child } from '../ui/dom.ts';
import { alertBox, errorMessage, toast } from '../ui/feedback.ts';
import { badge, dateCell, table } from '../ui/table.ts';
import { detectFormat, parse, type Problem } from './policy-check.ts';
import { diffLines, lineOfExpression } from './resource-diff.ts';
import { openInRestConsole } from './rest-console.ts';
import './workbench.css';

type Json = Record<string, unknown>;

interface SearchParam { name: string; type: string; documentation?: string }
interface CapabilityResource { type: string; searchParam?: SearchParam[] }
interface Bundle {
  total?: number;
  link?: { relation: string; url: string }[];
  entry?: { resource?: Resource; request?: { method: string }; response?: { etag?: string; lastModified?: string } }[];
}

/** IAM types whose resources open in pages of their own, with forms that know their rules (secrets shown once...). */
const IAM_PAGES: Record<string, string> = {
  Client: '/console/clients',
  User: '/console/users',
  AccessPolicy: '/console/policies',
  Role: '/console/roles',
  TokenIntrospector: '/console/introspectors',
};
/** Sessions have a list of their own (who is logged in; end one) but no page per Session: one opens here. */
const LIST_PAGES: Record<string, string> = { ...IAM_PAGES, Session: '/console/sessions' };
const PAGE_SIZE = 20;
const COUNT_CONCURRENCY = 6;

const typeHref = (type: string) => LIST_PAGES[type] ?? `/console/resources/${encodeURIComponent(type)}`;
const resourceHref = (type: string, id: string) =>
  `${IAM_PAGES[type] ?? `/console/resources/${encodeURIComponent(type)}`}/${encodeURIComponent(id)}`;

let capability: Promise<CapabilityResource[]> | null = null;
/** GET /metadata once per visit: the types this server serves and their search parameters. */
function capabilityResources(): Promise<CapabilityResource[]> {
  capability ??= call<{ rest?: { resource?: CapabilityResource[] }[] }>('GET', '/metadata')
    .then((statement) => statement.rest?.[0]?.resource ?? [])
    .catch((error: unknown) => {
      capability = null;
      throw error;
    });
  return capability;
}

/** Runs `work` over `items`, at most `limit` at a time, so a hundred and fifty counts do not flood the server. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// Types with counts

export async function resourceTypesPage({ main }: PageContext): Promise<void> {
  const types = (await capabilityResources()).map((resource) => resource.type);
  const counts = new Map<string, number | string>();
  await eachLimited(types, COUNT_CONCURRENCY, async (type) => {
    try {
      const bundle = await call<Bundle>('GET', `/${type}?_count=0`);
      counts.set(type, bundle.total ?? 0);
    } catch (error) {
      counts.set(type, error instanceof ApiError && error.status === 403 ? 'no access' : 'error');
    }
  });
  const used = types.filter((type) => counts.get(type) !== 0);
  const empty = types.filter((type) => counts.get(type) === 0);
  const filter = h('input', { type: 'search', class: 'type-filter', placeholder: 'Filter types…', 'aria-label': 'Filter resource types', 'data-testid': 'type-filter' });
  const card = (type: string) => {
    const count = counts.get(type);
    return h('a', { href: typeHref(type), class: 'type-card', 'data-type': type },
      h('span', { class: 'type-name' }, type),
      typeof count === 'number' ? h('span', { class: 'type-count', 'data-testid': `count-${type}` }, count.toLocaleString('en-US')) : badge(String(count), 'amber'),
      LIST_PAGES[type] ? h('span', { class: 'type-tag' }, 'IAM') : null);
  };
  const usedGrid = h('div', { class: 'type-grid' }, used.map(card));
  const emptyGrid = h('div', { class: 'type-grid type-grid-empty' }, empty.map(card));
  filter.addEventListener('input', () => {
    const needle = filter.value.trim().toLowerCase();
    for (const link of main.querySelectorAll<HTMLElement>('.type-card')) link.hidden = !link.dataset.type!.toLowerCase().includes(needle);
  });
  replace(main,
    pageHeader('Resources', 'Every resource type this server serves, with how many there are. Open a type to search it.'),
    h('div', { class: 'toolbar' }, filter),
    h('section', { 'aria-labelledby': 'used-title' }, h('h2', { id: 'used-title', class: 'section-title' }, `In use (${used.length})`),
      used.length ? usedGrid : h('p', { class: 'muted' }, 'No resources yet.')),
    h('details', { class: 'empty-types' }, h('summary', {}, `Types with no resources (${empty.length})`), emptyGrid),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Search one type

/** A short description of a resource for a list: a name, a code's text, a title... whatever it has. */
export function summaryOf(resource: Resource): string {
  const first = (value: unknown) => (Array.isArray(value) ? value[0] : value) as Json | string | undefined;
  const name = first(resource.name);
  if (typeof name === 'string') return name;
  if (name && typeof name === 'object') {
    if (typeof name.text === 'string') return name.text;
    const given = Array.isArray(name.given) ? name.given.join(' ') : '';
    const text = [given, typeof name.family === 'string' ? name.family : ''].filter(Boolean).join(' ');
    if (text) return text;
  }
  for (const field of ['title', 'description', 'status']) if (typeof resource[field] === 'string') return resource[field] as string;
  const code = resource.code as { text?: string; coding?: { display?: string; code?: string }[] } | undefined;
  return code?.text ?? code?.coding?.[0]?.display ?? code?.coding?.[0]?.code ?? '';
}

export async function resourceListPage({ main, params, navigate }: PageContext): Promise<void> {
  const type = params.type!;
  if (IAM_PAGES[type]) return navigate(IAM_PAGES[type]);
  const known = (await capabilityResources()).find((resource) => resource.type === type);
  if (!known) {
    replace(main, h('h1', {}, type), alertBox(`This server serves no resource type "${type}".`));
    return;
  }
  // The console's address carries the API's query as is, so a search can be bookmarked or shared.
  const asked = new URLSearchParams(window.location.search);
  const query = new URLSearchParams(asked);
  if (!query.has('_count')) query.set('_count', String(PAGE_SIZE));
  let bundle: Bundle | null = null;
  let failure: string | null = null;
  try {
    bundle = await call<Bundle>('GET', `/${type}?${query}`);
  } catch (error) {
    failure = errorMessage(error);
  }

  const searchParams = [...(known.searchParam ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const shownQuery = new URLSearchParams(asked);
  shownQuery.delete('_page');
  const queryInput = h('input', { type: 'text', name: 'query', value: decodeURIComponent(shownQuery.toString()), placeholder: 'name=smith&birthdate=ge1970', 'aria-label': 'Search query', spellcheck: 'false', 'data-testid': 'search-query', class: 'mono' });
  const paramSelect = h('select', { 'aria-label': 'Add a search parameter', 'data-testid': 'search-param' },
    h('option', { value: '' }, `Add a parameter (${searchParams.length})…`),
    searchParams.map((param) => h('option', { value: param.name, title: param.documentation ?? null }, `${param.name} (${param.type})`)));
  paramSelect.addEventListener('change', () => {
    if (!paramSelect.value) return;
    queryInput.value = `${queryInput.value.trim() ? `${queryInput.value.trim()}&` : ''}${paramSelect.value}=`;
    paramSelect.value = '';
    queryInput.focus();
  });
  const form = h('form', { class: 'search-bar', role: 'search' }, paramSelect, queryInput,
    h('button', { type: 'submit', class: 'btn btn-primary' }, icon('introspector'), 'Search'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams(queryInput.value.trim());
    navigate(`/console/resources/${encodeURIComponent(type)}${next.size ? `?${next}` : ''}`);
  });

  const pageLink = (relation: string, label: string) => {
    const url = bundle?.link?.find((link) => link.relation === relation)?.url;
    if (!url) return h('span', { class: 'btn btn-small', 'aria-disabled': 'true' }, label);
    return h('a', { class: 'btn btn-small', href: `/console/resources/${encodeURIComponent(type)}${new URL(url).search}`, rel: relation === 'previous' ? 'prev' : relation, 'data-testid': `page-${relation}` }, label);
  };
  const resources = (bundle?.entry ?? []).map((entry) => entry.resource).filter((resource): resource is Resource => Boolean(resource));
  const pageNumber = Number(query.get('_page') ?? '1');
  replace(main,
    pageHeader(type, `Search ${type} resources with the parameters the CapabilityStatement lists for them.`,
      h('a', { href: `/console/resources/${encodeURIComponent(type)}/new`, class: 'btn btn-primary' }, icon('plus'), `New ${type}`)),
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '/console/resources' }, 'Resources'), ' / ', type),
    form,
    failure ? alertBox(failure) : [
      h('p', { class: 'muted result-count', 'data-testid': 'result-count' }, bundle?.total === undefined ? `${resources.length} shown` : `${bundle.total} found · page ${pageNumber}`),
      table(resources, [
        { title: 'Id', cell: (resource) => h('a', { href: resourceHref(type, resource.id!), class: 'mono' }, resource.id) },
        { title: 'Summary', cell: (resource) => summaryOf(resource) || h('span', { class: 'muted' }, '—') },
        { title: 'Version', cell: (resource) => badge(`v${resource.meta?.versionId ?? '?'}`), className: 'nowrap' },
        { title: 'Updated', cell: (resource) => dateCell(resource.meta?.lastUpdated) },
      ], [h('strong', {}, `No ${type} matches.`), shownQuery.size ? ' Change the search, or clear it.' : ` Create one with "New ${type}".`]),
      h('div', { class: 'pager' }, pageLink('first', 'First'), pageLink('previous', 'Previous'), pageLink('next', 'Next'), pageLink('last', 'Last')),
    ],
  );
}

// ---------------------------------------------------------------------------------------------------------------
// One resource: view, history, diff, edit, delete

/** resourceType, id and meta first, as FHIR writes them: the store (jsonb) keeps its own order of keys. */
const inReadingOrder = (resource: Resource): Json => {
  const { resourceType, id, meta, ...rest } = resource;
  return { resourceType, ...(id !== undefined && { id }), ...(meta !== undefined && { meta }), ...rest };
};
const withoutMeta = (resource: Resource): Json => {
  const { meta: _meta, ...rest } = inReadingOrder(resource);
  return rest;
};
/** To the second: versions written within a minute are told apart. */
const preciseTime = (value: string | undefined) => h('span', { class: 'muted nowrap', title: value ?? null },
  value ? new Date(value).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }) : '—');
const asText = (value: Json, format: 'yaml' | 'json') => (format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value));

interface Version { versionId: string; method: string; lastModified?: string; resource?: Resource }

async function versionsOf(type: string, id: string): Promise<Version[]> {
  const bundle = await call<Bundle>('GET', `/${type}/${encodeURIComponent(id)}/_history?_count=100`);
  return (bundle.entry ?? []).map((entry) => ({
    versionId: /W\/"(.*)"/.exec(entry.response?.etag ?? '')?.[1] ?? entry.resource?.meta?.versionId ?? '?',
    method: entry.request?.method ?? '',
    lastModified: entry.response?.lastModified ?? entry.resource?.meta?.lastUpdated,
    resource: entry.resource,
  }));
}

/** The problems an answer of the server names, each at its line in `text` when its expression points there. */
function serverProblems(error: unknown, text: string, resourceType: string): Problem[] {
  if (!(error instanceof ApiError)) return [{ message: errorMessage(error) }];
  const issues = (error.body as { issue?: { diagnostics?: string; expression?: string[] }[] } | null)?.issue;
  if (!Array.isArray(issues) || issues.length === 0) return [{ message: `HTTP ${error.status}: ${error.message}` }];
  return issues.map((issue) => ({
    message: `HTTP ${error.status}: ${issue.diagnostics ?? 'error'}`,
    line: issue.expression?.map((expression) => lineOfExpression(text, expression, resourceType)).find((line) => line !== undefined),
  }));
}

/**
 * An editor for one resource. `existing` is the version read: a save sends If-Match on it (RFC 9110 §13.1.1), so a
 * change someone made meanwhile is refused (412) rather than overwritten.
 */
interface ResourceEditor { root: HTMLElement; convert(format: 'yaml' | 'json'): void }

function resourceEditor(type: string, existing: Resource | null, saved: (resource: Resource) => void, cancel: () => void): ResourceEditor {
  const saveButton = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'resource-save' }, existing ? 'Save' : `Create ${type}`);
  let value: Json | null = null;
  const check = () => {
    const text = editor.area.value;
    const format = detectFormat(text);
    const parsed = parse(text, format);
    value = null;
    let problems = parsed.problems;
    if (!problems.length) {
      const isObject = parsed.value !== null && typeof parsed.value === 'object' && !Array.isArray(parsed.value);
      if (!isObject) problems = [{ message: `A resource is an object (a map of fields), with resourceType ${type}.` }];
      else if ((parsed.value as Json).resourceType !== undefined && (parsed.value as Json).resourceType !== type) {
        problems = [{ message: `resourceType must be "${type}".`, line: lineOfExpression(text, 'resourceType', type) }];
      } else if (existing && (parsed.value as Json).id !== undefined && (parsed.value as Json).id !== existing.id) {
        problems = [{ message: `The id cannot change (it is ${existing.id}).`, line: lineOfExpression(text, 'id', type) }];
      } else {
        value = { ...(parsed.value as Json), resourceType: type };
      }
    }
    editor.report(problems, `${format.toUpperCase()} · ready to save${existing ? ` over version ${existing.meta?.versionId}` : ''}`);
    saveButton.disabled = value === null;
  };
  const editor = codeEditor({
    label: `${type} (YAML or JSON)`, testId: 'resource-source', statusTestId: 'resource-status', rows: 20, onInput: check, onSubmit: () => saveButton.click(),
    value: asText(existing ? withoutMeta(existing) : { resourceType: type }, 'yaml'),
  });
  saveButton.addEventListener('click', async () => {
    if (!value) return;
    saveButton.disabled = true;
    const text = editor.area.value;
    try {
      const result = existing ? await update({ ...value, resourceType: type, id: existing.id, meta: existing.meta }) : await create(value as Resource);
      toast(`${type} ${result.id} ${existing ? 'saved' : 'created'}`);
      saved(result);
    } catch (error) {
      const problems = serverProblems(error, text, type);
      if (error instanceof ApiError && error.status === 412) problems.push({ message: 'Someone changed it after you opened it: reload the page to see their version, then edit again.' });
      editor.report(problems, '');
      saveButton.disabled = false;
    }
  });
  const root = h('div', { class: 'resource-editor' },
    editor.root, editor.status,
    h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'btn btn-ghost', onclick: cancel }, 'Cancel'), saveButton));
  check();
  queueMicrotask(() => editor.area.focus());
  return {
    root,
    /** Rewrites the text in the other format when it parses; a text with mistakes stays as typed. */
    convert(format) {
      if (!value) return;
      editor.area.value = asText(value, format);
      editor.area.dispatchEvent(new Event('input'));
    },
  };
}

export function resourceNewPage({ main, params, navigate }: PageContext): void {
  const type = params.type!;
  if (IAM_PAGES[type]) return navigate(`${IAM_PAGES[type]}/new`);
  replace(main,
    pageHeader(`New ${type}`, 'Write it in YAML or JSON. The server assigns the id unless you give one.'),
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '/console/resources' }, 'Resources'), ' / ', h('a', { href: typeHref(type) }, type), ' / new'),
    h('section', { class: 'card' }, resourceEditor(type, null, (saved) => navigate(resourceHref(type, saved.id!)), () => navigate(typeHref(type))).root),
  );
}

export async function resourceViewPage({ main, params, navigate }: PageContext): Promise<void> {
  const { type, id } = params as { type: string; id: string };
  if (IAM_PAGES[type]) return navigate(resourceHref(type, id));
  let current: Resource | null = null;
  let deletedNote: string | null = null;
  try {
    current = await call<Resource>('GET', `/${type}/${encodeURIComponent(id)}`);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 410) throw error;
    deletedNote = `${type}/${id} is deleted; its history stays.`;
  }
  const versions = await versionsOf(type, id);
  let format: 'yaml' | 'json' = 'yaml';

  // ----- the current version, read or edited -----
  const body = h('div', { class: 'resource-body' });
  const formatButtons = (['yaml', 'json'] as const).map((choice) => h('button', {
    type: 'button', class: 'btn btn-small', 'aria-pressed': String(choice === format),
    onclick: () => {
      format = choice;
      for (const button of formatButtons) button.setAttribute('aria-pressed', String(button.textContent!.toLowerCase() === format));
      if (editing) editing.convert(format);
      else showResource();
    },
  }, choice.toUpperCase()));
  let editing: ResourceEditor | null = null;
  const showResource = () => {
    editing = null;
    replace(body, current ? h('pre', { class: 'code resource-text', 'data-testid': 'resource-text', tabindex: '0' }, asText(inReadingOrder(current), format)) : alertBox(deletedNote ?? 'Not found'));
  };
  const editButton = h('button', { type: 'button', class: 'btn', 'data-testid': 'resource-edit', onclick: () => {
    editing = resourceEditor(type, current, () => navigate(resourceHref(type, id)), showResource);
    editing.convert(format);
    replace(body, editing.root);
  } }, icon('edit'), 'Edit');
  const deleteButton = h('button', { type: 'button', class: 'btn btn-danger-outline', 'data-testid': 'resource-delete', onclick: async () => {
    if (!(await confirmDialog(`Delete ${type}/${id}?`, 'It disappears from searches and reads answer 410 Gone; its history stays.', `Delete ${type}`))) return;
    try {
      await remove(type, id);
      toast(`${type} ${id} deleted`);
      navigate(typeHref(type));
    } catch (error) {
      toast(`Delete failed: ${errorMessage(error)}`, 'error');
    }
  } }, icon('trash'), 'Delete');
  const restButton = h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => {
    openInRestConsole(`GET /${type}/${id}\n`);
    navigate('/console/rest');
  } }, 'Open in REST console');

  // ----- history and diff -----
  const diffArea = h('div', { class: 'diff-area', 'data-testid': 'diff' });
  const withResource = versions.filter((version) => version.resource);
  const pick = (name: string, selected: string | undefined) => h('select', { name, 'aria-label': name === 'from' ? 'Compare from version' : 'to version', 'data-testid': `diff-${name}` },
    withResource.map((version) => h('option', { value: version.versionId, selected: version.versionId === selected }, `v${version.versionId}`)));
  const toSelect = pick('to', withResource[0]?.versionId);
  const fromSelect = pick('from', withResource[1]?.versionId ?? withResource[0]?.versionId);
  const drawDiff = () => {
    const from = withResource.find((version) => version.versionId === fromSelect.value)?.resource;
    const to = withResource.find((version) => version.versionId === toSelect.value)?.resource;
    if (!from || !to) return replace(diffArea, h('p', { class: 'muted' }, 'There is no version to compare.'));
    const lines = diffLines(stringify(withoutMeta(from)), stringify(withoutMeta(to)));
    const changed = lines.filter((line) => line.kind !== 'same').length;
    replace(diffArea,
      h('p', { class: 'muted diff-summary' }, changed ? `${lines.filter((line) => line.kind === 'removed').length} lines removed, ${lines.filter((line) => line.kind === 'added').length} added (meta left out)` : 'No change in content between these versions.'),
      h('pre', { class: 'diff' }, lines.map((line) => h('span', { class: `diff-${line.kind}` }, `${line.kind === 'added' ? '+ ' : line.kind === 'removed' ? '- ' : '  '}${line.text}\n`))));
  };
  fromSelect.addEventListener('change', drawDiff);
  toSelect.addEventListener('change', drawDiff);
  const historyTable = table(versions, [
    { title: 'Version', cell: (version) => badge(`v${version.versionId}`, version.method === 'DELETE' ? 'red' : 'neutral') },
    { title: 'Change', cell: (version) => ({ POST: 'created', PUT: 'updated', DELETE: 'deleted' } as Record<string, string>)[version.method] ?? version.method },
    { title: 'When', cell: (version) => preciseTime(version.lastModified) },
    { title: '', className: 'actions', cell: (version) => version.resource ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => {
      const index = withResource.indexOf(version);
      toSelect.value = version.versionId;
      fromSelect.value = withResource[index + 1]?.versionId ?? version.versionId;
      drawDiff();
    }, title: 'Compare with the version before' }, 'Diff') : null },
  ], 'No history.');
  historyTable.classList.add('table-compact');

  const title: Child = current ? [`${type} `, h('span', { class: 'mono' }, id)] : `${type} ${id}`;
  replace(main,
    h('header', { class: 'page-header' },
      h('div', {}, h('h1', {}, title), h('p', { class: 'lead' }, current ? [summaryOf(current), ` · version ${current.meta?.versionId} · updated `, dateCell(current.meta?.lastUpdated)] : deletedNote)),
      h('div', { class: 'page-actions' }, restButton, current ? editButton : null, current ? deleteButton : null)),
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '/console/resources' }, 'Resources'), ' / ', h('a', { href: typeHref(type) }, type), ' / ', id),
    h('div', { class: 'resource-layout' },
      h('section', { class: 'card', 'aria-labelledby': 'resource-title' },
        h('div', { class: 'card-head' }, h('h2', { id: 'resource-title' }, 'Current version'), h('div', { class: 'seg', role: 'group', 'aria-label': 'Show as' }, formatButtons)),
        body),
      h('section', { class: 'card', 'aria-labelledby': 'history-title' },
        h('div', { class: 'card-head' }, h('h2', { id: 'history-title' }, `History (${versions.length})`)),
        historyTable,
        h('div', { class: 'diff-pick' }, h('span', {}, 'Compare'), fromSelect, h('span', {}, 'with'), toSelect),
        diffArea),
    ),
  );
  showResource();
  drawDiff();
}
