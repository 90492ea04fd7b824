// GET /metadata: a CapabilityStatement that claims exactly what this server does, no more.
import type { AppContext } from '../context.ts';
import { FHIR_ROUTES } from '../fhir/interactions.ts';
import { RESOURCE_TYPES } from '../fhir/resource-types.ts';
import { resourceLevelParameters, searchParametersOf } from '../search/parameters.ts';
import { reverseIncludesOf } from '../search/reverse-includes.ts';
import { smartSecurity } from '../oauth/smart-configuration.ts';

/** The interactions on a type (FHIR R4 CapabilityStatement.rest.resource.interaction), each once. */
const TYPE_INTERACTIONS = [...new Set(FHIR_ROUTES.map((route) => route.interaction))].filter((code) => code !== 'history-system');
/** The audit trail is recorded by the server alone and never changed: AuditEvents are only read and searched. */
const READ_ONLY_TYPES = new Set(['AuditEvent']);
const READ_INTERACTIONS = TYPE_INTERACTIONS.filter((code) => ['read', 'vread', 'history-instance', 'history-type', 'search-type'].includes(code));

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
    patchFormat: ['application/json-patch+json', 'application/merge-patch+json', 'application/fhir+json'],
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
          interaction: (READ_ONLY_TYPES.has(type) ? READ_INTERACTIONS : TYPE_INTERACTIONS).map((code) => ({ code })),
          versioning: 'versioned-update',
          readHistory: true,
          updateCreate: true,
          conditionalCreate: true,
          conditionalRead: 'not-supported',
          conditionalUpdate: true,
          conditionalDelete: 'multiple',
          referencePolicy: ['literal', 'local'],
          searchParam: [...searchParametersOf(type).values()].map(({ code, type: paramType, definition }) => ({
            name: code,
            type: paramType,
            definition,
          })),
          // _include[:iterate] and _revinclude[:iterate] take these (src/resources/include.ts), and `*`.
          searchInclude: ['*', ...[...searchParametersOf(type).values()].filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`)],
          searchRevInclude: reverseIncludesOf(type),
          operation: [
            { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' },
            ...(TYPE_OPERATIONS[type] ?? []),
          ],
        })),
        // Bundles (POST /), the history of every resource (GET /_history), a search across types (GET /?_type=).
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }, { code: 'search-system' }],
        // Across types, the parameters every type has; a parameter every named type has is accepted too.
        searchParam: [...resourceLevelParameters().values()].map(({ code, type, definition }) => ({ name: code, type, definition })),
        compartment: ['http://hl7.org/fhir/CompartmentDefinition/patient'],
        operation: [{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' }],
      },
    ],
  };
}
