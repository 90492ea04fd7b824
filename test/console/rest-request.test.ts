// The REST console's request text (the seeds' `METHOD /path`, headers, empty line, body) and its curl command.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { EXAMPLES } from '../../console/src/pages/rest-examples.ts';
import { curlOf, headersToSend, parseRequest, TOKEN_PLACEHOLDER, type Sender } from '../../console/src/pages/rest-request.ts';

const ORIGIN = 'http://127.0.0.1:8080';
const parsed = (text: string) => parseRequest(text, ORIGIN);

describe('REST console request text', () => {
  test('the seed\'s PUT Client/basic: request line, empty line, YAML body', () => {
    const { request, problems } = parsed('PUT /Client/basic\n\nsecret: secret\ngrant_types:\n  - basic\n');
    assert.deepEqual(problems, []);
    assert.deepEqual(request, { method: 'PUT', path: '/Client/basic', headers: [], body: 'secret: secret\ngrant_types:\n  - basic\n', bodyFormat: 'yaml' });
  });

  test('a YAML body right under the request line is a body, not headers', () => {
    const { request } = parsed('POST /auth/token\nclient_id: api-consumer\ngrant_type: client_credentials');
    assert.deepEqual(request?.headers, []);
    assert.equal(request?.body, 'client_id: api-consumer\ngrant_type: client_credentials\n');
  });

  test('headers under the request line, then an empty line and a JSON body', () => {
    const { request } = parsed('put /Patient/pt-1 HTTP/1.1\nIf-Match: W/"2"\nprefer: return=representation\n\n{"resourceType": "Patient"}');
    assert.equal(request?.method, 'PUT');
    assert.deepEqual(request?.headers, [['If-Match', 'W/"2"'], ['prefer', 'return=representation']]);
    assert.equal(request?.bodyFormat, 'json');
  });

  test('known headers with no body need no empty line', () => {
    const { request } = parsed('GET /Patient?name=smith\nAccept: text/yaml');
    assert.deepEqual(request?.headers, [['Accept', 'text/yaml']]);
    assert.equal(request?.body, null);
  });

  test('a content type names the body\'s format; a form is sent as typed', () => {
    const { request } = parsed('POST /auth/token\ncontent-type: application/x-www-form-urlencoded\n\ngrant_type=client_credentials');
    assert.equal(request?.bodyFormat, 'form');
  });

  test('mistakes are reported at their line', () => {
    assert.equal(parsed('').problems[0]?.line, undefined);
    assert.deepEqual(parsed('\n\nFETCH /Patient').problems, [{ message: 'Unknown method "FETCH": use one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS.', line: 3 }]);
    assert.equal(parsed('GET Patient').problems[0]?.line, 1);
    assert.match(parsed('GET https://elsewhere.example/Patient').problems[0]!.message, /this server only/);
    assert.equal(parsed('GET //elsewhere.example/Patient').request, null);
    assert.equal(parsed('GET /\\elsewhere.example/Patient').request, null, 'a backslash is a slash to the URL parser');
    const yaml = parsed('PUT /Patient/x\n\nresourceType: Patient\nname: [\n');
    assert.ok(yaml.problems[0]!.line! >= 4, `YAML error line ${yaml.problems[0]!.line} is in the body`);
    assert.match(parsed('GET /Patient\n\nname: x').problems[0]!.message, /has no body/);
    assert.match(parsed('PUT /Patient/x\n\nname: *nowhere\n').problems[0]!.message, /^YAML: /, 'an alias to no anchor is a mistake, not a crash');
    assert.match(parsed('GET /Patient\nCookie: a=b\n').problems[0]!.message, /cannot set the Cookie header/);
  });

  test('a full URL of this server is cut down to its path', () => {
    assert.equal(parsed(`GET ${ORIGIN}/Patient?_count=1`).request?.path, '/Patient?_count=1');
  });

  test('every example from the seeds parses', () => {
    for (const example of EXAMPLES) assert.deepEqual(parsed(example.text).problems, [], example.title);
  });

  test('property: no text makes the parser throw', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
      const result = parsed(text);
      assert.ok((result.request === null) === (result.problems.length > 0));
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.constantFrom('GET', 'PUT', 'POST'), fc.array(fc.string({ maxLength: 40 }), { maxLength: 8 }), (method, lines) => {
      parsed([`${method} /Patient`, ...lines].join('\n'));
    }), { numRuns: 500 });
  });
});

