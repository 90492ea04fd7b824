// A minimal browser for HTTP-level tests of the pages: keeps cookies, never follows redirects, reads forms.

export interface PageResponse {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
}

export class CookieBrowser {
  readonly cookies = new Map<string, string>();
  readonly setCookieHeaders: string[] = [];

  constructor(readonly baseUrl: string) {}

  async get(path: string): Promise<PageResponse> {
    return this.send('GET', path);
  }

  async post(path: string, form: Record<string, string>): Promise<PageResponse> {
    return this.send('POST', path, new URLSearchParams(form).toString());
  }

  async send(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<PageResponse> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(path.startsWith('http') ? path : `${this.baseUrl}${path}`, {
      method,
      redirect: 'manual',
      body,
      headers: {
        ...(cookie && { cookie }),
        ...(body !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }),
        ...headers,
      },
    });
    for (const line of response.headers.getSetCookie()) {
      this.setCookieHeaders.push(line);
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: response.status, headers: response.headers, text: await response.text(), location: response.headers.get('location') };
  }
}

/** The value of a hidden input in a page. */
export function field(html: string, name: string): string {
  const match = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html);
  if (!match) throw new Error(`no hidden field ${name} in page`);
  return match[1].replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/** Every hidden input of the page's (first) form, as a form body to post back. */
export function hiddenFields(html: string): Record<string, string> {
  const form: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    form[match[1]] = match[2].replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  }
  return form;
}

export function pkcePair(verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk') {
  // RFC 7636 Appendix B's example pair.
  return { verifier, challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' };
}
