// A plain textarea with line numbers, the lines of problems marked in the gutter and listed under it, and Tab that
// indents.
import { h, icon, replace, type Child } from './dom.ts';

export interface LineProblem {
  message: string;
  /** 1-based line of the text, when known. */
  line?: number;
}

export interface CodeEditor {
  root: HTMLElement;
  area: HTMLTextAreaElement;
  /** The status line under the editor: the problems, each with its line, or `ok` when there are none. */
  status: HTMLElement;
  report(problems: LineProblem[], ok: Child): void;
}

export function codeEditor(options: { label: string; value: string; testId: string; statusTestId: string; rows?: number; onInput?: () => void; onSubmit?: () => void }): CodeEditor {
  const area = h('textarea', { class: 'code-input', spellcheck: 'false', 'aria-label': options.label, rows: options.rows ?? 16, wrap: 'off', 'data-testid': options.testId });
  area.value = options.value;
  const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' });
  let bad = new Set<number>();
  const draw = () => {
    const lines = area.value.split('\n').length;
    replace(gutter, Array.from({ length: lines }, (_, index) => h('span', { class: bad.has(index + 1) ? 'bad' : null }, String(index + 1))));
    gutter.scrollTop = area.scrollTop;
  };
  area.addEventListener('input', () => {
    draw();
    options.onInput?.();
  });
  area.addEventListener('scroll', () => { gutter.scrollTop = area.scrollTop; });
  // Tab indents instead of leaving the editor; Escape then Tab still leaves it (WCAG 2.1.2). Ctrl+Enter submits.
  let escaped = false;
  area.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && options.onSubmit) {
      event.preventDefault();
      options.onSubmit();
      return;
    }
    if (event.key === 'Escape') { escaped = true; return; }
    if (event.key === 'Tab' && !event.shiftKey && !escaped) {
      event.preventDefault();
      area.setRangeText('  ', area.selectionStart, area.selectionEnd, 'end');
      area.dispatchEvent(new Event('input'));
    }
    escaped = false;
  });
  draw();
  const status = h('div', { class: 'editor-status', role: 'status', 'aria-live': 'polite', 'data-testid': options.statusTestId });
  return {
    root: h('div', { class: 'editor' }, gutter, area),
    area,
    status,
    report(problems, ok) {
      bad = new Set(problems.map((problem) => problem.line).filter((line): line is number => line !== undefined));
      draw();
      status.className = `editor-status ${problems.length ? 'is-bad' : 'is-ok'}`;
      replace(status, problems.length
        ? h('ul', {}, problems.map((problem) => h('li', {}, problem.line ? h('span', { class: 'line' }, `line ${problem.line}`) : null, problem.message)))
        : h('span', { class: 'ok' }, icon('check'), ok));
    },
  };
}
