// The matcho engine, operator by operator, and properties that must hold for any value.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compileMatcho, deepEqual } from '../../src/access/engines/matcho.ts';
import { PolicyError } from '../../src/access/policy.ts';
import type { RequestObject } from '../../src/access/request-object.ts';

const request: RequestObject = {
  'request-method': 'get',
  uri: '/Patient/p1',
  scheme: 'http',
  params: { 'resource/type': 'Patient', 'resource/id': 'p1' },
  headers: {},
  user: { id: 'u1', data: { patient: 'p1' } },
};

const matches = (pattern: unknown, value: unknown, on: RequestObject = request) => compileMatcho(pattern, 'AccessPolicy.matcho')(value, on, false) === null;

describe('matcho', () => {
  test('a map matches a map containing its keys, extra keys allowed', () => {
    assert.ok(matches({ a: 1 }, { a: 1, b: 2 }));
    assert.ok(!matches({ a: 1, c: 3 }, { a: 1, b: 2 }));
    assert.ok(matches({ a: { b: 'x' } }, { a: { b: 'x', c: 'y' } }));
    assert.ok(!matches({ a: 1 }, [1]));
  });

  test('an array matches an array that starts with matching elements', () => {
    assert.ok(matches([1, 2], [1, 2, 3]));
    assert.ok(!matches([1, 2], [2, 1]));
    assert.ok(!matches([1, 2], [1]));
    assert.ok(matches([{ a: 1 }], [{ a: 1, b: 2 }]));
    assert.ok(!matches([1], 'not an array'));
  });

  test('#regex matches strings the regex finds a match in', () => {
    assert.ok(matches('#^/Patient', '/Patient/1'));
    assert.ok(!matches('#^/Patient$', '/Patient/1'));
    assert.ok(!matches('#.*', undefined));
    assert.ok(matches('#^[0-9]+$', 42));
  });

  test('.path matches the value at that path of the request', () => {
    assert.ok(matches('.user.data.patient', 'p1'));
    assert.ok(!matches('.user.data.patient', 'p2'));
    assert.ok(matches({ params: { 'resource/id': '.user.data.patient' } }, request));
  });

  test('.path to an absent value matches nothing, not even an absent value', () => {
    const anonymous: RequestObject = { ...request, user: undefined };
    assert.ok(!matches('.user.id', undefined, anonymous));
    assert.ok(!matches({ user: { id: '.jwt.sub' } }, anonymous, anonymous));
  });

  test('present?, nil? and not-blank?', () => {
    assert.ok(matches('present?', 'x'));
    assert.ok(matches('present?', false));
    assert.ok(!matches('present?', undefined));
    assert.ok(!matches('present?', null));
    assert.ok(matches('nil?', undefined));
    assert.ok(matches('nil?', null));
    assert.ok(!matches('nil?', 0));
    assert.ok(matches('not-blank?', 'a'));
    assert.ok(!matches('not-blank?', '   '));
    assert.ok(!matches('not-blank?', undefined));
    assert.ok(matches({ a: 'nil?' }, {}));
  });

  test('literals match themselves only', () => {
    assert.ok(matches('get', 'get'));
    assert.ok(!matches('get', 'GET'));
    assert.ok(matches(1, 1));
    assert.ok(!matches(1, '1'));
    assert.ok(matches(true, true));
    assert.ok(!matches(true, 'true'));
  });

  test('$enum matches any of its values', () => {
    assert.ok(matches({ $enum: ['get', 'post'] }, 'post'));
    assert.ok(!matches({ $enum: ['get', 'post'] }, 'put'));
    assert.ok(matches({ $enum: [{ a: 1 }] }, { a: 1 }));
  });

  test('$one-of matches when any of its patterns does', () => {
    const pattern = { '$one-of': [{ a: 1 }, '#^x'] };
    assert.ok(matches(pattern, { a: 1 }));
    assert.ok(matches(pattern, 'xyz'));
    assert.ok(!matches(pattern, 'abc'));
  });

  test('$contains matches an array with some matching element', () => {
    assert.ok(matches({ $contains: { code: 'admin' } }, [{ code: 'user' }, { code: 'admin' }]));
    assert.ok(!matches({ $contains: { code: 'admin' } }, [{ code: 'user' }]));
    assert.ok(!matches({ $contains: 'x' }, 'x'));
  });

  test('$every matches an array whose elements all match', () => {
    assert.ok(matches({ $every: '#^Patient/' }, ['Patient/1', 'Patient/2']));
    assert.ok(!matches({ $every: '#^Patient/' }, ['Patient/1', 'Group/2']));
    assert.ok(matches({ $every: 'x' }, []));
    assert.ok(!matches({ $every: 'x' }, 'x'));
  });

  test('$not inverts its pattern', () => {
    assert.ok(matches({ $not: 'delete' }, 'get'));
    assert.ok(!matches({ $not: 'delete' }, 'delete'));
    assert.ok(matches({ 'request-method': { $not: { $enum: ['delete', 'put'] } } }, request));
  });

  test('$reference parses a reference into resourceType and id', () => {
    const pattern = { subject: { $reference: { resourceType: 'Patient', id: '.user.data.patient' } } };
    assert.ok(matches(pattern, { subject: 'Patient/p1' }));
    assert.ok(matches(pattern, { subject: { reference: 'http://example.org/fhir/Patient/p1' } }));
    assert.ok(matches(pattern, { subject: 'Patient/p1/_history/3' }));
    assert.ok(!matches(pattern, { subject: 'Patient/p2' }));
    assert.ok(!matches(pattern, { subject: 'Group/p1' }));
    assert.ok(!matches(pattern, { subject: 42 }));
  });

  test('operators combine with fields in one map', () => {
    const pattern = { a: 1, $not: { b: 2 } };
    assert.ok(matches(pattern, { a: 1, b: 3 }));
    assert.ok(!matches(pattern, { a: 1, b: 2 }));
  });

  test('an unknown operator, a bad regex or a malformed operator argument is a PolicyError naming its place', () => {
    assert.throws(() => compileMatcho({ uri: { $regex: 'x' } }, 'AccessPolicy.matcho'), (error: PolicyError) => {
      assert.equal(error.path, 'AccessPolicy.matcho.uri.$regex');
      return true;
    });
    assert.throws(() => compileMatcho({ uri: '#(a' }, 'AccessPolicy.matcho'), /AccessPolicy\.matcho\.uri: invalid regex/);
    assert.throws(() => compileMatcho({ uri: '#(a)\\1' }, 'AccessPolicy.matcho'), /invalid regex/);
    assert.throws(() => compileMatcho({ $enum: 'x' }, 'AccessPolicy.matcho'), /\$enum takes an array/);
  });

  test('the reason names where the request differs', () => {
    const failure = compileMatcho({ 'request-method': 'post' }, 'AccessPolicy.matcho')(request, request, true);
    assert.equal(failure, 'request.request-method is "get", expected "post"');
  });

  const json = fc.jsonValue({ maxDepth: 4 });
  // Strings that matcho reads as patterns rather than literals.
  const literal = (value: unknown): boolean =>
    typeof value === 'string'
      ? !/^[#.]/.test(value) && !['present?', 'nil?', 'not-blank?'].includes(value)
      : Array.isArray(value)
        ? value.every(literal)
        : value !== null && typeof value === 'object'
          ? Object.entries(value).every(([key, item]) => !key.startsWith('$') && literal(item))
          : value !== null;

  test('property: a literal value matches itself', () => {
    fc.assert(fc.property(json.filter(literal), (value) => matches(value, value)));
  });

  test('property: a map pattern matches any superset map of its value', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), json).filter(literal), fc.dictionary(fc.string(), json), (pattern, extra) => {
        assert.ok(matches(pattern, { ...extra, ...pattern }));
      }),
    );
  });

  test('property: an array pattern matches any extension of itself and no shorter array', () => {
    fc.assert(
      fc.property(fc.array(json).filter(literal), fc.array(json), (pattern, tail) => {
        assert.ok(matches(pattern, [...pattern, ...tail]));
        if (pattern.length > 0) assert.ok(!matches(pattern, pattern.slice(0, -1)));
      }),
    );
  });

  test('property: $not inverts and $enum agrees with deep equality', () => {
    fc.assert(
      fc.property(json.filter(literal), json, (pattern, value) => {
        assert.equal(matches({ $not: pattern }, value), !matches(pattern, value));
        assert.equal(matches({ $enum: [pattern] }, value), deepEqual(pattern, value));
      }),
    );
  });

  test('property: explaining a decision never changes it', () => {
    fc.assert(
      fc.property(json, json, (pattern, value) => {
        let matcher;
        try {
          matcher = compileMatcho(pattern, 'AccessPolicy.matcho');
        } catch {
          return; // not a valid pattern (an unknown $operator)
        }
        assert.equal(matcher(value, request, true) === null, matcher(value, request, false) === null);
      }),
    );
  });

  test('property: regex matching never throws and agrees with JavaScript on simple patterns', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{0,3}$/), fc.string({ maxLength: 30 }), (source, input) => {
        assert.equal(matches(`#${source}`, input), new RegExp(source).test(input));
      }),
    );
  });
});
