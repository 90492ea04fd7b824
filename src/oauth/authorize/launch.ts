// The SMART step of /auth/authorize: the launch context the code will carry.
//   EHR launch         `launch` scope and a `launch` value minted by POST /auth/launch
//   standalone launch  `launch/patient`: the user's own Patient record, or the patient picker; then
//                      `launch/encounter`: the patient's only Encounter, or the encounter picker
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientDisplayName } from '../../iam/client.ts';
import { ownPatientOf } from '../../iam/user.ts';
import { carriedParams, type AuthorizationRequest } from './validate.ts';
import { toClient } from './authorize-error.ts';
import type { BrowserFlows } from '../browser-flows.ts';
import { errorPage } from '../../pages/error.ts';
import { sendPage } from '../../pages/layout.ts';
import { confinedResources, type ResourceView } from '../../access/confined-resources.ts';
import { resourcesVisibleTo } from '../../access/user-access.ts';
import { patientCompartmentFilter, storedInPatientCompartment } from '../../search/compartment.ts';
import { searchFilters } from '../../search/query.ts';
import type { Resource } from '../../store/resource-store.ts';
import { encounterChoice, encounterPickerPage } from '../../pages/encounter-picker.ts';
import { LaunchContexts, type LaunchContext } from '../../smart/launch-contexts.ts';
import { patientName, patientPickerPage } from '../../pages/patient-picker.ts';
import { isResourceScope, parseScopes, requestedLaunchContexts } from '../../smart/scopes.ts';

/** Fields of the pickers' forms, never part of the authorization request itself. */
export const PICKER_FIELDS = ['smart_patient', 'smart_patient_query', 'smart_encounter'];
const PICKER_SIZE = 50;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export type LaunchStep = { done: true } | { done: false; context: LaunchContext | undefined };

/**
 * The launch context for this authorization, or `{done: true}` when this step answered the browser itself (the
 * patient picker). Throws a redirectable AuthorizeError for a launch that cannot be honoured.
 */
export async function resolveLaunch(
  flows: BrowserFlows,
  request: FastifyRequest,
  reply: FastifyReply,
  authz: AuthorizationRequest,
  user: Resource,
): Promise<LaunchStep> {
  const scopes = parseScopes(authz.scopes.join(' '));
  const wanted = requestedLaunchContexts(scopes);
  const ehrLaunch = scopes.some((scope) => scope.kind === 'launch' && !scope.context);
  const launchValue = authz.params.launch;
  let context: LaunchContext = {};

  if (launchValue !== undefined) {
    const found = await new LaunchContexts(flows.ctx.db).resolve(launchValue, authz.client.id, user.id);
    if (!found) throw toClient('invalid_request', 'The launch value is unknown, expired, or for another client');
    // The EHR's launch opens a record for its own user; a patient user only ever opens their own record.
    if (found.user !== undefined && found.user !== user.id) throw toClient('access_denied', 'This launch was made for another user');
    const own = ownPatientOf(user);
    if (own !== undefined && found.patient !== undefined && found.patient !== own) throw toClient('access_denied', "This launch opens another patient's record");
    const { user: _launchedFor, ...forTheApp } = found;
    context = { need_patient_banner: false, ...forTheApp };
  } else if (ehrLaunch) {
    throw toClient('invalid_request', 'scope "launch" asks for an EHR launch context: send the launch value the EHR gave the app');
  }

  if (wanted.has('patient') && context.patient === undefined) {
    const own = ownPatientOf(user);
    if (own) {
      context.patient = own;
    } else {
      const visible = resourcesVisibleTo(flows.ctx, user);
      const picked = await pickedPatient(flows, request, authz, visible);
      if (picked === null) {
        // OpenID Connect Core §3.1.2.1: prompt=none shows no page.
        if (authz.prompt.has('none')) throw toClient('interaction_required', 'The user must choose a patient');
        await showPicker(flows, request, reply, authz, visible);
        return { done: true };
      }
      context.patient = picked;
    }
    context.need_patient_banner ??= true;
  }
  // A patient user with patient/ scopes works on their own record even without launch/patient.
  if (context.patient === undefined && scopes.some((scope) => isResourceScope(scope) && scope.context === 'patient')) {
    const own = ownPatientOf(user);
    if (own) context = { ...context, patient: own, need_patient_banner: context.need_patient_banner ?? true };
  }
  if (wanted.has('encounter') && context.encounter === undefined && context.patient !== undefined) {
    // A patient user's own encounters are theirs; anyone else is offered the encounters their policies let them read.
    const visible = ownPatientOf(user) === context.patient ? confinedResources(flows.ctx.resources, null, flows.ctx.config.baseUrl) : resourcesVisibleTo(flows.ctx, user);
    const encounter = await chooseEncounter(flows, request, reply, authz, context.patient, visible);
    if (encounter === SHOWN) return { done: true };
    if (encounter !== undefined) context.encounter = encounter;
  }
  // Only the contexts the app asked for (or all, for an EHR launch) go into the token response.
  if (!ehrLaunch) {
    if (!wanted.has('encounter')) delete context.encounter;
  }
  // The code is about to be issued: the launch value is spent, and a second use of it is refused.
  if (launchValue !== undefined && !(await new LaunchContexts(flows.ctx.db).consume(launchValue))) {
    throw toClient('invalid_request', 'The launch value was already used');
  }
  if (Object.keys(context).length === 0) return { done: false, context: undefined };
  context.smart_style_url ??= `${flows.ctx.config.baseUrl}/smart-style.json`;
  return { done: false, context };
}

