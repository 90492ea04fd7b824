// The REST console: type a request the way Aidbox's REST console and the seeds write it, send it through the
// ordinary API as yourself, as a Client (Basic) or with a pasted token (a User's, say), and read the answer.
// Nothing here has powers of its own: the request goes out with exactly the Authorization shown by "copy as curl".
import { parse as parseYaml, stringify } from 'yaml';
import { accessToken } from '../auth.ts';
import { pageHeader } from '../layout.ts';
import type { PageContext } from '../router.ts';
import { codeEditor } from '../ui/code-editor.ts';
import { openDialog } from '../ui/dialog.ts';
import { h, icon, replace } from '../ui/dom.ts';
import { alertBox, errorMessage } from '../ui/feedback.ts';
import { selectField, textField } from '../ui/fields.ts';
import { badge } from '../ui/table.ts';
import { EXAMPLES } from './rest-examples.ts';
import { curlOf, headersToSend, parseRequest, senderLabel, type RestRequest, type Sender } from './rest-request.ts';
import './workbench.css';

type ViewFormat = 'yaml' | 'json';

interface Answer {
  status: number;
  statusText: string;
  ms: number;
  headers: [string, string][];
  text: string;
  /** The body as data when it is JSON or YAML; undefined when it is neither. */
  data: unknown;
}

interface HistoryEntry {
  text: string;
  sender: Sender;
  status: number;
  ms: number;
}

/** Kept in the page's memory only (with the Basic secrets typed), so a reload or logout forgets it. */
const history: HistoryEntry[] = [];
const HISTORY_LIMIT = 50;
/** What the editor opens with: a harmless read, so an accidental Ctrl+Enter changes nothing. */
let lastText = 'GET /Patient?_count=10\n';
let lastSender: Sender = { kind: 'console' };
let viewFormat: ViewFormat = 'yaml';

/** Opens the REST console on this request next time (the resource browser's "Open in REST console"). */
export function openInRestConsole(text: string): void {
  lastText = text;
  lastSender = { kind: 'console' };
}

async function send(request: RestRequest, sender: Sender): Promise<Answer> {
  const headers = headersToSend(request, sender, accessToken());
  const started = performance.now();
  const response = await fetch(request.path, {
    method: request.method,
    headers,
    body: request.body ?? undefined,
    cache: 'no-store',
    // Only the Authorization chosen here: never the browser's Warden session cookie.
    credentials: 'omit',
    redirect: 'manual',
  });
  const text = await response.text();
  const ms = Math.round(performance.now() - started);
  return { status: response.status, statusText: response.statusText, ms, headers: [...response.headers.entries()], text, data: dataOf(text, response.headers.get('content-type') ?? '') };
}

function dataOf(text: string, contentType: string): unknown {
  if (!text) return undefined;
  try {
    if (/json/i.test(contentType)) return JSON.parse(text);
    if (/yaml/i.test(contentType)) return parseYaml(text);
  } catch {
    // Shown as text.
  }
  return undefined;
}

const render = (data: unknown, format: ViewFormat) => (format === 'json' ? JSON.stringify(data, null, 2) : stringify(data)).replace(/\n$/, '');

function statusTone(status: number): 'green' | 'amber' | 'red' | 'neutral' {
  if (status >= 200 && status < 300) return 'green';
  if (status >= 400 && status < 500) return 'amber';
  if (status >= 500) return 'red';
  return 'neutral';
}

