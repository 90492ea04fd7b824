// POST /auth/launch (SMART App Launch 2.x §"EHR Launch"): the EHR (any caller an AccessPolicy allows
// `POST /auth/launch`, the root client always) mints a context — patient, encounter, banner and style hints —
// and gets an opaque `launch` value to open the app with (`{launch_uri}?iss={base}&launch={value}`). The app
// sends it back in its authorization request (`Client.smart.launch_uri` gives the URL to open); the context then rides with the code into the token's Session.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { accessOf } from '../access/access.ts';
import { confinedResources, type ResourceView } from '../access/confined-resources.ts';
import type { AppContext } from '../context.ts';
import { clientModel } from '../iam/client-model.ts';
import { oauthErrorHandler } from './errors.ts';
import { badRequest, unprocessable } from '../fhir/outcome.ts';
import { FhirContextError, readFhirContext } from '../smart/fhir-context.ts';
import { LAUNCH_LIFETIME_SECONDS, LaunchContexts, type LaunchContext } from '../smart/launch-contexts.ts';

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** The body of POST /auth/launch, checked field by field, with the referenced resources required to exist. */
async function readLaunchRequest(resources: ResourceView, body: unknown): Promise<{ context: LaunchContext; clientId: string | null }> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Send a JSON object: {patient, encounter?, client?, ...}');
  const input = body as Record<string, unknown>;
  // Through the caller's view: what it may not see does not exist for it (no existence oracle, no launch into it).
  const exists = async (type: string, id: string) => {
    const stored = await resources.find(type, id);
    return stored !== null && !stored.deleted;
  };
  const known = new Set(['patient', 'encounter', 'client', 'user', 'need_patient_banner', 'smart_style_url', 'fhirContext']);
  for (const key of Object.keys(input)) if (!known.has(key)) throw badRequest(`Unknown field "${key.slice(0, 40)}"; known: ${[...known].join(', ')}`, 'invalid', [key]);
  const context: LaunchContext = {};
  for (const [field, type] of [['patient', 'Patient'], ['encounter', 'Encounter'], ['user', 'User']] as const) {
    const value = input[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !ID.test(value)) throw badRequest(`${field} must be a ${type} id`, 'value', [field]);
    if (!(await exists(type, value))) throw unprocessable(`${type}/${value} does not exist`, [field]);
    context[field] = value;
  }
  if (input.need_patient_banner !== undefined) {
    if (typeof input.need_patient_banner !== 'boolean') throw badRequest('need_patient_banner must be true or false', 'value', ['need_patient_banner']);
    context.need_patient_banner = input.need_patient_banner;
  }
  if (input.smart_style_url !== undefined) {
    if (typeof input.smart_style_url !== 'string' || !URL.canParse(input.smart_style_url)) throw badRequest('smart_style_url must be an absolute URL', 'value', ['smart_style_url']);
    context.smart_style_url = input.smart_style_url;
  }
  if (input.fhirContext !== undefined) {
    try {
      context.fhirContext = readFhirContext(input.fhirContext);
    } catch (error) {
      if (error instanceof FhirContextError) throw badRequest(error.message, 'value', [error.path]);
      throw error;
    }
    for (const [index, item] of context.fhirContext.entries()) {
      if (item.reference === undefined) continue;
      const [type, id] = item.reference.split('/');
      if (!(await exists(type, id))) throw unprocessable(`fhirContext[${index}]: ${item.reference} does not exist`, [`fhirContext[${index}].reference`]);
    }
  }
  let clientId: string | null = null;
  if (input.client !== undefined) {
    if (typeof input.client !== 'string' || !ID.test(input.client)) throw badRequest('client must be a Client id', 'value', ['client']);
    if (!(await exists('Client', input.client))) throw unprocessable(`Client/${input.client} does not exist`, ['client']);
    clientId = input.client;
  }
  return { context, clientId };
}

/** POST /auth/launch, in a scope of its own so that its errors are RFC 6749 JSON; the API's authentication still runs. */
export async function launchRoutes(app: FastifyInstance, options: { ctx: AppContext }): Promise<void> {
  const { ctx } = options;
  const launches = new LaunchContexts(ctx.db);
  app.setErrorHandler(oauthErrorHandler);
  // Not public: authenticate and authorize run first, so only a caller a policy allows may mint contexts.
  app.post('/auth/launch', async (request: FastifyRequest, reply: FastifyReply) => {
    const visible = confinedResources(ctx.resources, accessOf(request).confinement, ctx.config.baseUrl);
    const { context, clientId } = await readLaunchRequest(visible, request.body);
    const launch = await launches.create(context, clientId);
    const client = clientId ? await ctx.resources.read('Client', clientId) : null;
    const launchUri = client ? clientModel(client.resource).launchUri : undefined;
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .send({
        launch,
        expires_in: LAUNCH_LIFETIME_SECONDS,
        iss: ctx.config.baseUrl,
        ...context,
        ...(launchUri && { launch_url: `${launchUri}${launchUri.includes('?') ? '&' : '?'}${new URLSearchParams({ iss: ctx.config.baseUrl, launch })}` }),
      });
  });
}
