// The redirect URI matcher: exact string equality, plus only the port of a loopback IP literal (RFC 8252 §7.3).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { clientModel } from '../../src/iam/client-model.ts';
import { redirectUriMatches } from '../../src/oauth/authorize/check-redirect-uri.ts';

const registered = fc.oneof(
  fc.webUrl({ withQueryParameters: true }),
  fc.constantFrom('http://127.0.0.1/callback', 'http://[::1]:8080/cb', 'com.example.app:/oauth2redirect', 'http://localhost:4200'),
);

test('a URI always matches itself', () => {
  fc.assert(fc.property(registered, (uri) => redirectUriMatches(uri, uri)));
});

test('any prefix, suffix or single-character change of a non-loopback URI does not match', () => {
  fc.assert(
    fc.property(fc.webUrl({ withQueryParameters: true }), fc.string({ minLength: 1, maxLength: 8 }), fc.nat(), (uri, extra, at) => {
      fc.pre(!/^http:\/\/(127\.0\.0\.1|\[::1\])/.test(uri));
      const i = at % uri.length;
      const changed = uri.slice(0, i) + (uri[i] === 'x' ? 'y' : 'x') + uri.slice(i + 1);
      return (
        !redirectUriMatches(uri, uri + extra) &&
        !redirectUriMatches(uri, extra + uri) &&
        !redirectUriMatches(uri, uri.slice(0, -1)) &&
        !redirectUriMatches(uri, changed)
      );
    }),
  );
});

test('a loopback IP URI matches on any port and on nothing else', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 65535 }), fc.constantFrom('127.0.0.1', '[::1]'), fc.stringMatching(/^\/[a-z]{0,10}$/), (port, host, path) => {
      const base = `http://${host}${path}`;
      return redirectUriMatches(base, `http://${host}:${port}${path}`) && !redirectUriMatches(base, `http://${host}:${port}${path}x`) && !redirectUriMatches(base, `https://${host}:${port}${path}`);
    }),
  );
});

test('registered URIs come from auth.<grant>.redirect_uri (string or list) and the comma-separated top-level field', () => {
  const client = {
    resourceType: 'Client',
    id: 'c',
    redirect_uri: 'http://localhost:4200, https://example.com',
    auth: { authorization_code: { redirect_uri: ['https://a.example/cb'] }, implicit: { redirect_uri: 'https://b.example/cb' } },
  };
  assert.deepEqual(clientModel(client).registeredRedirectUris('code'), ['https://a.example/cb', 'http://localhost:4200', 'https://example.com']);
  assert.deepEqual(clientModel(client).registeredRedirectUris('token'), ['https://b.example/cb', 'http://localhost:4200', 'https://example.com']);
});
