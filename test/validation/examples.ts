// A representative set of valid R4 resources (the definitions package ships no examples): primitives of every
// JSON kind, choice types, backbone elements, nested content references, contained resources referenced by
// `#id`, primitive extensions (`_birthDate`) and a transaction Bundle holding other resources.

const narrative = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Example</div>' };

export const VALID_EXAMPLES: Record<string, unknown>[] = [
  {
    resourceType: 'Patient',
    id: 'ex-patient',
    meta: { profile: ['http://hl7.org/fhir/StructureDefinition/Patient'], lastUpdated: '2024-01-02T03:04:05.678Z' },
    text: narrative,
    identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345', period: { start: '2001-05-06' } }],
    active: true,
    name: [{ use: 'official', family: 'Chalmers', given: ['Peter', 'James'] }, { use: 'nickname', given: ['Jim'] }],
    telecom: [{ system: 'phone', value: '(03) 5555 6473', use: 'work', rank: 1 }],
    gender: 'male',
    birthDate: '1974-12-25',
    _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1974-12-25T14:35:45-05:00' }] },
    deceasedBoolean: false,
    address: [{ use: 'home', line: ['534 Erewhon St'], city: 'PleasantVille', postalCode: '3999', period: { start: '1974-12-25' } }],
    contact: [{ relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'N' }] }], name: { family: 'du Marché' }, gender: 'female' }],
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'en' }] }, preferred: true }],
    managingOrganization: { reference: '#org' },
    contained: [{ resourceType: 'Organization', id: 'org', name: 'Gastroenterology' }],
    multipleBirthInteger: 1,
  },
  {
    resourceType: 'Observation',
    id: 'ex-observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '85354-9', display: 'Blood pressure panel' }] },
    subject: { reference: 'Patient/ex-patient' },
    effectiveDateTime: '2012-09-17',
    issued: '2013-04-03T15:30:10.000+01:00',
    interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'L' }] }],
    component: [
      { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 107, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
      { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 60.5, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    ],
  },
  {
    resourceType: 'Encounter',
    id: 'ex-encounter',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: 'Patient/ex-patient' },
    period: { start: '2015-01-17T16:00:00+10:00', end: '2015-01-17T16:30:00+10:00' },
    length: { value: 30, unit: 'min', system: 'http://unitsofmeasure.org', code: 'min' },
  },
  {
    resourceType: 'Condition',
    id: 'ex-condition',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    code: { text: 'Asthma' },
    subject: { reference: 'Patient/ex-patient' },
    onsetAge: { value: 12, unit: 'years', system: 'http://unitsofmeasure.org', code: 'a' },
  },
  {
    resourceType: 'MedicationRequest',
    id: 'ex-medication-request',
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '582620' }] },
    subject: { reference: 'Patient/ex-patient' },
    authoredOn: '2015-01-15',
    dosageInstruction: [{ sequence: 1, timing: { repeat: { frequency: 3, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: 5, unit: 'mL' } }] }],
  },
  {
    resourceType: 'Questionnaire',
    id: 'ex-questionnaire',
    status: 'active',
    item: [{ linkId: '1', type: 'group', text: 'General', item: [{ linkId: '1.1', type: 'boolean', text: 'Smoker?', enableWhen: [{ question: '1.2', operator: 'exists', answerBoolean: true }] }, { linkId: '1.2', type: 'string' }] }],
  },
  {
    resourceType: 'Bundle',
    id: 'ex-bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a', resource: { resourceType: 'Patient', active: true }, request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'Practitioner', name: [{ family: 'Careful' }] }, request: { method: 'PUT', url: 'Practitioner/p1' } },
    ],
  },
  {
    resourceType: 'AllergyIntolerance',
    id: 'ex-allergy',
    patient: { reference: 'Patient/ex-patient' },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
    criticality: 'high',
    reaction: [{ manifestation: [{ text: 'Hives' }], severity: 'moderate' }],
  },
];
