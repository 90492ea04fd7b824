// Plain-language descriptions of scopes for the consent page; an unknown scope is shown as it is.

const KNOWN: Record<string, string> = {
  openid: 'Confirm who you are',
  profile: 'See your name and basic profile',
  email: 'See your email address',
  // SMART App Launch: offline access outlives the sign-in; online access ends with it.
  offline_access: 'Keep access after you sign out, until you revoke it',
  online_access: 'Keep access while you stay signed in',
  fhirUser: 'Know which FHIR record describes you',
  launch: 'Know the patient, encounter and records open in your EHR',
  'launch/patient': 'Know which patient record is in use',
  'launch/encounter': 'Know which encounter is in use',
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
