// What a search returns beyond its matches, and in which order and shape: _include/_revinclude (:iterate, *),
// chains and _has, _sort, _summary/_elements/_total/_count=0, Prefer: handling (FHIR R4 §3.1.1).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

interface Entry { fullUrl: string; resource: { resourceType: string; id: string; [key: string]: any }; search: { mode: string } }

for (const engine of engines()) {
  describe(`search results (${engine})`, () => {
    let server: TestServer;

    async function put(resource: { resourceType: string; id: string; [key: string]: unknown }) {
      const response = await server.request('PUT', `/${resource.resourceType}/${resource.id}`, { body: resource });
      assert.ok(response.status === 200 || response.status === 201, response.text);
    }

    async function search(path: string, headers: Record<string, string> = {}) {
      const response = await server.request('GET', path, { headers });
      assert.equal(response.status, 200, `${path}: ${response.text}`);
      return response.body as { total?: number; entry: Entry[]; link: { relation: string; url: string }[] };
    }

    const keys = (entries: Entry[], mode: string) =>
      entries.filter((entry) => entry.search.mode === mode).map((entry) => `${entry.resource.resourceType}/${entry.resource.id}`).sort();
    const inOrder = (entries: Entry[]) => entries.filter((entry) => entry.search.mode === 'match').map((entry) => entry.resource.id);

    async function refused(path: string, pattern: RegExp, headers: Record<string, string> = {}) {
      const response = await server.request('GET', path, { headers });
      assert.equal(response.status, 400, `${path}: ${response.text}`);
      assert.equal(response.body.resourceType, 'OperationOutcome');
      assert.match(response.body.issue[0].diagnostics, pattern);
    }

    before(async () => {
      server = await startTestServer(engine);
      await put({ resourceType: 'Organization', id: 'org-1', name: 'Saint Ann Clinic' });
      await put({ resourceType: 'Practitioner', id: 'dr-1', name: [{ family: 'House' }], identifier: [{ system: 'urn:npi', value: '111' }] });
      await put({ resourceType: 'Patient', id: 'rs-p1', name: [{ family: 'Smith' }], identifier: [{ system: 'urn:mrn', value: 'MRN-1', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] } }], managingOrganization: { reference: 'Organization/org-1' }, generalPractitioner: [{ reference: 'Practitioner/dr-1' }] });
      await put({ resourceType: 'Patient', id: 'rs-p2', name: [{ family: 'Jones' }], identifier: [{ system: 'urn:mrn', value: 'MRN-2' }] });
      await put({ resourceType: 'Patient', id: 'rs-p3', name: [{ family: 'Adams' }] });
      const obs = (id: string, patient: string, date: string | undefined, code: string, extra: Record<string, unknown> = {}) =>
        put({
          resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] },
          subject: { reference: `Patient/${patient}` }, ...(date && { effectiveDateTime: date }), performer: [{ reference: 'Practitioner/dr-1' }], ...extra,
        });
      await obs('rs-o1', 'rs-p1', '2021-01-01', '8867-4', { text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">HR</div>' } });
      await obs('rs-o2', 'rs-p1', '2023-06-01', '8867-4');
      await obs('rs-o3', 'rs-p1', '2022-03-01', '2339-0');
      await obs('rs-o4', 'rs-p2', '2020-01-01', '8867-4');
      await obs('rs-o5', 'rs-p1', undefined, '8867-4');
      await put({
        resourceType: 'Observation', id: 'rs-bp', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] }, subject: { reference: 'Patient/rs-p2' },
        component: [
          { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
          { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 80, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
        ],
      });
      await put({ resourceType: 'Observation', id: 'rs-str', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '5778-6' }] }, subject: { reference: 'Patient/rs-p3' }, valueString: 'Yellow' });
      await put({ resourceType: 'Observation', id: 'rs-panel', status: 'final', code: { text: 'Vital signs panel', coding: [{ system: 'http://loinc.org', code: '85353-1', display: 'Vital signs, weight, height' }] }, subject: { reference: 'Patient/rs-p3' }, performer: [{ identifier: { system: 'urn:npi', value: '999' } }], hasMember: [{ reference: 'Observation/rs-o4' }] });
    });
    after(() => server.close());

    describe('_include and _revinclude', () => {
      test('_include adds the referenced resources once, marked include', async () => {
        const bundle = await search('/Observation?patient=rs-p1&_include=Observation:subject');
        assert.deepEqual(keys(bundle.entry, 'match'), ['Observation/rs-o1', 'Observation/rs-o2', 'Observation/rs-o3', 'Observation/rs-o5']);
        assert.deepEqual(keys(bundle.entry, 'include'), ['Patient/rs-p1']);
        assert.equal(bundle.total, 4, 'included resources do not count in the total');
      });

      test('an included resource is sent as its stored JSON text, as a match is, not serialised again', async () => {
        const response = await server.request('GET', '/Observation?patient=rs-p1&_include=Observation:subject');
        const included = /"fullUrl":"[^"]*\/Patient\/rs-p1","resource":(\{[^]*?\}),"search":\{"mode":"include"\}\}/.exec(response.text);
        assert.ok(included, response.text);
        // The store writes its JSON text with a space after each colon; JSON.stringify writes none.
        assert.match(included[1], /"resourceType": "Patient"/);
        assert.equal(JSON.parse(included[1]).id, 'rs-p1');
      });

      test('a target type narrows _include; * follows every reference', async () => {
        assert.deepEqual(keys((await search('/Observation?_id=rs-o1&_include=Observation:performer:Organization')).entry, 'include'), []);
        assert.deepEqual(keys((await search('/Observation?_id=rs-o1&_include=Observation:performer:Practitioner')).entry, 'include'), ['Practitioner/dr-1']);
        assert.deepEqual(keys((await search('/Observation?_id=rs-o1&_include=*')).entry, 'include'), ['Patient/rs-p1', 'Practitioner/dr-1']);
      });

      test('_revinclude adds the resources pointing at the matches', async () => {
        const bundle = await search('/Patient?_id=rs-p2&_revinclude=Observation:subject');
        assert.deepEqual(keys(bundle.entry, 'include'), ['Observation/rs-bp', 'Observation/rs-o4']);
      });

      test(':iterate follows references of included resources', async () => {
        const once = await search('/Observation?_id=rs-o1&_include=Observation:subject');
        assert.deepEqual(keys(once.entry, 'include'), ['Patient/rs-p1']);
        const iterated = await search('/Observation?_id=rs-o1&_include=Observation:subject&_include:iterate=Patient:organization');
        assert.deepEqual(keys(iterated.entry, 'include'), ['Organization/org-1', 'Patient/rs-p1']);
        const reverse = await search('/Observation?_id=rs-panel&_include=Observation:has-member&_revinclude:iterate=Observation:has-member');
        assert.deepEqual(keys(reverse.entry, 'include'), ['Observation/rs-o4']);
        const both = await search('/Patient?_id=rs-p2&_revinclude=Observation:subject&_revinclude:iterate=Observation:has-member');
        assert.deepEqual(keys(both.entry, 'include'), ['Observation/rs-bp', 'Observation/rs-o4', 'Observation/rs-panel']);
      });

      test('malformed includes are refused with a precise reason', async () => {
        await refused('/Observation?_include=Observation', /expected \[type\]:\[reference parameter\]/);
        await refused('/Observation?_include=Observation:code', /no reference parameter "code"/);
        await refused('/Observation?_include=Patient:organization', /without :iterate follows a reference of Observation/);
        await refused('/Observation?_include=Observation:subject:Nope', /unknown resource type "Nope"/);
        await refused('/Patient?_revinclude=Encounter:service-provider', /never points at Patient/);
        await refused('/Observation?_include:deep=Observation:subject', /only the modifier :iterate/);
      });
    });

    describe('chains and _has', () => {
      test('a chain matches through the referenced resource, typed or not', async () => {
        assert.deepEqual(keys((await search('/Observation?subject:Patient.name=smi')).entry, 'match'), ['Observation/rs-o1', 'Observation/rs-o2', 'Observation/rs-o3', 'Observation/rs-o5']);
        assert.deepEqual(keys((await search('/Observation?patient.identifier=urn:mrn|MRN-2')).entry, 'match'), ['Observation/rs-bp', 'Observation/rs-o4']);
        assert.deepEqual(keys((await search('/Observation?subject.name=jones&code=8867-4')).entry, 'match'), ['Observation/rs-o4']);
      });

      test('chains go several links deep', async () => {
        assert.deepEqual(keys((await search('/Observation?patient.organization.name=saint&code=2339-0')).entry, 'match'), ['Observation/rs-o3']);
        assert.deepEqual(keys((await search('/Observation?patient.general-practitioner:Practitioner.identifier=urn:npi|111&code=2339-0')).entry, 'match'), ['Observation/rs-o3']);
      });

      test('_has finds the resources others point at, nested', async () => {
        assert.deepEqual(keys((await search('/Patient?_has:Observation:patient:code=2339-0')).entry, 'match'), ['Patient/rs-p1']);
        assert.deepEqual(keys((await search('/Patient?_has:Observation:subject:_has:Observation:has-member:_id=rs-panel')).entry, 'match'), ['Patient/rs-p2']);
        assert.deepEqual(keys((await search('/Practitioner?_has:Observation:performer:patient.name=jones')).entry, 'match'), ['Practitioner/dr-1']);
      });

      test('malformed or too deep chains are refused', async () => {
        await refused('/Observation?code.name=x', /only a reference parameter can be chained/);
        await refused('/Observation?subject.nonsense=x', /no target type of subject has the parameter nonsense/);
        await refused('/Patient?_has:Observation:code:code=1', /not a reference parameter that may point at Patient/);
        await refused('/Patient?_has:Observation=1', /_has:\[type\]/);
        await refused('/Observation?patient.organization.partof.partof.name=x', /at most 3 links/);
      });
    });

    describe('_sort', () => {
      test('sorts by a date descending, values missing last', async () => {
        assert.deepEqual(inOrder((await search('/Observation?patient=rs-p1&_sort=-date')).entry), ['rs-o2', 'rs-o3', 'rs-o1', 'rs-o5']);
        assert.deepEqual(inOrder((await search('/Observation?patient=rs-p1&_sort=date')).entry), ['rs-o1', 'rs-o3', 'rs-o2', 'rs-o5']);
      });

      test('several keys, then the id: paging never repeats or skips', async () => {
        assert.deepEqual(inOrder((await search('/Observation?patient=rs-p1&_sort=code,-date')).entry), ['rs-o3', 'rs-o2', 'rs-o1', 'rs-o5']);
        const pages: string[] = [];
        for (let page = 1; page <= 3; page++) pages.push(...inOrder((await search(`/Observation?_sort=code&_count=3&_page=${page}`)).entry));
        assert.equal(new Set(pages).size, pages.length);
        assert.equal(pages.length, 8);
      });

      test('a sorted page past the end has no entry and the total', async () => {
        const bundle = await search('/Observation?patient=rs-p1&_sort=-date&_count=2&_page=9');
        assert.deepEqual(bundle.entry, []);
        assert.equal(bundle.total, 4);
      });

      test('_lastUpdated and _id still sort', async () => {
        assert.deepEqual(inOrder((await search('/Patient?_sort=-_id')).entry), ['rs-p3', 'rs-p2', 'rs-p1']);
        assert.equal(inOrder((await search('/Patient?_sort=-_lastUpdated')).entry)[0], 'rs-p3');
      });

      test('an unknown sort key is refused', async () => {
        await refused('/Observation?_sort=nope', /Observation has no search parameter "nope"/);
        await refused('/Observation?_sort=a,b,c,d,e', /at most 4 keys/);
      });
    });

    describe('_summary, _elements, _total, _count=0', () => {
      const SUBSETTED = (resource: Entry['resource']) => resource.meta?.tag?.some((tag: { code: string }) => tag.code === 'SUBSETTED');

      test('_summary=count and _count=0 answer the total alone', async () => {
        const counted = await search('/Observation?patient=rs-p1&_summary=count');
        assert.equal(counted.total, 4);
        assert.deepEqual(counted.entry, []);
        assert.equal((await search('/Observation?patient=rs-p1&_count=0')).total, 4);
      });

      test('_summary=true keeps the summary elements and marks the resource SUBSETTED', async () => {
        const [patient] = (await search('/Patient?_id=rs-p1&_summary=true')).entry;
        assert.ok(patient.resource.name && patient.resource.identifier && patient.resource.managingOrganization);
        assert.equal(patient.resource.generalPractitioner, undefined);
        assert.ok(SUBSETTED(patient.resource));
      });

      test('_summary=text and data cut the text or all but it', async () => {
        const [text] = (await search('/Observation?_id=rs-o1&_summary=text')).entry;
        assert.ok(text.resource.text && text.resource.status && text.resource.code, 'text keeps the mandatory elements');
        assert.equal(text.resource.subject, undefined);
        const [data] = (await search('/Observation?_id=rs-o1&_summary=data')).entry;
        assert.equal(data.resource.text, undefined);
        assert.ok(data.resource.subject && SUBSETTED(data.resource));
      });

      test('_elements keeps the named elements (choice types by their base name) and the mandatory ones', async () => {
        const [entry] = (await search('/Observation?_id=rs-o1&_elements=subject,effective')).entry;
        assert.deepEqual(Object.keys(entry.resource).sort(), ['code', 'effectiveDateTime', 'id', 'meta', 'resourceType', 'status', 'subject']);
        assert.ok(SUBSETTED(entry.resource));
        await refused('/Observation?_elements=a.b', /not an element name/);
        await refused('/Observation?_summary=maybe', /_summary must be one of/);
      });

      test('with the total counted the store reads the page alone; without it one row more tells of a next page', async () => {
        const db = server.app.ctx.resources.db;
        const query = db.query;
        const limits: unknown[] = [];
        // The page query's last two parameters are its LIMIT and OFFSET (src/store/resource-store.ts).
        db.query = (text, params, options) => (text.includes('row_number()') && limits.push(params?.at(-2)), query(text, params, options));
        try {
          const counted = await search('/Observation?patient=rs-p1&_count=2');
          const uncounted = await search('/Observation?patient=rs-p1&_count=2&_total=none');
          const last = await search('/Observation?patient=rs-p1&_count=2&_page=2');
          assert.deepEqual(limits, [2, 3, 2]);
          for (const bundle of [counted, uncounted]) assert.ok(bundle.link.some((link) => link.relation === 'next' && /_page=2&_count=2$/.test(link.url)));
          assert.equal(last.total, 4);
          assert.ok(!last.link.some((link) => link.relation === 'next'), 'the last page has no next link');
        } finally {
          db.query = query;
        }
      });

      test('_total=none leaves the total out', async () => {
        assert.equal((await search('/Observation?patient=rs-p1&_total=none')).total, undefined);
        assert.equal((await search('/Observation?patient=rs-p1&_total=estimate')).total, 4);
      });
    });

    describe('parameters of every type', () => {
      test('component-value-quantity matches a blood pressure component', async () => {
        assert.deepEqual(keys((await search('/Observation?component-value-quantity=gt100')).entry, 'match'), ['Observation/rs-bp']);
        assert.deepEqual(keys((await search('/Observation?component-value-quantity=80|http://unitsofmeasure.org|mm[Hg]')).entry, 'match'), ['Observation/rs-bp']);
      });

      test('a composite parameter matches both parts in the same element', async () => {
        const found = async (query: string) => keys((await search(`/Observation?${query}`)).entry, 'match');
        assert.deepEqual(await found('component-code-value-quantity=http://loinc.org|8480-6$gt100'), ['Observation/rs-bp']);
        assert.deepEqual(await found('component-code-value-quantity=8480-6$120|http://unitsofmeasure.org|mm[Hg]'), ['Observation/rs-bp']);
        // 120 is the systolic pressure's, not the diastolic's: a pair across components does not match.
        assert.deepEqual(await found('component-code-value-quantity=8462-4$gt100'), []);
        assert.deepEqual(await found('component-code-value-quantity=8462-4$lt100,8480-6$gt200'), ['Observation/rs-bp']);
        assert.deepEqual(await found('code-value-string=http://loinc.org|5778-6$yell'), ['Observation/rs-str']);
        assert.deepEqual(await found('code-value-concept=5778-6$http://snomed.info/sct|'), []);
        await refused('/Observation?component-code-value-quantity=8480-6', /not a composite value: expected \[token\]\$\[quantity\]/);
        await refused('/Observation?_sort=code-value-quantity', /composite parameter, which has no order/);
      });

      test('DocumentReference relationship: [relatesto]$[relation] in the same relatesTo', async () => {
        await put({
          resourceType: 'DocumentReference', id: 'rs-doc', status: 'current', content: [{ attachment: { url: 'http://x/a' } }],
          relatesTo: [{ code: 'replaces', target: { reference: 'DocumentReference/rs-old' } }, { code: 'signs', target: { reference: 'DocumentReference/rs-other' } }],
        });
        const found = async (query: string) => keys((await search(`/DocumentReference?${query}`)).entry, 'match');
        assert.deepEqual(await found('relationship=DocumentReference/rs-old$replaces'), ['DocumentReference/rs-doc']);
        assert.deepEqual(await found('relationship=rs-old$replaces'), ['DocumentReference/rs-doc']);
        assert.deepEqual(await found(`relationship=${encodeURIComponent(server.config.baseUrl)}/DocumentReference/rs-other$signs`), ['DocumentReference/rs-doc']);
        // Each pair in its own relatesTo: the code of one and the target of the other do not match.
        assert.deepEqual(await found('relationship=DocumentReference/rs-old$signs'), []);
        await refused('/DocumentReference?relationship=DocumentReference/rs-old', /expected \[reference\]\$\[token\]/);
        await refused('/DocumentReference?relationship=a/b/c$replaces', /is not a reference/);
      });

      test('MolecularSequence coordinates: [chromosome]$[start]$[end] of one variant or window', async () => {
        await put({
          resourceType: 'MolecularSequence', id: 'rs-seq', coordinateSystem: 0,
          referenceSeq: { genomeBuild: 'GRCh38', chromosome: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/chromosome-human', code: '1' }] }, windowStart: 100, windowEnd: 200 },
          variant: [{ start: 120, end: 121 }, { start: 150, end: 160 }],
        });
        await put({
          resourceType: 'MolecularSequence', id: 'rs-seq2', coordinateSystem: 0,
          referenceSeq: { referenceSeqId: { coding: [{ code: 'NC_000001.11' }] }, windowStart: 100, windowEnd: 200 }, variant: [{ start: 150, end: 160 }],
        });
        const found = async (query: string) => keys((await search(`/MolecularSequence?${query}`)).entry, 'match');
        assert.deepEqual(await found('chromosome-variant-coordinate=1$ge150$le160'), ['MolecularSequence/rs-seq']);
        assert.deepEqual(await found('chromosome-variant-coordinate=1$120$121'), ['MolecularSequence/rs-seq']);
        // The start of one variant and the end of the other are not one variant.
        assert.deepEqual(await found('chromosome-variant-coordinate=1$120$160'), []);
        assert.deepEqual(await found('chromosome-variant-coordinate=2$120$121'), []);
        assert.deepEqual(await found('chromosome-window-coordinate=http://terminology.hl7.org/CodeSystem/chromosome-human|1$lt101$gt199'), ['MolecularSequence/rs-seq']);
        assert.deepEqual(await found('referenceseqid-variant-coordinate=NC_000001.11$gt140$lt170'), ['MolecularSequence/rs-seq2']);
        assert.deepEqual(await found('referenceseqid-window-coordinate=NC_000001.11$100$gt300'), []);
        await refused('/MolecularSequence?chromosome-window-coordinate=1$100', /expected \[token\]\$\[number\]\$\[number\]/);
        await refused('/MolecularSequence?chromosome-window-coordinate=1$100$x', /is not a number/);
      });

      test(':text, :of-type and :identifier match what a code, an identifier or a reference says', async () => {
        assert.deepEqual(keys((await search('/Observation?code:text=vital')).entry, 'match'), ['Observation/rs-panel']);
        assert.deepEqual(keys((await search('/Observation?code:text=WEIGHT')).entry, 'match'), ['Observation/rs-panel']);
        assert.deepEqual(keys((await search('/Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|MRN-1')).entry, 'match'), ['Patient/rs-p1']);
        assert.deepEqual(keys((await search('/Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|MRN-2')).entry, 'match'), []);
        assert.deepEqual(keys((await search('/Observation?performer:identifier=urn:npi|999')).entry, 'match'), ['Observation/rs-panel']);
        await refused('/Patient?identifier:of-type=MR|1', /:of-type takes \[system\]\|\[code\]\|\[value\]/);
      });

      test('uri :below and :above', async () => {
        await put({ resourceType: 'ValueSet', id: 'rs-vs', status: 'active', url: 'http://example.org/fhir/ValueSet/colors' });
        assert.deepEqual(keys((await search('/ValueSet?url:below=http://example.org/fhir')).entry, 'match'), ['ValueSet/rs-vs']);
        assert.deepEqual(keys((await search('/ValueSet?url:above=http://example.org/fhir/ValueSet/colors/v2')).entry, 'match'), ['ValueSet/rs-vs']);
        assert.deepEqual(keys((await search('/ValueSet?url:below=http://example.org/other')).entry, 'match'), []);
      });

      test('Practitioner and Organization have their search parameters', async () => {
        assert.deepEqual(keys((await search('/Practitioner?name=hou')).entry, 'match'), ['Practitioner/dr-1']);
        assert.deepEqual(keys((await search('/Organization?name=saint')).entry, 'match'), ['Organization/org-1']);
      });
    });

    describe('Prefer: handling', () => {
      test('strict (the default) refuses an unknown parameter; lenient ignores it and says so', async () => {
        await refused('/Observation?nonsense=1&patient=rs-p2', /Unsupported search parameter "nonsense"/);
        await refused('/Observation?nonsense=1&patient=rs-p2', /Unsupported/, { prefer: 'handling=strict' });
        const bundle = await search('/Observation?nonsense=1&patient=rs-p2', { prefer: 'handling=lenient' });
        assert.deepEqual(keys(bundle.entry, 'match'), ['Observation/rs-bp', 'Observation/rs-o4']);
        const [outcome] = bundle.entry.filter((entry) => entry.search.mode === 'outcome');
        assert.match(outcome.resource.issue[0].diagnostics, /"nonsense" is not supported for Observation and was ignored/);
        assert.ok(!bundle.link.find((link) => link.relation === 'self')!.url.includes('nonsense'));
      });

      test('lenient still refuses a known parameter with a bad value', async () => {
        await refused('/Observation?date=notadate', /not a date/, { prefer: 'handling=lenient' });
      });
    });
  });
}
