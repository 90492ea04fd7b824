import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  formatScopes,
  grantedScopes,
  INTERACTIONS,
  intersectScopes,
  parseScope,
  parseScopes,
  resourceScopeCovers,
  ScopeError,
  scopesBeyond,
  type ResourceScope,
} from '../../src/smart/scopes.ts';

const resource = (raw: string) => parseScope(raw) as ResourceScope;
const letters = (scope: ResourceScope) => [...scope.interactions].sort().join('');

describe('SMART scope parsing', () => {
  test('v1 read means read and search; write means create, update, delete; * means all five', () => {
    assert.equal(letters(resource('patient/*.read')), 'rs');
    assert.equal(letters(resource('user/Observation.write')), 'cdu');
    assert.equal(letters(resource('system/*.*')), 'cdrsu');
    assert.equal(resource('user/Observation.write').type, 'Observation');
    assert.equal(resource('patient/*.read').version, 1);
  });

  test('v2 letters are interactions, with a query that narrows', () => {
    const scope = resource('patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory');
    assert.equal(scope.version, 2);
    assert.equal(scope.context, 'patient');
    assert.equal(letters(scope), 'rs');
    assert.deepEqual(scope.constraints, [['category', 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory']]);
  });

  test('launch, identity and refresh scopes are recognised by kind', () => {
    const kinds = parseScopes('launch launch/patient openid fhirUser offline_access online_access profile my-custom').map((s) => s.kind);
    assert.deepEqual(kinds, ['launch', 'launch', 'openid', 'fhirUser', 'offline_access', 'online_access', 'profile', 'other']);
    assert.equal((parseScope('launch/patient') as { context?: string }).context, 'patient');
  });

  test('letters out of order, unknown letters, lower-case types and v1 queries are refused', () => {
    for (const bad of ['patient/Observation.sr', 'patient/Observation.x', 'patient/observation.read', 'patient/Observation.', 'user/*.read?category=a', 'patient/Observation.rs?category', 'system/Patient']) {
      assert.throws(() => parseScope(bad), ScopeError, bad);
    }
  });

  test('duplicates are removed and the order kept', () => {
    assert.equal(formatScopes(parseScopes('openid  patient/*.read openid')), 'openid patient/*.read');
  });

  test('any v2 scope text parses back to the same interactions (property)', () => {
    const subsets = fc.subarray([...INTERACTIONS], { minLength: 1 });
    fc.assert(
      fc.property(fc.constantFrom('patient', 'user', 'system'), fc.constantFrom('*', 'Observation', 'Patient'), subsets, (context, type, chosen) => {
        const scope = resource(`${context}/${type}.${chosen.join('')}`);
        assert.deepEqual([...scope.interactions], chosen);
        assert.equal(scope.type, type);
      }),
    );
  });
});

describe('granted scopes', () => {
  test('are what the app asked, narrowed to what the client may have', () => {
    const granted = grantedScopes({
      requested: parseScopes('launch/patient openid fhirUser patient/*.read user/Observation.write'),
      clientAllowed: parseScopes('launch/patient openid fhirUser patient/Observation.rs patient/Patient.rs'),
    });
    assert.equal(formatScopes(granted), 'launch/patient openid fhirUser patient/Observation.rs patient/Patient.rs');
  });

  test('keep an asked-for v1 scope spelled as asked when the client allows all of it', () => {
    const granted = grantedScopes({ requested: parseScopes('patient/*.read'), clientAllowed: parseScopes('patient/*.cruds') });
    assert.equal(formatScopes(granted), 'patient/*.read');
  });

  test('are further narrowed by what the user consented to', () => {
    const granted = grantedScopes({
      requested: parseScopes('patient/*.cruds offline_access'),
      clientAllowed: undefined,
      consented: parseScopes('patient/Observation.rs'),
    });
    assert.equal(formatScopes(granted), 'patient/Observation.rs');
  });

  test('carry the narrowing of either side', () => {
    const granted = grantedScopes({
      requested: parseScopes('patient/Observation.rs'),
      clientAllowed: parseScopes('patient/Observation.rs?category=laboratory'),
    });
    assert.equal(formatScopes(granted), 'patient/Observation.rs?category=laboratory');
  });

  test('never cross contexts: a patient scope does not grant a user scope', () => {
    assert.deepEqual(intersectScopes(parseScopes('user/*.read'), parseScopes('patient/*.read')), []);
  });

  test('grant nothing the client does not allow (property)', () => {
    const scopeText = fc
      .tuple(fc.constantFrom('patient', 'user', 'system'), fc.constantFrom('*', 'Observation', 'Patient', 'Condition'), fc.subarray([...INTERACTIONS], { minLength: 1 }))
      .map(([c, t, l]) => `${c}/${t}.${l.join('')}`);
    fc.assert(
      fc.property(fc.array(scopeText, { maxLength: 5 }), fc.array(scopeText, { maxLength: 5 }), (asked, allowed) => {
        const allowedScopes = parseScopes(allowed.join(' '));
        const granted = grantedScopes({ requested: parseScopes(asked.join(' ')), clientAllowed: allowedScopes });
        assert.deepEqual(scopesBeyond(granted, allowedScopes), []);
        assert.deepEqual(scopesBeyond(granted, parseScopes(asked.join(' '))), []);
      }),
    );
  });
});

describe('refresh and subset checks', () => {
  test('a narrower scope is within a broader one, not the other way', () => {
    assert.ok(resourceScopeCovers(resource('patient/*.read'), resource('patient/Observation.r')));
    assert.ok(!resourceScopeCovers(resource('patient/Observation.r'), resource('patient/*.read')));
    assert.ok(resourceScopeCovers(resource('patient/Observation.rs'), resource('patient/Observation.rs?category=laboratory')));
    assert.ok(!resourceScopeCovers(resource('patient/Observation.rs?category=laboratory'), resource('patient/Observation.rs')));
  });

  test('widening on refresh is found: write added, another type, another context', () => {
    const granted = parseScopes('launch/patient patient/Observation.rs openid');
    assert.deepEqual(scopesBeyond(parseScopes('patient/Observation.r openid'), granted), []);
    assert.deepEqual(
      scopesBeyond(parseScopes('patient/Observation.cruds patient/Condition.rs user/Observation.rs offline_access'), granted).map((s) => s.raw),
      ['patient/Observation.cruds', 'patient/Condition.rs', 'user/Observation.rs', 'offline_access'],
    );
  });
});
