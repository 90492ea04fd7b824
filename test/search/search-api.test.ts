import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

for (const engine of engines()) {
  describe(`search parameters over GET /{type} (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
    });
    after(() => server.close());

    async function put(resource: { resourceType: string; id: string; [key: string]: unknown }) {
      const response = await server.request('PUT', `/${resource.resourceType}/${resource.id}`, { body: resource });
      assert.ok(response.status === 200 || response.status === 201, response.text);
      return response.body;
    }

    /** The ids a search finds, sorted. */
    async function found(path: string): Promise<string[]> {
      const response = await server.request('GET', path);
      assert.equal(response.status, 200, response.text);
      assert.equal(response.body.resourceType, 'Bundle');
      return response.body.entry.map((entry: { resource: { id: string } }) => entry.resource.id).sort();
    }

    async function refused(path: string, code: string, pattern: RegExp) {
      const response = await server.request('GET', path);
      assert.equal(response.status, 400, response.text);
      assert.equal(response.body.resourceType, 'OperationOutcome');
      assert.equal(response.body.issue[0].code, code);
      assert.match(response.body.issue[0].diagnostics, pattern);
    }

    describe('string', () => {
      before(async () => {
        await put({ resourceType: 'Patient', id: 'str-1', name: [{ family: 'Élodie', given: ['Anne', 'Marie'] }], address: [{ city: 'São Paulo' }] });
        await put({ resourceType: 'Patient', id: 'str-2', name: [{ family: 'Eloise', given: ['Bob'] }] });
        await put({ resourceType: 'Patient', id: 'str-3', name: [{ family: 'Melodie', text: 'Dr Melodie Smith' }] });
        await put({ resourceType: 'Patient', id: 'str-4', name: [{ family: 'O_Brien%' }] });
      });

      test('matches a prefix of any part of a name, ignoring case and accents', async () => {
        assert.deepEqual(await found('/Patient?family=elo'), ['str-1', 'str-2']);
        assert.deepEqual(await found('/Patient?family=ÉLOD'), ['str-1']);
        assert.deepEqual(await found('/Patient?name=mari'), ['str-1']);
        assert.deepEqual(await found('/Patient?name=smith'), []);
        assert.deepEqual(await found('/Patient?address-city=sao'), ['str-1']);
      });

      test('%, _ and \\ in a value are matched as themselves', async () => {
        assert.deepEqual(await found('/Patient?family=o_b'), ['str-4']);
        assert.deepEqual(await found('/Patient?family=o%25'), []);
        assert.deepEqual(await found('/Patient?family=_'), []);
        assert.deepEqual(await found('/Patient?family=o_brien%25'), ['str-4']);
      });

      test(':exact matches the whole value, case and accents included', async () => {
        assert.deepEqual(await found('/Patient?family:exact=Élodie'), ['str-1']);
        assert.deepEqual(await found('/Patient?family:exact=elodie'), []);
        assert.deepEqual(await found('/Patient?family:exact=Élod'), []);
      });

      test(':contains matches anywhere in the value', async () => {
        assert.deepEqual(await found('/Patient?family:contains=lodi'), ['str-1', 'str-3']);
        assert.deepEqual(await found('/Patient?name:contains=SMI'), ['str-3']);
      });

      test(':missing finds resources with or without a value', async () => {
        const withCity = await found('/Patient?address-city:missing=false');
        assert.deepEqual(withCity, ['str-1']);
        const withoutCity = await found('/Patient?address-city:missing=true&family=elo');
        assert.deepEqual(withoutCity, ['str-2']);
      });
    });

    describe('token', () => {
      before(async () => {
        await put({
          resourceType: 'Observation', id: 'tok-1', status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }, { system: 'http://snomed.info/sct', code: '364075005' }] },
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        });
        await put({ resourceType: 'Observation', id: 'tok-2', status: 'preliminary', code: { coding: [{ code: '8867-4' }] } });
        await put({ resourceType: 'Observation', id: 'tok-3', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '2339-0' }] } });
        await put({ resourceType: 'Patient', id: 'tok-p1', active: true, identifier: [{ system: 'urn:mrn', value: 'A|1' }], gender: 'female' });
        await put({ resourceType: 'Patient', id: 'tok-p2', active: false, gender: 'male' });
      });

      test('code alone matches in any system', async () => {
        assert.deepEqual(await found('/Observation?code=8867-4'), ['tok-1', 'tok-2']);
      });

      test('system|code matches that code in that system only', async () => {
        assert.deepEqual(await found('/Observation?code=http://loinc.org|8867-4'), ['tok-1']);
        assert.deepEqual(await found('/Observation?code=http://snomed.info/sct|8867-4'), []);
      });

      test('|code matches a code without a system, system| any code of the system', async () => {
        assert.deepEqual(await found('/Observation?code=|8867-4'), ['tok-2']);
        assert.deepEqual(await found('/Observation?code=http://loinc.org|'), ['tok-1', 'tok-3']);
      });

      test('codes, booleans and identifiers (with an escaped bar) are tokens', async () => {
        assert.deepEqual(await found('/Observation?status=final'), ['tok-1', 'tok-3']);
        assert.deepEqual(await found('/Patient?active=true&_id=tok-p1,tok-p2'), ['tok-p1']);
        assert.deepEqual(await found('/Patient?identifier=urn:mrn|A\\|1'), ['tok-p1']);
        assert.deepEqual(await found('/Observation?category=vital-signs'), ['tok-1']);
      });

      test(':not keeps resources without a matching value', async () => {
        assert.deepEqual(await found('/Observation?status:not=final'), ['tok-2']);
        assert.deepEqual(await found('/Patient?gender:not=male&_id=tok-p1,tok-p2'), ['tok-p1']);
      });
    });

    describe('reference', () => {
      before(async () => {
        await put({ resourceType: 'Patient', id: 'ref-p1' });
        await put({ resourceType: 'Observation', id: 'ref-o1', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/ref-p1' } });
        await put({ resourceType: 'Observation', id: 'ref-o2', status: 'final', code: { text: 'x' }, subject: { reference: 'Group/ref-p1' } });
        await put({ resourceType: 'Observation', id: 'ref-o3', status: 'final', code: { text: 'x' }, subject: { reference: `${server.url}/Patient/ref-p1` } });
        await put({ resourceType: 'Observation', id: 'ref-o4', status: 'final', code: { text: 'x' }, subject: { reference: 'https://elsewhere.example/fhir/Patient/ref-p1' } });
        await put({ resourceType: 'Observation', id: 'ref-o5', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/ref-p1/_history/3' } });
      });

      test('Type/id matches relative, versioned and this server\'s absolute references', async () => {
        assert.deepEqual(await found('/Observation?subject=Patient/ref-p1'), ['ref-o1', 'ref-o3', 'ref-o5']);
        assert.deepEqual(await found(`/Observation?subject=${encodeURIComponent(`${server.url}/Patient/ref-p1`)}`), ['ref-o1', 'ref-o3', 'ref-o5']);
      });

      test('an id alone matches any target type; :Type or a patient parameter narrows it', async () => {
        assert.deepEqual(await found('/Observation?subject=ref-p1'), ['ref-o1', 'ref-o2', 'ref-o3', 'ref-o5']);
        assert.deepEqual(await found('/Observation?subject:Group=ref-p1'), ['ref-o2']);
        assert.deepEqual(await found('/Observation?patient=ref-p1'), ['ref-o1', 'ref-o3', 'ref-o5']);
        assert.deepEqual(await found('/Observation?patient=Patient/ref-p1'), ['ref-o1', 'ref-o3', 'ref-o5']);
      });

      test('another server\'s URL matches only itself', async () => {
        assert.deepEqual(await found(`/Observation?subject=${encodeURIComponent('https://elsewhere.example/fhir/Patient/ref-p1')}`), ['ref-o4']);
      });

      test('refuses a type the parameter cannot point at', async () => {
        await refused('/Observation?patient=Group/ref-p1', 'value', /Group is not a target of patient/);
        await refused('/Observation?subject=Nope/1', 'value', /unknown resource type/);
        await refused('/Observation?subject=a/b/c', 'value', /is not a reference/);
      });
    });

    describe('date', () => {
      before(async () => {
        await put({ resourceType: 'Observation', id: 'date-1', status: 'final', code: { text: 'd' }, effectiveDateTime: '2020-05-03T10:00:00Z' });
        await put({ resourceType: 'Observation', id: 'date-2', status: 'final', code: { text: 'd' }, effectiveDateTime: '2020-06' });
        await put({ resourceType: 'Observation', id: 'date-3', status: 'final', code: { text: 'd' }, effectivePeriod: { start: '2019-12-20', end: '2020-01-10' } });
        await put({ resourceType: 'Observation', id: 'date-4', status: 'final', code: { text: 'd' }, effectivePeriod: { start: '2021-03-01' } });
        await put({ resourceType: 'Patient', id: 'date-p1', birthDate: '1980-05-03' });
      });

      test('a partial date matches what lies within it', async () => {
        assert.deepEqual(await found('/Observation?date=2020'), ['date-1', 'date-2']);
        assert.deepEqual(await found('/Observation?date=2020-05'), ['date-1']);
        assert.deepEqual(await found('/Observation?date=eq2020-05-03'), ['date-1']);
        assert.deepEqual(await found('/Patient?birthdate=1980-05'), ['date-p1']);
      });

      test('gt, lt, ge and le compare ranges; an open period reaches forever', async () => {
        assert.deepEqual(await found('/Observation?date=gt2020-05-31'), ['date-2', 'date-4']);
        assert.deepEqual(await found('/Observation?date=lt2020'), ['date-3']);
        assert.deepEqual(await found('/Observation?date=ge2020-06'), ['date-2', 'date-4']);
        assert.deepEqual(await found('/Observation?date=le2020-05-03'), ['date-1', 'date-3']);
        assert.deepEqual(await found('/Observation?date=gt2030'), ['date-4']);
      });

      test('sa, eb and ne', async () => {
        assert.deepEqual(await found('/Observation?date=sa2020-06-30'), ['date-4']);
        assert.deepEqual(await found('/Observation?date=eb2020-01-11'), ['date-3']);
        assert.deepEqual(await found('/Observation?date=ne2020&_id=date-1,date-2,date-3,date-4'), ['date-3', 'date-4']);
      });

      test('a time with a zone is compared as an instant', async () => {
        assert.deepEqual(await found('/Observation?date=2020-05-03T12:00%2B02:00'), ['date-1']);
        assert.deepEqual(await found('/Observation?date=gt2020-05-03T10:00:00Z&_id=date-1'), []);
        assert.deepEqual(await found('/Observation?date=ge2020-05-03T10:00:00Z&_id=date-1'), ['date-1']);
      });

      test('ap matches a date near the value, not a far one', async () => {
        assert.deepEqual(await found('/Observation?date=eq2020-05-04&_id=date-1'), []);
        assert.deepEqual(await found('/Observation?date=ap2020-05-04&_id=date-1'), ['date-1']);
        assert.deepEqual(await found('/Observation?date=ap1990-05-04&_id=date-1,date-2,date-3'), []);
      });

      test('dates at the ends of the calendar compare with open ranges', async () => {
        assert.deepEqual(await found('/Observation?date=eb0001&_id=date-1,date-3'), []);
        assert.deepEqual(await found('/Observation?date=sa9999&_id=date-1,date-4'), []);
        assert.deepEqual(await found('/Observation?date=gt9999-12-31&_id=date-1,date-4'), ['date-4']);
        assert.deepEqual(await found('/Observation?date=ge0001&_id=date-1,date-3'), ['date-1', 'date-3']);
      });

      test('_lastUpdated takes prefixes', async () => {
        const now = new Date().toISOString();
        assert.deepEqual(await found(`/Patient?_lastUpdated=gt2000&_id=date-p1`), ['date-p1']);
        assert.deepEqual(await found(`/Patient?_lastUpdated=${encodeURIComponent(`gt${now}`)}&_id=date-p1`), []);
        assert.deepEqual(await found(`/Patient?_lastUpdated=lt2000&_id=date-p1`), []);
      });
    });

    describe('quantity', () => {
      before(async () => {
        const obs = (id: string, value: unknown) => put({ resourceType: 'Observation', id, status: 'final', code: { text: 'q' }, ...(value as object) });
        await obs('q-1', { valueQuantity: { value: 5.4, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } });
        await obs('q-2', { valueQuantity: { value: 5.46, unit: 'milligram', system: 'http://unitsofmeasure.org', code: 'mg' } });
        await obs('q-3', { valueQuantity: { value: 120, unit: 'mmHg' } });
        await obs('q-4', { component: [{ code: { text: 'c' }, valueQuantity: { value: -3, unit: 'g' } }] });
      });

      test('a number matches the values it rounds from', async () => {
        assert.deepEqual(await found('/Observation?value-quantity=5.4'), ['q-1']);
        assert.deepEqual(await found('/Observation?value-quantity=5'), ['q-1', 'q-2']);
        assert.deepEqual(await found('/Observation?value-quantity=5.46'), ['q-2']);
        assert.deepEqual(await found('/Observation?value-quantity=1.2e2'), ['q-3']);
      });

      test('prefixes compare the value', async () => {
        assert.deepEqual(await found('/Observation?value-quantity=gt5.4'), ['q-2', 'q-3']);
        assert.deepEqual(await found('/Observation?value-quantity=le5.46'), ['q-1', 'q-2']);
        assert.deepEqual(await found('/Observation?value-quantity=ap110'), ['q-3']);
        assert.deepEqual(await found('/Observation?component-value-quantity=lt0'), ['q-4']);
      });

      test('a Range (Condition onset as an age range) is compared as an interval, open ends reaching forever', async () => {
        await put({ resourceType: 'Condition', id: 'q-c1', subject: { reference: 'Patient/q' }, onsetRange: { low: { value: 10, unit: 'a' }, high: { value: 20, unit: 'a' } } });
        await put({ resourceType: 'Condition', id: 'q-c2', subject: { reference: 'Patient/q' }, onsetRange: { low: { value: 30, unit: 'a' } } });
        assert.deepEqual(await found('/Condition?onset-age=gt18&patient=q'), ['q-c1', 'q-c2']);
        assert.deepEqual(await found('/Condition?onset-age=lt12&patient=q'), ['q-c1']);
        assert.deepEqual(await found('/Condition?onset-age=gt1000&patient=q'), ['q-c2']);
        assert.deepEqual(await found('/Condition?onset-age=15&patient=q'), []);
      });

      test('system and code narrow by unit; the code also matches the unit as written', async () => {
        assert.deepEqual(await found('/Observation?value-quantity=gt0|http://unitsofmeasure.org|mg'), ['q-1', 'q-2']);
        assert.deepEqual(await found('/Observation?value-quantity=gt0||mmHg'), ['q-3']);
        assert.deepEqual(await found('/Observation?value-quantity=gt0||milligram'), ['q-2']);
      });
    });

    describe('combining', () => {
      before(async () => {
        for (let i = 1; i <= 7; i++) {
          await put({
            resourceType: 'Condition', id: `and-${i}`, subject: { reference: 'Patient/and-p' },
            code: { coding: [{ system: 'http://snomed.info/sct', code: i % 2 ? 'odd' : 'even' }] },
            recordedDate: `2020-0${i}-15`,
          });
        }
      });

      test('a comma ORs values, a repeated parameter ANDs them', async () => {
        assert.deepEqual(await found('/Condition?code=even,nothing'), ['and-2', 'and-4', 'and-6']);
        assert.deepEqual(await found('/Condition?recorded-date=ge2020-03&recorded-date=le2020-05'), ['and-3', 'and-4', 'and-5']);
        assert.deepEqual(await found('/Condition?recorded-date=2020-01,2020-07&code=odd'), ['and-1', 'and-7']);
        assert.deepEqual(await found('/Condition?code=odd&code=even'), []);
      });

      test('pages through filtered results with a total and links that keep the filters', async () => {
        const first = await server.request('GET', '/Condition?patient=and-p&code=odd&_count=2&_sort=_id');
        assert.equal(first.status, 200);
        assert.equal(first.body.total, 4);
        assert.deepEqual(first.body.entry.map((e: { resource: { id: string } }) => e.resource.id), ['and-1', 'and-3']);
        const next = first.body.link.find((l: { relation: string }) => l.relation === 'next').url as string;
        assert.match(next, /code=odd/);
        const second = await server.request('GET', next.slice(server.url.length));
        assert.deepEqual(second.body.entry.map((e: { resource: { id: string } }) => e.resource.id), ['and-5', 'and-7']);
        assert.equal(second.body.link.some((l: { relation: string }) => l.relation === 'next'), false);
      });
    });

    describe('index upkeep', () => {
      test('an update replaces the indexed values', async () => {
        await put({ resourceType: 'Patient', id: 'upd-1', name: [{ family: 'Before' }] });
        assert.deepEqual(await found('/Patient?family=before'), ['upd-1']);
        await put({ resourceType: 'Patient', id: 'upd-1', name: [{ family: 'After' }] });
        assert.deepEqual(await found('/Patient?family=before'), []);
        assert.deepEqual(await found('/Patient?family=after'), ['upd-1']);
      });

      test('a patch re-indexes too', async () => {
        await put({ resourceType: 'Patient', id: 'upd-2', gender: 'male' });
        const patched = await server.request('PATCH', '/Patient/upd-2', {
          raw: JSON.stringify([{ op: 'replace', path: '/gender', value: 'other' }]),
          contentType: 'application/json-patch+json',
        });
        assert.equal(patched.status, 200, patched.text);
        assert.deepEqual(await found('/Patient?gender=other&_id=upd-2'), ['upd-2']);
        assert.deepEqual(await found('/Patient?gender=male&_id=upd-2'), []);
      });

      test('a resource whose content does not fit its type (stored with validation off) has its readable values indexed', async () => {
        const odd = { resourceType: 'Observation', id: 'odd-1', status: 'final', subject: 'Patient/x', code: 5, effectiveDateTime: 'soon', effectivePeriod: { start: 7 } };
        assert.equal((await server.request('PUT', '/Observation/odd-1', { body: odd })).status, 422, 'validation refuses it over HTTP');
        await server.app.ctx.resources.write(odd, null);
        assert.deepEqual(await found('/Observation?status=final&_id=odd-1'), ['odd-1']);
        assert.deepEqual(await found('/Observation?date=ge1900&_id=odd-1'), []);
      });

      test('a deleted resource is no longer found, and is found again when re-created', async () => {
        await put({ resourceType: 'Encounter', id: 'del-1', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/del-p' } });
        assert.deepEqual(await found('/Encounter?patient=del-p'), ['del-1']);
        assert.equal((await server.request('DELETE', '/Encounter/del-1')).status, 200);
        assert.deepEqual(await found('/Encounter?patient=del-p'), []);
        const rows = await server.app.ctx.db.query(`select count(*)::int as n from search_reference where type = 'Encounter' and id = 'del-1'`);
        assert.equal(Number(rows[0].n), 0);
        await put({ resourceType: 'Encounter', id: 'del-1', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/del-p' } });
        assert.deepEqual(await found('/Encounter?patient=del-p'), ['del-1']);
      });
    });

    describe('Resource-level parameters', () => {
      test('_tag, _security, _profile and _source read meta', async () => {
        await put({
          resourceType: 'Patient', id: 'meta-1',
          meta: { tag: [{ system: 'urn:t', code: 'vip' }], security: [{ system: 'urn:s', code: 'R' }], profile: ['http://p.example/Patient'], source: 'urn:src' },
        });
        await put({ resourceType: 'Patient', id: 'meta-2', meta: { tag: [{ system: 'urn:t', code: 'other' }] } });
        assert.deepEqual(await found('/Patient?_tag=urn:t|vip'), ['meta-1']);
        assert.deepEqual(await found('/Patient?_tag=urn:t|'), ['meta-1', 'meta-2']);
        assert.deepEqual(await found('/Patient?_security=R'), ['meta-1']);
        assert.deepEqual(await found(`/Patient?_profile=${encodeURIComponent('http://p.example/Patient')}`), ['meta-1']);
        assert.deepEqual(await found('/Patient?_source=urn:src'), ['meta-1']);
      });
    });

    describe('refusals', () => {
      test('an unknown parameter is refused with the supported ones listed', async () => {
        await refused('/Observation?nonsense=1', 'not-supported', /Unsupported search parameter "nonsense" for Observation; supported: _id, _lastUpdated.*code.*subject.*_count/);
        await refused('/Observation?nonsense.name=x', 'not-supported', /Unsupported search parameter "nonsense.name"/);
        await refused('/Patient?phonetic=smith', 'not-supported', /Unsupported/);
        await refused('/Observation?_query=x', 'not-supported', /Unsupported/); // names an operation, which this server has none of
      });

      test('an unsupported modifier is refused', async () => {
        await refused('/Patient?family:below=x', 'not-supported', /does not support the modifier :below; supported: :exact, :contains, :missing/);
        await refused('/Patient?birthdate:exact=2020', 'not-supported', /modifier :exact/);
        await refused('/Observation?subject:Practitioner=1', 'not-supported', /modifier :Practitioner/);
      });

      test('a malformed date, token, reference, id or :missing is a 400 OperationOutcome', async () => {
        await refused('/Observation?date=2020-13', 'value', /"2020-13" is not a date/);
        await refused('/Observation?date=xx2020', 'value', /is not a date/);
        await refused('/Patient?_lastUpdated=yesterday', 'value', /is not a date/);
        await refused('/Patient?birthdate=2020%0A', 'value', /is not a date/); // a line break once escaped the pattern: 500
        await refused('/Observation?code=a|b|c', 'value', /is not \[system\]\|\[code\]/);
        await refused('/Observation?code=|', 'value', /needs a system, a code or both/);
        await refused('/Observation?code=', 'value', /must not be empty/);
        await refused('/Observation?code=a,', 'value', /must not be empty/);
        await refused('/Patient?family=', 'value', /must not be empty/);
        await refused(`/Patient?family=${encodeURIComponent('\u0301')}`, 'value', /more than accents/);
        await refused('/Observation?subject=Patient/bad%20id', 'value', /is not a reference/);
        await refused('/Patient?_id=bad%20id', 'value', /is not an id/);
        await refused('/Patient?family:missing=maybe', 'value', /:missing takes true or false/);
        await refused('/Observation?value-quantity=five', 'value', /is not a quantity/);
        await refused('/Observation?value-quantity=5|mg', 'value', /is not a quantity/);
      });
    });

    test('GET /metadata lists exactly the search parameters each type supports, with their types', async () => {
      const metadata = await server.request('GET', '/metadata');
      const resources = metadata.body.rest[0].resource as { type: string; searchParam: { name: string; type: string; definition: string }[] }[];
      const params = (type: string) => Object.fromEntries(resources.find((r) => r.type === type)!.searchParam.map((p) => [p.name, p.type]));
      const observation = params('Observation');
      assert.equal(observation.code, 'token');
      assert.equal(observation.date, 'date');
      assert.equal(observation.subject, 'reference');
      assert.equal(observation['value-string'], 'string');
      assert.equal(observation._lastUpdated, 'date');
      assert.equal(observation['value-quantity'], 'quantity');
      assert.equal(observation['code-value-quantity'], 'composite');
      assert.equal(params('Patient').phonetic, undefined);
      assert.equal(params('Patient').family, 'string');
      assert.deepEqual(Object.keys(params('Client')), ['_id', '_lastUpdated', '_profile', '_security', '_source', '_tag']);
      assert.equal(params('Practitioner').name, 'string');
      assert.equal(params('Organization').name, 'string');
      const includes = resources.find((r) => r.type === 'Observation') as unknown as { searchInclude: string[] };
      assert.ok(includes.searchInclude.includes('*') && includes.searchInclude.includes('Observation:subject'));
      const patient = resources.find((r) => r.type === 'Patient') as unknown as { searchRevInclude: string[] };
      assert.ok(patient.searchRevInclude.includes('Observation:subject') && patient.searchRevInclude.includes('Encounter:patient'));
      // Each listed parameter is accepted by the search it describes.
      for (const resource of resources.filter((r) => ['Observation', 'Patient', 'DocumentReference'].includes(r.type))) {
        for (const param of resource.searchParam) {
          // A composite's second part may be a quantity or a date, which 'x' is not: 400 names what it expects.
          if (param.type === 'composite' && !/-(concept|string)$/.test(param.name)) continue;
          const value = { string: 'x', token: 'x', reference: 'x', date: '2020', uri: 'http://x', quantity: '5', number: '5', composite: 'x$x' }[param.type];
          const response = await server.request('GET', `/${resource.type}?${param.name}=${encodeURIComponent(value!)}&_count=0`);
          assert.equal(response.status, 200, `${resource.type}?${param.name}: ${response.text}`);
        }
        assert.match(resource.searchParam[0].definition, /^http:\/\/hl7\.org\/fhir\/SearchParameter\//);
      }
    });
  });
}