/**
 * The patient chosen in the picker's form, when it came back with a valid CSRF token and names a Patient the
 * user may read (a patient that does not exist and one the user may not read are refused alike, so the answer
 * tells nothing of which patients exist).
 */
async function pickedPatient(flows: BrowserFlows, request: FastifyRequest, authz: AuthorizationRequest, visible: ResourceView): Promise<string | null> {
  const chosen = authz.params.smart_patient;
  if (request.method !== 'POST' || chosen === undefined) return null;
  if (!flows.csrf.verify(request, authz.params.csrf_token)) throw toClient('invalid_request', 'The patient choice did not come from the picker page');
  if (!ID.test(chosen)) throw toClient('invalid_request', 'The chosen patient id is malformed');
  const refused = () => toClient('access_denied', `Patient/${chosen} is not a patient this user may open`);
  const stored = await visible.find('Patient', chosen);
  if (!stored || stored.deleted) throw refused();
  return chosen;
}

async function showPicker(flows: BrowserFlows, request: FastifyRequest, reply: FastifyReply, authz: AuthorizationRequest, visible: ResourceView) {
  const query = (authz.params.smart_patient_query ?? '').trim().slice(0, 100);
  const { ctx } = flows;
  const filters = query ? searchFilters('Patient', [['name', [query]]], ctx.config.baseUrl, []) : [];
  const { resources } = await visible.search('Patient', { count: PICKER_SIZE, offset: 0, sort: 'id', total: false, filters });
  if (resources.length === 0 && !query) {
    return sendPage(
      reply,
      403,
      errorPage({
        title: 'No patient to choose',
        message: `${clientDisplayName(authz.client)} needs a patient, and your account may not open any patient's record. Ask an administrator for access.`,
        error: 'access_denied',
      }),
    );
  }
  return sendPage(
    reply,
    200,
    patientPickerPage({
      csrf: flows.csrf.issue(request, reply),
      clientName: clientDisplayName(authz.client),
      patients: resources.map((patient) => ({
        id: patient.id,
        name: patientName(patient),
        ...(typeof patient.birthDate === 'string' && { birthDate: patient.birthDate }),
      })),
      query,
      request: carriedParams(authz, ['csrf_token', 'decision', ...PICKER_FIELDS]),
    }),
  );
}

const SHOWN = Symbol('the picker page was sent');

/**
 * The Encounter of `patient` the app will work in: the one chosen in the picker, else the patient's only one;
 * none when the patient has no Encounter (the token response then has no `encounter`). SHOWN when the
 * picker page answered the browser. A choice outside the patient's compartment is refused.
 */
async function chooseEncounter(
  flows: BrowserFlows,
  request: FastifyRequest,
  reply: FastifyReply,
  authz: AuthorizationRequest,
  patient: string,
  visible: ResourceView,
): Promise<string | undefined | typeof SHOWN> {
  const { ctx } = flows;
  const chosen = authz.params.smart_encounter;
  if (request.method === 'POST' && chosen !== undefined) {
    if (!flows.csrf.verify(request, authz.params.csrf_token)) throw toClient('invalid_request', 'The encounter choice did not come from the picker page');
    if (!ID.test(chosen)) throw toClient('invalid_request', 'The chosen encounter id is malformed');
    if (!(await storedInPatientCompartment(ctx.resources, 'Encounter', chosen, patient, ctx.config.baseUrl))) {
      throw toClient('invalid_request', `Encounter/${chosen} is not an encounter of Patient/${patient}`);
    }
    if (!(await visible.find('Encounter', chosen))) throw toClient('access_denied', `Encounter/${chosen} is not an encounter this user may open`);
    return chosen;
  }
  const { resources: encounters } = await visible.search('Encounter', {
    count: PICKER_SIZE,
    offset: 0,
    sort: '-lastUpdated',
    total: false,
    filters: [patientCompartmentFilter('Encounter', patient, ctx.config.baseUrl)],
  });
  if (encounters.length <= 1) return encounters[0]?.id;
  // OpenID Connect Core §3.1.2.1: prompt=none shows no page.
  if (authz.prompt.has('none')) throw toClient('interaction_required', 'The user must choose one of the patient\'s encounters');
  const stored = await ctx.resources.read('Patient', patient);
  await sendPage(
    reply,
    200,
    encounterPickerPage({
      csrf: flows.csrf.issue(request, reply),
      clientName: clientDisplayName(authz.client),
      patientName: stored && !stored.deleted ? patientName(stored.resource) : patient,
      encounters: encounters.map(encounterChoice),
      // The chosen patient is carried on; the encounter is what this form asks.
      request: carriedParams(authz, ['csrf_token', 'decision', 'smart_encounter', 'smart_patient_query']),
    }),
  );
  return SHOWN;
}
