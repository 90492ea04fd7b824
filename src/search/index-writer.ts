// Keeps the search index of one resource in step with its current version, inside the write's transaction.
import type { Queryable } from '../store/database.ts';
import type { Resource } from '../store/resource-store.ts';
import { extractIndexRows, noIndexRows } from './extract.ts';
import { indexKeysOf, keptAsKeys } from './index-keys.ts';

// One statement: delete the resource's old rows from every index table and insert the new ones. The deletes
// and inserts of one statement see the same snapshot, so the deletes never remove the rows just inserted.
const REPLACE_ROWS = `
with
  old_string as (delete from search_string where type = $1 and id = $2),
  old_token as (delete from search_token where type = $1 and id = $2),
  old_reference as (delete from search_reference where type = $1 and id = $2),
  old_date as (delete from search_date where type = $1 and id = $2),
  old_quantity as (delete from search_quantity where type = $1 and id = $2),
  old_text as (delete from search_text where type = $1 and id = $2),
  old_position as (delete from search_position where type = $1 and id = $2),
  new_string as (
    insert into search_string (type, id, code, value, raw)
    select $1, $2, r.code, r.value, r.raw from jsonb_to_recordset($3::text::jsonb) as r(code text, value text, raw text)),
  new_token as (
    insert into search_token (type, id, code, system, value)
    select $1, $2, r.code, r.system, r.value from jsonb_to_recordset($4::text::jsonb) as r(code text, system text, value text)),
  new_reference as (
    insert into search_reference (type, id, code, target_type, target_id, url)
    select $1, $2, r.code, r.target_type, r.target_id, r.url
    from jsonb_to_recordset($5::text::jsonb) as r(code text, target_type text, target_id text, url text)),
  new_date as (
    insert into search_date (type, id, code, low, high)
    select $1, $2, r.code, r.low::timestamptz, r.high::timestamptz
    from jsonb_to_recordset($6::text::jsonb) as r(code text, low text, high text)),
  new_quantity as (
    insert into search_quantity (type, id, code, system, unit_code, unit, low, high)
    select $1, $2, r.code, r.system, r.unit_code, r.unit, r.low::numeric, r.high::numeric
    from jsonb_to_recordset($7::text::jsonb) as r(code text, system text, unit_code text, unit text, low text, high text)),
  new_text as (
    insert into search_text (type, id, code, words)
    select $1, $2, r.code, to_tsvector('simple', r.text) from jsonb_to_recordset($8::text::jsonb) as r(code text, text text)),
  new_position as (
    insert into search_position (type, id, code, latitude, longitude)
    select $1, $2, r.code, r.latitude, r.longitude from jsonb_to_recordset($9::text::jsonb) as r(code text, latitude float8, longitude float8))
select 1`;

/** A keyed type's tokens and references are keys in its row (src/search/index-keys.ts), not rows. */
const REPLACE_KEYS = `update resource set index_keys = array(select jsonb_array_elements_text($3::text::jsonb)) where type = $1 and id = $2`;

/** Replaces the index rows of `resource` with those of this version; a deleted resource has none. */
export async function writeSearchIndex(tx: Queryable, resource: Resource, deleted: boolean): Promise<void> {
  const rows = deleted ? noIndexRows() : extractIndexRows(resource);
  if (keptAsKeys(resource.resourceType)) {
    await tx.query(REPLACE_KEYS, [resource.resourceType, resource.id, JSON.stringify(indexKeysOf(rows))]);
    rows.token = [];
    rows.reference = [];
  }
  await tx.query(REPLACE_ROWS, [
    resource.resourceType,
    resource.id,
    JSON.stringify(rows.string),
    JSON.stringify(rows.token),
    JSON.stringify(rows.reference),
    JSON.stringify(rows.date),
    JSON.stringify(rows.quantity),
    JSON.stringify(rows.text),
    JSON.stringify(rows.position),
  ]);
}