export function restConsolePage({ main }: PageContext): void {
  // ----- who the request is sent as -----
  const senderKind = selectField('sender', {
    label: 'Send as', value: lastSender.kind,
    choices: [['console', 'You (the console\'s token)'], ['basic', 'A Client (Basic: its id and secret)'], ['token', 'A pasted access token'], ['none', 'Nobody (no Authorization)']],
  });
  const kindSelect = senderKind.querySelector('select')!;
  const basicId = textField('basic-id', { label: 'Client id', value: lastSender.kind === 'basic' ? lastSender.id : '', placeholder: 'basic' });
  const basicSecret = textField('basic-secret', { label: 'Secret or password', type: 'password', value: lastSender.kind === 'basic' ? lastSender.secret : '', autocomplete: 'new-password' });
  const pastedToken = textField('pasted-token', { label: 'Access token', type: 'password', value: lastSender.kind === 'token' ? lastSender.token : '', placeholder: 'eyJ…', autocomplete: 'off' });
  const basicFields = h('div', { class: 'row sender-basic' }, basicId, basicSecret);
  const tokenFields = h('div', { class: 'sender-token' }, pastedToken);
  const input = (field: HTMLElement) => field.querySelector('input')!;
  const showSenderFields = () => {
    basicFields.hidden = kindSelect.value !== 'basic';
    tokenFields.hidden = kindSelect.value !== 'token';
  };
  kindSelect.addEventListener('change', showSenderFields);
  const sender = (): Sender => {
    switch (kindSelect.value) {
      case 'basic': return { kind: 'basic', id: input(basicId).value.trim(), secret: input(basicSecret).value };
      case 'token': return { kind: 'token', token: input(pastedToken).value };
      case 'none': return { kind: 'none' };
      default: return { kind: 'console' };
    }
  };
  const setSender = (value: Sender) => {
    kindSelect.value = value.kind;
    if (value.kind === 'basic') {
      input(basicId).value = value.id;
      input(basicSecret).value = value.secret;
    }
    if (value.kind === 'token') input(pastedToken).value = value.token;
    showSenderFields();
  };

  // ----- the request -----
  const editor = codeEditor({ label: 'Request: first line METHOD /path, then headers, an empty line and the body', value: lastText, testId: 'rest-request', statusTestId: 'rest-problems', rows: 14, onSubmit: () => void submit() });
  editor.root.classList.add('editor-rest');
  const problems = editor.status;
  const check = () => {
    const parsed = parseRequest(editor.area.value, window.location.origin);
    const request = parsed.request;
    editor.report(parsed.problems, request ? `${request.method} ${request.path}${request.body === null ? '' : ` · ${request.bodyFormat!.toUpperCase()} body`}` : '');
    return parsed;
  };
  editor.area.addEventListener('input', () => check());

  // ----- the answer -----
  const answerArea = h('div', { class: 'answer', 'data-testid': 'rest-answer' }, h('p', { class: 'muted' }, 'Send a request (Ctrl+Enter) to see the answer here.'));
  let shown: Answer | null = null;
  const formatButtons = (['yaml', 'json'] as const).map((format) =>
    h('button', { type: 'button', class: 'btn btn-small', 'aria-pressed': String(viewFormat === format), onclick: () => {
      viewFormat = format;
      for (const button of formatButtons) button.setAttribute('aria-pressed', String(button.textContent!.toLowerCase() === format));
      if (shown) drawAnswer(shown);
    } }, format.toUpperCase()));
  const drawAnswer = (answer: Answer) => {
    shown = answer;
    const status = answer.status === 0 ? 'redirect (not followed)' : `${answer.status} ${answer.statusText}`.trim();
    replace(answerArea,
      h('div', { class: 'answer-meta', role: 'status' },
        h('span', { class: `badge badge-${statusTone(answer.status)} status-badge`, 'data-testid': 'rest-status' }, status),
        h('span', { class: 'muted', 'data-testid': 'rest-time' }, `${answer.ms} ms`),
        h('span', { class: 'muted' }, `${new TextEncoder().encode(answer.text).length} bytes`),
      ),
      h('details', { class: 'answer-headers' }, h('summary', {}, `Headers (${answer.headers.length})`),
        h('table', { class: 'headers-table' }, h('tbody', {}, answer.headers.map(([name, value]) => h('tr', {}, h('th', { scope: 'row' }, name), h('td', {}, value)))))),
      h('pre', { class: 'code answer-body', 'data-testid': 'rest-body', tabindex: '0' }, answer.data === undefined ? answer.text || '(no body)' : render(answer.data, viewFormat)),
    );
  };

  // ----- history -----
  const historyList = h('ol', { class: 'history', 'data-testid': 'rest-history' });
  const drawHistory = () => {
    replace(historyList, history.length === 0 ? h('li', { class: 'muted' }, 'Requests you send appear here, newest first.') : history.map((entry) =>
      h('li', {}, h('button', { type: 'button', class: 'history-item', title: entry.text, onclick: () => {
        editor.area.value = entry.text;
        editor.area.dispatchEvent(new Event('input'));
        setSender(entry.sender);
        editor.area.focus();
      } },
      h('span', { class: `badge badge-${statusTone(entry.status)}` }, String(entry.status)),
      h('span', { class: 'mono history-line' }, entry.text.trim().split('\n')[0]),
      h('span', { class: 'muted history-meta' }, `${senderLabel(entry.sender)} · ${entry.ms} ms`)))));
  };

  // ----- sending -----
  const sendButton = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'rest-send', title: 'Ctrl+Enter' }, icon('play'), 'Send');
  let sending = false;
  async function submit(): Promise<void> {
    if (sending) return;
    const parsed = check();
    if (!parsed.request) return;
    const who = sender();
    const missing = who.kind === 'basic' && !who.id ? 'Type the id of the Client to send the request as.'
      : who.kind === 'token' && !who.token.trim() ? 'Paste the access token to send the request with.'
      : who.kind === 'console' && !accessToken() ? 'Your console session has ended: reload the page to log in again.'
      : null;
    if (missing) {
      replace(problems, alertBox(missing));
      problems.className = 'editor-status';
      return;
    }
    sending = true;
    sendButton.disabled = true;
    replace(answerArea, h('p', { class: 'muted', 'aria-busy': 'true' }, 'Sending…'));
    try {
      const answer = await send(parsed.request, who);
      drawAnswer(answer);
      history.unshift({ text: editor.area.value, sender: who, status: answer.status, ms: answer.ms });
      history.length = Math.min(history.length, HISTORY_LIMIT);
      drawHistory();
    } catch (error) {
      replace(answerArea, alertBox(`The request did not reach the server: ${errorMessage(error)}`));
    } finally {
      sending = false;
      sendButton.disabled = false;
      lastText = editor.area.value;
      lastSender = who;
    }
  }
  sendButton.addEventListener('click', () => void submit());

  const copyCurl = async () => {
    const parsed = check();
    if (!parsed.request) return;
    const command = curlOf(parsed.request, sender(), window.location.origin, accessToken());
    const copied = await navigator.clipboard?.writeText(command).then(() => true, () => false);
    openDialog('Copy as curl', [
      h('p', {}, copied ? 'Copied to the clipboard. ' : '', kindSelect.value === 'console' ? 'Your console token is not in it: set WARDEN_TOKEN in your shell first.' : ''),
      h('pre', { class: 'code', 'data-testid': 'rest-curl' }, command),
    ], (close) => h('button', { type: 'button', class: 'btn btn-primary', onclick: close }, 'Close'));
  };

  // ----- examples -----
  const groups = [...new Set(EXAMPLES.map((example) => example.group))];
  const examples = h('div', { class: 'examples', 'data-testid': 'rest-examples' }, groups.map((group) => h('div', { class: 'example-group' },
    h('h3', {}, group),
    EXAMPLES.filter((example) => example.group === group).map((example) => h('button', {
      type: 'button', class: 'btn btn-small example', onclick: () => {
        editor.area.value = example.text;
        editor.area.dispatchEvent(new Event('input'));
        setSender(example.sender ?? { kind: 'console' });
        editor.area.focus();
      },
    }, example.title)),
  )));

  // Ctrl+Enter sends from anywhere on the page, e.g. right after typing a secret.
  const sendOnCtrlEnter = (event: Event) => {
    const key = event as KeyboardEvent;
    if (key.key === 'Enter' && (key.ctrlKey || key.metaKey) && !key.defaultPrevented) {
      key.preventDefault();
      void submit();
    }
  };
  replace(main,
    pageHeader('REST console', 'Send any request to the API, as yourself, as a Client, or with a pasted token, and read the answer. First line METHOD /path, then headers, an empty line and a YAML or JSON body.'),
    h('div', { class: 'workbench', onkeydown: sendOnCtrlEnter },
      h('section', { class: 'card request-card', 'aria-labelledby': 'request-title' },
        h('div', { class: 'card-head' }, h('h2', { id: 'request-title' }, 'Request'), h('span', { class: 'muted kbd-hint' }, h('kbd', {}, 'Ctrl'), '+', h('kbd', {}, 'Enter'), ' sends')),
        h('div', { class: 'sender' }, senderKind, basicFields, tokenFields),
        editor.root,
        problems,
        h('div', { class: 'request-actions' },
          h('button', { type: 'button', class: 'btn', 'data-testid': 'rest-curl-button', onclick: () => void copyCurl() }, icon('copy'), 'Copy as curl'),
          sendButton,
        ),
      ),
      h('section', { class: 'card answer-card', 'aria-labelledby': 'answer-title' },
        h('div', { class: 'card-head' }, h('h2', { id: 'answer-title' }, 'Response'), h('div', { class: 'seg', role: 'group', 'aria-label': 'Show the body as' }, formatButtons)),
        answerArea,
      ),
      h('section', { class: 'card', 'aria-labelledby': 'examples-title' }, h('div', { class: 'card-head' }, h('h2', { id: 'examples-title' }, 'Examples'), badge('from the seeds')), examples),
      h('section', { class: 'card', 'aria-labelledby': 'history-title' }, h('div', { class: 'card-head' }, h('h2', { id: 'history-title' }, 'History')), historyList),
    ),
  );
  showSenderFields();
  check();
  drawHistory();
}
