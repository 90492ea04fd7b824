// A list of resources as a table, with an empty state that says what to do next.
import { h, type Child } from './dom.ts';

export interface Column<T> {
  title: string;
  cell: (row: T) => Child;
  className?: string;
}

export function table<T>(rows: T[], columns: Column<T>[], empty: Child): HTMLElement {
  if (rows.length === 0) return h('div', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, columns.map((column) => h('th', { scope: 'col', class: column.className }, column.title)))),
      h('tbody', {}, rows.map((row) => h('tr', {}, columns.map((column) => h('td', { class: column.className }, column.cell(row)))))),
    ),
  );
}

export function badge(text: string, tone: 'neutral' | 'blue' | 'green' | 'amber' | 'red' = 'neutral'): HTMLElement {
  return h('span', { class: `badge badge-${tone}` }, text);
}

/** A date for a table cell: short, on one line, the full timestamp on hover. */
export function dateCell(value: unknown): HTMLElement {
  return h('span', { class: 'muted nowrap', title: typeof value === 'string' ? value : null }, formatDate(value));
}

export function formatDate(value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number') return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, { month: 'short', day: 'numeric', year: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
}
