// Keeps the search index of one resource in step with its current version, inside the write's transaction.
import type { Queryable } from '../store/database.ts';
import type { Resource } from '../store/resource-store.ts';
import { extractIndexRows, noIndexRows } from './extract.ts';
import { indexKeysOf, keptAsKeys } from './index-keys.ts';

/** The index tables: the fields of a row's JSON, and each column after (type, id) as made from them. */
const INDEX_TABLES: { table: string; fields: string; columns: Record<string, string> }[] = [
  { table: 'search_string', fields: 'code text, value text, raw text', columns: { code: 'r.code', value: 'r.value', raw: 'r.raw' } },
  { table: 'search_token', fields: 'code text, system text, value text', columns: { code: 'r.code', system: 'r.system', value: 'r.value' } },
  {
    table: 'search_reference',
    fields: 'code text, target_type text, target_id text, url text',
    columns: { code: 'r.code', target_type: 'r.target_type', target_id: 'r.target_id', url: 'r.url' },
  },
  { table: 'search_date', fields: 'code text, low text, high text', columns: { code: 'r.code', low: 'r.low::timestamptz', high: 'r.high::timestamptz' } },
  {
    table: 'search_quantity',
    fields: 'code text, system text, unit_code text, unit text, low text, high text',
    columns: { code: 'r.code', system: 'r.system', unit_code: 'r.unit_code', unit: 'r.unit', low: 'r.low::numeric', high: 'r.high::numeric' },
  },
  { table: 'search_text', fields: 'code text, text text', columns: { code: 'r.code', words: "to_tsvector('simple', r.text)" } },
  { table: 'search_position', fields: 'code text, latitude float8, longitude float8', columns: { code: 'r.code', latitude: 'r.latitude', longitude: 'r.longitude' } },
];

/**
 * One statement: for each index table, the resource's rows that the new version no longer has are deleted, and
 * those it newly has are inserted; a row that stays is not touched. A write that changes one element (a Patient
 * made inactive) rewrites one row, not the twenty of the resource: deleted rows stay in the indexes as dead
 * entries until a vacuum, and a value many resources share (a family name searched for) gathered them with
 * every write of every one of them. The deletes and inserts of one statement see the same snapshot: a row is
 * deleted only when the new version lacks it, inserted only when the table lacks it, so neither undoes the other.
 */
const REPLACE_ROWS = `with\n${INDEX_TABLES.map(({ table, fields, columns }, i) => {
  const names = Object.keys(columns);
  const same = (a: string, b: string) => names.map((name) => `${a}.${name} is not distinct from ${b}.${name}`).join(' and ');
  return `  ${table}_new as materialized (
    select ${names.map((name) => `${columns[name]} as ${name}`).join(', ')} from jsonb_to_recordset($${i + 3}::text::jsonb) as r(${fields})),
  ${table}_gone as (
    delete from ${table} t where t.type = $1 and t.id = $2 and not exists (select 1 from ${table}_new n where ${same('n', 't')})),
  ${table}_added as (
    insert into ${table} (type, id, ${names.join(', ')})
    select $1, $2, ${names.map((name) => `n.${name}`).join(', ')} from ${table}_new n
    where not exists (select 1 from ${table} t where t.type = $1 and t.id = $2 and ${same('t', 'n')}))`;
}).join(',\n')}\nselect 1`;

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
