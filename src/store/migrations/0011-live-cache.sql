-- Every process keeps the Clients, Users and Sessions it has read in memory (src/store/live-cache.ts). Each
-- update or delete of one, by any process or by hand, is announced on channel warden_live_changed so every
-- process drops its copy at once. Inserts are not announced: a resource is cached only once it exists.
create function warden_live_changed() returns trigger language plpgsql as $$
begin
  perform pg_notify('warden_live_changed', old.type || '/' || old.id);
  return null;
end
$$;

create trigger warden_live_changed after update or delete on resource
  for each row when (old.type in ('Client', 'User', 'Session')) execute function warden_live_changed();

-- The server processes sharing this database, each with a heartbeat: a write of a Client, User or Session
-- waits until every process seen in the last seconds has dropped its copy (the barrier in live-cache.ts).
create table warden_process (
  id      text        primary key,
  seen_at timestamptz not null
);

-- Migration 0007's trigger ran its function for every row written (a Session per token issued); a WHEN clause
-- lets PostgreSQL skip the call for every other type. (A trigger on DELETE may not name NEW, hence two.)
drop trigger token_introspector_changed on resource;
create trigger token_introspector_changed after insert or update on resource
  for each row when (new.type = 'TokenIntrospector') execute function warden_notify_token_introspector();
create trigger token_introspector_deleted after delete on resource
  for each row when (old.type = 'TokenIntrospector') execute function warden_notify_token_introspector();
