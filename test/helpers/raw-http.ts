// HTTP/1.1 over a plain socket, for what fetch would not send as written: dot segments, raw bytes in the
// request line, slow senders. The request is sent as given; the answer is read until the server closes.
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Map<string, string[]>;
  body: string;
  /** Everything the server sent, as text. */
  text: string;
}

function parse(text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: end < 0 ? '' : text.slice(end + 4), text };
}

function open(baseUrl: string): Socket {
  const { hostname, port } = new URL(baseUrl);
  return connect({ host: hostname, port: Number(port) });
}

/**
 * Sends `head` (request line and headers, without the blank line) and `body` with `Connection: close`, and a
 * Host and a Content-Length unless `head` has its own.
 */
export function rawRequest(baseUrl: string, head: string, body = ''): Promise<RawResponse> {
  const host = new URL(baseUrl).host;
  const hostLine = /^host:/im.test(head) ? '' : `Host: ${host}\r\n`;
  const request = `${head}\r\n${hostLine}Connection: close\r\n${body === '' || /^(content-length|transfer-encoding):/im.test(head) ? '' : `Content-Length: ${Buffer.byteLength(body)}\r\n`}\r\n${body}`;
  return new Promise((resolve, reject) => {
    const socket = open(baseUrl);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(parse(Buffer.concat(chunks).toString('latin1'))));
    socket.write(request, 'latin1');
  });
}

export interface Trickle {
  /** Whether the server closed the connection before all of `tail` was sent. */
  cutOff: boolean;
  /** Bytes of `tail` sent before the close. */
  sent: number;
  response: RawResponse;
}

/**
 * The slowloris attack: sends `start` at once, then `tail` one byte every `everyMs`, and reports whether the
 * server closed the connection first. A server without timeouts waits for the whole tail.
 */
export function trickle(baseUrl: string, start: string, tail: string, everyMs: number): Promise<Trickle> {
  return new Promise((resolve) => {
    const socket = open(baseUrl);
    const chunks: Buffer[] = [];
    let sent = 0;
    let closed = false;
    const timer = setInterval(() => {
      if (closed || sent >= tail.length) return clearInterval(timer);
      socket.write(tail[sent++]);
    }, everyMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      clearInterval(timer);
      resolve({ cutOff: sent < tail.length, sent, response: parse(Buffer.concat(chunks).toString('latin1')) });
    });
    socket.write(start);
  });
}

/** Opens a connection, optionally sends `start`, and resolves once the server closes it (for idle timeouts). */
export function waitForClose(baseUrl: string, start = ''): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = open(baseUrl);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => resolve(parse(Buffer.concat(chunks).toString('latin1'))));
    if (start) socket.write(start);
  });
}
