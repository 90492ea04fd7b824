// What the browser endpoints share: the app context, browser sessions, CSRF tokens and authorization codes.
import { BrowserSessions } from '../authn/browser-session.ts';
import type { AppContext } from '../context.ts';
import { AuthorizationCodes } from './authorize/code-store.ts';
import { Csrf } from '../http/csrf.ts';

export interface BrowserFlows {
  ctx: AppContext;
  sessions: BrowserSessions;
  csrf: Csrf;
  codes: AuthorizationCodes;
}

export async function createBrowserFlows(ctx: AppContext): Promise<BrowserFlows> {
  return {
    ctx,
    sessions: new BrowserSessions(ctx.db, ctx.config),
    csrf: await Csrf.load(ctx.db, ctx.config.baseUrl),
    codes: new AuthorizationCodes(ctx.db),
  };
}
