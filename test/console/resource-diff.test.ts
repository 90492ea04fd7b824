// The resource browser's diff between versions, and how a server's error expression finds its line.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { diffLines, lineOfExpression } from '../../console/src/pages/resource-diff.ts';

describe('version diff', () => {
  test('a changed line is one removed and one added; the rest is kept', () => {
    assert.deepEqual(diffLines('a\nb\nc\n', 'a\nB\nc\nd\n'), [
      { kind: 'same', text: 'a' },
      { kind: 'removed', text: 'b' },
      { kind: 'added', text: 'B' },
      { kind: 'same', text: 'c' },
      { kind: 'added', text: 'd' },
    ]);
  });

  test('property: the kept and removed lines are the old text, the kept and added lines the new one', () => {
    const text = fc.array(fc.constantFrom('a', 'b', 'c', '  - x', 'id: 1'), { maxLength: 30 }).map((lines) => lines.join('\n'));
    fc.assert(fc.property(text, text, (before, after) => {
      const lines = diffLines(before, after);
      assert.equal(lines.filter((line) => line.kind !== 'added').map((line) => line.text).join('\n'), before);
      assert.equal(lines.filter((line) => line.kind !== 'removed').map((line) => line.text).join('\n'), after);
    }), { numRuns: 300 });
  });
});

describe('error expression to line', () => {
  const yaml = 'resourceType: Patient\nid: pt-1\nname:\n  - given: [Peter]\n    family: Windsor\ngrant_types:\n  - basic\n  - 42\n';

  test('FHIRPath-like and dotted expressions find their line in YAML', () => {
    assert.equal(lineOfExpression(yaml, 'id', 'Patient'), 2);
    assert.equal(lineOfExpression(yaml, 'Patient.name[0].family', 'Patient'), 5);
    assert.equal(lineOfExpression(yaml, 'grant_types.1', 'Patient'), 8);
  });

  test('and in JSON, which is YAML too', () => {
    assert.equal(lineOfExpression('{\n  "resourceType": "Patient",\n  "meta": 5\n}', 'meta', 'Patient'), 3);
  });

  test('an expression that names nothing in the text gives no line; broken text gives none either', () => {
    assert.equal(lineOfExpression(yaml, 'Patient.telecom[0]', 'Patient'), undefined);
    assert.equal(lineOfExpression('a: [', 'a', 'Patient'), undefined);
    assert.equal(lineOfExpression(yaml, '', 'Patient'), undefined);
  });
});
