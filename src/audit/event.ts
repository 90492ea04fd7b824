// AuditEvents (FHIR R4) shaped as the IHE Basic Audit Log Patterns (BALP 1.1) profiles say: who (the user, the
// client application with its network address), what (the resource, its Patient, the query), which request
// (its id), and the outcome. Pure functions: nothing here writes or reads the store.
import { newResourceId } from '../fhir/ids.ts';
import type { Resource } from '../fhir/resource.ts';

export const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const BALP_ENTITY_TYPE = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';
/** Warden's own subtypes, for what neither DICOM nor BALP codes: token issuance per grant, revocation... */
export const WARDEN_EVENTS = 'https://warden.dev/fhir/CodeSystem/audit-event';

/** Who made the request, as the authentication step established it; never a credential. */
export interface Actor {
  clientId?: string;
  userId?: string;
  /** The user's own FHIR resource (`fhirUser`), e.g. Patient/1 for a patient user. */
  userResource?: string;
  sessionId?: string;
  /** The caller's network address. */
  address?: string;
  requestId?: string;
  /** What allowed the request: `root`, `policy <id>`, `public`. */
  allowedBy?: string;
}

/** AuditEvent.outcome: 0 success, 4 minor failure (refused, not found), 8 serious failure (server error). */
export type Outcome = '0' | '4' | '8' | '12';

export const outcomeOfStatus = (status: number): Outcome => (status < 400 ? '0' : status < 500 ? '4' : '8');

export interface Coding {
  system: string;
  code: string;
  display?: string;
}

export interface AuditEventResource extends Resource {
  resourceType: 'AuditEvent';
  recorded: string;
}

/** The FHIR RESTful interactions and the BALP profile family and action each is audited with. */
const REST: Record<string, { action: 'C' | 'R' | 'U' | 'D' | 'E'; profile: string }> = {
  create: { action: 'C', profile: 'Create' },
  read: { action: 'R', profile: 'Read' },
  vread: { action: 'R', profile: 'Read' },
  'history-instance': { action: 'R', profile: 'Read' },
  update: { action: 'U', profile: 'Update' },
  patch: { action: 'U', profile: 'Update' },
  delete: { action: 'D', profile: 'Delete' },
  'search-type': { action: 'E', profile: 'Query' },
  'history-type': { action: 'E', profile: 'Query' },
  'history-system': { action: 'E', profile: 'Query' },
};

export type RestInteraction = keyof typeof REST & string;

/**
 * A part every event of its kind has alike, frozen to the leaves: shared by the events, never copied, and its
 * canonical text for the chain's hash (chain.ts) is computed once.
 */
function constant<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) constant(item);
    Object.freeze(value);
  }
  return value;
}

/**
 * The parts that repeat from event to event (a caller's agents, a Patient's entity), made once for a key and
 * frozen like the constant ones: shared by the events, and their canonical text for the chain's hash computed
 * once. Only the last `limit` keys or so are kept: a busy server's callers and patients come back, the rest go.
 */
function remembered<T>(limit: number): (key: string, make: () => T) => T {
  const values = new Map<string, T>();
  return (key, make) => {
    let value = values.get(key);
    if (value === undefined) {
      if (values.size >= limit) values.clear();
      values.set(key, (value = constant(make())));
    }
    return value;
  };
}

const CLIENT_AGENT_TYPE = constant({ coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] });
const USER_AGENT_TYPE = constant({ coding: [{ system: PARTICIPATION, code: 'IRCP', display: 'information recipient' }] });
const PATIENT_AGENT_TYPE = constant({ coding: [{ system: PARTICIPATION, code: 'AUT', display: 'author (originator)' }] });
const SERVER_AGENT = constant({ type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] }, who: { display: 'Warden' }, requestor: false });
const ANONYMOUS = constant({ display: 'anonymous' });
const SOURCE = constant({ observer: { display: 'Warden' }, type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }] });
const SYSTEM_OBJECT = constant({ system: ENTITY_TYPE, code: '2', display: 'System Object' });
const DOMAIN_RESOURCE = constant({ system: OBJECT_ROLE, code: '4', display: 'Domain Resource' });
const QUERY_ROLE = constant({ system: OBJECT_ROLE, code: '24', display: 'Query' });
const PERSON = constant({ system: ENTITY_TYPE, code: '1', display: 'Person' });
const PATIENT_ROLE = constant({ system: OBJECT_ROLE, code: '1', display: 'Patient' });
const REQUEST_ID_TYPE = constant({ system: BALP_ENTITY_TYPE, code: 'XrequestId', display: 'X-Request-Id' });
const REST_TYPE = constant({ system: EVENT_TYPE, code: 'rest', display: 'Restful Operation' });
const REST_SUBTYPES: Record<string, Coding[]> = constant(Object.fromEntries(Object.keys(REST).map((code) => [code, [{ system: RESTFUL_INTERACTION, code }]])));
const metas = new Map<string, { profile: string[] }>();
const metaOf = (profile: string) => metas.get(profile) ?? (metas.set(profile, constant({ profile: [`${BALP}/${profile}`] })), metas.get(profile)!);

