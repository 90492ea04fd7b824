-- Policy SQL (role warden_policy, migration 0010) read the resource table itself, so a policy, or a caller of
-- POST /auth/test-policy, could read every Client secret hash and User password hash (OWASP ASVS 5.0 V8.2.1:
-- access is enforced at the data layer). From here on the role reads `warden_policy.resource` instead: a view of
-- the resource table without the TokenIntrospector rows (their HMAC secrets and Authorization headers) and
-- without the top-level `secret` and `password` of any resource (Client, User; no FHIR type has such a field).
-- The policy runner puts schema warden_policy first on the search path, so `from resource` in a policy still
-- works; `public.resource` is no longer granted, and neither is `resource_history`.
-- The view is a security barrier: the caller's conditions are evaluated only on the rows the view lets through.
-- As in 0010, a step the database user may not take is skipped with a warning; the server then finds at start
-- that policy SQL is not confined and refuses to run it (fail closed).
do $$
begin
  create schema if not exists warden_policy;
  create or replace view warden_policy.resource with (security_barrier) as
    select type, id, version_id, last_updated, deleted, resource - array['secret', 'password'] as resource
    from public.resource
    where type <> 'TokenIntrospector';
  revoke all on public.resource, public.resource_history from warden_policy;
  grant usage on schema warden_policy to warden_policy;
  grant select on warden_policy.resource to warden_policy;
exception when others then
  raise warning 'warden: cannot give role warden_policy its view of the resources: %', sqlerrm;
end;
$$;
