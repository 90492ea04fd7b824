// The two-factor steps in the browser.
//   POST /auth/login (login-endpoint.ts) hands a user with two-factor on to `challenge`: no session yet, only a
//   short-lived challenge bound to this browser by a cookie.
//   GET|POST /auth/login/two-factor: the code; the right one starts the session and continues the authorization.
//   GET|POST /auth/two-factor: a signed-in user turns two-factor on (QR code, confirm with a code, recovery codes)
//   or off (with a valid code).
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { authServices } from '../authn/services.ts';
import { Throttled } from '../errors.ts';
import { enabledTwoFactor, matchingStep, newRecoveryCodes, newSecret, otpauthUri, twoFactorSettings, TwoFactorCodes, twoFactorOf, type UserTwoFactor } from '../authn/two-factor.ts';
import { loadActiveUser } from '../authn/user-login.ts';
import { clearCookie, readCookies, setCookie } from '../http/cookies.ts';
import { seal, unseal } from '../iam/sealed-secret.ts';
import { VersionConflict, type Resource } from '../store/resource-store.ts';
import type { BrowserFlows } from './browser-flows.ts';
import { errorPage } from '../pages/error.ts';
import { html } from '../pages/html.ts';
import { page, sendPage } from '../pages/layout.ts';
import { throttledMessage } from './login.ts';
import { completeSignIn } from './sign-in.ts';
import { codeStepPage, enrolPage, recoveryCodesPage, twoFactorStatusPage } from '../pages/two-factor.ts';

/** Time to open the authenticator app and type the code. */
const CHALLENGE_SECONDS = 300;
const WRONG_CODE = 'That code is not right. Check your authenticator app and try again.';
const REPLAYED_CODE = 'That code has been used already. Wait for the next one.';
const FORM_EXPIRED = 'This form has expired. Please try again.';

const hash = (value: string) => createHash('sha256').update(value).digest('base64url');
const form = (request: FastifyRequest) => (request.body && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>;
const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '');