const agentsOfActor = remembered<Record<string, unknown>[]>(1000);

/** The agents of an actor's events: the same for every request the caller makes from one address. */
const agents = (actor: Actor): Record<string, unknown>[] =>
  agentsOfActor(JSON.stringify([actor.clientId, actor.userId, actor.userResource, actor.address, actor.allowedBy]), () => makeAgents(actor));

function makeAgents(actor: Actor): Record<string, unknown>[] {
  const list: Record<string, unknown>[] = [];
  // BALP: the client is the source of the request (DICOM 110153), with its network address.
  list.push({
    type: CLIENT_AGENT_TYPE,
    who: actor.clientId ? { reference: `Client/${actor.clientId}` } : ANONYMOUS,
    requestor: !actor.userId,
    ...(actor.allowedBy && { policy: [actor.allowedBy] }),
    // R4 AuditEventAgentNetworkType 2: an IP address (v4 or v6).
    ...(actor.address && { network: { address: actor.address, type: '2' } }),
  });
  if (actor.userId) {
    // The user on whose behalf the client calls is the requestor (information recipient).
    list.push({
      type: USER_AGENT_TYPE,
      who: { reference: `User/${actor.userId}` },
      ...(actor.userResource && { altId: actor.userResource }),
      requestor: true,
      ...(actor.allowedBy && { policy: [actor.allowedBy] }),
    });
    // A patient user reading their own record: their Patient is an agent too, so "events about me" finds it.
    if (actor.userResource?.startsWith('Patient/')) {
      list.push({ type: PATIENT_AGENT_TYPE, who: { reference: actor.userResource }, requestor: false });
    }
  }
  // The server itself records the event (BALP: the destination, DICOM 110152).
  list.push(SERVER_AGENT);
  return list;
}

function baseEvent(profile: string | undefined, actor: Actor, outcome: Outcome, outcomeDesc: string | undefined, now: Date): AuditEventResource {
  return {
    resourceType: 'AuditEvent',
    id: newResourceId(),
    ...(profile && { meta: metaOf(profile) }),
    recorded: now.toISOString(),
    outcome,
    ...(outcomeDesc && { outcomeDesc: outcomeDesc.slice(0, 500) }),
    agent: agents(actor),
    source: SOURCE,
  };
}

const requestEntity = (requestId: string) => ({
  what: { identifier: { value: requestId } },
  type: REQUEST_ID_TYPE,
});

const patientEntities = remembered<Record<string, unknown>>(1000);

const patientEntity = (patientId: string) =>
  patientEntities(patientId, () => ({
    what: { reference: `Patient/${patientId}` },
    type: PERSON,
    role: PATIENT_ROLE,
  }));

const resourceEntities = remembered<Record<string, unknown>>(1000);

/** The resource an interaction read or wrote, with its version. */
const resourceEntity = (reference: string) => resourceEntities(reference, () => ({ what: { reference }, type: SYSTEM_OBJECT, role: DOMAIN_RESOURCE }));

export interface RestEvent {
  interaction: RestInteraction;
  type: string;
  id?: string;
  versionId?: string;
  /** The Patients whose data the interaction touched (their compartment), or none. */
  patients: readonly string[];
  /** A search's query string, as sent. */
  query?: string;
  outcome: Outcome;
  outcomeDesc?: string;
}

/**
 * A RESTful interaction on a resource (BALP IHE.BasicAudit.{Create,Read,Update,Delete,Query} and their Patient*
 * variants, which carry the one Patient concerned). A search touching several patients names each of them.
 */
