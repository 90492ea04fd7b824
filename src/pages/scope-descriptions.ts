// Plain-language descriptions of scopes for the consent page; an unknown scope is shown as it is.

const KNOWN: Record<string, string> = {
  openid: 'Confirm who you are',
  profile: 'See your name and basic profile',
  email: 'See your email address',
  offline_access: 'Keep access while you are not using it',
  fhirUser: 'Know which FHIR record describes you',
  'launch/patient': 'Know which patient record is in use',
};

const SMART = /^(patient|user|system)\/([A-Za-z*]+)\.(read|write|\*|[cruds]+)$/;

export function describeScope(scope: string): string {
  if (KNOWN[scope]) return KNOWN[scope];
  const smart = SMART.exec(scope);
  if (smart) {
    const [, context, type, access] = smart;
    const what = type === '*' ? 'all records' : `${type} records`;
    const whose = context === 'patient' ? ' about you' : '';
    const verb = access === 'read' || access === 'rs' || access === 'r' || access === 's' ? 'Read' : 'Read and change';
    return `${verb} ${what}${whose}`;
  }
  return scope;
}
