-- Every process keeps its AccessPolicies and Roles compiled in memory; a change to either, by any process
-- or by hand, is announced on the channel warden_access so each one recompiles at once.
create function warden_access_changed() returns trigger language plpgsql as $$
begin
  perform pg_notify('warden_access', new.type || '/' || new.id);
  return null;
end
$$;

create trigger warden_access_changed after insert or update on resource
  for each row when (new.type in ('AccessPolicy', 'Role')) execute function warden_access_changed();
