// The first start: a new store has no administrator, so nobody could sign in to the console. As Keycloak does,
// a setup page answering only on the machine Warden runs on (/console/setup) makes the first one: a User with the
// Role `admin`. Until an administrator exists, and unless a root client is configured (the way in for
// automation), every other caller is turned away, so nobody on the network can take a fresh server first.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import { applyWriteRules } from '../iam/write-rules.ts';
import { Csrf } from '../http/csrf.ts';
import { sendPage } from '../pages/layout.ts';
import { setupDonePage, setupPage } from '../pages/setup.ts';
import { VersionConflict } from '../store/resource-store.ts';
import { ADMIN_ROLE, adminRole } from './console-admin.ts';

export const SETUP_PATH = '/console/setup';
const MIN_PASSWORD_LENGTH = 12;
const USER_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** Whether a User that exists holds the Role `admin`. */
async function adminExists(ctx: AppContext): Promise<boolean> {
  for (const [userId, roles] of (await ctx.policies.fresh()).rolesByUser) {
    if (!roles.includes(ADMIN_ROLE)) continue;
    const current = await ctx.resources.read('User', userId);
    if (current && !current.deleted && current.resource.active !== false) return true;
  }
  return false;
}

/**
 * Loopback in every respect: the connection comes from this machine, no proxy forwarded it (a proxy on the same
 * host would make every caller look local), and the Host is a loopback name, so a page of another site that
 * rebinds its DNS name to 127.0.0.1 is not "local" either.
 */
export function isLoopbackRequest(request: FastifyRequest): boolean {
  const address = request.socket.remoteAddress ?? '';
  const fromLoopback = address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
  const forwarded = ['forwarded', 'x-forwarded-for', 'x-real-ip'].some((name) => request.headers[name] !== undefined);
  const host = (request.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  const loopbackHost = host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
  return fromLoopback && !forwarded && loopbackHost;
}

/** Whether the store still waits for its first administrator; once one exists it never asks again. */
export class FirstStart {
  private pending = true;

  constructor(private readonly ctx: AppContext) {}

  /** Asks the store only while no administrator was seen: another process may have made one meanwhile. */
  async awaitsAdmin(): Promise<boolean> {
    if (this.pending && (await adminExists(this.ctx))) this.pending = false;
    return this.pending;
  }

  /** Closed to everyone but this machine: nothing may act before an administrator does, unless a root client can. */
  async closedTo(request: FastifyRequest): Promise<boolean> {
    if (this.ctx.config.rootClient || !this.pending || isLoopbackRequest(request)) return false;
    return this.awaitsAdmin();
  }

  /** Makes the first administrator, unless one appeared meanwhile; false when the user id is taken. */
  async createAdmin(userId: string, password: string): Promise<boolean> {
    const { resources } = this.ctx;
    try {
      await resources.write(await applyWriteRules({ resourceType: 'User', id: userId, password, active: true }), null);
    } catch (error) {
      if (error instanceof VersionConflict) return false;
      throw error;
    }
    await resources.write(await applyWriteRules(adminRole(userId)), null);
    this.pending = false;
    return true;
  }
}

const firstStarts = new WeakMap<AppContext, FirstStart>();

export function firstStartOf(ctx: AppContext): FirstStart {
  let firstStart = firstStarts.get(ctx);
  if (!firstStart) firstStarts.set(ctx, (firstStart = new FirstStart(ctx)));
  return firstStart;
}

/** onRequest: until the first administrator exists, only this machine is served (and /health, for probes). */
export function firstStartGate(ctx: AppContext) {
  const firstStart = firstStartOf(ctx);
  return async function gate(request: FastifyRequest, reply: FastifyReply) {
    if (request.url === '/health' || !(await firstStart.closedTo(request))) return;
    return reply
      .code(503)
      .header('cache-control', 'no-store')
      .type('text/plain; charset=utf-8')
      .send(
        'Warden is not set up yet: it has no administrator. On the machine it runs on, open ' +
          `http://localhost:${ctx.config.port}${SETUP_PATH} to create one, or start it with WARDEN_ADMIN_PASSWORD ` +
          '(or WARDEN_ROOT_CLIENT_SECRET) set.\n',
      );
  };
}

export async function setupRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const firstStart = firstStartOf(ctx);
  const csrf = await Csrf.load(ctx.db, ctx.config.baseUrl);
  const open = { config: { public: true } };

  /** The page is only for this machine, and only while there is no administrator. */
  async function unavailable(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | null> {
    if (!isLoopbackRequest(request)) {
      return sendPage(reply, 403, setupDonePage('The setup page answers only on the machine Warden runs on: open it there, at http://localhost, or set WARDEN_ADMIN_PASSWORD.'));
    }
    if (!(await firstStart.awaitsAdmin())) return sendPage(reply, 410, setupDonePage('Warden already has an administrator.'));
    return null;
  }

  app.get(SETUP_PATH, open, async (request, reply) => {
    return (await unavailable(request, reply)) ?? sendPage(reply, 200, setupPage({ csrf: csrf.issue(request, reply) }));
  });

  app.post(SETUP_PATH, open, async (request, reply) => {
    const closed = await unavailable(request, reply);
    if (closed) return closed;
    const form = (request.body && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>;
    const username = typeof form.username === 'string' ? form.username.trim() : '';
    const password = typeof form.password === 'string' ? form.password : '';
    const again = (error: string) => sendPage(reply, 400, setupPage({ csrf: csrf.issue(request, reply), username, error }));
    if (!csrf.verify(request, form.csrf_token)) return again('This form has expired. Please try again.');
    if (!USER_ID.test(username)) return again('The user id may hold letters, digits, "-" and "." (at most 64).');
    if (password.length < MIN_PASSWORD_LENGTH) return again(`The password must be at least ${MIN_PASSWORD_LENGTH} characters long.`);
    if (password !== form.password_again) return again('The two passwords differ.');
    if (!(await firstStart.createAdmin(username, password))) return again(`A User "${username}" exists already: choose another user id.`);
    request.log.info({ user: username }, 'first administrator created on the setup page');
    return reply.redirect('/console/', 303);
  });
}

/** What the log says at start: where the console is and, on a first start, how to get in. */
export async function firstStartHints(ctx: AppContext): Promise<string[]> {
  const { baseUrl, port, rootClient } = ctx.config;
  const hints = [`the admin console is at ${baseUrl}/console`];
  if (await firstStartOf(ctx).awaitsAdmin()) {
    hints.push(
      `no administrator yet: open http://localhost:${port}${SETUP_PATH} on this machine to create one (or set WARDEN_ADMIN_PASSWORD)` +
        (rootClient ? '' : '; until then Warden answers only callers on this machine'),
    );
  }
  return hints;
}
