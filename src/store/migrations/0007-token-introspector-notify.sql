-- Issue 7: every change to a TokenIntrospector is announced on channel warden_token_introspector, so each server
-- process drops its compiled introspectors at once, whichever process (or plain SQL) made the change.
-- The notification is sent at commit; a rolled-back write announces nothing. (A DELETE through the API is an
-- update that sets `deleted`; a row removed by hand is announced too.)
create function warden_notify_token_introspector() returns trigger language plpgsql as $$
declare
  changed resource%rowtype;
begin
  changed := case when tg_op = 'DELETE' then old else new end;
  if changed.type = 'TokenIntrospector' then
    perform pg_notify('warden_token_introspector', changed.id);
  end if;
  return null;
end;
$$;

create trigger token_introspector_changed
  after insert or update or delete on resource
  for each row execute function warden_notify_token_introspector();
