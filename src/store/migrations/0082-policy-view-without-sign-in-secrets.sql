-- Issue 20 brings two more credentials into resources: an IdentityProvider's client secret and a User's TOTP key
-- and recovery-code hashes (User.twoFactor). Both are sealed or hashed, but policy SQL has no need of them, so
-- the view policies read (migration 0030) leaves out IdentityProvider rows and every top-level `twoFactor`,
-- as it leaves out TokenIntrospectors and `secret`/`password`. Skipped with a warning where 0030 was.
do $$
begin
  create or replace view warden_policy.resource with (security_barrier) as
    select type, id, version_id, last_updated, deleted, resource - array['secret', 'password', 'twoFactor'] as resource
    from public.resource
    where type not in ('TokenIntrospector', 'IdentityProvider');
exception when others then
  raise warning 'warden: cannot update the view of the resources for role warden_policy: %', sqlerrm;
end;
$$;
