// Redirect URIs a Client may register (RFC 6749 §3.1.2, RFC 9700 §4.1, OWASP ASVS 5.0 V10.4.1): what an
// attacker with write access to a Client, or a careless administrator, would register to turn the
// authorization endpoint into a script runner or an open redirector is refused on write with a 400 naming the
// field; exact matching at /auth/authorize stays.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { redirectUriProblem } from '../../src/iam/redirect-uris.ts';
import { redirectUriMatches } from '../../src/oauth/authorize/check-redirect-uri.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const HOSTILE: [string, RegExp][] = [
  ['javascript:alert(document.cookie)//', /javascript: scheme/],
  ['JavaScript:alert(1)', /javascript: scheme/],
  ['data:text/html,<script>alert(1)</script>', /control character|data: scheme/],
  ['data:text/html;base64,PHNjcmlwdD4=', /data: scheme/],
  ['vbscript:msgbox(1)', /vbscript: scheme/],
  ['https://user:pass@app.example/cb', /user information/],
  ['https://app.example@evil.example/cb', /user information/],
  ['https://app.example\\@evil.example/cb', /backslash/],
  ['https:\\\\evil.example/cb', /backslash/],
  ['https://app.example/cb#frag', /fragment/],
  ['https://app.example/c\u0001b', /control character/],
  ['https://app.example/cb\r\nSet-Cookie: x=1', /control character/],
  ['https://app.example/c b', /control character/],
  ['https://app.ex\u0430mple/cb', /non-ASCII/],
  ['/relative/cb', /not an absolute URI/],
];

for (const engine of engines()) {
  describe(`redirect URIs on a Client (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
    });
    after(() => server.close());

    test('each hostile redirect URI is refused with 400 naming the field, in every place a Client holds one', async () => {
      for (const [uri, reason] of HOSTILE) {
        const places: [Record<string, unknown>, RegExp][] = [
          [{ auth: { authorization_code: { redirect_uri: uri } } }, /Client\.auth\.authorization_code\.redirect_uri/],
          [{ auth: { implicit: { redirect_uri: ['https://ok.example/cb', uri] } } }, /Client\.auth\.implicit\.redirect_uri\[1\]/],
        ];
        if (!uri.includes(',')) places.push([{ redirect_uri: `https://ok.example/cb,${uri}` }, /Client\.redirect_uri\[1\]/]);
        for (const [fields, field] of places) {
          const response = await server.request('PUT', '/Client/hostile', { body: { resourceType: 'Client', grant_types: ['authorization_code', 'implicit'], ...fields } });
          assert.equal(response.status, 400, `${JSON.stringify(uri)} in ${JSON.stringify(fields)}: ${response.text}`);
          const issue = response.body.issue[0];
          assert.match(issue.diagnostics, field);
          assert.match(issue.diagnostics, reason, JSON.stringify(uri));
          assert.match(issue.expression[0], field);
        }
      }
      assert.equal((await server.request('GET', '/Client/hostile')).status, 404, 'nothing was stored');
    });

    test('a hostile redirect URI stored before the write rule (straight into the database) is never redirected to', async () => {
      for (const [id, uri] of [['legacy-js', 'javascript:alert(1)//'], ['legacy-frag', 'https://app.example/cb#x'], ['legacy-user', 'https://app.example@evil.example/cb']]) {
        const client = { resourceType: 'Client', id, grant_types: ['authorization_code', 'implicit'], auth: { implicit: { redirect_uri: uri } } };
        await server.app.ctx.db.query(
          `insert into resource (type, id, version_id, last_updated, deleted, resource) values ('Client', $1, 1, now(), false, $2::text::jsonb)`,
          [id, JSON.stringify({ ...client, meta: { versionId: '1', lastUpdated: new Date().toISOString() } })],
        );
        for (const query of [`response_type=token&client_id=${id}&state=s`, `response_type=token&client_id=${id}&state=s&redirect_uri=${encodeURIComponent(uri)}`]) {
          const response = await fetch(`${server.url}/auth/authorize?${query}`, { redirect: 'manual' });
          assert.equal(response.status, 400, `${uri}: ${response.status} ${response.headers.get('location')}`);
          assert.equal(response.headers.get('location'), null);
          assert.match(await response.text(), /redirect URI/);
        }
      }
    });

    test('ordinary web, loopback and private-scheme redirect URIs are still accepted (RFC 8252 §7.1, §7.3)', async () => {
      const response = await server.request('PUT', '/Client/fine', {
        body: {
          resourceType: 'Client',
          grant_types: ['authorization_code'],
          redirect_uri: 'http://localhost:4200, https://example.com',
          auth: { authorization_code: { redirect_uri: ['https://app.example/cb?x=1&y=%20', 'http://127.0.0.1/callback', 'http://[::1]:8080/cb', 'com.example.app:/oauth2redirect'] } },
        },
      });
      assert.equal(response.status, 201, response.text);
    });
  });
}

describe('redirect URI rule (properties)', () => {
  test('no string with a control character, backslash, fragment or userinfo is accepted', () => {
    fc.assert(
      fc.property(fc.webUrl(), fc.constantFrom('\u0000', '\t', '\n', '\r', '\u007f', ' ', '\\', '#x', '\u00a0', '\u2028'), fc.nat(), (url, bad, at) => {
        const i = 8 + (at % Math.max(1, url.length - 8));
        return redirectUriProblem(url.slice(0, i) + bad + url.slice(i)) !== null;
      }),
    );
  });

  test('a URI the rule accepts is an absolute URL with no credentials and a safe scheme, and it matches only itself', () => {
    fc.assert(
      fc.property(fc.oneof(fc.webUrl({ withQueryParameters: true }), fc.string({ maxLength: 60 }), fc.constantFrom('javascript:x', 'data:,x', 'VBScript:x', 'http://a@b')), (uri) => {
        if (redirectUriProblem(uri) !== null) return true;
        const url = new URL(uri);
        return url.username === '' && url.password === '' && !['javascript:', 'data:', 'vbscript:'].includes(url.protocol) && redirectUriMatches(uri, uri) && !redirectUriMatches(uri, `${uri}/`);
      }),
      { numRuns: 500 },
    );
  });
});
