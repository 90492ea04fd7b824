// Real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) and a client web app on the
// loopback interface that receives the redirects and serves the attacker pages of the attack tests.
import { createServer, type Server } from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { escapeHtml } from '../../src/pages/html.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

export interface ClientApp {
  /** The app's origin, e.g. http://127.0.0.1:51234: a different origin from Warden's (other port). */
  origin: string;
  callback: string;
  /** Serves `html` at `path` from now on. */
  page(path: string, html: string): void;
  close(): Promise<void>;
}

export async function startClientApp(): Promise<ClientApp> {
  const pages = new Map<string, string>();
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://client');
    const body =
      pages.get(url.pathname) ??
      `<!doctype html><title>Client app</title><h1>Callback received</h1><p id="query">${escapeHtml(url.search)}</p>`;
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    callback: `${origin}/callback`,
    page: (path, html) => void pages.set(path, html),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
