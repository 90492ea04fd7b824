// AuthConfig: server-wide sign-in settings, as in Aidbox. Warden reads `twoFactor` (src/authn/two-factor.ts).
import type { Resource } from '../store/resource-store.ts';
import { compileResourceSchema } from './schema.ts';

const validateAuthConfig = compileResourceSchema({
  type: 'object',
  properties: {
    resourceType: { const: 'AuthConfig' },
    twoFactor: {
      type: 'object',
      additionalProperties: false,
      properties: {
        issuerName: { type: 'string', minLength: 1, maxLength: 100 },
        // Each step is 30 s; more than ten would accept a code five minutes old.
        validPastTokensCount: { type: 'integer', minimum: 0, maximum: 10 },
      },
    },
  },
});

export async function prepareAuthConfig(config: Resource): Promise<Resource> {
  validateAuthConfig(config);
  return config;
}
