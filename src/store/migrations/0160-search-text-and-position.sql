-- Full-text search (`_text`: the narrative, `_content`: every string of the resource) and Location `near`.
-- Written with the other index rows (src/search/index-writer.ts); resources stored before this migration get
-- theirs from `warden reindex`.

-- Folded words (lower case, no accents) as a `simple` tsvector: no language, no stemming.
create table search_text (
  type   text     not null,
  id     text     not null,
  code   text     not null,
  words  tsvector not null
);
create index search_text_resource on search_text (type, id);
create index search_text_words on search_text using gin (words);

-- Points in WGS84 degrees (Location.position).
create table search_position (
  type       text   not null,
  id         text   not null,
  code       text   not null,
  latitude   float8 not null,
  longitude  float8 not null
);
create index search_position_resource on search_position (type, id);
create index search_position_value on search_position (type, code, latitude, longitude);

-- A deleted resource leaves these indexes too (0008's function, for Sessions of a deleted Client or User).
create or replace function warden_delete_resources(resource_type text, ids text[]) returns void language plpgsql as $$
declare
  stamp timestamptz := now();
  stamp_text text := to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
begin
  if cardinality(ids) = 0 then return; end if;
  with ended as (
    update resource r set
      version_id = r.version_id + 1,
      last_updated = stamp,
      deleted = true,
      resource = jsonb_set(r.resource, '{meta}', coalesce(r.resource -> 'meta', '{}'::jsonb)
        || jsonb_build_object('versionId', (r.version_id + 1)::text, 'lastUpdated', stamp_text))
    where r.type = resource_type and r.id = any(ids) and not r.deleted
    returning r.type, r.id, r.version_id, r.last_updated, r.deleted, r.resource
  )
  insert into resource_history (type, id, version_id, last_updated, deleted, resource)
  select type, id, version_id, last_updated, deleted, resource from ended;
  delete from search_string where type = resource_type and id = any(ids);
  delete from search_token where type = resource_type and id = any(ids);
  delete from search_reference where type = resource_type and id = any(ids);
  delete from search_date where type = resource_type and id = any(ids);
  delete from search_quantity where type = resource_type and id = any(ids);
  delete from search_text where type = resource_type and id = any(ids);
  delete from search_position where type = resource_type and id = any(ids);
end;
$$;

-- SQL policies read the index as they read the other index tables (0010).
do $$
begin
  grant select on search_text, search_position to warden_policy;
exception when others then
  raise warning 'warden: cannot grant role warden_policy its reads of search_text and search_position: %', sqlerrm;
end;
$$;
