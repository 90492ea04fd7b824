// Brute force against passwords and client secrets (OWASP ASVS 5.0 V6.3.1: controls against brute force and
// credential stuffing; V6.3.8: valid users cannot be deduced from failures), attacked as a hostile caller
// would: over raw HTTP, from several source addresses (any of 127.0.0.0/8 reaches the server).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { CookieBrowser, hiddenFields } from '../helpers/browser.ts';
import { createClient, createUser, postForm, postFormFrom, requestFrom } from '../helpers/oauth.ts';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';
import { basic, createTestDatabase, engines, request, startTestServer, type TestServer } from '../helpers/server.ts';

const OWNER = '127.0.0.2';
const ATTACKER = '127.0.0.3';
const LIMITS = { identityLimit: 3, addressLimit: 1000, windowSeconds: 600, knownAddressSeconds: 86_400 };
const SERVICE = { id: 'service', secret: 'service-secret' };
const APP = { id: 'app', secret: 'app-secret' };
const CLIENT_CREDENTIALS = { grant_type: 'client_credentials' };

/** What a caller can tell two answers apart by. */
const answer = (response: { status: number; text: string }) => {
  const body = JSON.parse(response.text);
  // The seconds left in the window may tick between two requests; the wording around them may not differ.
  return { status: response.status, body: { ...body, error_description: body.error_description?.replace(/\d+/g, 'N') } };
};