export function restEvent(event: RestEvent, actor: Actor, now = new Date()): AuditEventResource {
  const rest = REST[event.interaction];
  const profile = `IHE.BasicAudit.${event.patients.length === 1 ? 'Patient' : ''}${rest.profile}`;
  const entity: Record<string, unknown>[] = [];
  if (event.id !== undefined) entity.push(resourceEntity(`${event.type}/${event.id}${event.versionId ? `/_history/${event.versionId}` : ''}`));
  if (event.query !== undefined) {
    entity.push({
      type: SYSTEM_OBJECT,
      role: QUERY_ROLE,
      description: `${event.type}?${event.query}`.slice(0, 2000),
      query: Buffer.from(`${event.type}?${event.query}`).toString('base64'),
    });
  }
  for (const patient of event.patients) entity.push(patientEntity(patient));
  if (actor.requestId) entity.push(requestEntity(actor.requestId));
  return {
    ...baseEvent(profile, actor, event.outcome, event.outcomeDesc, now),
    type: REST_TYPE,
    subtype: REST_SUBTYPES[event.interaction],
    action: rest.action,
    entity,
  };
}

export interface SecurityEvent {
  /** The BALP profile the event meets, when one covers it (none covers logins or token issuance). */
  profile?: string;
  /** The event type: DICOM's for logins and logouts, Warden's for what DICOM does not name. */
  type: Coding;
  subtype: Coding[];
  action?: 'C' | 'R' | 'U' | 'D' | 'E';
  outcome: Outcome;
  outcomeDesc?: string;
  /** What the event is about (a Client, a User, a Session, a Consent...), by reference; never a secret. */
  entities?: { reference?: string; name?: string; role?: Coding; detail?: Record<string, string> }[];
  patients?: readonly string[];
}

export const LOGIN: Coding = constant({ system: DCM, code: '110114', display: 'User Authentication' });
export const LOGIN_SUBTYPE: Coding = constant({ system: DCM, code: '110122', display: 'Login' });
export const LOGOUT_SUBTYPE: Coding = constant({ system: DCM, code: '110123', display: 'Logout' });
export const SECURITY_ALERT: Coding = constant({ system: DCM, code: '110113', display: 'Security Alert' });
export const APPLICATION_ACTIVITY: Coding = constant({ system: DCM, code: '110100', display: 'Application Activity' });
const AUTHZ_SUBTYPE = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/AuthZsubType';

/**
 * An access denial (401/403) as BALP's authorization decision (IHE.BasicAudit.AuthZconsent): a security alert
 * whose outcome is the refusal, with the reason the decision gave.
 */
export function denialEvent(what: { interaction?: string; type?: string; id?: string; method: string; path: string; status: number; reason: string }, actor: Actor, now = new Date()): AuditEventResource {
  return securityEvent(
    {
      profile: 'IHE.BasicAudit.AuthZconsent',
      type: SECURITY_ALERT,
      subtype: [{ system: AUTHZ_SUBTYPE, code: 'AuthZ-Role', display: 'Authorization Decision using only Roles' }, ...(what.interaction ? [{ system: RESTFUL_INTERACTION, code: what.interaction }] : [])],
      action: 'E',
      outcome: '4',
      outcomeDesc: `${what.status}: ${what.reason}`,
      entities: [
        ...(what.type && what.id ? [{ reference: `${what.type}/${what.id}`, role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' } }] : []),
        { name: `${what.method} ${what.path}`.slice(0, 200), role: { system: OBJECT_ROLE, code: '3', display: 'Report' } },
      ],
    },
    actor,
    now,
  );
}

export const wardenCode = (code: string, display?: string): Coding => ({ system: WARDEN_EVENTS, code, ...(display && { display }) });

/** An authentication, authorization or IAM event: a BALP profile where one applies, else a plain R4 AuditEvent. */
export function securityEvent(event: SecurityEvent, actor: Actor, now = new Date()): AuditEventResource {
  const entity: Record<string, unknown>[] = (event.entities ?? []).map((item) => ({
    ...(item.reference && { what: { reference: item.reference } }),
    ...(item.name && { name: item.name.slice(0, 200) }),
    type: SYSTEM_OBJECT,
    ...(item.role && { role: item.role }),
    ...(item.detail && { detail: Object.entries(item.detail).map(([type, value]) => ({ type, valueString: String(value).slice(0, 500) })) }),
  }));
  for (const patient of event.patients ?? []) entity.push(patientEntity(patient));
  if (actor.requestId) entity.push(requestEntity(actor.requestId));
  return {
    ...baseEvent(event.profile, actor, event.outcome, event.outcomeDesc, now),
    type: event.type,
    subtype: event.subtype,
    ...(event.action && { action: event.action }),
    entity,
  };
}
