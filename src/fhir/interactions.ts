// The FHIR REST interactions this server answers, each named once with its route. Everything that must know
// which interaction a request is reads this table: the router (src/resources/routes.ts), the policies'
// Operation ids and /auth/test-policy's route matching (src/access/request-object.ts), the SMART scope
// decision (c r u d s), and the CapabilityStatement.

/** SMART App Launch 2.x scope interactions: create, read, update, delete, search. */
export type SmartInteraction = 'c' | 'r' | 'u' | 'd' | 's';

/** FHIR R4 §3.1.0 interaction codes (as in CapabilityStatement.rest.resource.interaction.code). */
export type FhirInteraction =
  | 'read'
  | 'vread'
  | 'update'
  | 'patch'
  | 'delete'
  | 'history-instance'
  | 'history-type'
  | 'history-system'
  | 'create'
  | 'search-type';

export interface FhirRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  interaction: FhirInteraction | '$validate' | BulkInteraction;
  /** The Operation id policies link to (Aidbox's names), if they have one. */
  operation?: string;
  /** What SMART scopes must allow: c r u d s; none when SMART scopes do not speak of it. */
  smart?: SmartInteraction;
}

// Bundles, conditional interactions, history and compartments (issue 15). Static segments come before the
// patterns of the table below, as the router prefers them: /Patient/_history is not a read of id "_history".
const HISTORY_AND_SEARCH_ROUTES = [
  { method: 'GET', url: '/_history', interaction: 'history-system', operation: 'FhirHistorySystem' },
  { method: 'GET', url: '/:type/_history', interaction: 'history-type', operation: 'FhirHistoryType', smart: 'r' },
  { method: 'POST', url: '/:type/_search', interaction: 'search-type', operation: 'FhirSearch', smart: 's' },
] as const satisfies readonly FhirRoute[];

/** Conditional update, patch and delete name the resource by a search (`PUT /Patient?identifier=x|y`). */
const CONDITIONAL_ROUTES = [
  { method: 'PUT', url: '/:type', interaction: 'update', operation: 'FhirConditionalUpdate', smart: 'u' },
  { method: 'PATCH', url: '/:type', interaction: 'patch', operation: 'FhirConditionalPatch', smart: 'u' },
  { method: 'DELETE', url: '/:type', interaction: 'delete', operation: 'FhirConditionalDelete', smart: 'd' },
] as const satisfies readonly FhirRoute[];

/**
 * A search within a compartment (`GET /Patient/123/Observation`): a search of the last segment's type,
 * so SMART scopes and policies see a search of that type (params resource/type).
 */
const COMPARTMENT_ROUTES = [
  { method: 'GET', url: '/:compartment/:compartmentId/:type', interaction: 'search-type', operation: 'FhirSearch', smart: 's' },
] as const satisfies readonly FhirRoute[];

export const FHIR_ROUTES = [
  ...HISTORY_AND_SEARCH_ROUTES,
  { method: 'GET', url: '/:type', interaction: 'search-type', operation: 'FhirSearch', smart: 's' },
  { method: 'POST', url: '/:type', interaction: 'create', operation: 'FhirCreate', smart: 'c' },
  { method: 'GET', url: '/:type/:id', interaction: 'read', operation: 'FhirRead', smart: 'r' },
  { method: 'PUT', url: '/:type/:id', interaction: 'update', operation: 'FhirUpdate', smart: 'u' },
  { method: 'PATCH', url: '/:type/:id', interaction: 'patch', operation: 'FhirPatch', smart: 'u' },
  { method: 'DELETE', url: '/:type/:id', interaction: 'delete', operation: 'FhirDelete', smart: 'd' },
  { method: 'GET', url: '/:type/:id/_history', interaction: 'history-instance', operation: 'FhirHistory', smart: 'r' },
  { method: 'GET', url: '/:type/:id/_history/:versionId', interaction: 'vread', operation: 'FhirVread', smart: 'r' },
  ...CONDITIONAL_ROUTES,
  ...COMPARTMENT_ROUTES,
] as const satisfies readonly FhirRoute[];

/**
 * FHIR operations on a type or an instance. Instance-level $validate reads the stored version when no body is
 * sent: SMART scopes see it as a read of that instance.
 */
