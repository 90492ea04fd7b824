// Every token belongs to a Session resource. A token is honoured only while its Session, its Client and (when
// it has one) its User exist: ending the Session, by DELETE /Session/{id} or by revocation, ends all its tokens
// at once, in every process, because each use of a token reads them through the LiveCache, which drops a
// Session, Client or User the moment it changes.
import { newResourceId } from '../fhir/ids.ts';
import type { Database } from '../store/database.ts';
import type { LiveCache } from '../store/live-cache.ts';
import { VersionConflict, type Resource, type ResourceStore } from '../store/resource-store.ts';

export interface NewSession {
  /** Chosen by the caller when tokens naming the session are made while it is written; else made here. */
  id?: string;
  grant: string;
  clientId: string;
  userId?: string;
  audience: string;
  scope?: string;
  /** Epoch seconds after which the session, and every token in it, ends. */
  expiresAt: number;
  /** SMART launch context (patient, encounter, ...), kept for every token of the session, refreshed ones too. */
  launch?: Record<string, unknown>;
}

export interface LiveSession {
  session: Resource;
  client: Resource;
  user?: Resource;
}

const reference = (resourceType: string, id: string) => ({ resourceType, id });
const BATCH_LIMIT = 500;

interface PendingSession {
  session: Resource;
  resolve: (session: Resource) => void;
  reject: (error: unknown) => void;
}

export class Sessions {
  constructor(
    readonly db: Database,
    private readonly resources: ResourceStore,
    private readonly cache: LiveCache,
  ) {}

  /** Sessions waiting for the write under way to finish; they are written together next (group commit). */
  private pending: PendingSession[] = [];
  private flushing = false;

  /**
   * Stores a new Session. The first request writes at once; requests arriving while that write is under way
   * are written together in the next one, so under load a burst of tokens costs one commit, not one each.
   */
  create(fields: NewSession): Promise<Resource> {
    const session: Resource = {
      resourceType: 'Session',
      id: fields.id ?? newResourceId(),
      type: fields.grant,
      client: reference('Client', fields.clientId),
      ...(fields.userId !== undefined && { user: reference('User', fields.userId) }),
      audience: fields.audience,
      ...(fields.scope && { scope: fields.scope }),
      ...(fields.launch && { launch: fields.launch }),
      exp: fields.expiresAt,
    };
    return new Promise((resolve, reject) => {
      this.pending.push({ session, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, BATCH_LIMIT);
        try {
          const versions = await this.resources.createMany(batch.map((entry) => entry.session));
          batch.forEach((entry, index) => entry.resolve(versions[index].resource));
        } catch (error) {
          batch.forEach((entry) => entry.reject(error));
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * The session with its client and user when all of them are still there, the session has not expired and
   * the token's client and subject are the session's; null otherwise. Usually one round trip or none (when
   * all three are cached): this runs on every request that carries a token. `subject` is the user's id in a
   * user's session, else the client's.
   */
  async live(sessionId: string, clientId: string, subject: string, nowSeconds: number): Promise<LiveSession | null> {
    const wanted = [{ type: 'Session', id: sessionId }, { type: 'Client', id: clientId }];
    if (subject !== clientId) wanted.push({ type: 'User', id: subject });
    const found = await this.cache.read(wanted);
    const session = found.get(`Session/${sessionId}`);
    const client = found.get(`Client/${clientId}`);
    if (!session || !client) return null;
    if ((session.client as { id?: string } | undefined)?.id !== clientId) return null;
    const userId = (session.user as { id?: string } | undefined)?.id;
    const user = userId === undefined ? undefined : (found.get(`User/${userId}`) ?? (await this.cache.get('User', userId)) ?? undefined);
    if (userId !== undefined ? !user || userId !== subject : subject !== clientId) return null;
    if (typeof session.exp === 'number' && session.exp <= nowSeconds) return null;
    if (client.active === false || user?.active === false) return null;
    return { session, client, ...(user && { user }) };
  }

  /** Ends a session and with it every token issued in it: the one call revocation, reuse and logout make. */
  async end(sessionId: string): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.resources.read('Session', sessionId);
      if (!current || current.deleted) break;
      try {
        await this.resources.write(current.resource, current.versionId, true);
        break;
      } catch (error) {
        if (!(error instanceof VersionConflict)) throw error;
      }
    }
    await this.db.query('delete from oauth_token where session_id = $1', [sessionId]);
  }
}
