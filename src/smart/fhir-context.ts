// SMART App Launch 2.x `fhirContext`: the resources, besides the patient and encounter, that an app is launched
// with (an order, a questionnaire, a worklist), as given to POST /auth/launch and returned in the token
// response. Each item names its resource by `reference` (relative, `Type/id`), `canonical` or `identifier`,
// with an optional `type` and `role` (an absolute URI; absent means `launch`).

export interface FhirContextItem {
  reference?: string;
  canonical?: string;
  identifier?: Record<string, unknown>;
  type?: string;
  role?: string;
}

/** A malformed fhirContext, with the path of the offending value (`fhirContext[1].role`). */
export class FhirContextError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

const MAX_ITEMS = 100;
const FIELDS = ['reference', 'canonical', 'identifier', 'type', 'role'];
const TYPE = /^[A-Z][A-Za-z]{0,63}$/;
const REFERENCE = /^([A-Z][A-Za-z]{0,63})\/[A-Za-z0-9\-.]{1,64}$/;
const isAbsoluteUri = (value: string) => value.length <= 2000 && /^[a-z][a-z0-9+.-]*:\S+$/i.test(value) && URL.canParse(value);
const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function readIdentifier(value: unknown, path: string): Record<string, unknown> {
  if (!isObject(value)) throw new FhirContextError(`${path} must be a FHIR Identifier object: {system?, value}`, path);
  if (typeof value.value !== 'string' || value.value === '') throw new FhirContextError(`${path}.value must be a non-empty string`, `${path}.value`);
  if (value.system !== undefined && (typeof value.system !== 'string' || !isAbsoluteUri(value.system))) {
    throw new FhirContextError(`${path}.system must be an absolute URI`, `${path}.system`);
  }
  return value;
}

function readItem(value: unknown, path: string): FhirContextItem {
  // SMART 2.0.0 sent plain relative references; 2.1 made each item an object. Both are read as objects.
  if (typeof value === 'string') return readItem({ reference: value }, path);
  if (!isObject(value)) throw new FhirContextError(`${path} must be an object such as {"reference": "Questionnaire/q1"}`, path);
  for (const key of Object.keys(value)) {
    if (!FIELDS.includes(key)) throw new FhirContextError(`${path} has unknown field "${key.slice(0, 40)}"; known: ${FIELDS.join(', ')}`, `${path}.${key.slice(0, 40)}`);
  }
  const item: FhirContextItem = {};
  if (value.reference !== undefined) {
    if (typeof value.reference !== 'string' || !REFERENCE.test(value.reference)) {
      throw new FhirContextError(`${path}.reference must be a relative reference such as "Questionnaire/q1"`, `${path}.reference`);
    }
    item.reference = value.reference;
  }
  if (value.canonical !== undefined) {
    if (typeof value.canonical !== 'string' || !isAbsoluteUri(value.canonical)) {
      throw new FhirContextError(`${path}.canonical must be a canonical URL (an absolute URI, optionally with |version)`, `${path}.canonical`);
    }
    item.canonical = value.canonical;
  }
  if (value.identifier !== undefined) item.identifier = readIdentifier(value.identifier, `${path}.identifier`);
  if (item.reference === undefined && item.canonical === undefined && item.identifier === undefined) {
    throw new FhirContextError(`${path} must name its resource by reference, canonical or identifier`, path);
  }
  if (value.type !== undefined) {
    if (typeof value.type !== 'string' || !TYPE.test(value.type)) throw new FhirContextError(`${path}.type must be a FHIR resource type such as "Questionnaire"`, `${path}.type`);
    const referenced = item.reference && REFERENCE.exec(item.reference)![1];
    if (referenced && referenced !== value.type) {
      throw new FhirContextError(`${path}.type "${value.type}" contradicts its reference to a ${referenced}`, `${path}.type`);
    }
    item.type = value.type;
  }
  if (value.role !== undefined) {
    if (typeof value.role !== 'string' || !(value.role === 'launch' || isAbsoluteUri(value.role))) {
      throw new FhirContextError(`${path}.role must be an absolute URI (or "launch")`, `${path}.role`);
    }
    item.role = value.role;
  }
  // SMART 2.x: the launch patient and encounter travel as `patient` and `encounter`; in fhirContext they need a role of their own.
  const launchRole = item.role === undefined || item.role === 'launch';
  const referenced = item.reference ? REFERENCE.exec(item.reference)![1] : item.type;
  if (launchRole && (referenced === 'Patient' || referenced === 'Encounter')) {
    throw new FhirContextError(`${path}: send the launch ${referenced.toLowerCase()} as "${referenced.toLowerCase()}", not in fhirContext (or give it another role)`, path);
  }
  return item;
}

/** The fhirContext of a launch request, checked item by item. Throws FhirContextError for the first fault. */
export function readFhirContext(value: unknown): FhirContextItem[] {
  if (!Array.isArray(value)) throw new FhirContextError('fhirContext must be a list of objects such as [{"reference": "Questionnaire/q1"}]', 'fhirContext');
  if (value.length > MAX_ITEMS) throw new FhirContextError(`fhirContext may hold at most ${MAX_ITEMS} items`, 'fhirContext');
  return value.map((item, index) => readItem(item, `fhirContext[${index}]`));
}