export function twoFactorEndpoints(flows: BrowserFlows) {
  const { ctx } = flows;
  const services = authServices(ctx);
  const codes = new TwoFactorCodes(ctx.db, ctx.resources, services.secrets.throttle);
  const secure = ctx.config.baseUrl.startsWith('https:');
  const cookieName = secure ? '__Host-warden_two_factor' : 'warden_two_factor';

  async function pendingChallenge(request: FastifyRequest): Promise<{ userId: string; returnTo: string; binding: string } | null> {
    const binding = readCookies(request).get(cookieName);
    if (!binding || binding.length > 100) return null;
    const [row] = await ctx.db.query<{ user_id: string; return_to: string }>(
      `select user_id, return_to from two_factor_challenge where binding_hash = $1 and expires_at > now()`,
      [hash(binding)],
    );
    return row ? { userId: row.user_id, returnTo: row.return_to, binding } : null;
  }

  const showCode = (request: FastifyRequest, reply: FastifyReply, status: number, error?: string) =>
    sendPage(reply, status, codeStepPage({ csrf: flows.csrf.issue(request, reply), error }));

  async function showEnrol(request: FastifyRequest, reply: FastifyReply, user: Resource, status = 200, error?: string, pending?: string) {
    // The key waits in the form, sealed together with the user's id, so no one else's form can confirm it.
    const secret = pending ? await pendingSecret(user, pending) : newSecret();
    if (!secret) return sendPage(reply, 400, errorPage({ title: 'Set up two-factor sign-in', message: FORM_EXPIRED, error: 'invalid_request' }));
    const uri = otpauthUri(secret, await twoFactorSettings(ctx.db), typeof user.email === 'string' ? user.email : user.id);
    return sendPage(
      reply,
      status,
      enrolPage({
        csrf: flows.csrf.issue(request, reply),
        qrCode: await QRCode.toDataURL(uri, { margin: 1, width: 200 }),
        secret,
        pending: pending ?? (await seal(ctx.db, `${user.id}\n${secret}`)),
        error,
      }),
    );
  }

  async function pendingSecret(user: Resource, pending: string): Promise<string | null> {
    const opened = await unseal(ctx.db, pending);
    const [userId, secret] = opened?.split('\n') ?? [];
    return userId === user.id && secret ? secret : null;
  }

  /** Writes the User's new twoFactor, conditional on the version just read. */
  async function writeTwoFactor(user: Resource, twoFactor: UserTwoFactor): Promise<boolean> {
    const current = await ctx.resources.read('User', user.id);
    if (!current || current.deleted) return false;
    try {
      await ctx.resources.write({ ...current.resource, twoFactor }, current.versionId);
      return true;
    } catch (error) {
      if (error instanceof VersionConflict) return false;
      throw error;
    }
  }

  async function signedInUser(request: FastifyRequest): Promise<Resource | null> {
    const session = await flows.sessions.current(request);
    return session ? loadActiveUser(ctx.db, session.userId) : null;
  }

  const signInFirst = (reply: FastifyReply) =>
    sendPage(reply, 401, page('Sign in first', html`<h1>Sign in first</h1><p class="lead">Sign in to set up two-factor sign-in.</p><p><a href="/auth/login?return_to=%2Fauth%2Ftwo-factor">Sign in</a></p>`));

  return {
    /** After the right password: ask for the code instead of starting the session. */
    async challenge(request: FastifyRequest, reply: FastifyReply, user: Resource, returnTo: string) {
      const binding = randomBytes(32).toString('base64url');
      await ctx.db.query(
        `insert into two_factor_challenge (binding_hash, user_id, return_to, expires_at) values ($1, $2, $3, now() + make_interval(secs => $4))`,
        [hash(binding), user.id, returnTo, CHALLENGE_SECONDS],
      );
      setCookie(reply, cookieName, binding, { secure, maxAge: CHALLENGE_SECONDS });
      return showCode(request, reply, 200);
    },

    async codeGet(request: FastifyRequest, reply: FastifyReply) {
      if (!(await pendingChallenge(request))) return reply.code(303).header('location', '/auth/login').send();
      return showCode(request, reply, 200);
    },

    async codePost(request: FastifyRequest, reply: FastifyReply) {
      const body = form(request);
      if (!flows.csrf.verify(request, body.csrf_token)) return showCode(request, reply, 403, FORM_EXPIRED);
      const challenge = await pendingChallenge(request);
      const user = challenge ? await loadActiveUser(ctx.db, challenge.userId) : null;
      if (!challenge || !user) return reply.code(303).header('location', '/auth/login').send();
      let result;
      try {
        result = await codes.check(user, text(body.code), request.ip);
      } catch (error) {
        if (!(error instanceof Throttled)) throw error;
        reply.header('retry-after', String(error.retryAfter));
        return showCode(request, reply, 429, throttledMessage(error.retryAfter));
      }
      if (result !== 'ok') {
        request.log.info({ event: 'two_factor_failed', user: user.id, result }, 'two-factor code refused');
        return showCode(request, reply, 401, result === 'replayed' ? REPLAYED_CODE : WRONG_CODE);
      }
      await ctx.db.query('delete from two_factor_challenge where binding_hash = $1', [hash(challenge.binding)]);
      clearCookie(reply, cookieName, { secure });
      return completeSignIn(flows, request, reply, user, challenge.returnTo, { twoFactor: true });
    },

    async settingsGet(request: FastifyRequest, reply: FastifyReply) {
      const user = await signedInUser(request);
      if (!user) return signInFirst(reply);
      if (twoFactorOf(user).enabled === true) return sendPage(reply, 200, twoFactorStatusPage({ csrf: flows.csrf.issue(request, reply) }));
      return showEnrol(request, reply, user);
    },

    async settingsPost(request: FastifyRequest, reply: FastifyReply) {
      const body = form(request);
      const user = await signedInUser(request);
      if (!user) return signInFirst(reply);
      if (!flows.csrf.verify(request, body.csrf_token)) {
        return sendPage(reply, 403, errorPage({ title: 'Two-factor sign-in', message: FORM_EXPIRED, error: 'invalid_request' }));
      }
      const code = text(body.code);
      if (body.action === 'enable' && twoFactorOf(user).enabled !== true) {
        const pending = text(body.pending);
        const secret = await pendingSecret(user, pending);
        const step = secret ? matchingStep(secret, code, await twoFactorSettings(ctx.db)) : null;
        if (!secret || step === null) return showEnrol(request, reply, user, 401, WRONG_CODE, secret ? pending : undefined);
        const recovery = newRecoveryCodes();
        if (!(await writeTwoFactor(user, await enabledTwoFactor(ctx.db, secret, recovery.hashes)))) return showEnrol(request, reply, user, 409, FORM_EXPIRED);
        await codes.useStep(user.id, step);
        request.log.info({ event: 'two_factor_enabled', user: user.id }, 'two-factor sign-in turned on');
        return sendPage(reply, 200, recoveryCodesPage(recovery.codes));
      }
      if (body.action === 'disable' && twoFactorOf(user).enabled === true) {
        let result;
        try {
          result = await codes.check(user, code, request.ip);
        } catch (error) {
          if (!(error instanceof Throttled)) throw error;
          reply.header('retry-after', String(error.retryAfter));
          return sendPage(reply, 429, twoFactorStatusPage({ csrf: flows.csrf.issue(request, reply), error: throttledMessage(error.retryAfter) }));
        }
        if (result !== 'ok') {
          return sendPage(reply, 401, twoFactorStatusPage({ csrf: flows.csrf.issue(request, reply), error: result === 'replayed' ? REPLAYED_CODE : WRONG_CODE }));
        }
        const current = await ctx.resources.read('User', user.id);
        if (!current || !(await writeTwoFactor(current.resource, { enabled: false }))) {
          return sendPage(reply, 409, twoFactorStatusPage({ csrf: flows.csrf.issue(request, reply), error: FORM_EXPIRED }));
        }
        request.log.info({ event: 'two_factor_disabled', user: user.id }, 'two-factor sign-in turned off');
        return sendPage(reply, 200, page('Two-factor sign-in is off', html`<h1>Two-factor sign-in is off</h1><p class="lead">You sign in with your password alone.</p>`));
      }
      return sendPage(reply, 400, errorPage({ title: 'Two-factor sign-in', message: 'This form asked for something that does not apply now.', error: 'invalid_request' }));
    },
  };
}
