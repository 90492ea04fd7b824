// The Client model (src/iam/client-model.ts): the one reading of a stored Client's fields.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientModel, DEFAULT_ACCESS_TOKEN_LIFETIME, TOKEN_EXCHANGE } from '../../src/iam/client-model.ts';

test('a Client without a secret is public and must use PKCE; one with a secret must only when it asks for it', () => {
  assert.equal(clientModel({ resourceType: 'Client', id: 'app' }).isPublic, true);
  assert.equal(clientModel({ resourceType: 'Client', id: 'app' }).pkceRequired, true);
  const confidential = clientModel({ resourceType: 'Client', id: 'web', secret: '$s0$hash' });
  assert.equal(confidential.isPublic, false);
  assert.equal(confidential.pkceRequired, false);
  assert.equal(clientModel({ resourceType: 'Client', id: 'web', secret: 'x', auth: { authorization_code: { pkce: true } } }).pkceRequired, true);
});

test('no grant_types at all allows the code flow only (the seed\'s older shape); a list allows what it names', () => {
  const bare = clientModel({ resourceType: 'Client', id: 'old' });
  assert.equal(bare.allowsResponseType('code'), true);
  assert.equal(bare.allowsResponseType('token'), false);
  const listed = clientModel({ resourceType: 'Client', id: 'new', grant_types: ['code', 'implicit'] });
  assert.equal(listed.allowsResponseType('code'), true);
  assert.equal(listed.allowsResponseType('token'), true);
  assert.equal(listed.allowsGrant('password'), false);
});

test('grant settings take Warden\'s defaults and read token exchange from auth.token_exchange', () => {
  const client = clientModel({ resourceType: 'Client', id: 'c', auth: { token_exchange: { secret_required: false, token_format: 'opaque' } } });
  assert.deepEqual(client.settings('password'), {
    accessTokenLifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
    format: 'jwt',
    refreshToken: false,
    refreshTokenLifetime: 30 * 24 * 3600,
    secretRequired: true,
  });
  assert.equal(client.settings(TOKEN_EXCHANGE).secretRequired, false);
  assert.equal(client.settings(TOKEN_EXCHANGE).format, 'opaque');
});

test('the model is built once per stored resource object', () => {
  const resource = { resourceType: 'Client', id: 'once', scope: ['patient/*.rs', 42] };
  assert.equal(clientModel(resource), clientModel(resource));
  assert.deepEqual(clientModel(resource).allowedScopes, ['patient/*.rs']);
  assert.equal(clientModel({ resourceType: 'Client', id: 'any' }).allowedScopes, undefined);
});