export const OPERATION_ROUTES = [
  { method: 'POST', url: '/:type/$validate', interaction: '$validate' },
  { method: 'POST', url: '/:type/:id/$validate', interaction: '$validate', smart: 'r' },
] as const satisfies readonly FhirRoute[];

// ---- $everything and Bulk Data export ------------------------------------------------------------------
/** Operations that read many types at once: Patient/$everything and Bulk Data Access 2.0 $export. */
export type BulkInteraction = '$everything' | '$export' | '$export-status' | '$export-cancel' | '$export-file';

/**
 * Reads across types. They name no SMART interaction on one type: the authorize step confines each type read to
 * what the token's scopes let it read of that type (a patient/ token to its patient's compartment). `anchor` is
 * the type SMART scopes must let the caller read for the request to be allowed at all; none: any type.
 */
export const BULK_DATA_ROUTES = [
  { method: 'GET', url: '/Patient/:id/$everything', interaction: '$everything', operation: 'FhirPatientEverything', anchor: 'Patient' },
  { method: 'GET', url: '/$export', interaction: '$export', operation: 'FhirExportSystem' },
  { method: 'GET', url: '/Patient/$export', interaction: '$export', operation: 'FhirExportPatient', anchor: 'Patient' },
  { method: 'GET', url: '/Group/:id/$export', interaction: '$export', operation: 'FhirExportGroup', anchor: 'Group' },
  { method: 'GET', url: '/$export-status/:job', interaction: '$export-status', operation: 'FhirExportStatus' },
  { method: 'DELETE', url: '/$export-status/:job', interaction: '$export-cancel', operation: 'FhirExportCancel' },
  { method: 'GET', url: '/$export-file/:job/:file', interaction: '$export-file', operation: 'FhirExportFile' },
] as const satisfies readonly (FhirRoute & { anchor?: string })[];
// ----------------------------------------------------------------------------------------------------------

/** Routes that are not FHIR interactions on a type but that policies name by Operation id. */
export const OTHER_OPERATIONS = [
  { method: 'GET', url: '/metadata', operation: 'FhirMetadata' },
  { method: 'POST', url: '/auth/test-policy', operation: 'AuthTestPolicy' },
  // Each entry of the Bundle is authorized as its own request; policies may also name the Bundle's route.
  { method: 'POST', url: '/', operation: 'FhirTransaction' },
  // A search across types: each type is authorized as its own GET /{type}.
  { method: 'GET', url: '/', operation: 'FhirSearchSystem' },
] as const;

/** The FHIR interaction of a method (HEAD as GET, RFC 9110 §9.3.2) on a route pattern, if it is one. */
export function fhirRouteOf(method: string, url: string | undefined): FhirRoute | undefined {
  const upper = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  return [...FHIR_ROUTES, ...OPERATION_ROUTES].find((route) => route.method === upper && route.url === url);
}

/** One FHIR interaction as a request makes it: what, on which type, and which instance and version. */
export interface InteractionRequest {
  interaction: FhirRoute['interaction'];
  operation?: string;
  smart?: SmartInteraction;
  type: string;
  id?: string;
  versionId?: string;
}

/** The interaction a request on `route` makes, with the instance its parameters name; null off the FHIR routes. */
export function interactionAt(route: FhirRoute | undefined, params: Record<string, string | undefined>): InteractionRequest | null {
  if (!route || params.type === undefined) return null;
  return {
    interaction: route.interaction,
    ...(route.operation !== undefined && { operation: route.operation }),
    ...(route.smart !== undefined && { smart: route.smart }),
    type: params.type,
    ...(params.id !== undefined && { id: params.id }),
    ...(params.versionId !== undefined && { versionId: params.versionId }),
  };
}

export function interactionOf(method: string, url: string | undefined, params: Record<string, string | undefined>): InteractionRequest | null {
  return interactionAt(fhirRouteOf(method, url), params);
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The FHIR interaction the route answers, named where the route is declared. */
    interaction?: FhirRoute;
    /**
     * Its handler authorizes each part as its own request: a Bundle's entries (src/resources/bundle-entries.ts),
     * each type of a search across types (src/resources/system-search.ts).
     */
    authorizedPerEntry?: boolean;
  }
}
