import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { distanceKm } from '../../src/search/near.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

for (const engine of engines()) {
  describe(`_text, _content and near (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      const put = async (resource: { resourceType: string; id: string; [key: string]: unknown }) => {
        const response = await server.request('PUT', `/${resource.resourceType}/${resource.id}`, { body: resource });
        assert.ok(response.status === 200 || response.status === 201, response.text);
      };
      await put({
        resourceType: 'Condition', id: 'tx-1', subject: { reference: 'Patient/p1' },
        text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Chronic <b>Asthma</b>, worse in &#233;t&#xE9; &amp; winter</p></div>' },
        code: { text: 'Bronchial hyperreactivity' },
      });
      await put({
        resourceType: 'Condition', id: 'tx-2', subject: { reference: 'Patient/p1' },
        text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Fracture of the left femur, Élodie</div>' },
        code: { text: 'Fracture' }, note: [{ text: 'Seen by Dr Asthma-free' }],
      });
      await put({ resourceType: 'Condition', id: 'tx-3', subject: { reference: 'Patient/p1' }, code: { text: 'Asthma' } });
      // Paris, Versailles (~17 km from Paris), London (~344 km), and one without a position.
      await put({ resourceType: 'Location', id: 'paris', name: 'Paris', position: { latitude: 48.8566, longitude: 2.3522 } });
      await put({ resourceType: 'Location', id: 'versailles', name: 'Versailles', position: { latitude: 48.8049, longitude: 2.1204 } });
      await put({ resourceType: 'Location', id: 'london', name: 'London', position: { latitude: 51.5074, longitude: -0.1278 } });
      await put({ resourceType: 'Location', id: 'nowhere', name: 'Nowhere' });
      await put({ resourceType: 'Location', id: 'fiji-west', name: 'West of the antimeridian', position: { latitude: -17, longitude: 179.9 } });
      await put({ resourceType: 'Location', id: 'fiji-east', name: 'East of the antimeridian', position: { latitude: -17, longitude: -179.9 } });
    });
    after(() => server.close());

    async function found(path: string): Promise<string[]> {
      const response = await server.request('GET', path);
      assert.equal(response.status, 200, response.text);
      return (response.body.entry ?? []).filter((e: { search: { mode: string } }) => e.search.mode === 'match').map((e: { resource: { id: string } }) => e.resource.id).sort();
    }

    async function refused(path: string, pattern: RegExp) {
      const response = await server.request('GET', path);
      assert.equal(response.status, 400, response.text);
      assert.equal(response.body.resourceType, 'OperationOutcome');
      assert.match(response.body.issue[0].diagnostics, pattern);
    }

    test('_text finds the words of the narrative, without its markup, ignoring case and accents', async () => {
      assert.deepEqual(await found('/Condition?_text=asthma'), ['tx-1']);
      assert.deepEqual(await found('/Condition?_text=WINTER%20chronic'), ['tx-1']);
      assert.deepEqual(await found('/Condition?_text=ete'), ['tx-1']);
      assert.deepEqual(await found('/Condition?_text=elodie'), ['tx-2']);
      // A tag's name is not a word of the text.
      assert.deepEqual(await found('/Condition?_text=div'), []);
      assert.deepEqual(await found('/Condition?_text=xhtml'), []);
    });

    test('_text needs every word, a comma ORs values', async () => {
      assert.deepEqual(await found('/Condition?_text=asthma%20femur'), []);
      assert.deepEqual(await found('/Condition?_text=asthma,femur'), ['tx-1', 'tx-2']);
    });

    test('_content finds words anywhere in the resource', async () => {
      assert.deepEqual(await found('/Condition?_content=asthma'), ['tx-1', 'tx-2', 'tx-3']);
      assert.deepEqual(await found('/Condition?_content=hyperreactivity'), ['tx-1']);
      assert.deepEqual(await found('/Condition?_content=fracture%20femur'), ['tx-2']);
      assert.deepEqual(await found('/Condition?_content=Condition'), []);
    });

    test('_text and _content combine with other parameters', async () => {
      assert.deepEqual(await found('/Condition?_content=asthma&_id=tx-3,tx-2'), ['tx-2', 'tx-3']);
      assert.deepEqual(await found('/Condition?_text=asthma&subject=Patient/p1'), ['tx-1']);
    });

    test('_text and _content without a word, with a modifier, or sorted: 400', async () => {
      await refused('/Condition?_text=%2C%2C', /at least one word/);
      await refused('/Condition?_content=---', /at least one word/);
      await refused('/Condition?_text:exact=asthma', /does not support the modifier/);
      await refused('/Condition?_sort=_text', /no order/);
    });

    test('near finds positions within the distance, in km by default', async () => {
      assert.deepEqual(await found('/Location?near=48.8566|2.3522|1'), ['paris']);
      assert.deepEqual(await found('/Location?near=48.8566|2.3522|20|km'), ['paris', 'versailles']);
      assert.deepEqual(await found('/Location?near=48.8566|2.3522|20000|m'), ['paris', 'versailles']);
      assert.deepEqual(await found('/Location?near=48.8566|2.3522|15|km'), ['paris']);
      assert.deepEqual(await found('/Location?near=48.8566|2.3522|400'), ['london', 'paris', 'versailles']);
      assert.deepEqual(await found('/Location?near=48.8566|2.3522|250|[mi_i]'), ['london', 'paris', 'versailles']);
      assert.deepEqual(await found('/Location?near=48.8566|2.3522|200|[mi_i]'), ['paris', 'versailles']);
    });

    test('near without a distance uses 10 km; the antimeridian is no edge', async () => {
      assert.deepEqual(await found('/Location?near=48.80|2.12'), ['versailles']);
      assert.deepEqual(await found('/Location?near=-17|180|30'), ['fiji-east', 'fiji-west']);
      assert.deepEqual(await found('/Location?near=-17|179.9|5,51.5|-0.12|5'), ['fiji-west', 'london']);
    });

    test('the distances match the haversine figures', () => {
      const paris = { latitude: 48.8566, longitude: 2.3522 };
      assert.ok(Math.abs(distanceKm(paris, { latitude: 51.5074, longitude: -0.1278 }) - 343.5) < 2);
      assert.ok(Math.abs(distanceKm(paris, { latitude: 48.8049, longitude: 2.1204 }) - 17.9) < 1);
    });

    test('malformed near values: 400 with an OperationOutcome', async () => {
      await refused('/Location?near=91|0|1', /latitude must be from -90 to 90/);
      await refused('/Location?near=0|181|1', /longitude must be from -180 to 180/);
      await refused('/Location?near=abc|2|1', /decimal degrees/);
      await refused('/Location?near=1', /expected \[latitude\]/);
      await refused('/Location?near=1|2|3|km|x', /expected \[latitude\]/);
      await refused('/Location?near=1|2|-3', /0 or more/);
      await refused('/Location?near=1|2|3|furlong', /units must be one of/);
      await refused('/Location?near=1|2||km', /units without a distance/);
      await refused('/Location?near=1e3|2|3', /decimal degrees/);
      await refused('/Location?near:missing=true', /does not support the modifier/);
      await refused('/Location?_sort=near', /no order/);
    });
  });
}
