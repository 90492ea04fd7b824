// AccessTokens remembers JWTs it has verified (issue 21: the signature check was most of a Bearer read's CPU).
// What it remembers must never outlive what made the token good: its expiry, its signing key, its exact bytes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AccessTokens } from '../../src/tokens/access-token.ts';
import { KeyStore } from '../../src/tokens/keys.ts';
import { engines, openTestStore } from '../helpers/server.ts';

for (const engine of engines()) {
  describe(`remembered JWT verifications (${engine})`, () => {
    let store: Awaited<ReturnType<typeof openTestStore>>;
    let keys: KeyStore;
    let now = Date.UTC(2030, 0, 1);
    let tokens: AccessTokens;
    const issue = () =>
      tokens.issue({ format: 'jwt', lifetimeSeconds: 60, sessionId: 's1', clientId: 'c1', subject: 'c1', audience: 'https://warden.example' });

    before(async () => {
      store = await openTestStore(engine);
      keys = new KeyStore(store.db, 'RS256');
      await keys.start();
      tokens = new AccessTokens(store.db, keys, 'https://warden.example', () => now);
    });
    after(() => store.close());

    // First: a rotation in a later test reloads the keys, and a reloaded key is verified anew.
    test('readVerified answers only for a token verified before, and not past its expiry', async () => {
      const { token } = await issue();
      assert.equal(await tokens.readVerified(token), null, 'never verified: nothing is verified here');
      assert.ok(await tokens.read(token));
      assert.equal((await tokens.readVerified(token))?.sid, 's1');
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      assert.equal(await tokens.readVerified(`${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url')}.${signature}`), null);
      now += 60_000;
      assert.equal(await tokens.readVerified(token), null, 'expired at exp');
    });

    test('a remembered token still expires on time', async () => {
      const { token } = await issue();
      assert.equal((await tokens.read(token))?.sid, 's1');
      assert.equal((await tokens.read(token))?.sid, 's1', 'read again, from what was remembered');
      now += 59_000;
      assert.ok(await tokens.read(token));
      now += 1_000;
      assert.equal(await tokens.read(token), null, 'expired at exp, though remembered');
    });

    test('a remembered token stops verifying once its key is retired', async () => {
      const { token } = await issue();
      assert.ok(await tokens.read(token));
      const { kid } = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string };
      await keys.rotate();
      assert.ok(await tokens.read(token), 'a rotation keeps the old key verifying');
      await keys.retire(kid);
      assert.equal(await tokens.read(token), null);
    });

    test('only the exact token is remembered: a changed byte is checked, and refused', async () => {
      const { token } = await issue();
      assert.ok(await tokens.read(token));
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url')}.${signature}`;
      assert.equal(await tokens.read(forged), null);
      const flipped = `${header}.${payload}.${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.slice(-1)}`; // another second-to-last character
      assert.equal(await tokens.read(flipped), null);
    });

    test('a caller changing the claims it was given does not change what the next read gets', async () => {
      const { token } = await issue();
      const first = await tokens.read(token);
      first!.sub = 'admin';
      assert.equal((await tokens.read(token))?.sub, 'c1');
    });
  });
}
