// The REST console's request text, as Aidbox's REST console and the seeds write it:
//
//   PUT /Client/basic            ← the request line: METHOD /path?query
//   content-type: text/yaml      ← optional headers, one a line
//                                ← an empty line
//   secret: secret               ← the body, YAML or JSON
//
// Pure (no DOM), so it is tested in Node; the page (rest-console.ts) sends what this returns.
import { detectFormat, parse, type Problem } from './policy-check.ts';

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
export type Method = (typeof METHODS)[number];

export type BodyFormat = 'json' | 'yaml' | 'form' | 'text';

export interface RestRequest {
  method: Method;
  /** Path and query on this server, always starting with "/". */
  path: string;
  headers: [string, string][];
  body: string | null;
  bodyFormat: BodyFormat | null;
}

/** Who the request is sent as. The console's token is only ever put in the request, never in text shown or copied. */
export type Sender =
  | { kind: 'console' }
  | { kind: 'basic'; id: string; secret: string }
  | { kind: 'token'; token: string }
  | { kind: 'none' };

export interface ParsedRequest {
  request: RestRequest | null;
  problems: Problem[];
}

/**
 * Lines that look like headers (`Name: value`) are headers only when an empty line follows them or every name is
 * a known HTTP header: `secret: secret` right under the request line is the seeds' YAML body, not a header.
 */
const KNOWN_HEADERS = new Set([
  'accept', 'accept-language', 'authorization', 'cache-control', 'content-type', 'if-match', 'if-none-match',
  'if-modified-since', 'if-none-exist', 'if-unmodified-since', 'prefer', 'pragma',
]);
/** Fetch drops these silently (Fetch standard, "forbidden request-header"); say so rather than pretend to send them. */
const FORBIDDEN_HEADERS = new Set([
  'accept-charset', 'accept-encoding', 'access-control-request-headers', 'access-control-request-method', 'connection',
  'content-length', 'cookie', 'cookie2', 'date', 'dnt', 'expect', 'host', 'keep-alive', 'origin', 'referer', 'te',
  'trailer', 'transfer-encoding', 'upgrade', 'via',
]);
const HEADER_LINE = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+):[ \t]*(.*)$/;
const REQUEST_LINE = /^([A-Za-z]+)[ \t]+(\S+)(?:[ \t]+HTTP\/\d(?:\.\d)?)?[ \t]*$/;

const isKnownHeader = (name: string) => KNOWN_HEADERS.has(name.toLowerCase()) || /^x-/i.test(name);

