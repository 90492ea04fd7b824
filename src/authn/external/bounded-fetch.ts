// Calls to another identity provider's endpoints (JWKS, RFC 7662 introspection), bounded in time and size:
// a provider that is down, slow or answers something huge costs one request a short wait, never more.
import { outboundProblemNow } from '../../http/outbound-url.ts';

/** The endpoint did not give a usable answer; the message is for operators and never contains a token. */
export class EndpointError extends Error {}

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
  /** WARDEN_ALLOW_INSECURE_JWKS_URIS: plain http and link-local addresses allowed (development). */
  allowInsecureUrls: boolean;
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new EndpointError(`answered ${declared} bytes, more than the ${maxBytes} allowed`);
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new EndpointError(`answered more than the ${maxBytes} bytes allowed`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Fetches `url` and parses its JSON answer; the timeout covers connecting, waiting and reading the body. */
export async function fetchJson(url: string, init: RequestInit, limits: FetchLimits): Promise<unknown> {
  // Checked again at each fetch: a resource stored by hand, or a host name that now points at a metadata address.
  const refused = await outboundProblemNow(url, limits.allowInsecureUrls);
  if (refused) throw new EndpointError(`is refused: it ${refused}`);
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let text: string;
  try {
    // Redirects are refused: the configured URL is the one trusted, not wherever it points.
    const response = await fetch(url, { ...init, signal, redirect: 'error' });
    if (!response.ok) {
      await response.body?.cancel();
      throw new EndpointError(`answered HTTP ${response.status}`);
    }
    text = await readLimited(response, limits.maxBytes);
  } catch (error) {
    if (error instanceof EndpointError) throw error;
    if (signal.aborted) throw new EndpointError(`gave no answer within ${limits.timeoutMs} ms`);
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new EndpointError(`is unreachable${cause ? ` (${cause})` : ''}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new EndpointError('answered something that is not JSON');
  }
}
