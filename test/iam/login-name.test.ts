// The one rule for "who is this login" (issue 14): the login page, the password grant and their throttling all
// resolve a login name to a User with findUserByLogin. Written down here, on both engines.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { findUserByLogin } from '../../src/iam/user.ts';
import { writeSearchIndex } from '../../src/search/index-writer.ts';
import { ResourceStore } from '../../src/store/resource-store.ts';
import type { Database } from '../../src/store/database.ts';
import { engines, openTestStore } from '../helpers/server.ts';

for (const engine of engines()) {
  describe(`resolving a login name to a User (${engine})`, () => {
    let db: Database;
    let close: () => Promise<void>;
    before(async () => {
      ({ db, close } = await openTestStore(engine));
      const store = new ResourceStore(db, writeSearchIndex);
      for (const user of [
        { resourceType: 'User', id: 'ann', email: 'Ann@Example.com', userName: 'annie' },
        { resourceType: 'User', id: 'bob', email: 'bob@example.com' },
        // Bob's id as Eve's email: the exact id still names Bob.
        { resourceType: 'User', id: 'eve', email: 'bob' },
        { resourceType: 'User', id: 'twin-1', email: 'twin@example.com' },
        { resourceType: 'User', id: 'twin-2', email: 'TWIN@example.com' },
      ]) {
        await store.write(user, null);
      }
    });
    after(() => close());

    const idOf = async (login: string) => (await findUserByLogin(db, login))?.id ?? null;

    test('an id, a userName or an email names the User, letter case aside for the names', async () => {
      assert.equal(await idOf('ann'), 'ann');
      assert.equal(await idOf('ANNIE'), 'ann');
      assert.equal(await idOf('ann@example.COM'), 'ann');
    });

    test('an exact id wins over another User whose email is that id', async () => {
      assert.equal(await idOf('bob'), 'bob');
    });

    test('a name two Users share names neither, and nothing names nobody', async () => {
      assert.equal(await idOf('twin@example.com'), null);
      assert.equal(await idOf('nobody@example.com'), null);
      assert.equal(await idOf(''), null);
      assert.equal(await idOf('x'.repeat(321)), null);
    });
  });
}
