// The policy editor's check-as-you-type: syntax errors with their line, and the shape each engine needs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkPolicy } from '../../console/src/pages/policy-check.ts';

describe('console policy check', () => {
  test('a valid YAML policy passes and gets resourceType AccessPolicy', () => {
    const check = checkPolicy('id: p\nengine: allow\nlink:\n  - reference: Client/app\n');
    assert.deepEqual(check.problems, []);
    assert.equal(check.format, 'yaml');
    assert.deepEqual(check.policy, { id: 'p', engine: 'allow', link: [{ reference: 'Client/app' }], resourceType: 'AccessPolicy' });
  });

  test('a YAML syntax error names its line', () => {
    const check = checkPolicy('id: p\nengine: matcho\nmatcho:\n  uri: [\n');
    assert.equal(check.policy, null);
    assert.match(check.problems[0]!.message, /^YAML: /);
    assert.equal(typeof check.problems[0]!.line, 'number');
  });

  test('a JSON syntax error is reported as JSON', () => {
    const check = checkPolicy('{\n  "id": "p",\n  "engine": "allow",\n}');
    assert.equal(check.format, 'json');
    assert.match(check.problems[0]!.message, /^JSON: /);
  });

  test('each engine needs its own field', () => {
    assert.match(checkPolicy('engine: json-schema').problems[0]!.message, /schema must be an object/);
    assert.match(checkPolicy('engine: matcho').problems[0]!.message, /matcho must be an object/);
    assert.match(checkPolicy('engine: sql\nsql: {}').problems[0]!.message, /sql.query/);
    assert.match(checkPolicy('engine: complex').problems[0]!.message, /exactly one of "and" or "or"/);
    assert.match(checkPolicy('engine: magic').problems[0]!.message, /engine must be one of/);
    assert.match(checkPolicy('link: []').problems[0]!.message, /engine is missing/);
  });

  test('complex rules are checked inside', () => {
    const check = checkPolicy('engine: complex\nor:\n  - engine: allow\n  - engine: matcho\n');
    assert.deepEqual(check.problems.map((problem) => problem.message), ['or[1].matcho must be an object (a pattern over the request)']);
  });

  test('links must reference a Client, User or Operation', () => {
    const check = checkPolicy('engine: allow\nlink:\n  - reference: Patient/x\n  - {resourceType: User, id: u}\n');
    assert.equal(check.problems.length, 1);
    assert.match(check.problems[0]!.message, /^link\[0\]/);
  });

  test('not an object, or the wrong resourceType, is refused', () => {
    assert.match(checkPolicy('- a\n- b\n').problems[0]!.message, /an object/);
    assert.match(checkPolicy('resourceType: Client\nengine: allow').problems[0]!.message, /resourceType must be "AccessPolicy"/);
  });
});
