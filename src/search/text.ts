// Full-text search (FHIR R4 §3.1.1.4.16 `_text`, `_content`): the words of a resource's narrative (`text.div`
// without its markup) and of every string it holds, kept as a PostgreSQL `tsvector` with the `simple`
// configuration (no language: words are lower-cased, never stemmed), which the embedded store has too. Words are
// also stripped of accents here, on both sides, as string search does (§3.1.1.4.8). A search value is plain
// words: every word must be in the resource, in any order (`plainto_tsquery`); a comma ORs values as elsewhere.
import type { Resource } from '../store/resource-store.ts';

/** Characters of text indexed per resource and parameter, at most: a tsvector holds at most 1 MB. */
export const MAX_INDEXED_TEXT = 100_000;

/** Lower-case, without accents: `Élodie` and `elodie` are one word. */
export function foldText(value: string): string {
  return value.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase();
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** The text a reader sees in an XHTML narrative: its tags dropped, the usual entities decoded. */
export function narrativeWords(div: string): string {
  return div
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,6});/gi, (whole, name: string) => {
      if (name[0] !== '#') return ENTITIES[name.toLowerCase()] ?? whole;
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : Number(name.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
    });
}

function narrativeOf(resource: Resource): string {
  const div = (resource.text as { div?: unknown } | undefined)?.div;
  return typeof div === 'string' ? narrativeWords(div) : '';
}

/** Every string value in the resource, the narrative as its text; not the keys, `resourceType` nor `meta`. */
function contentOf(resource: Resource): string {
  const parts: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value === 'string') parts.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') for (const item of Object.values(value)) walk(item);
  };
  for (const [key, value] of Object.entries(resource)) {
    if (key === 'resourceType' || key === 'meta') continue;
    if (key === 'text') parts.push(narrativeOf(resource));
    else walk(value);
  }
  return parts.join(' ');
}

export interface TextRow {
  code: '_text' | '_content';
  /** Folded words, turned into a tsvector by the statement that writes them. */
  text: string;
}

/** The full-text rows of a resource, for the parameters its type has. */
export function textRowsOf(resource: Resource, codes: { text: boolean; content: boolean }): TextRow[] {
  const rows: TextRow[] = [];
  const add = (code: TextRow['code'], text: string) => {
    const folded = foldText(text.slice(0, MAX_INDEXED_TEXT)).trim();
    if (folded !== '') rows.push({ code, text: folded });
  };
  if (codes.text) add('_text', narrativeOf(resource));
  if (codes.content) add('_content', contentOf(resource));
  return rows;
}
