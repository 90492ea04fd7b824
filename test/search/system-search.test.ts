import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

interface Bundle { total?: number; link: { relation: string; url: string }[]; entry?: { resource: { resourceType: string; id: string; meta: { lastUpdated: string } }; search: { mode: string } }[] }

for (const engine of engines()) {
  describe(`GET /?_type= searches across types (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      const resources = [
        { resourceType: 'Patient', id: 'st-p1', meta: { tag: [{ system: 'urn:t', code: 'x' }] } },
        { resourceType: 'Practitioner', id: 'st-d1', meta: { tag: [{ system: 'urn:t', code: 'x' }] } },
        { resourceType: 'Patient', id: 'st-p2' },
        { resourceType: 'Organization', id: 'st-o1', meta: { tag: [{ system: 'urn:t', code: 'x' }] }, name: 'St Org' },
        { resourceType: 'Practitioner', id: 'st-d2', meta: { tag: [{ system: 'urn:t', code: 'x' }] } },
      ];
      for (const resource of resources) {
        const response = await server.request('PUT', `/${resource.resourceType}/${resource.id}`, { body: resource });
        assert.ok(response.status < 300, response.text);
      }
    });
    after(() => server.close());

    const search = async (path: string) => {
      const response = await server.request('GET', path);
      assert.equal(response.status, 200, response.text);
      return response.body as Bundle;
    };
    const keys = (bundle: Bundle) => (bundle.entry ?? []).filter((e) => e.search.mode === 'match').map((e) => `${e.resource.resourceType}/${e.resource.id}`);

    test('finds the matches of every named type, with one total', async () => {
      const bundle = await search('/?_type=Patient,Practitioner&_tag=urn:t|x');
      assert.deepEqual(keys(bundle).sort(), ['Patient/st-p1', 'Practitioner/st-d1', 'Practitioner/st-d2']);
      assert.equal(bundle.total, 3);
    });

    test('orders by _lastUpdated across types, and pages without repeating or skipping', async () => {
      const newestFirst = keys(await search('/?_type=Patient,Practitioner,Organization&_sort=-_lastUpdated'));
      assert.deepEqual(newestFirst, ['Practitioner/st-d2', 'Organization/st-o1', 'Patient/st-p2', 'Practitioner/st-d1', 'Patient/st-p1']);
      const pages: string[] = [];
      for (let page = 1; page <= 3; page++) pages.push(...keys(await search(`/?_type=Patient,Practitioner,Organization&_sort=-_lastUpdated&_count=2&_page=${page}`)));
      assert.deepEqual(pages, newestFirst);
      const first = await search('/?_type=Patient,Practitioner,Organization&_sort=_lastUpdated&_count=2');
      assert.deepEqual(keys(first), ['Patient/st-p1', 'Practitioner/st-d1']);
      assert.ok(first.link.find((link) => link.relation === 'next')!.url.startsWith(`${server.config.baseUrl}/?_type=`));
    });

    test('a parameter every named type has is accepted; one some lack is refused', async () => {
      assert.deepEqual(keys(await search('/?_type=Organization,Patient&name=st')), ['Organization/st-o1']);
      const refused = await server.request('GET', '/?_type=Organization,Patient&gender=male');
      assert.equal(refused.status, 400);
      assert.match(refused.body.issue[0].diagnostics, /not one of every type in _type: Organization has none/);
    });

    test('_summary=count and _count=0 answer the total alone', async () => {
      const bundle = await search('/?_type=Patient,Organization&_summary=count');
      assert.equal(bundle.total, 3);
      assert.deepEqual(keys(bundle), []);
    });

    test('the CapabilityStatement says so', async () => {
      const rest = (await server.request('GET', '/metadata')).body.rest[0];
      assert.ok(rest.interaction.some((i: { code: string }) => i.code === 'search-system'));
      assert.deepEqual(rest.searchParam.map((p: { name: string }) => p.name).sort(), ['_id', '_lastUpdated', '_profile', '_security', '_source', '_tag']);
      const location = rest.resource.find((r: { type: string }) => r.type === 'Location');
      assert.ok(location.searchParam.some((p: { name: string; type: string }) => p.name === 'near' && p.type === 'special'));
      assert.ok(location.searchParam.some((p: { name: string }) => p.name === '_content'));
    });
  });
}
