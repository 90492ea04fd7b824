// A FHIR or IAM resource as the REST API returns it. Kept apart from api.ts so pure modules can use the type
// without the browser-only code around it.

export interface Resource {
  resourceType: string;
  id?: string;
  meta?: { versionId?: string; lastUpdated?: string };
  [field: string]: unknown;
}

/** How the console names a resource to a person: its name (a User's given and family name, or email), else its id. */
export function labelOf(resource: Resource): string {
  const data = (resource.data ?? {}) as Record<string, unknown>;
  const personal = [data.given_name, data.family_name].filter((part) => typeof part === 'string' && part).join(' ');
  const name = typeof resource.name === 'string' && resource.name ? resource.name : personal || (typeof resource.email === 'string' ? resource.email : '');
  const id = resource.id ?? '';
  return name && name !== id ? `${name} (${id})` : id;
}
