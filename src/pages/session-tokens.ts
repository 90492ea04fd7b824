// PLACEHOLDER until the token service (issue 3) is merged: token Sessions linked to a browser session.
import type { BrowserFlows } from './browser-flows.ts';

export async function linkTokenSession(flows: BrowserFlows, sid: string, sessionId: string): Promise<void> {
  await flows.ctx.db.query('insert into browser_session_token (sid, session_id) values ($1, $2) on conflict do nothing', [sid, sessionId]);
}

export async function endTokensOfBrowserSession(flows: BrowserFlows, sid: string): Promise<void> {
  await flows.ctx.db.query('delete from browser_session_token where sid = $1', [sid]);
}
