// The TokenIntrospector resources, loaded once and compiled into verifiers, kept until one of them changes.
// A projection of the change feed (src/store/change-feed.ts): a change anywhere (this process, another one,
// plain SQL) drops the compiled set, in every process before the write is answered; the next token loads it
// again. Verifiers of unchanged introspectors are kept across reloads, with their cached keys and answers.
import { createHash } from 'node:crypto';
import type { Config, ExternalTokensConfig } from '../../config.ts';
import type { TokenIntrospector } from '../../iam/token-introspector.ts';
import type { ChangeFeed, Projection } from '../../store/change-feed.ts';
import type { Database } from '../../store/database.ts';
import { JwtVerifier } from './jwt-verifier.ts';
import { OpaqueIntrospector } from './opaque.ts';

export interface IntrospectorSet {
  /** JWT introspectors by their exact `jwt.iss`. */
  byIssuer: Map<string, JwtVerifier[]>;
  /** Opaque introspectors, in id order. */
  opaque: OpaqueIntrospector[];
}

type Compiled = JwtVerifier | OpaqueIntrospector;

export type IntrospectorSettings = ExternalTokensConfig & Pick<Config, 'allowInsecureJwksUris'>;

export class Introspectors implements Projection {
  readonly types: ReadonlySet<string> = new Set(['TokenIntrospector']);
  readonly followsCreation = true;
  private loaded: Promise<IntrospectorSet> | null = null;
  /** Bumped by every change notice, so a load that raced with a change is not kept. */
  private generation = 0;
  private compiled = new Map<string, Compiled>();

  constructor(
    private readonly db: Database,
    private readonly feed: ChangeFeed,
    private readonly settings: IntrospectorSettings,
  ) {
    feed.register(this);
  }

  async current(): Promise<IntrospectorSet> {
    // A process the feed cannot vouch for may have missed a change: it reads the introspectors each time.
    if (!this.feed.following()) this.invalidate();
    if (this.loaded) return this.loaded;
    const generation = this.generation;
    const loading = this.load();
    this.loaded = loading;
    loading.then(
      () => {
        if (this.generation !== generation && this.loaded === loading) this.loaded = null;
      },
      () => {
        if (this.loaded === loading) this.loaded = null;
      },
    );
    return loading;
  }

  /** Forgets the compiled set; the next token loads the introspectors again. */
  invalidate() {
    this.generation++;
    this.loaded = null;
  }

  changed(): void {
    this.invalidate();
  }

  reset(): void {
    this.invalidate();
  }

  private async load(): Promise<IntrospectorSet> {
    const rows = await this.db.query<{ resource: string }>(
      `select resource::text as resource from resource
       where type = 'TokenIntrospector' and not deleted order by id`,
    );
    const compiled = new Map<string, Compiled>();
    const set: IntrospectorSet = { byIssuer: new Map(), opaque: [] };
    for (const row of rows) {
      const introspector = JSON.parse(row.resource) as TokenIntrospector;
      // Keyed by content, not version: a change made by hand leaves the version as it was.
      const key = `${introspector.id}@${createHash('sha256').update(row.resource).digest('base64url')}`;
      const verifier = this.compiled.get(key) ?? this.compile(introspector);
      if (!verifier) continue;
      compiled.set(key, verifier);
      if (verifier instanceof JwtVerifier) {
        const list = set.byIssuer.get(verifier.issuer) ?? [];
        list.push(verifier);
        set.byIssuer.set(verifier.issuer, list);
      } else {
        set.opaque.push(verifier);
      }
    }
    this.compiled = compiled;
    return set;
  }

  /** Introspectors were validated when written; one that is still unusable (written by hand) is skipped. */
  private compile(introspector: TokenIntrospector): Compiled | null {
    try {
      if (introspector.type === 'jwt' && introspector.jwt?.iss) return new JwtVerifier(introspector, this.settings);
      if (introspector.type === 'opaque' && introspector.introspection_endpoint?.url) {
        return new OpaqueIntrospector(introspector, this.settings);
      }
    } catch {
      // fall through: a key that does not import, for instance
    }
    return null;
  }
}
