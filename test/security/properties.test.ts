// Property tests over every parser an attacker reaches (OWASP ASVS 5.0 V1.5, V2.2: input is validated
// whatever its shape). As units: each parser either returns a value or throws its own typed 4xx error, never
// anything else. Against a running server: no input gives a 5xx. Parsers with properties elsewhere:
// test/search/never-500.test.ts (search values against a server), test/smart/scopes.test.ts (scope meaning),
// test/oauth/redirect-uri.test.ts and test/security/redirect-uri.test.ts (redirect URIs).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { buildRequestObject } from '../../src/access/request-object.ts';
import { basicCandidates, decodeBasic } from '../../src/authn/basic.ts';
import { parseFormBody, parseJsonBody, parseYamlBody } from '../../src/http/body-parsers.ts';
import { OAuthError } from '../../src/oauth/errors.ts';
import { parseStrictForm, parseStrictJson, readParams } from '../../src/oauth/params.ts';
import { InvalidCredentials } from '../../src/errors.ts';
import { FhirError } from '../../src/fhir/outcome.ts';
import { searchFilters } from '../../src/search/query.ts';
import { parseScopes, ScopeError } from '../../src/smart/scopes.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

/** Runs `parse`; passes when it returns or throws one of `allowed`, fails on any other exception. */
function onlyThrows(parse: () => unknown, ...allowed: (abstract new (...args: never[]) => Error)[]): void {
  try {
    parse();
  } catch (error) {
    if (!allowed.some((kind) => error instanceof kind)) throw error;
    if (error instanceof FhirError) assert.ok(error.status >= 400 && error.status < 500, `status ${error.status}`);
  }
}

/** Text an attacker would try: any Unicode, lone surrogates, control characters, and syntax of the format. */
const hostileText = (syntax: string) =>
  fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.string({ unit: fc.constantFrom(...syntax.split('')), maxLength: 80 }),
  );

