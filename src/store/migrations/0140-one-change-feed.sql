-- One change feed for every in-memory projection of IAM resources (src/store/change-feed.ts): a write of a
-- Client, User, Session, AccessPolicy, Role or TokenIntrospector, by any process or by hand, is announced on
-- channel warden_resource_changed as "type/id", so the barrier after a write covers all of them. Replaces the
-- three channels of migrations 0003 (warden_access), 0007 (warden_token_introspector) and 0011
-- (warden_live_changed). The notification is sent at commit; a rolled-back write announces nothing.
create function warden_resource_changed() returns trigger language plpgsql as $$
declare
  changed resource%rowtype;
begin
  changed := case when tg_op = 'DELETE' then old else new end;
  perform pg_notify('warden_resource_changed', changed.type || '/' || changed.id);
  return null;
end
$$;

-- A new Client, User or Session is not announced (one is cached only once it exists, and a Session is written
-- per token issued); a new policy, role or introspector changes every process's set. A trigger on DELETE may
-- not name NEW, and one on INSERT may not name OLD, hence three.
create trigger warden_resource_changed after update on resource
  for each row when (new.type in ('Client', 'User', 'Session', 'AccessPolicy', 'Role', 'TokenIntrospector'))
  execute function warden_resource_changed();
create trigger warden_resource_created after insert on resource
  for each row when (new.type in ('AccessPolicy', 'Role', 'TokenIntrospector'))
  execute function warden_resource_changed();
create trigger warden_resource_deleted after delete on resource
  for each row when (old.type in ('Client', 'User', 'Session', 'AccessPolicy', 'Role', 'TokenIntrospector'))
  execute function warden_resource_changed();

drop trigger warden_access_changed on resource;
drop function warden_access_changed();
drop trigger token_introspector_changed on resource;
drop trigger token_introspector_deleted on resource;
drop function warden_notify_token_introspector();
drop trigger warden_live_changed on resource;
drop function warden_live_changed();
