// The export job table: what a kick-off records, how a process claims a job (for update skip locked, so two
// processes never run the same one), how a run saves each chunk with its position, and how output is read back.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Database } from '../store/database.ts';
import type { ExportRequest } from './kickoff.ts';

/** Who asked for an export: the facts the authorize step decides on, re-checked whenever the job reads. */
export interface Requester {
  method: 'basic' | 'bearer' | 'external-jwt' | 'external-opaque' | 'browser-session';
  client: string;
  user?: string;
  scopes?: string[];
  /** The claims of the token used (a policy may match on them); never the token itself. */
  jwt?: Record<string, unknown>;
  /** The patient of the token's launch context (a patient/ token is confined to it). */
  patient?: string;
  remoteAddr?: string;
  /** The kick-off's path and query, as the policies saw it. */
  url: string;
  route: string;
  routeParams: Record<string, string>;
}

export type JobStatus = 'accepted' | 'in-progress' | 'completed' | 'failed';

export interface Position {
  /** Index into `request.types` of the type being exported. */
  type: number;
  /** The last id written of that type. */
  after?: string;
  /** The next part number of that type's file. */
  part?: number;
}

export interface Job {
  id: string;
  status: JobStatus;
  requester: Requester;
  request: ExportRequest;
  transactionTime: string;
  position: Position;
  exported: number;
  claim: string | null;
  attempts: number;
  errorStatus: number | null;
  error: string | null;
  expiresAt: string;
}

type JobRow = {
  id: string;
  status: JobStatus;
  requester: string;
  request: string;
  transaction_time: Date | string;
  position: string;
  exported: string | number;
  claim: string | null;
  attempts: number;
  error_status: number | null;
  error: string | null;
  expires_at: Date | string;
};

const COLUMNS = `id, status, requester::text as requester, request::text as request, transaction_time, position::text as position,
  exported, claim, attempts, error_status, error, expires_at`;

const toJob = (row: JobRow): Job => ({
  id: row.id,
  status: row.status,
  requester: JSON.parse(row.requester) as Requester,
  request: JSON.parse(row.request) as ExportRequest,
  transactionTime: new Date(row.transaction_time).toISOString(),
  position: JSON.parse(row.position) as Position,
  exported: Number(row.exported),
  claim: row.claim,
  attempts: Number(row.attempts),
  errorStatus: row.error_status === null ? null : Number(row.error_status),
  error: row.error,
  expiresAt: new Date(row.expires_at).toISOString(),
});

export class ExportJobs {
  constructor(
    private readonly db: Database,
    private readonly settings: { leaseSeconds: number; retentionSeconds: number },
  ) {}

  async create(requester: Requester, request: ExportRequest): Promise<Job> {
    const [row] = await this.db.query<JobRow>(
      `insert into export_job (id, status, requester, request, transaction_time, expires_at)
       values ($1, 'accepted', $2::text::jsonb, $3::text::jsonb, now(), now() + make_interval(secs => $4)) returning ${COLUMNS}`,
      [randomUUID(), JSON.stringify(requester), JSON.stringify(request), this.settings.retentionSeconds],
    );
    return toJob(row);
  }

  async read(id: string): Promise<Job | null> {
    const [row] = await this.db.query<JobRow>(`select ${COLUMNS} from export_job where id = $1 and expires_at > now()`, [id]);
    return row ? toJob(row) : null;
  }

  /** Takes the oldest job waiting, or one whose runner's lease ran out (it died): null when there is none. */
  async claim(): Promise<Job | null> {
    const [row] = await this.db.query<JobRow>(
      `update export_job set status = 'in-progress', claim = $1, attempts = attempts + 1,
         lease_until = now() + make_interval(secs => $2)
       where id = (select id from export_job
                   where status = 'accepted' or (status = 'in-progress' and lease_until < now())
                   order by created_at limit 1 for update skip locked)
       returning ${COLUMNS}`,
      [randomBytes(12).toString('hex'), this.settings.leaseSeconds],
    );
    return row ? toJob(row) : null;
  }

