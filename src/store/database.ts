// The store contract: one SQL dialect (PostgreSQL's) spoken by two engines.
import { UnstorableText } from '../errors.ts';

export type Row = Record<string, unknown>;

export interface QueryOptions {
  /**
   * PostgreSQL keeps a prepared statement per connection for each distinct text, so that a repeated query is
   * one round trip with no parse. `false` for text that varies from call to call (search, policy SQL): each
   * would be kept forever.
   */
  prepare?: boolean;
  /**
   * The caller vouches that its text parameters hold no NUL character, so they are not scanned for one: JSON
   * from JSON.stringify never does (it writes a NUL as the escape `\u0000`), and a batch of AuditEvents is
   * hundreds of kilobytes of it.
   */
  textsHaveNoNul?: boolean;
}

/** Runs SQL with `$1`-style parameters. */
export interface Queryable {
  query<T extends Row = Row>(text: string, params?: unknown[], options?: QueryOptions): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly engine: 'pglite' | 'postgres';
  /** Runs `work` in one transaction: everything it wrote is committed together, or nothing is. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls `onMessage` for each NOTIFY on `channel`, from this process or any other on the same database, and
   * `onListen` each time listening (re)starts: what was announced while the connection was down is lost.
   */
  listen(channel: string, onMessage: (payload: string) => void, onListen?: () => void): Promise<void>;
  notify(channel: string, payload: string): Promise<void>;
  /**
   * A connection of its own, outside the pool, for the change feed's heartbeat: under load every pooled
   * connection is busy with requests, and a heartbeat queued behind them arrives late enough to end the lease.
   * Absent on the embedded store, which has no other process to keep a lease with.
   */
  readonly heartbeat?: Queryable;
  close(): Promise<void>;
}

/**
 * PostgreSQL text cannot hold a NUL character; a parameter carrying one (from a query string, a form, a
 * credential) is the caller's mistake, so it is refused here (UnstorableText: a 400), whatever path brought it.
 */
export function checkStorableParams(params: unknown[]): void {
  for (const param of params) {
    if (typeof param === 'string' && param.includes('\u0000')) throw new UnstorableText('Text may not contain the NUL character (U+0000)');
  }
}
