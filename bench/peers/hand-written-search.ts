/**
 * `Observation?patient=$1&_sort=-date&_count=10` hand-written over the tables Warden searches (no generated
 * filters, no visibility), in the same two steps as the server's: the page's ids with the total, then their
 * bodies. bench/search.ts runs it from a client pool and from a bare HTTP server (bare-search.ts).
 */
export const HAND_WRITTEN = `
  with page as (
    select r.id, count(*) over () as total,
      row_number() over (order by (select max(d.high) from search_date d where d.type = r.type and d.id = r.id and d.code = 'date') desc nulls last, r.id) as position
    from resource r join search_reference s on s.type = r.type and s.id = r.id
    where r.type = 'Observation' and not r.deleted and s.code = 'patient' and s.target_type = 'Patient' and s.target_id = $1
    order by position limit 10)
  select page.id, r.resource::text as resource, page.total from page join resource r on r.type = 'Observation' and r.id = page.id order by page.position`;
