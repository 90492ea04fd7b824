// Bulk Data Access 2.0 (HL7 FHIR Bulk Data IG) and Patient/$everything, declared from BULK_DATA_ROUTES
// (src/fhir/interactions.ts). The kick-off checks the request, reads the Group through the caller's store view,
// records who asked and answers 202 with the job's status URL; the job runs in the background (runner.ts).
// A job, its status and its files belong to whoever asked (the same client and user): anyone else is told it
// does not exist (404), as a resource out of sight would be.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ResourceView } from '../access/confined-resources.ts';
import { smartContextOf } from '../smart/enforce.ts';
import type { AppContext } from '../context.ts';
import { BULK_DATA_ROUTES } from '../fhir/interactions.ts';
import { FhirError, gone, notFound, unauthorized } from '../fhir/outcome.ts';
import { sendResource } from '../http/reply-format.ts';
import { checkId } from '../resources/validate.ts';
import { everythingHandler } from './everything.ts';
import type { Job, Requester } from './jobs.ts';
import { parseKickoff, type ExportLevel, type ExportRequest } from './kickoff.ts';
import { ExportRunner } from './runner.ts';

type Query = Record<string, string | string[] | undefined>;

/** How soon a client should poll again, in seconds (Retry-After). */
const RETRY_AFTER_SECONDS = 2;
const JOB_ID = /^[0-9a-f-]{36}$/;

/** The Patients a Group names as active members (Group.member.entity), by id. */
function memberPatients(group: Record<string, unknown>, baseUrl: string): string[] {
  const members = Array.isArray(group.member) ? (group.member as { entity?: { reference?: unknown }; inactive?: unknown }[]) : [];
  const ids = new Set<string>();
  for (const member of members) {
    const reference = member?.entity?.reference;
    if (typeof reference !== 'string' || member.inactive === true) continue;
    const relative = reference.startsWith(`${baseUrl}/`) ? reference.slice(baseUrl.length + 1) : reference;
    const match = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(relative);
    if (match) ids.add(match[1]);
  }
  return [...ids].sort();
}

function requesterOf(request: FastifyRequest): Requester {
  const identity = request.identity;
  // Output is served only to whoever asked (requiresAccessToken: true): an export needs a caller to belong to.
  if (!identity) throw unauthorized('A Bulk Data export needs an authenticated client', 'Bearer');
  const patient = smartContextOf(identity).patient;
  return {
    method: identity.method,
    client: identity.client.id,
    ...(identity.user && { user: String(identity.user.id) }),
    ...(identity.scopes && { scopes: identity.scopes }),
    ...(identity.jwt && { jwt: identity.jwt }),
    ...(patient !== undefined && { patient }),
    remoteAddr: request.ip,
    url: request.url,
    route: request.routeOptions.url ?? request.url,
    routeParams: (request.params ?? {}) as Record<string, string>,
  };
}

const sameRequester = (job: Job, request: FastifyRequest) =>
  request.identity !== null && job.requester.client === request.identity.client.id && job.requester.user === (request.identity.user ? String(request.identity.user.id) : undefined);

