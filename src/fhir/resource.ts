// A FHIR resource as every layer passes it around, and one stored version of it: the shared vocabulary.
export interface Resource {
  resourceType: string;
  id: string;
  meta?: { versionId?: string; lastUpdated?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface Version {
  resource: Resource;
  versionId: string;
  lastUpdated: string;
  deleted: boolean;
}
