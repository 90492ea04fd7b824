-- A deleted Client or User takes its Sessions, tokens, codes, browser logins and consents with it, in the
-- transaction that deletes it. Sessions were only refused while their Client or User was deleted, so a
-- DELETE then PUT of the same id brought every old token back to life.
-- A trigger, not application code, so that every way of deleting does it: the API, a Bundle, plain SQL.
-- It also runs when a deleted Client or User is written again, for a Session issued while the delete was
-- under way (it authenticated the old one, and committed after the delete).

create index resource_session_client on resource ((resource #>> '{client,id}')) where type = 'Session' and not deleted;
create index resource_session_user on resource ((resource #>> '{user,id}')) where type = 'Session' and not deleted;

-- Deletes resources as the API does: a new version marked deleted, kept in the history, out of the search index.
create function warden_delete_resources(resource_type text, ids text[]) returns void language plpgsql as $$
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
end;
$$;

create function warden_end_identity() returns trigger language plpgsql as $$
declare
  gone resource%rowtype;
  sessions text[];
  grants text[];
begin
  gone := case when tg_op = 'DELETE' then old else new end;
  if gone.type = 'Client' then
    select coalesce(array_agg(id), '{}') into sessions from resource
      where type = 'Session' and not deleted and resource #>> '{client,id}' = gone.id;
    select coalesce(array_agg(id), '{}') into grants from resource
      where type = 'Grant' and not deleted and resource #>> '{client,id}' = gone.id;
    delete from oauth_token where client_id = gone.id;
    delete from authorization_code where client_id = gone.id;
  else
    select coalesce(array_agg(id), '{}') into sessions from resource
      where type = 'Session' and not deleted and resource #>> '{user,id}' = gone.id;
    select coalesce(array_agg(id), '{}') into grants from resource
      where type = 'Grant' and not deleted and resource #>> '{user,id}' = gone.id;
    update browser_session set ended_at = now() where user_id = gone.id and ended_at is null;
    delete from authorization_code where user_id = gone.id;
  end if;
  perform warden_delete_resources('Session', sessions);
  perform warden_delete_resources('Grant', grants);
  delete from oauth_token where session_id = any(sessions);
  delete from browser_session_token where session_id = any(sessions);
  return null;
end;
$$;

create trigger identity_deleted after update of deleted on resource
  for each row when (new.type in ('Client', 'User') and old.deleted is distinct from new.deleted)
  execute function warden_end_identity();

create trigger identity_removed after delete on resource
  for each row when (old.type in ('Client', 'User'))
  execute function warden_end_identity();