  /**
   * Stores the page `select` gives (rows of `id`, `text`) as one chunk, without it leaving the database, and the
   * position after it, in one transaction. Answers the chunk's size and last id (0 and undefined: the page was
   * empty, nothing written), or null when the job is no longer this claim's.
   */
  async saveChunkFrom(job: Job, type: string, part: number, select: { sql: string; params: unknown[] }, positionAfter: (last: string) => Position): Promise<{ count: number; last?: string } | null> {
    return this.db.transaction(async (tx) => {
      await tx.query('set local synchronous_commit = off');
      const owned = await tx.query(
        `update export_job set lease_until = now() + make_interval(secs => $3), expires_at = greatest(expires_at, now() + make_interval(secs => $4))
         where id = $1 and claim = $2 and status = 'in-progress' returning id`,
        [job.id, job.claim, this.settings.leaseSeconds, this.settings.retentionSeconds],
      );
      if (owned.length === 0) return null;
      const params = [...select.params];
      const bind = (value: unknown) => `$${params.push(value)}`;
      const [written] = await tx.query<{ count: number; last: string }>(
        `with page as (${select.sql})
         insert into export_file_part (job_id, type, part, count, ndjson)
         select ${bind(job.id)}, ${bind(type)}, ${bind(part)}::int, count(*), string_agg(text, E'\n' order by id) || E'\n' from page having count(*) > 0
         returning count, (select max(id) from page) as last`,
        params,
        { prepare: false },
      );
      if (!written) return { count: 0 };
      await tx.query('update export_job set position = $2::text::jsonb, exported = exported + $3 where id = $1', [
        job.id, JSON.stringify(positionAfter(written.last)), Number(written.count),
      ]);
      return { count: Number(written.count), last: written.last };
    });
  }

  /** Ends a run: completed (its output kept `retentionSeconds` from now) or failed with the error to report. */
  async finish(job: Job, outcome: { status: 'completed' } | { status: 'failed'; errorStatus: number; error: string }): Promise<void> {
    await this.db.query(
      `update export_job set status = $3, error_status = $4, error = $5, claim = null, lease_until = null,
         expires_at = now() + make_interval(secs => $6)
       where id = $1 and claim = $2`,
      [job.id, job.claim, outcome.status, outcome.status === 'failed' ? outcome.errorStatus : null,
        outcome.status === 'failed' ? outcome.error : null, this.settings.retentionSeconds],
    );
  }

  /** Gives the job back at once (this process is stopping): the next claim, here or elsewhere, resumes it. */
  async release(job: Job): Promise<void> {
    await this.db.query(`update export_job set lease_until = now() - interval '1 second' where id = $1 and claim = $2`, [job.id, job.claim]);
  }

  /** Deletes a job and its output (DELETE on its status URL); a run under way stops at its next chunk. */
  async remove(id: string): Promise<void> {
    await this.db.query('delete from export_job where id = $1', [id]);
  }

  /** Each type's file: how many resources it holds. */
  async files(id: string): Promise<{ type: string; count: number }[]> {
    const rows = await this.db.query<{ type: string; count: string | number }>(
      'select type, sum(count) as count from export_file_part where job_id = $1 group by type order by type',
      [id],
    );
    return rows.map((row) => ({ type: row.type, count: Number(row.count) }));
  }

  /** A type's file, read a few parts at a time: memory holds a few chunks, whatever the file's size. */
  async *fileParts(id: string, type: string): AsyncGenerator<string> {
    for (let after = -1; ; ) {
      const rows = await this.db.query<{ part: number; ndjson: string }>(
        'select part, ndjson from export_file_part where job_id = $1 and type = $2 and part > $3 order by part limit 4',
        [id, type, after],
      );
      for (const row of rows) yield row.ndjson;
      if (rows.length < 4) return;
      after = Number(rows[rows.length - 1].part);
    }
  }
}
