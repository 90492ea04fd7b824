// GET /metadata: a CapabilityStatement that claims exactly what this server does, no more.
import type { AppContext } from '../context.ts';
import { FHIR_ROUTES } from '../fhir/interactions.ts';
import { RESOURCE_TYPES } from '../fhir/resource-types.ts';
import { searchParametersOf } from '../search/parameters.ts';
import { smartSecurity } from '../oauth/smart-configuration.ts';

const INTERACTIONS = FHIR_ROUTES.map((route) => route.interaction);
/** The audit trail is recorded by the server alone and never changed: AuditEvents are only read and searched. */
const READ_ONLY_TYPES = new Set(['AuditEvent']);
const READ_INTERACTIONS = INTERACTIONS.filter((code) => ['read', 'vread', 'history-instance', 'search-type'].includes(code));

export function capabilityStatement(ctx: AppContext, version: string) {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString().slice(0, 10),
    kind: 'instance',
    software: { name: 'Warden', version },
    implementation: { description: 'Warden FHIR server', url: ctx.config.baseUrl },
    fhirVersion: '4.0.1',
    format: ['json', 'yaml'],
    patchFormat: ['application/json-patch+json', 'application/merge-patch+json'],
    rest: [
      {
        mode: 'server',
        security: {
          cors: true,
          ...smartSecurity(ctx.config.baseUrl),
          description: 'HTTP Basic authentication with a Client id and secret; access is denied unless allowed.',
        },
        resource: [...RESOURCE_TYPES].sort().map((type) => ({
          type,
          interaction: (READ_ONLY_TYPES.has(type) ? READ_INTERACTIONS : INTERACTIONS).map((code) => ({ code })),
          versioning: 'versioned-update',
          readHistory: true,
          updateCreate: true,
          conditionalCreate: false,
          conditionalUpdate: false,
          conditionalDelete: 'not-supported',
          searchParam: [...searchParametersOf(type).values()].map(({ code, type: paramType, definition }) => ({
            name: code,
            type: paramType,
            definition,
          })),
          operation: [{ name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' }],
        })),
      },
    ],
  };
}
