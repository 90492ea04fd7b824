import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { assertOutcome } from '../helpers/outcome.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const ids = (bundle: any): string[] => (bundle.entry ?? []).map((entry: any) => entry.resource.id);
const link = (bundle: any, relation: string): string | undefined => bundle.link.find((l: any) => l.relation === relation)?.url;

for (const engine of engines()) {
  describe(`search (${engine})`, () => {
    let server: TestServer;
    // Written in this order, which is not the order of their ids, each a later millisecond than the one before.
    const written = ['m', 'z', 'a', 'q', 'c'];
    before(async () => {
      server = await startTestServer(engine);
      for (const id of written) {
        const response = await server.request('PUT', `/Device/${id}`, { body: { resourceType: 'Device' } });
        const lastUpdated = Date.parse(response.body.meta.lastUpdated);
        while (Date.now() <= lastUpdated) await tick();
      }
      await server.request('PUT', '/Device/deleted', { body: { resourceType: 'Device' } });
      await server.request('DELETE', '/Device/deleted');
    });
    after(() => server.close());

    test('GET /{type} answers a searchset Bundle of the live resources, sorted by id by default, with an accurate total', async () => {
      const result = await server.request('GET', '/Device');
      assert.equal(result.status, 200);
      assert.equal(result.body.resourceType, 'Bundle');
      assert.equal(result.body.type, 'searchset');
      assert.equal(result.body.total, 5);
      assert.deepEqual(ids(result.body), ['a', 'c', 'm', 'q', 'z']);
      assert.equal(result.body.entry[0].fullUrl, `${server.url}/Device/a`);
      assert.equal(result.body.entry[0].search.mode, 'match');
    });

    test('_id with several comma-separated ids finds exactly those', async () => {
      const result = await server.request('GET', '/Device?_id=z,a,nope');
      assert.deepEqual(ids(result.body), ['a', 'z']);
      assert.equal(result.body.total, 2);
    });

    test('_id does not find a deleted resource', async () => {
      const result = await server.request('GET', '/Device?_id=deleted');
      assert.deepEqual(ids(result.body), []);
      assert.equal(result.body.total, 0);
    });

    test('_id with an invalid id answers 400', async () => {
      assertOutcome(await server.request('GET', '/Device?_id=bad%20id'), 400, /_id: "bad id" is not an id/);
    });

    test('_count and _page page through the results with self, first, previous, next and last links', async () => {
      const first = await server.request('GET', '/Device?_count=2');
      assert.deepEqual(ids(first.body), ['a', 'c']);
      assert.equal(link(first.body, 'previous'), undefined);
      assert.equal(link(first.body, 'last'), `${server.url}/Device?_page=3&_count=2`);
      const next = link(first.body, 'next');
      assert.equal(next, `${server.url}/Device?_page=2&_count=2`);
      const second = await server.request('GET', next!.slice(server.url.length));
      assert.deepEqual(ids(second.body), ['m', 'q']);
      assert.equal(link(second.body, 'previous'), `${server.url}/Device?_page=1&_count=2`);
      assert.equal(link(second.body, 'self'), `${server.url}/Device?_page=2&_count=2`);
      const third = await server.request('GET', link(second.body, 'next')!.slice(server.url.length));
      assert.deepEqual(ids(third.body), ['z']);
      assert.equal(link(third.body, 'next'), undefined);
    });

    test('paging links keep the other search parameters', async () => {
      const result = await server.request('GET', '/Device?_id=a,c,m&_count=1&_sort=-_lastUpdated');
      const next = new URL(link(result.body, 'next')!);
      assert.equal(next.searchParams.get('_id'), 'a,c,m');
      assert.equal(next.searchParams.get('_sort'), '-_lastUpdated');
      assert.equal(next.searchParams.get('_page'), '2');
    });

    test('_sort=_lastUpdated orders oldest first and -_lastUpdated newest first', async () => {
      assert.deepEqual(ids((await server.request('GET', '/Device?_sort=_lastUpdated')).body), written);
      assert.deepEqual(ids((await server.request('GET', '/Device?_sort=-_lastUpdated')).body), [...written].reverse());
    });

    test('_total=none leaves the total out, _total=accurate gives it', async () => {
      const none = await server.request('GET', '/Device?_total=none&_count=2');
      assert.equal(none.status, 200);
      assert.equal('total' in none.body, false);
      assert.ok(link(none.body, 'next'), 'a next link without a total');
      assert.equal(link(none.body, 'last'), undefined);
      assert.equal((await server.request('GET', '/Device?_total=accurate')).body.total, 5);
    });

    test('_count=0 answers only the total', async () => {
      const result = await server.request('GET', '/Device?_count=0');
      assert.equal(result.status, 200);
      assert.equal(result.body.total, 5);
      assert.deepEqual(ids(result.body), []);
      assert.equal(link(result.body, 'next'), undefined, 'no endless paging through empty pages');
    });

    test('an unknown search parameter is refused with 400, not ignored', async () => {
      assertOutcome(await server.request('GET', '/Device?name=x'), 400, /Unsupported search parameter "name"/);
    });

    test('malformed _count, _page, _sort and _total answer 400 naming the parameter', async () => {
      assertOutcome(await server.request('GET', '/Device?_count=abc'), 400, /_count must be an integer from 0 to 1000, got "abc"/);
      assertOutcome(await server.request('GET', '/Device?_count=1001'), 400, /_count must be an integer/);
      assertOutcome(await server.request('GET', '/Device?_page=0'), 400, /_page must be an integer from 1/);
      assertOutcome(await server.request('GET', '/Device?_sort=nonsense'), 400, /_sort: Device has no search parameter "nonsense"/);
      assertOutcome(await server.request('GET', '/Device?_total=some'), 400, /_total must be accurate, estimate or none/);
      assertOutcome(await server.request('GET', '/Device?_count=1&_count=2'), 400, /_count may appear only once/);
    });

    test('search of a type with no resources answers an empty Bundle', async () => {
      const result = await server.request('GET', '/Encounter');
      assert.equal(result.status, 200);
      assert.equal(result.body.total, 0);
      assert.deepEqual(ids(result.body), []);
    });
  });
}
