// Hostile HTTP input: tokens sent two ways, parameters in the wrong place, dot-segment and control-character
// ids, oversized and malformed requests, content types a browser can send cross-site. Raw HTTP (a socket, so
// nothing is normalised on the way) against a real server on each engine; never a 5xx.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postForm } from '../helpers/oauth.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const APP = { id: 'input-app', secret: 'input-app-secret' };

for (const engine of engines()) {
  describe(`hostile HTTP input (${engine})`, () => {
    let server: TestServer;
    let token: string;
    before(async () => {
      server = await startTestServer(engine);
      await server.request('PUT', `/Client/${APP.id}`, { body: { secret: APP.secret, grant_types: ['client_credentials'] } });
      await server.request('PUT', '/AccessPolicy/input-app', { body: { engine: 'allow', link: [{ resourceType: 'Client', id: APP.id }] } });
      await server.request('PUT', '/Patient/p1', { body: { resourceType: 'Patient' } });
      const issued = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, APP);
      assert.equal(issued.status, 200, issued.text);
      token = issued.body.access_token;
    });
    after(() => server.close());

    const bearer = (path: string) => server.request('GET', path, { auth: null, headers: { authorization: `Bearer ${token}` } });

    test('a Bearer header plus ?access_token= is refused with 400 invalid_request (RFC 6750 §2, §3.1)', async () => {
      assert.equal((await bearer('/Patient/p1')).status, 200);
      const both = await bearer(`/Patient/p1?access_token=${token}`);
      assert.equal(both.status, 400, both.text);
      assert.equal(both.body.resourceType, 'OperationOutcome');
      assert.match(both.headers.get('www-authenticate') ?? '', /error="invalid_request"/);
      assert.match(both.body.issue[0].diagnostics, /more than one way/);
    });

    test('a token only in the query is refused, not taken (RFC 6750 §2.3, RFC 9700 §4.3.2, OWASP ASVS 5.0 V14.2.1)', async () => {
      const query = await server.request('GET', `/Patient/p1?access_token=${token}`, { auth: null });
      assert.equal(query.status, 400, query.text);
      assert.match(query.body.issue[0].diagnostics, /Authorization header/);
    });

    test('userinfo refuses a token in the query or the body beside the header (RFC 6750 §2)', async () => {
      const query = await fetch(`${server.url}/auth/userinfo?access_token=${token}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(query.status, 400);
      assert.equal((await query.json()).error, 'invalid_request');
      const body = await fetch(`${server.url}/auth/userinfo`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: `access_token=${token}`,
      });
      assert.equal(body.status, 400);
      assert.equal((await body.json()).error, 'invalid_request');
    });

    test('any parameter in the query of /auth/token, /auth/introspect or /auth/revoke is refused (RFC 6749 §3.2, §2.3.1)', async () => {
      const secretInUrl = await postForm(server, `/auth/token?client_secret=${APP.secret}`, { grant_type: 'client_credentials', client_id: APP.id });
      assert.equal(secretInUrl.status, 400, secretInUrl.text);
      assert.equal(secretInUrl.body.error, 'invalid_request');
      assert.match(secretInUrl.body.error_description, /"client_secret"/);
      assert.equal(secretInUrl.headers.get('cache-control'), 'no-store');
      const grantInUrl = await postForm(server, '/auth/token?grant_type=client_credentials', {}, APP);
      assert.equal(grantInUrl.status, 400);
      for (const path of ['/auth/introspect?token=x', '/auth/revoke?token=x']) {
        const response = await postForm(server, path, { token }, APP);
        assert.equal(response.status, 400, `${path}: ${response.text}`);
        assert.equal(response.body.error, 'invalid_request');
      }
      assert.equal((await postForm(server, '/auth/token?', { grant_type: 'client_credentials' }, APP)).status, 200, 'an empty query is no parameter');
    });

    test('ids "." and ".." are refused on every route, raw and percent-encoded (path confusion in Location)', async () => {
      for (const id of ['.', '..', '%2E', '%2e%2E']) {
        const put = await rawRequest(server.url, `PUT /Patient/${id} HTTP/1.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json`, '{"resourceType":"Patient"}');
        assert.equal(put.status, 400, `PUT ${id}: ${put.text}`);
        assert.match(put.body, /OperationOutcome/);
        const get = await rawRequest(server.url, `GET /Patient/${id} HTTP/1.1\r\nAuthorization: Bearer ${token}`);
        assert.ok(get.status === 400 || get.status === 404, `GET ${id}: ${get.status}`);
        const history = await rawRequest(server.url, `GET /Patient/${id}/_history HTTP/1.1\r\nAuthorization: Bearer ${token}`);
        assert.ok(history.status >= 400 && history.status < 500, `history ${id}: ${history.status}`);
      }
      const posted = await server.request('POST', '/Patient', { body: { resourceType: 'Patient', id: '..' } });
      assert.ok(posted.status === 400 || (posted.status === 201 && !posted.headers.get('location')?.includes('/../')), posted.text);
      const bundle = await server.request('POST', '/', {
        body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient', id: '..' }, request: { method: 'PUT', url: 'Patient/..' } }] },
      });
      assert.ok(bundle.status >= 400 && bundle.status < 500, `transaction: ${bundle.status} ${bundle.text}`);
    });

    test('a CR, LF, NUL or non-ASCII character in an id never reaches a header and never gives a 5xx (CWE-113)', async () => {
      for (const id of ['a%0d%0aSet-Cookie:%20x=1', 'a%00b', '%C3%A9', 'a%E2%80%A8', '%ZZ']) {
        const response = await rawRequest(server.url, `PUT /Patient/${id} HTTP/1.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json`, '{"resourceType":"Patient"}');
        assert.ok(response.status >= 400 && response.status < 500, `${id}: ${response.status}`);
        assert.equal(response.headers.get('set-cookie'), undefined);
        assert.equal(response.headers.get('location'), undefined);
      }
    });

    test('an oversized request line is refused with 431 or 414, never processed (OWASP ASVS 5.0 V15.2)', async () => {
      const response = await rawRequest(server.url, `GET /Patient?name=${'a'.repeat(70_000)} HTTP/1.1\r\nAuthorization: Bearer ${token}`);
      assert.ok(response.status === 431 || response.status === 414, `${response.status}`);
    });

    test('a search with hundreds of parameters is refused as too costly before it reaches the store (CWE-400)', async () => {
      const many = new URLSearchParams(Array.from({ length: 1500 }, (_, i) => ['name', `n${i}`])).toString();
      const repeated = await rawRequest(server.url, `GET /Patient?${many} HTTP/1.1\r\nAuthorization: Bearer ${token}`);
      assert.equal(repeated.status, 400, repeated.text.slice(0, 300));
      assert.match(repeated.body, /"code":"too-costly"/);
      const commas = `name=${Array.from({ length: 2000 }, (_, i) => `n${i}`).join(',')}`;
      assert.equal((await rawRequest(server.url, `GET /Patient?${commas} HTTP/1.1\r\nAuthorization: Bearer ${token}`)).status, 400);
      const usual = await bearer('/Patient?name=a&name=b&birthdate=ge2000&_id=p1,p2,p3');
      assert.equal(usual.status, 200, usual.text);
    });

    test('content types a cross-site form can send are refused at /auth/token unless they are the form type (CSRF, RFC 6749 §3.2)', async () => {
      for (const type of ['text/plain', 'multipart/form-data; boundary=x']) {
        const response = await rawRequest(server.url, `POST /auth/token HTTP/1.1\r\nContent-Type: ${type}`, 'grant_type=client_credentials&client_id=input-app&client_secret=input-app-secret');
        assert.equal(response.status, 415, `${type}: ${response.text}`);
        assert.match(response.body, /"error":"invalid_request"/);
      }
      const charset = await rawRequest(server.url, 'POST /auth/token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8', `grant_type=client_credentials&client_id=${APP.id}&client_secret=${APP.secret}`);
      assert.equal(charset.status, 200, charset.text);
    });

    // RFC 6749 §3.2 (parameters MUST NOT be included more than once): a JSON body that names a parameter twice
    // would be read by JSON.parse as its last value, and by a proxy or firewall in front perhaps as its first.
    test('a parameter named twice in a JSON body at /auth/token is refused with invalid_request, as in a form', async () => {
      const twice = `{"grant_type":"client_credentials","client_id":"${APP.id}","client_secret":"wrong","client_secret":"${APP.secret}"}`;
      const response = await rawRequest(server.url, 'POST /auth/token HTTP/1.1\r\nContent-Type: application/json; charset=utf-8', twice);
      assert.equal(response.status, 400, response.text);
      assert.match(response.body, /"error":"invalid_request".*client_secret.*repeated/);
      const escaped = await rawRequest(server.url, 'POST /auth/introspect HTTP/1.1\r\nContent-Type: application/json', `{"token":"a","\\u0074oken":"b","client_id":"${APP.id}","client_secret":"${APP.secret}"}`);
      assert.equal(escaped.status, 400, escaped.text);
      const once = await rawRequest(server.url, 'POST /auth/token HTTP/1.1\r\nContent-Type: application/json', `{"grant_type":"client_credentials","client_id":"${APP.id}","client_secret":"${APP.secret}"}`);
      assert.equal(once.status, 200, once.text);
    });

    test('form fields named like Object.prototype members are read as plain fields (prototype pollution)', async () => {
      const response = await server.request('POST', '/auth/token', {
        raw: 'grant_type=client_credentials&constructor=x&toString=y&__proto__=z&hasOwnProperty=w',
        contentType: 'application/x-www-form-urlencoded',
        auth: APP,
      });
      assert.equal(response.status, 200, response.text);
      const search = await server.request('POST', '/Patient/_search', { raw: 'constructor=x&__proto__=y', contentType: 'application/x-www-form-urlencoded' });
      assert.ok(search.status < 500, `${search.status} ${search.text}`);
    });

    test('the Host header never changes the issuer or the links the server writes (host header injection, OWASP ASVS 5.0 V13.2)', async () => {
      const discovery = await rawRequest(server.url, 'GET /.well-known/openid-configuration HTTP/1.1\r\nHost: evil.example\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https');
      assert.equal(discovery.status, 200, discovery.text);
      assert.doesNotMatch(discovery.body, /evil\.example/);
      const created = await rawRequest(server.url, `POST /Patient HTTP/1.1\r\nHost: evil.example\r\nX-Forwarded-Host: evil.example\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json`, '{"resourceType":"Patient"}');
      assert.equal(created.status, 201, created.text);
      assert.doesNotMatch(created.headers.get('location')?.[0] ?? '', /evil\.example/);
    });

    test('method-override headers are not honoured, and TRACE echoes nothing (OWASP ASVS 5.0 V4.1)', async () => {
      for (const header of ['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override']) {
        const response = await rawRequest(server.url, `POST /Patient/p1 HTTP/1.1\r\n${header}: DELETE\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json`, '{"resourceType":"Patient"}');
        assert.ok(response.status >= 400 && response.status < 500, `${header}: ${response.status}`);
      }
      assert.equal((await bearer('/Patient/p1')).status, 200, 'Patient/p1 was not deleted');
      const trace = await rawRequest(server.url, `TRACE /Patient HTTP/1.1\r\nAuthorization: Bearer ${token}`);
      assert.ok(trace.status >= 400 && trace.status < 500, `${trace.status}`);
      assert.ok(!trace.text.includes(token), 'TRACE echoed the credentials');
    });

    test('a request smuggling attempt (Content-Length with Transfer-Encoding) is refused (RFC 9112 §6.3)', async () => {
      const response = await rawRequest(
        server.url,
        `POST /Patient HTTP/1.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 4`,
        '0\r\n\r\nGET /Patient/p1 HTTP/1.1\r\nHost: x\r\n\r\n',
      );
      assert.equal(response.status, 400, response.text);
      assert.equal((response.text.match(/HTTP\/1\.1 /g) ?? []).length, 1, 'a second, smuggled request was answered');
    });
  });
}
