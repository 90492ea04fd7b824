-- A client_credentials Session has no user, yet every one took an entry (a null) in the index of Sessions by
-- user: one index write per token issued for nothing. The only lookup, the deleted-User trigger's
-- `resource #>> '{user,id}' = id`, implies the value is not null, so PostgreSQL still uses this partial index.
drop index resource_session_user;
create index resource_session_user on resource ((resource #>> '{user,id}'))
  where type = 'Session' and not deleted and resource #>> '{user,id}' is not null;
