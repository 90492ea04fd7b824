-- A User's new password ends everything the old one opened (OWASP ASVS 5.0 V7.4.3): their Sessions with their
-- access and refresh tokens, unredeemed codes and browser logins, in the transaction that writes it. A trigger,
-- like the one for a deleted identity (0008), so that every way of writing a User does it. Consents (Grants)
-- stay: they are the user's decisions about apps, not credentials.
create function warden_password_changed() returns trigger language plpgsql as $$
declare
  sessions text[];
begin
  select coalesce(array_agg(id), '{}') into sessions from resource
    where type = 'Session' and not deleted and resource #>> '{user,id}' = new.id;
  update browser_session set ended_at = now() where user_id = new.id and ended_at is null;
  delete from authorization_code where user_id = new.id;
  perform warden_delete_resources('Session', sessions);
  delete from oauth_token where session_id = any(sessions);
  delete from browser_session_token where session_id = any(sessions);
  return null;
end;
$$;

create trigger user_password_changed after update of resource on resource
  for each row when (new.type = 'User' and not new.deleted and old.resource ->> 'password' is distinct from new.resource ->> 'password')
  execute function warden_password_changed();