export function bulkDataRoutes(app: FastifyInstance, ctx: AppContext, resourcesFor: (request: FastifyRequest) => ResourceView): void {
  const { baseUrl } = ctx.config;
  const runner = new ExportRunner(ctx, (message) => app.log.warn(message));
  if (ctx.config.bulkExport.runJobs) app.addHook('onReady', async () => runner.start());
  app.addHook('onClose', async () => runner.stop());

  /** The caller's own job, unexpired; 404 for any other. */
  async function ownJob(request: FastifyRequest<{ Params: { job: string } }>): Promise<Job> {
    const id = request.params.job;
    const job = JOB_ID.test(id) ? await runner.jobs.read(id) : null;
    if (!job || !sameRequester(job, request)) throw notFound(`No export ${id.slice(0, 64)}`);
    return job;
  }

  const kickoff = (level: ExportLevel) => async (request: FastifyRequest<{ Params: { id?: string }; Querystring: Query }>, reply: FastifyReply) => {
    const prefer = [request.headers.prefer ?? []].flat().join(',');
    let exportRequest: ExportRequest = parseKickoff(request.query, prefer, level, baseUrl);
    if (level === 'group') {
      const id = checkId(request.params.id!);
      const group = await resourcesFor(request).read('Group', id);
      if (!group) throw notFound(`Group/${id} not found`);
      if (group.deleted) throw gone(`Group/${id} was deleted`);
      exportRequest = { ...exportRequest, group: { id, patients: memberPatients(group.resource, baseUrl) } };
    }
    const job = await runner.jobs.create(requesterOf(request), exportRequest);
    runner.wake();
    reply.header('content-location', `${baseUrl}/$export-status/${job.id}`);
    return sendResource(request, reply, 202, {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'information', code: 'informational', diagnostics: `Export ${job.id} accepted; poll its Content-Location` }],
    });
  };

  const status = async (request: FastifyRequest<{ Params: { job: string } }>, reply: FastifyReply) => {
    const job = await ownJob(request);
    if (job.status === 'accepted' || job.status === 'in-progress') {
      const { type } = job.position;
      reply.header('x-progress', `${job.status}: ${job.exported} resources, type ${Math.min(type + 1, job.request.types.length)} of ${job.request.types.length}`);
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      return reply.code(202).send();
    }
    if (job.status === 'failed') {
      // Bulk Data IG: a job that failed answers its status request with an error and an OperationOutcome.
      throw new FhirError(job.errorStatus ?? 500, job.errorStatus === 403 ? 'forbidden' : 'exception', `The export failed: ${job.error ?? 'unknown error'}`);
    }
    const files = await runner.jobs.files(job.id);
    reply.header('expires', new Date(job.expiresAt).toUTCString());
    return reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify({
      transactionTime: job.transactionTime,
      request: `${baseUrl}${job.requester.url}`,
      requiresAccessToken: true,
      output: files.map(({ type, count }) => ({ type, url: `${baseUrl}/$export-file/${job.id}/${type}.ndjson`, count })),
      error: [],
    }));
  };

  const cancel = async (request: FastifyRequest<{ Params: { job: string } }>, reply: FastifyReply) => {
    const job = await ownJob(request);
    await runner.jobs.remove(job.id);
    return sendResource(request, reply, 202, {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'information', code: 'informational', diagnostics: `Export ${job.id} cancelled; its output is deleted` }],
    });
  };

  const file = async (request: FastifyRequest<{ Params: { job: string; file: string } }>, reply: FastifyReply) => {
    const job = await ownJob(request);
    const type = /^([A-Za-z]{1,64})\.ndjson$/.exec(request.params.file)?.[1];
    if (job.status !== 'completed' || !type || !job.request.types.includes(type)) throw notFound(`No file ${request.params.file.slice(0, 80)} in export ${job.id}`);
    return reply.code(200).type('application/fhir+ndjson').send(Readable.from(runner.jobs.fileParts(job.id, type)));
  };

  const handlers = {
    FhirPatientEverything: everythingHandler(ctx, resourcesFor),
    FhirExportSystem: kickoff('system'),
    FhirExportPatient: kickoff('patient'),
    FhirExportGroup: kickoff('group'),
    FhirExportStatus: status,
    FhirExportCancel: cancel,
    FhirExportFile: file,
  } as const;
  for (const route of BULK_DATA_ROUTES) {
    // A kick-off starts a job: HEAD, which must be safe (RFC 9110 §9.2.1), is not one (Fastify adds it to a GET).
    const exposeHeadRoute = route.interaction !== '$export';
    app.route({ method: route.method, url: route.url, exposeHeadRoute, config: { interaction: route }, handler: handlers[route.operation] as never });
  }
}