for (const engine of engines()) {
  describe(`brute force (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { throttle: LIMITS });
      await createClient(server, { ...APP, grant_types: ['password'] });
    });
    after(() => server.close());

    const failTimes = async (times: number, from: string, send: (guess: string) => Promise<{ status: number }>) => {
      for (let i = 0; i < times; i++) assert.notEqual((await send(`guess-${from}-${i}`)).status, 429, `guess ${i} is checked`);
    };

    describe('throttling is no oracle for the right secret (ASVS 5.0 V6.3.1)', () => {
      const token = (from: string, secret: string, id = SERVICE.id) => postFormFrom(server, from, '/auth/token', CLIENT_CREDENTIALS, { id, secret });

      test('while a client is throttled for an address, the right (cached) secret gets the same 429 as a wrong one', async () => {
        await createClient(server, { ...SERVICE, grant_types: ['client_credentials', 'basic'] });
        assert.equal((await token(OWNER, SERVICE.secret)).status, 200, 'the owner\'s use puts the secret in the verification cache');
        await failTimes(LIMITS.identityLimit, ATTACKER, (guess) => token(ATTACKER, guess));
        const wrong = await token(ATTACKER, 'yet-another-guess');
        const right = await token(ATTACKER, SERVICE.secret);
        assert.equal(wrong.status, 429);
        assert.deepEqual(answer(right), answer(wrong));
        assert.ok(Number(right.retryAfter) > 0, 'Retry-After (RFC 6585 §4)');
        const api = await requestFrom(server.url, ATTACKER, 'GET', '/Patient', { auth: SERVICE });
        assert.equal(api.status, 429, 'Basic auth on the API asks the same throttle before its cache');
        assert.equal((await token(OWNER, SERVICE.secret)).status, 200, 'the owner\'s known address is not locked out');
      });

      test('a known address that used up its own failures gets the same 429 for the right secret as for a wrong one', async () => {
        await createClient(server, { id: 'typist', secret: 'typist-secret', grant_types: ['client_credentials'] });
        assert.equal((await token(OWNER, 'typist-secret', 'typist')).status, 200);
        await failTimes(LIMITS.identityLimit, OWNER, (guess) => token(OWNER, guess, 'typist'));
        const wrong = await token(OWNER, 'typo', 'typist');
        const right = await token(OWNER, 'typist-secret', 'typist');
        assert.equal(wrong.status, 429);
        assert.deepEqual(answer(right), answer(wrong));
      });
    });

    describe('concurrent guesses (ASVS 5.0 V6.3.1)', () => {
      test('50 wrong passwords sent at once: no more than the limit are checked, the rest are 429', async () => {
        await createUser(server, { id: 'parallel', password: 'parallel-password' });
        const responses = await Promise.all(
          Array.from({ length: 50 }, (_, i) => postForm(server, '/auth/token', { grant_type: 'password', username: 'parallel', password: `guess-${i}` }, APP)),
        );
        const checked = responses.filter((response) => response.status === 400);
        assert.equal(checked.length + responses.filter((response) => response.status === 429).length, 50);
        assert.ok(checked.length <= LIMITS.identityLimit, `${checked.length} guesses were checked; the limit is ${LIMITS.identityLimit}`);
      });

      test('50 wrong client secrets sent at once: no more than the limit are checked', async () => {
        await createClient(server, { id: 'parallel-client', secret: 'parallel-client-secret', grant_types: ['client_credentials'] });
        const responses = await Promise.all(
          Array.from({ length: 50 }, (_, i) => postForm(server, '/auth/token', CLIENT_CREDENTIALS, { id: 'parallel-client', secret: `guess-${i}` })),
        );
        assert.ok(responses.filter((response) => response.status === 401).length <= LIMITS.identityLimit);
        assert.equal(responses.filter((response) => response.status >= 500).length, 0);
      });

      test('the right secret sent 20 times at once before it is cached: all accepted, none throttled', async () => {
        // Each would reserve a failure before its KDF: 20 reservations at once went past the limit of 3 and a
        // client's first burst got 429s. The same credential from the same address now waits for one check.
        await createClient(server, { id: 'bursting', secret: 'bursting-secret', grant_types: ['client_credentials'] });
        const responses = await Promise.all(Array.from({ length: 20 }, () => postForm(server, '/auth/token', CLIENT_CREDENTIALS, { id: 'bursting', secret: 'bursting-secret' })));
        assert.deepEqual(responses.map((response) => response.status), Array(20).fill(200));
      });
    });

    describe('one budget per principal (ASVS 5.0 V6.3.1)', () => {
      const signIn = (username: string, password: string) =>
        postForm(server, '/auth/token', { grant_type: 'password', username, password }, APP);

      test('a User\'s id, email and userName share one budget', async () => {
        await createUser(server, { id: 'multi', email: 'multi@example.org', userName: 'multi-name', password: 'multi-password' });
        assert.equal((await signIn('multi', 'guess-1')).status, 400);
        assert.equal((await signIn('multi@example.org', 'guess-2')).status, 400);
        assert.equal((await signIn('multi-name', 'guess-3')).status, 400);
        for (const login of ['multi', 'multi@example.org', 'multi-name']) {
          assert.equal((await signIn(login, 'multi-password')).status, 429, login);
        }
      });

      test('the login page and the password grant share the User\'s budget', async () => {
        await createUser(server, { id: 'both-ways', email: 'both@example.org', password: 'both-password' });
        for (let i = 0; i < LIMITS.identityLimit; i++) assert.equal((await signIn('both@example.org', `guess-${i}`)).status, 400);
        const browser = new CookieBrowser(server.url);
        const form = hiddenFields((await browser.get('/auth/login')).text);
        const page = await browser.post('/auth/login', { ...form, username: 'both-ways', password: 'both-password' });
        assert.equal(page.status, 429);
      });

      test('an unknown name is throttled by its canonical form, whatever its case or Unicode form', async () => {
        assert.equal((await signIn('ghost@example.org', 'guess-1')).status, 400);
        assert.equal((await signIn('GHOST@example.org', 'guess-2')).status, 400);
        assert.equal((await signIn('ｇｈｏｓｔ@example.org', 'guess-3')).status, 400, 'fullwidth letters: NFKC');
        assert.equal((await signIn('Ghost@Example.org', 'guess-4')).status, 429);
      });

      test('a client id percent-encoded in Basic credentials (RFC 6749 §2.3.1) shares the client\'s budget', async () => {
        await createClient(server, { id: 'encoded', secret: 'encoded-secret', grant_types: ['client_credentials'] });
        const spellings = ['encoded', '%65ncoded', 'enc%6Fded'];
        for (const [i, id] of spellings.entries()) {
          assert.equal((await postForm(server, '/auth/token', CLIENT_CREDENTIALS, { id, secret: `guess-${i}` })).status, 401, id);
        }
        assert.equal((await postForm(server, '/auth/token', CLIENT_CREDENTIALS, { id: 'encoded', secret: 'encoded-secret' })).status, 429);
      });
    });

    describe('whatever names an attacker sends, the answer is a 4xx (ASVS 5.0 V6.3.1)', () => {
      test('a username or client id of 80 kB of random text is refused, never a 500', async () => {
        const noise = randomBytes(60_000).toString('base64');
        const password = await postForm(server, '/auth/token', { grant_type: 'password', username: noise, password: 'x' }, APP);
        assert.equal(password.status, 400, password.text);
        const post = await postForm(server, '/auth/token', { ...CLIENT_CREDENTIALS, client_id: noise, client_secret: 'x' });
        assert.equal(post.status, 401, post.text);
      });

      test('property: any username and client id get a 4xx at /auth/token', async () => {
        await fc.assert(
          fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), async (username, clientId) => {
            const signIn = await postForm(server, '/auth/token', { grant_type: 'password', username, password: 'x' }, APP);
            assert.ok(signIn.status >= 400 && signIn.status < 500, `${signIn.status} ${signIn.text}`);
            const post = await postForm(server, '/auth/token', { ...CLIENT_CREDENTIALS, client_id: clientId, client_secret: 'x' });
            assert.ok(post.status >= 400 && post.status < 500, `${post.status} ${post.text}`);
          }),
          { numRuns: 25 },
        );
      });
    });

    describe('failures tell nothing apart (ASVS 5.0 V6.3.8)', () => {
      test('a disabled client with the right secret gets the same answer as a wrong secret, and is counted', async () => {
        await createClient(server, { id: 'disabled', secret: 'disabled-secret', grant_types: ['client_credentials', 'basic'], active: false });
        const right = await postForm(server, '/auth/token', CLIENT_CREDENTIALS, { id: 'disabled', secret: 'disabled-secret' });
        const wrong = await postForm(server, '/auth/token', CLIENT_CREDENTIALS, { id: 'disabled', secret: 'wrong' });
        assert.equal(right.status, 401);
        assert.deepEqual(answer(right), answer(wrong));
        assert.equal(right.headers.get('www-authenticate'), wrong.headers.get('www-authenticate'));
        const api = await server.request('GET', '/Patient', { auth: null, headers: { authorization: basic('disabled', 'disabled-secret') } });
        assert.equal(api.status, 401, 'Basic auth on the API');
        // Three failures, the limit: even the right secret is now refused like a wrong one.
        assert.equal((await postForm(server, '/auth/token', CLIENT_CREDENTIALS, { id: 'disabled', secret: 'disabled-secret' })).status, 429);
      });

      test('client_secret_post: a disabled client with the right secret gets the same answer as a wrong secret', async () => {
        await createClient(server, { id: 'disabled-post', secret: 'disabled-secret', grant_types: ['client_credentials'], active: false });
        const post = (secret: string) => postForm(server, '/auth/token', { ...CLIENT_CREDENTIALS, client_id: 'disabled-post', client_secret: secret });
        const [right, wrong] = [await post('disabled-secret'), await post('wrong')];
        assert.equal(right.status, 401);
        assert.deepEqual(answer(right), answer(wrong));
      });

      test('an inactive User with the right password gets the same answer as a wrong password', async () => {
        await createUser(server, { id: 'retired', password: 'retired-password', active: false });
        const signIn = (password: string) => postForm(server, '/auth/token', { grant_type: 'password', username: 'retired', password }, APP);
        assert.deepEqual(answer(await signIn('retired-password')), answer(await signIn('wrong')));
      });
    });
  });
}

describe('brute force across two server processes on one PostgreSQL database', { skip: !process.env.DATABASE_URL && 'DATABASE_URL is not set' }, () => {
  let database: { url: string; drop: () => Promise<void> };
  let processes: ServerProcess[] = [];
  const ADDRESS_LIMIT = 12;
  const env = () => ({
    DATABASE_URL: database.url, LOG_LEVEL: 'warn',
    WARDEN_AUTH_FAILURES_PER_IDENTITY: String(LIMITS.identityLimit), WARDEN_AUTH_FAILURES_PER_ADDRESS: String(ADDRESS_LIMIT),
  });
  const token = (url: string, secret: string) =>
    request(url, 'POST', '/auth/token', {
      raw: new URLSearchParams(CLIENT_CREDENTIALS).toString(),
      contentType: 'application/x-www-form-urlencoded',
      auth: null,
      headers: { authorization: basic(SERVICE.id, secret) },
    });

  before(async () => {
    database = await createTestDatabase();
    processes = [await spawnServer(env()), await spawnServer(env())];
    const created = await request(processes[0].url, 'PUT', `/Client/${SERVICE.id}`, {
      body: { resourceType: 'Client', secret: SERVICE.secret, grant_types: ['client_credentials'] },
    });
    assert.ok(created.status < 300, created.text);
  });
  after(async () => {
    for (const server of processes) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await database?.drop();
  });

  test('guesses sent at once to both processes share one budget: no more than the limit are checked', async () => {
    const [a, b] = processes.map((server) => server.url);
    assert.equal((await token(b, SERVICE.secret)).status, 200, 'the right secret, cached on b');
    const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => token(i % 2 ? a : b, `guess-${i}`)));
    const checked = responses.filter((response) => response.status === 401).length;
    assert.ok(checked <= LIMITS.identityLimit, `${checked} guesses were checked; the limit is ${LIMITS.identityLimit}`);
    assert.deepEqual(responses.filter((response) => response.status !== 401 && response.status !== 429).map((response) => response.text), []);
    // Every address here is 127.0.0.1, the one that succeeded: its own failures now hold it back on both.
    assert.equal((await token(a, SERVICE.secret)).status, 429);
    assert.equal((await token(b, SERVICE.secret)).status, 429, 'the process that has the secret cached asks the shared count first');
  });

  // Issue 21: a cached secret no longer asks the database for the counts unless this process has heard that one
  // of them reached its limit; these show that it always hears in time, on every process.
  describe('a lock counted on one process holds on another whose cache has the secret (ASVS 5.0 V6.3.1)', () => {
    const LOCKED = { id: 'locked', secret: 'locked-secret' };
    const tokenFrom = (url: string, from: string, secret: string) =>
      requestFrom(url, from, 'POST', '/auth/token', { form: CLIENT_CREDENTIALS, auth: { id: LOCKED.id, secret } });

    test('failures on a, then the right secret on b (which has it cached) from the attacker\'s address: 429', async () => {
      const [a, b] = processes.map((server) => server.url);
      await request(a, 'PUT', `/Client/${LOCKED.id}`, { body: { resourceType: 'Client', secret: LOCKED.secret, grant_types: ['client_credentials'] } });
      assert.equal((await tokenFrom(b, OWNER, LOCKED.secret)).status, 200, 'the owner puts the secret in b\'s cache');
      for (let i = 0; i < LIMITS.identityLimit; i++) assert.equal((await tokenFrom(a, ATTACKER, `guess-${i}`)).status, 401);
      assert.equal((await tokenFrom(b, ATTACKER, LOCKED.secret)).status, 429);
      assert.equal((await tokenFrom(b, OWNER, LOCKED.secret)).status, 200, 'the owner\'s known address still gets in');
    });

    test('a process started after an address was locked honours the lock, though it caches the secret', async () => {
      const SPRAYER = '127.0.0.4';
      // A spray of one guess each at many ids: only the address's own counter reaches its limit.
      for (let i = 0; i < ADDRESS_LIMIT; i++) {
        const sprayed = await requestFrom(processes[0].url, SPRAYER, 'POST', '/auth/token', { form: CLIENT_CREDENTIALS, auth: { id: `sprayed-${i}`, secret: 'guess' } });
        assert.equal(sprayed.status, 401);
      }
      const started = await spawnServer(env());
      processes.push(started);
      // A client nobody has failed against: what locks the sprayer out is its address's count alone.
      await request(started.url, 'PUT', '/Client/fresh', { body: { resourceType: 'Client', secret: 'fresh-secret', grant_types: ['client_credentials'] } });
      const fresh = (from: string) => requestFrom(started.url, from, 'POST', '/auth/token', { form: CLIENT_CREDENTIALS, auth: { id: 'fresh', secret: 'fresh-secret' } });
      assert.equal((await fresh(OWNER)).status, 200, 'the owner puts the secret in its cache');
      assert.equal((await fresh(SPRAYER)).status, 429);
    });
  });
});
