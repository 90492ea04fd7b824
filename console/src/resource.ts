// A FHIR or IAM resource as the REST API returns it. Kept apart from api.ts so pure modules can use the type
// without the browser-only code around it.

export interface Resource {
  resourceType: string;
  id?: string;
  meta?: { versionId?: string; lastUpdated?: string };
  [field: string]: unknown;
}
