import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOutcome } from '../helpers/outcome.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

type Part = Record<string, unknown>;
const operation = (type: string, path: string, extra: Part[] = []) => ({
  name: 'operation',
  part: [{ name: 'type', valueCode: type }, { name: 'path', valueString: path }, ...extra],
});
const parameters = (...parameter: unknown[]) => ({ resourceType: 'Parameters', parameter });

for (const engine of engines()) {
  describe(`FHIRPath Patch (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
    });
    after(() => server.close());

    const reset = () =>
      server.request('PUT', '/Patient/fp', {
        body: { resourceType: 'Patient', gender: 'male', name: [{ family: 'A' }, { family: 'B' }, { family: 'C' }] },
      });
    const patch = (body: unknown) => server.request('PATCH', '/Patient/fp', { body, contentType: 'application/fhir+json' });

    test('replace, add (a repeating element becomes a list), insert, move and delete', async () => {
      await reset();
      const answer = await patch(
        parameters(
          operation('replace', 'Patient.gender', [{ name: 'value', valueCode: 'female' }]),
          operation('add', 'Patient', [{ name: 'name', valueString: 'identifier' }, { name: 'value', valueIdentifier: { system: 'urn:x', value: '1' } }]),
          operation('add', 'Patient', [{ name: 'name', valueString: 'birthDate' }, { name: 'value', valueDate: '1970-01-01' }]),
          operation('insert', 'Patient.name', [{ name: 'index', valueInteger: 0 }, { name: 'value', valueHumanName: { family: 'Z' } }]),
          operation('move', 'Patient.name', [{ name: 'source', valueInteger: 0 }, { name: 'destination', valueInteger: 3 }]),
          operation('delete', "Patient.name.where(family = 'B')"),
        ),
      );
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.gender, 'female');
      assert.deepEqual(answer.body.identifier, [{ system: 'urn:x', value: '1' }]);
      assert.equal(answer.body.birthDate, '1970-01-01');
      assert.deepEqual(answer.body.name.map((name: any) => name.family), ['A', 'C', 'Z']);
    });

    test('a delete that finds nothing changes nothing; a bad path is 400, a bad operation 422', async () => {
      await reset();
      const unchanged = await patch(parameters(operation('delete', 'Patient.telecom')));
      assert.equal(unchanged.status, 200, unchanged.text);
      assertOutcome(await patch(parameters(operation('delete', 'Patient.name.where('))), 400, /invalid path/);
      assertOutcome(await patch(parameters(operation('replace', 'Patient.name', [{ name: 'value', valueString: 'x' }]))), 422, /must name one element/);
      assertOutcome(await patch(parameters(operation('rename', 'Patient.gender'))), 422, /type must be add/);
      assertOutcome(await patch(parameters(operation('insert', 'Patient.name', [{ name: 'index', valueInteger: 9 }, { name: 'value', valueHumanName: {} }]))), 422, /past the end/);
    });

    test('a PATCH entry of a transaction carries a FHIRPath Patch', async () => {
      await reset();
      const answer = await server.request('POST', '/', {
        body: {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [{ resource: parameters(operation('replace', 'Patient.gender', [{ name: 'value', valueCode: 'other' }])), request: { method: 'PATCH', url: 'Patient/fp' } }],
        },
      });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.entry[0].resource.gender, 'other');
    });
  });
}
