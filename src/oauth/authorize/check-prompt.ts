// prompt and max_age (OpenID Connect Core §3.1.2.1): whether the user must sign in again, and whether Warden may
// show a page at all.
import { toClient } from './authorize-error.ts';
import type { AuthorizeParams } from './params.ts';

export type Prompt = 'none' | 'login' | 'consent';
const SUPPORTED = new Set(['none', 'login', 'consent']);

export function checkPrompt(params: AuthorizeParams): { prompt: Set<Prompt>; maxAge?: number } {
  const values = (params.values.prompt ?? '').split(' ').filter(Boolean);
  const unknown = values.find((value) => !SUPPORTED.has(value));
  if (unknown !== undefined) throw toClient('invalid_request', `prompt "${unknown.slice(0, 20)}" is not supported`);
  const prompt = new Set(values as Prompt[]);
  if (prompt.has('none') && prompt.size > 1) throw toClient('invalid_request', 'prompt=none cannot be combined with other values');
  const raw = params.values.max_age;
  if (raw === undefined || raw === '') return { prompt };
  if (!/^\d{1,9}$/.test(raw)) throw toClient('invalid_request', 'max_age must be a non-negative integer');
  return { prompt, maxAge: Number(raw) };
}
