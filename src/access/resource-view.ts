// The store as one caller sees it: what the confined view (confined-resources.ts) offers every handler, and
// what its audited wrapper (audited-resources.ts) records.
import type { Resource, SearchQuery, Version } from '../store/resource-store.ts';

export interface ResourceView {
  /** The current version, deleted or not; null when it never existed. Throws 404 when it exists out of sight. */
  read(type: string, id: string): Promise<Version | null>;
  /** The current version, deleted or not; null when it never existed or is out of sight (for pages and forms). */
  find(type: string, id: string): Promise<Version | null>;
  /** One version; null when there is no such version or it is out of sight. */
  vread(type: string, id: string, versionId: string): Promise<Version | null>;
  /** Versions newest first, only those in sight. */
  history(type: string, id: string, count: number, offset: number): Promise<{ versions: Version[]; total: number }>;
  search(type: string, query: SearchQuery): Promise<{ resources: Resource[]; total?: number }>;
  /** Writes the next version; refuses (403 insufficient_scope) one that would be out of sight. */
  write(resource: Resource, expectedVersionId: string | null, deleted?: boolean): Promise<Version>;
}