describe('parsers as units (properties)', () => {
  test('Basic credentials: any header value decodes or is a 401, and the readings never throw (RFC 7617)', () => {
    fc.assert(
      fc.property(fc.oneof(hostileText('Aa0+/=:%'), fc.string().map((s) => Buffer.from(s).toString('base64'))), (encoded) => {
        onlyThrows(() => {
          const { id, secret } = decodeBasic(encoded);
          assert.ok(id.length > 0 && !id.includes(':'));
          assert.ok(basicCandidates(id, secret).length >= 1);
        }, InvalidCredentials);
      }),
      { numRuns: 300 },
    );
  });

  test('Basic credentials: an id and secret encoded as RFC 6749 §2.3.1 says are read back exactly', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }), fc.string({ maxLength: 30 }), (id, secret) => {
        const form = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
        const { id: rawId, secret: rawSecret } = decodeBasic(Buffer.from(`${form(id)}:${form(secret)}`).toString('base64'));
        assert.ok(basicCandidates(rawId, rawSecret).some(([a, b]) => a === id && b === secret));
      }),
    );
  });

  test('SMART scopes: any scope string parses or is a ScopeError (SMART App Launch 2.x §3)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(hostileText('patient/user/system*.?=&%cruds'), fc.constantFrom('patient/*.rs?code=%ZZ', 'user/Observation.cruds?=', 'system/.r', 'launch/', 'patient/Observation.rs?a=b&c')), { maxLength: 4 }),
        (tokens) => onlyThrows(() => parseScopes(tokens.join(' ')), ScopeError),
      ),
      { numRuns: 500 },
    );
  });

  test('search parameters: any name, modifier and value give filters or a 400 OperationOutcome', () => {
    const names = fc.oneof(fc.constantFrom('name', 'birthdate', '_id', 'identifier', 'general-practitioner', '_lastUpdated', 'gender:not', 'name:exact', 'address:contains', '_has', 'name:missing', 'link:Patient'), hostileText(':._-'));
    fc.assert(
      fc.property(fc.array(fc.tuple(names, fc.array(hostileText('|,\\$:/-T+Z0123456789eq'), { minLength: 1, maxLength: 3 })), { maxLength: 4 }), (params) => {
        onlyThrows(() => searchFilters('Patient', params, 'http://warden.test', ['_count']), FhirError);
      }),
      { numRuns: 500 },
    );
  });

  test('JSON bodies: any text parses or is a 400; any JSON value within the depth comes back equal', () => {
    fc.assert(fc.property(hostileText('{}[]":,0-9.eE+-\\u'), (text) => onlyThrows(() => parseJsonBody(text, 64), FhirError)), { numRuns: 500 });
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const text = JSON.stringify(value);
        onlyThrows(() => assert.deepEqual(parseJsonBody(text, 64), text.trim() === '' ? undefined : JSON.parse(text)), FhirError);
      }),
    );
  });

  test('YAML bodies: any text, anchors and aliases included, parses or is a 400', () => {
    fc.assert(
      fc.property(fc.oneof(hostileText('{}[]:-&*!|>\'"#%@`\n '), fc.constantFrom('a: &x [*x]', '!!js/function x', '? [a]\n: b', 'a: !!binary AAAA', '<<: *nope', `${'- '.repeat(500)}x`, `${'['.repeat(1000)}`)), (text) =>
        onlyThrows(() => parseYamlBody(text, 64), FhirError),
      ),
      { numRuns: 200 },
    );
  });

  test('form bodies: every field is read as an own property, whatever its name; the strict form refuses repeats with invalid_request', () => {
    const key = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'));
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.string({ maxLength: 12 })), { maxLength: 6 }), (pairs) => {
        const text = new URLSearchParams(pairs).toString();
        const lenient = parseFormBody(text);
        for (const [name, value] of pairs) assert.ok(Object.hasOwn(lenient, name) && typeof lenient[name] === 'string', name);
        assert.equal(lenient[pairs[0]?.[0] ?? ''], pairs[0]?.[1]);
        assert.equal(Object.getPrototypeOf(lenient), Object.prototype);
        onlyThrows(() => readParams(parseStrictForm(text)), OAuthError);
      }),
      { numRuns: 500 },
    );
  });

  test('JSON bodies at /auth: any text parses as JSON.parse reads it, or is a 4xx; a top-level key named twice is invalid_request (RFC 6749 §3.2)', () => {
    fc.assert(
      fc.property(hostileText('{}[]",:\\u0 '), (text) => onlyThrows(() => parseStrictJson(text, 64), FhirError, OAuthError)),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }), (object) => {
        const text = JSON.stringify(object);
        assert.deepEqual(parseStrictJson(text, 64), JSON.parse(text));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2 }), (key, first, second) => {
        // The second spelling of the key may escape what the first writes plainly: still the same parameter.
        const again = JSON.stringify(key).replace(/[a-z]/, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
        const text = `{ ${JSON.stringify(key)}: ${JSON.stringify(first)}, ${again} : ${JSON.stringify(second)} }`;
        assert.throws(() => parseStrictJson(text, 64), (error: unknown) => error instanceof OAuthError && /is repeated/.test(error.message));
      }),
      { numRuns: 500 },
    );
  });

  test('the policy request object: any method, URL, headers and body give a plain JSON object without credentials', () => {
    const url = fc.oneof(
      fc.webPath().map((path) => path || '/'),
      hostileText('/?&=%:.').map((text) => `/${text}`),
      fc.constantFrom('/Patient/%ZZ', '/%4Fbservation/x', '/Patient/x/_history/%', '/auth/test-policy?x=%', '/Patient?a=1&a=2&__proto__=x'),
    );
    fc.assert(
      fc.property(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'get', 'OPTIONS'), url, fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })), fc.option(fc.jsonValue({ maxDepth: 3 })), (method, path, headers, body) => {
        const object = buildRequestObject({ method, url: path, headers: { ...headers, authorization: 'Basic c2VjcmV0', cookie: 'warden_session=s' }, body: body ?? undefined });
        assert.equal(typeof object.uri, 'string');
        assert.equal(object.headers.authorization, undefined);
        assert.equal(object.headers.cookie, undefined);
        assert.doesNotThrow(() => JSON.stringify(object));
      }),
      { numRuns: 500 },
    );
  });
});

/** Statuses a hostile request may get: any 4xx, or success; never a 5xx. */
const assertNo5xx = (status: number, what: string) => assert.ok(status < 500, `${what} → ${status}`);

for (const engine of engines()) {
  describe(`no input gives a 5xx (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
    });
    after(() => server.close());

    test('any Authorization header on the API', async () => {
      const header = fc.oneof(
        fc.string({ maxLength: 60 }).map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
        hostileText('Aa0+/=.-_~ ').map((s) => `Bearer ${s}`),
        hostileText('Aa0+/=: ').map((s) => `Basic ${s}`),
        fc.string({ unit: fc.constantFrom(...'abcXYZ019 ,=";'.split('')), maxLength: 40 }),
      );
      await fc.assert(
        fc.asyncProperty(header, async (value) => {
          // Header values are Latin-1 without CR/LF/NUL on the wire; anything else never reaches the server.
          const wire = value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
          const response = await server.request('GET', '/Patient', { auth: null, headers: { authorization: wire } });
          assertNo5xx(response.status, JSON.stringify(wire));
          assert.ok(response.status === 200 || response.status === 400 || response.status === 401 || response.status === 403 || response.status === 429, `${response.status}`);
        }),
        { numRuns: 150 },
      );
    });

    test('any JSON or YAML body on a resource write', async () => {
      const body = fc.oneof(
        fc.jsonValue({ maxDepth: 4 }).map((value) => ['application/fhir+json', JSON.stringify(value)] as const),
        fc.record({ resourceType: fc.constantFrom('Patient', 'Observation', 'Client', 'AccessPolicy', 'User'), id: fc.string({ maxLength: 8 }) }, { requiredKeys: [] })
          .chain((base) => fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }).map((extra) => ['application/json', JSON.stringify({ ...extra, ...base })] as const)),
        hostileText('{}[]:-&*!|>\'"#\n ').map((text) => ['text/yaml', text] as const),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('PUT /Patient/fz', 'POST /Patient', 'PUT /Client/fz', 'PUT /AccessPolicy/fz', 'PATCH /Patient/fz', 'POST /'), body, async (route, [type, text]) => {
          const [method, path] = route.split(' ');
          const response = await server.request(method, path, { raw: text, contentType: type });
          assertNo5xx(response.status, `${route} ${type} ${text.slice(0, 200)}`);
        }),
        { numRuns: 200 },
      );
    });

    test('any parameters at /auth/token, as a form or as JSON', async () => {
      const names = fc.constantFrom('grant_type', 'client_id', 'client_secret', 'code', 'redirect_uri', 'code_verifier', 'refresh_token', 'scope', 'username', 'password', 'client_assertion', 'client_assertion_type', 'audience');
      const values = fc.oneof(fc.constantFrom('client_credentials', 'authorization_code', 'password', 'refresh_token', 'root', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'a.b.c', 'eyJhbGciOiJub25lIn0.e30.'), fc.string({ maxLength: 40 }));
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(names, values), { maxLength: 6 }), fc.boolean(), async (pairs, asJson) => {
          const raw = asJson ? JSON.stringify(Object.fromEntries(pairs)) : new URLSearchParams(pairs).toString();
          const response = await server.request('POST', '/auth/token', { raw, contentType: asJson ? 'application/json' : 'application/x-www-form-urlencoded', auth: null });
          assertNo5xx(response.status, raw);
          if (response.status !== 200) assert.equal(typeof response.body.error, 'string', response.text);
        }),
        { numRuns: 150 },
      );
    });

    test('any request to the policy debugger (POST /auth/test-policy)', async () => {
      const described = fc.record(
        {
          'request-method': fc.oneof(fc.constantFrom('get', 'post', 'PUT', 'head'), fc.string({ maxLength: 6 })),
          uri: fc.oneof(fc.constantFrom('/Patient/x', '/%ZZ', '/Patient/%', '/auth/test-policy', ''), fc.webPath(), fc.string({ maxLength: 20 })),
          params: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 })),
          headers: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 })),
          body: fc.jsonValue({ maxDepth: 3 }),
        },
        { requiredKeys: [] },
      );
      const policy = fc.oneof(
        fc.constant({ engine: 'allow' }),
        fc.record({ engine: fc.constantFrom('matcho', 'json-schema', 'sql', 'complex', 'nope'), matcho: fc.jsonValue({ maxDepth: 2 }), schema: fc.jsonValue({ maxDepth: 2 }), sql: fc.record({ query: fc.string({ maxLength: 20 }) }) }, { requiredKeys: ['engine'] }),
      );
      await fc.assert(
        fc.asyncProperty(fc.option(described), fc.option(policy), async (request, candidate) => {
          const body = { ...(request && { request }), ...(candidate && { policy: candidate }) };
          const response = await server.request('POST', '/auth/test-policy', { body });
          assertNo5xx(response.status, JSON.stringify(body).slice(0, 300));
        }),
        { numRuns: 150 },
      );
    });
  });
}