describe('REST console sending and curl', () => {
  const request = parsed('PUT /Client/basic\n\nsecret: secret\n').request!;
  const token = 'eyJhbGciOiJSUzI1NiJ9.console-token.signature';

  test('sent as the console, the request carries its token, a JSON Accept and the body\'s type', () => {
    assert.deepEqual(headersToSend(request, { kind: 'console' }, token), [['Accept', 'application/json'], ['Content-Type', 'text/yaml'], ['Authorization', `Bearer ${token}`]]);
  });

  test('sent as a Client, Basic credentials per RFC 7617 (UTF-8, base64)', () => {
    const headers = headersToSend(request, { kind: 'basic', id: 'basic', secret: 'sécret' }, token);
    assert.deepEqual(headers.at(-1), ['Authorization', `Basic ${Buffer.from('basic:sécret').toString('base64')}`]);
  });

  test('an Authorization typed in the request wins, and nobody sends none', () => {
    const typed = parsed('GET /Patient\nAuthorization: Bearer other\n').request!;
    assert.deepEqual(headersToSend(typed, { kind: 'console' }, token).filter(([name]) => /authorization/i.test(name)), [['Authorization', 'Bearer other']]);
    assert.ok(!headersToSend(request, { kind: 'none' }, token).some(([name]) => name === 'Authorization'));
  });

  test('copy as curl names $WARDEN_TOKEN instead of the console\'s token', () => {
    const curl = curlOf(request, { kind: 'console' }, ORIGIN, token);
    assert.equal(curl, [
      `curl -X PUT '${ORIGIN}/Client/basic'`,
      "-H 'Accept: application/json'",
      "-H 'Content-Type: text/yaml'",
      `-H "Authorization: Bearer ${TOKEN_PLACEHOLDER}"`,
      "--data-binary 'secret: secret\n'",
    ].join(' \\\n  '));
    assert.match(curlOf(request, { kind: 'basic', id: 'basic', secret: "it's" }, ORIGIN, token), /-u 'basic:it'\\''s'/);
    const pasted = parsed(`GET /Patient\nAuthorization: Bearer ${token}\n`).request!;
    assert.match(curlOf(pasted, { kind: 'console' }, ORIGIN, token), /-H 'Authorization: Bearer '"\$WARDEN_TOKEN"''/);
  });

  test('property: the console\'s token never appears in a curl command, wherever it was typed', () => {
    const sender = fc.oneof(
      fc.constant<Sender>({ kind: 'console' }),
      fc.constant<Sender>({ kind: 'none' }),
      fc.string({ maxLength: 20 }).map((secret): Sender => ({ kind: 'basic', id: 'app', secret })),
    );
    fc.assert(fc.property(fc.string({ minLength: 8, maxLength: 40 }).filter((value) => value.trim().length >= 8), sender, fc.boolean(), (consoleToken, who, pasteIntoHeader) => {
      const text = pasteIntoHeader ? `GET /Patient\nAuthorization: Bearer ${consoleToken}\n` : `POST /Patient\n\nnote: ${JSON.stringify(consoleToken)}\n`;
      const result = parsed(text);
      fc.pre(result.request !== null);
      const curl = curlOf(result.request!, who, ORIGIN, consoleToken);
      assert.ok(!curl.includes(consoleToken) && !curl.includes(consoleToken.replace(/'/g, `'\\''`)));
    }), { numRuns: 300 });
  });
});
