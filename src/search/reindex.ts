// Rebuilds the search index of stored resources, for those written before the index changed (new search
// parameters, new rows for a modifier). Batch by batch in key order, each batch in its own transaction with
// its rows locked, so a write racing the reindex waits for it and then indexes its own version.
import type { Database } from '../store/database.ts';
import type { Resource } from '../store/resource-store.ts';
import { writeSearchIndex } from './index-writer.ts';

export const REINDEX_BATCH = 200;

/** Reindexes every current, not deleted resource (of `types` when given); returns how many. */
export async function reindex(db: Database, types: string[] = [], onBatch?: (done: number) => void): Promise<number> {
  let after: [string, string] = ['', ''];
  let done = 0;
  for (;;) {
    const count = await db.transaction(async (tx) => {
      const rows = await tx.query<{ type: string; id: string; resource: string }>(
        `select type, id, resource::text as resource from resource
         where not deleted and (type, id) > ($1, $2)
           and (jsonb_array_length($3::text::jsonb) = 0 or type in (select jsonb_array_elements_text($3::text::jsonb)))
         order by type, id limit $4 for update`,
        [after[0], after[1], JSON.stringify(types), REINDEX_BATCH],
      );
      for (const row of rows) await writeSearchIndex(tx, JSON.parse(row.resource) as Resource, false);
      if (rows.length > 0) after = [rows[rows.length - 1].type, rows[rows.length - 1].id];
      return rows.length;
    });
    done += count;
    onBatch?.(done);
    if (count < REINDEX_BATCH) return done;
  }
}
