// A search Bundle written as JSON text with each unchanged match spliced from its stored JSON (bundle.ts): the
// same document as the Bundle serialised whole, whatever the resources, the stored texts' spacing and which
// entries have one; and the audit's patients of a result read without FHIRPath when every path is plain.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { searchBundle, searchBundleJson } from '../../src/resources/bundle.ts';
import { outcomeEntry } from '../../src/resources/search.ts';
import { referencesReadPlainly } from '../../src/search/extract.ts';
import type { Resource } from '../../src/store/resource-store.ts';

const resource = fc.record({
  resourceType: fc.constantFrom('Observation', 'Patient'),
  id: fc.stringMatching(/^[A-Za-z0-9\-.]{1,64}$/),
  extra: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }),
}).map(({ resourceType, id, extra }) => ({ ...extra, resourceType, id }) as Resource);

/** Stored text is spaced otherwise than JSON.stringify writes it (PostgreSQL writes jsonb with spaces). */
const storedText = (value: unknown) => JSON.stringify(value, null, 1);

test('a search Bundle with stored texts spliced is the same JSON document as the Bundle serialised whole', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(resource, fc.boolean()), { maxLength: 6 }), fc.boolean(), ([...items], withOutcome) => {
      const resources = items.map(([item]) => item);
      const bundle = searchBundle('http://warden.test', resources, { baseUrl: 'http://warden.test/Observation', params: new URLSearchParams('code=a,b'), page: 1, count: 10, total: 3, hasNext: false });
      if (withOutcome) (bundle.entry as unknown[]).push(outcomeEntry(['ignored "x"']));
      const texts = items.map(([item, stored]) => (stored ? storedText(item) : undefined));
      assert.deepEqual(JSON.parse(searchBundleJson(bundle, texts)), JSON.parse(JSON.stringify(bundle)));
    }),
  );
});

test('an entry is spliced from its stored text as it is, not serialised from the resource', () => {
  const stored: Resource = { resourceType: 'Observation', id: 'o1', valueQuantity: { value: 1.5 } } as Resource;
  const bundle = searchBundle('http://warden.test', [stored], { baseUrl: 'http://warden.test/Observation', params: new URLSearchParams(), page: 1, count: 10, hasNext: false });
  const json = searchBundleJson(bundle, ['{"id": "o1", "resourceType": "Observation", "valueQuantity": {"value": 1.50}}']);
  assert.match(json, /"resource":\{"id": "o1", "resourceType": "Observation", "valueQuantity": \{"value": 1\.50\}\},"search":\{"mode":"match"\}/);
  assert.equal(JSON.parse(json).entry[0].fullUrl, 'http://warden.test/Observation/o1');
});

test('the patients of an Observation are read from its JSON alone; a parameter with a FHIRPath function is not', () => {
  assert.equal(referencesReadPlainly('Observation', ['subject', 'performer']), true);
  assert.equal(referencesReadPlainly('Composition', ['related-ref']), false);
});
