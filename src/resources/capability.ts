// GET /metadata: a CapabilityStatement that claims exactly what this server does, no more.
import type { AppContext } from '../context.ts';
import { FHIR_ROUTES } from '../fhir/interactions.ts';
import { RESOURCE_TYPES } from '../fhir/resource-types.ts';
import { searchParametersOf } from '../search/parameters.ts';
import { smartSecurity } from '../oauth/smart-configuration.ts';

const INTERACTIONS = FHIR_ROUTES.map((route) => route.interaction);

/** Operations on one type beyond $validate: $everything, and Bulk Data's patient- and group-level $export. */
const TYPE_OPERATIONS: Record<string, { name: string; definition: string }[]> = {
  Patient: [
    { name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' },
    { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export' },
  ],
  Group: [{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export' }],
};

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
    instantiates: ['http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data'],
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
          interaction: INTERACTIONS.map((code) => ({ code })),
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
          operation: [
            { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' },
            ...(TYPE_OPERATIONS[type] ?? []),
          ],
        })),
        operation: [{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' }],
      },
    ],
  };
}
