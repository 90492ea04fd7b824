-- An AuditEvent's search index, but its dates, is kept as keys in its own row (src/search/index-keys.ts): one
-- GIN index on the AuditEvents alone instead of about ten rows in search_token and search_reference per event,
-- which cost the store more than the event (bench/audit-write.ts). The events already written get their keys
-- from their rows, which then go.
alter table resource add column index_keys text[];
create index resource_index_keys on resource using gin (index_keys) where type = 'AuditEvent';

update resource r set index_keys = k.keys
from (
  select id, array_agg(distinct key) as keys from (
    select id, code || E'\x1fv\x1f' || value as key from search_token where type = 'AuditEvent'
    union all
    select id, code || E'\x1fs\x1f' || coalesce(system, '') || E'\x1f' || value from search_token where type = 'AuditEvent'
    union all
    select id, code || E'\x1fu\x1f' || url from search_reference where type = 'AuditEvent' and url is not null
    union all
    select id, code || E'\x1fr\x1f' || target_type || '/' || target_id from search_reference
    where type = 'AuditEvent' and url is null and target_type is not null and target_id is not null
  ) keys
  group by id
) k
where r.type = 'AuditEvent' and r.id = k.id;

delete from search_token where type = 'AuditEvent';
delete from search_reference where type = 'AuditEvent';