export function parseRequest(text: string, origin: string): ParsedRequest {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let index = lines.findIndex((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  if (index === -1) return { request: null, problems: [{ message: 'Type a request: a first line such as "GET /Patient".' }] };
  const requestLineNumber = index + 1;
  const requestLine = REQUEST_LINE.exec(lines[index]!.trim());
  if (!requestLine) {
    return { request: null, problems: [{ message: 'The first line is METHOD /path, e.g. "GET /Patient?name=smith".', line: requestLineNumber }] };
  }
  const method = requestLine[1]!.toUpperCase();
  if (!(METHODS as readonly string[]).includes(method)) {
    return { request: null, problems: [{ message: `Unknown method "${method.slice(0, 20)}": use one of ${METHODS.join(', ')}.`, line: requestLineNumber }] };
  }
  const path = pathOn(requestLine[2]!, origin);
  if (path === null) {
    return { request: null, problems: [{ message: 'The path starts with "/" (a request goes to this server only).', line: requestLineNumber }] };
  }

  // The block right under the request line, up to the first empty line; then the rest.
  index += 1;
  const blockStart = index;
  while (index < lines.length && lines[index]!.trim() !== '') index += 1;
  const block = lines.slice(blockStart, index);
  const emptyLineFollows = index < lines.length;
  const headerMatches = block.map((line) => HEADER_LINE.exec(line));
  const blockIsHeaders = block.length > 0 && headerMatches.every(Boolean)
    && (emptyLineFollows || headerMatches.every((match) => isKnownHeader(match![1]!)) || method === 'GET' || method === 'DELETE' || method === 'HEAD');

  const problems: Problem[] = [];
  const headers: [string, string][] = [];
  let bodyStart = blockStart;
  if (blockIsHeaders) {
    headerMatches.forEach((match, offset) => {
      const [, name, value] = match!;
      if (FORBIDDEN_HEADERS.has(name!.toLowerCase())) {
        problems.push({ message: `A browser page cannot set the ${name} header; send this one with curl.`, line: blockStart + offset + 1 });
      } else {
        headers.push([name!, value!.trim()]);
      }
    });
    bodyStart = index + 1;
  }
  while (bodyStart < lines.length && lines[bodyStart]!.trim() === '') bodyStart += 1;
  const bodyText = lines.slice(bodyStart).join('\n').replace(/\s+$/, '');
  const body = bodyText === '' ? null : `${bodyText}\n`;

  if (body !== null && (method === 'GET' || method === 'HEAD')) {
    problems.push({ message: `A ${method} request has no body; write the search in the path's query instead.`, line: bodyStart + 1 });
  }
  const contentType = headerValue(headers, 'content-type');
  const bodyFormat = body === null ? null : formatOf(contentType, body);
  if (body !== null && (bodyFormat === 'json' || bodyFormat === 'yaml')) {
    for (const problem of parse(body, bodyFormat).problems) {
      problems.push({ message: problem.message, line: problem.line === undefined ? undefined : bodyStart + problem.line });
    }
  }
  if (problems.length) return { request: null, problems };
  return { request: { method: method as Method, path, headers, body, bodyFormat }, problems };
}

/**
 * A path on this server: "/x", or a full URL of this very origin, cut down to path and query. Resolved as fetch
 * will resolve it, so "/\\elsewhere" (read as "//elsewhere") cannot reach another origin.
 */
function pathOn(target: string, origin: string): string | null {
  if (!target.startsWith('/') && !/^https?:\/\//i.test(target)) return null;
  try {
    const url = new URL(target, origin);
    return url.origin === origin ? url.pathname + url.search : null;
  } catch {
    return null;
  }
}

function formatOf(contentType: string | undefined, body: string): BodyFormat {
  if (contentType === undefined) return detectFormat(body);
  if (/json/i.test(contentType)) return 'json';
  if (/yaml/i.test(contentType)) return 'yaml';
  if (/x-www-form-urlencoded/i.test(contentType)) return 'form';
  return 'text';
}

export function headerValue(headers: [string, string][], name: string): string | undefined {
  return headers.find(([key]) => key.toLowerCase() === name)?.[1];
}

const CONTENT_TYPES: Record<BodyFormat, string> = {
  json: 'application/json',
  yaml: 'text/yaml',
  form: 'application/x-www-form-urlencoded',
  text: 'text/plain',
};

function encodeBasic(id: string, secret: string): string {
  // RFC 7617 §2: user-id ":" password, base64 of their UTF-8 bytes.
  const bytes = new TextEncoder().encode(`${id}:${secret}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/**
 * The headers to send: the ones typed, a JSON Accept and the body's Content-Type unless typed, and the sender's
 * Authorization unless one was typed. `consoleToken` is only read when the sender is the console itself.
 */
export function headersToSend(request: RestRequest, sender: Sender, consoleToken: string | null): [string, string][] {
  const headers: [string, string][] = [...request.headers];
  if (headerValue(headers, 'accept') === undefined) headers.push(['Accept', 'application/json']);
  if (request.body !== null && headerValue(headers, 'content-type') === undefined) headers.push(['Content-Type', CONTENT_TYPES[request.bodyFormat ?? 'text']]);
  if (headerValue(headers, 'authorization') === undefined) {
    if (sender.kind === 'console' && consoleToken) headers.push(['Authorization', `Bearer ${consoleToken}`]);
    if (sender.kind === 'basic') headers.push(['Authorization', encodeBasic(sender.id, sender.secret)]);
    if (sender.kind === 'token') headers.push(['Authorization', `Bearer ${sender.token.trim()}`]);
  }
  return headers;
}

/** The name a shell reads the console's token from in a copied command; the token itself is never copied. */
export const TOKEN_PLACEHOLDER = '$WARDEN_TOKEN';

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * The request as a curl command. Sent as the console, the Authorization header names $WARDEN_TOKEN; any
 * appearance of the console's token (pasted into a header, say) is replaced by that name too, before quoting,
 * so the token is not in the command in any spelling.
 */
export function curlOf(request: RestRequest, sender: Sender, baseUrl: string, consoleToken: string | null): string {
  const hide = (value: string) => (consoleToken ? value.split(consoleToken).join(TOKEN_PLACEHOLDER) : value);
  // The name stays outside the single quotes, so the shell expands it.
  const quote = (value: string) => shellQuote(hide(value)).split(TOKEN_PLACEHOLDER).join(`'"${TOKEN_PLACEHOLDER}"'`);
  const headers = headersToSend(request, sender.kind === 'token' ? sender : { kind: 'none' }, null);
  const parts = [`curl -X ${request.method} ${quote(baseUrl.replace(/\/$/, '') + request.path)}`];
  for (const [name, value] of headers) parts.push(`-H ${quote(`${name}: ${value}`)}`);
  if (headerValue(request.headers, 'authorization') === undefined) {
    if (sender.kind === 'console') parts.push(`-H "Authorization: Bearer ${TOKEN_PLACEHOLDER}"`);
    if (sender.kind === 'basic') parts.push(`-u ${quote(`${sender.id}:${sender.secret}`)}`);
  }
  if (request.body !== null) parts.push(`--data-binary ${quote(request.body)}`);
  return parts.join(' \\\n  ');
}

/** A sender as a short label for the history. */
export function senderLabel(sender: Sender): string {
  switch (sender.kind) {
    case 'console': return 'as you';
    case 'basic': return `Basic ${sender.id}`;
    case 'token': return 'pasted token';
    case 'none': return 'anonymous';
  }
}
