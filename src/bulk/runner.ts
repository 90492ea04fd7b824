// Runs export jobs in the background, in every server process: each claims a job from the table (any process
// may run any job), walks its types in id order a chunk at a time (keyset: one indexed query per chunk, never
// the whole export in memory), and stores each chunk with its position, so a job whose process died is resumed
// by the next to claim it, from its last chunk. Before each chunk the requester's access is decided again by
// the one authorization step, on what was recorded at kick-off: a deleted client or user, or a policy that no
// longer allows the export, fails the job; a patient/ token's export stays confined to its patient.
import type { Identity } from '../authn/identity.ts';
import { authorize } from '../access/authorize.ts';
import { confinedResources, type ResourceView } from '../access/confined-resources.ts';
import { sqlRunner } from '../access/sql-runner.ts';
import type { AppContext } from '../context.ts';
import { FhirError, forbidden } from '../fhir/outcome.ts';
import type { SearchFilter } from '../store/resource-store.ts';
import { idAfter, patientsFilter, updatedBetween } from './filters.ts';
import { ExportJobs, type Job } from './jobs.ts';
import { typeFilterCondition } from './kickoff.ts';

/** After this many claims a job that never finished (its process died each time) fails instead. */
const MAX_ATTEMPTS = 5;

export class ExportRunner {
  readonly jobs: ExportJobs;
  private readonly policySql;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private started = false;
  private stopping = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly warn: (message: string) => void,
  ) {
    this.jobs = new ExportJobs(ctx.db, ctx.config.bulkExport);
    this.policySql = sqlRunner(ctx.db);
  }

  start(): void {
    this.started = true;
    this.timer = setInterval(() => this.wake(), this.ctx.config.bulkExport.pollMs).unref();
    this.wake();
  }

  /** Looks for work now (a kick-off in this process); a look already under way looks again when it ends. */
  wake(): void {
    if (!this.started || this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: Error) => this.warn(`running export jobs failed: ${error.message}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Stops after the chunk under way; a job left unfinished is released for the next process to resume. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async drain(): Promise<void> {
    for (let job = await this.jobs.claim(); job && !this.stopping; job = this.stopping ? null : await this.jobs.claim()) {
      await this.run(job);
    }
  }

  private async run(job: Job): Promise<void> {
    if (job.attempts > MAX_ATTEMPTS) {
      return this.jobs.finish(job, { status: 'failed', errorStatus: 500, error: `The export was interrupted ${MAX_ATTEMPTS} times and was given up` });
    }
    try {
      const finished = await this.export(job);
      if (finished) await this.jobs.finish(job, { status: 'completed' });
    } catch (error) {
      if (error instanceof FhirError) {
        return this.jobs.finish(job, { status: 'failed', errorStatus: error.status, error: error.outcome.issue.map((issue) => issue.diagnostics).join('; ') });
      }
      this.warn(`export ${job.id} stopped: ${(error as Error).message}`);
      await this.jobs.release(job).catch(() => {});
    }
  }

  /** Writes the job's chunks from its position on; false when it stopped before the end (cancelled, stopping). */
  private async export(job: Job): Promise<boolean> {
    const { request } = job;
    const { chunkSize } = this.ctx.config.bulkExport;
    let { type: index, after, part = 0 } = job.position;
    for (; index < request.types.length; index++, after = undefined, part = 0) {
      const type = request.types[index];
      const filters = this.filtersOf(job, type);
      for (;;) {
        if (this.stopping) {
          await this.jobs.release(job);
          return false;
        }
        const view = await this.viewOf(job);
        const page = { filters: [...filters, idAfter(after)], count: chunkSize, offset: 0, sort: 'id' as const, total: false };
        const select = view.searchSql(type, page);
        // Per-resource decisions are made for the SMART pickers only; an export never meets one, and refuses it.
        if (!select) throw forbidden("This caller's access is decided resource by resource, which an export cannot apply");
        // The chunk goes from the resource table to the output without leaving the database.
        const saved = await this.jobs.saveChunkFrom(job, type, part, select, (last) => ({ type: index, after: last, part: part + 1 }));
        if (!saved) return false;
        if (saved.count === 0) break;
        const { count } = saved;
        after = saved.last;
        part++;
        if (count < chunkSize) break;
        // The embedded store answers without going through the event loop: let requests in between chunks.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    return true;
  }

  /** The conditions of the request on one type: changed since `_since` and by the transaction time, the population, `_typeFilter`. */
  private filtersOf(job: Job, type: string): SearchFilter[] {
    const { request } = job;
    const { baseUrl } = this.ctx.config;
    const filters = [updatedBetween(request.since, job.transactionTime)];
    if (request.level !== 'system') filters.push(patientsFilter(type, request.group?.patients ?? null, baseUrl));
    const typeFilter = typeFilterCondition(type, request.typeFilters[type], baseUrl);
    if (typeFilter) filters.push(typeFilter);
    return filters;
  }

  /** The store as the requester may see it now: the one authorization step, on what the kick-off recorded. */
  private async viewOf(job: Job): Promise<ResourceView> {
    const { requester } = job;
    const live = await this.ctx.live.read([
      { type: 'Client', id: requester.client },
      ...(requester.user === undefined ? [] : [{ type: 'User', id: requester.user }]),
    ]);
    const client = live.get(`Client/${requester.client}`);
    const user = requester.user === undefined ? undefined : live.get(`User/${requester.user}`);
    if (!client) throw forbidden(`Client "${requester.client}" that asked for this export no longer exists`);
    if (requester.user !== undefined && !user) throw forbidden(`User "${requester.user}" who asked for this export no longer exists`);
    const identity: Identity = {
      method: requester.method,
      client,
      ...(user && { user }),
      ...(requester.scopes && { scopes: requester.scopes }),
      ...((requester.jwt || requester.patient) && { jwt: { ...requester.jwt, ...(requester.patient && { patient: requester.patient }) } }),
    };
    const access = await authorize(this.ctx, this.policySql, identity, null, {
      method: 'GET',
      url: requester.url,
      route: requester.route,
      routeParams: requester.routeParams,
      identity,
      ...(requester.remoteAddr !== undefined && { remoteAddr: requester.remoteAddr }),
    });
    return confinedResources(this.ctx.resources, access.confinement, this.ctx.config.baseUrl);
  }
}
