-- SQL AccessPolicies run as role warden_policy (see src/access/sql-runner.ts), which may read the resources and
-- their search index and nothing else: not signing_key (private keys), oauth_token, auth_failure, browser
-- sessions or codes, and not the TokenIntrospector rows (they may hold an HMAC secret or an Authorization
-- header in clear).
-- Roles belong to the whole PostgreSQL cluster, so the role may exist already, or be made at this very moment
-- by another Warden database's migration. Each step that fails (most often: the database user has no right to
-- take it) is skipped with a warning, not an error: the server checks at start whether policy SQL is
-- confined, says in its log what is missing, and until then refuses SQL policies (fail closed).
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'warden_policy') then
    create role warden_policy nologin;
  end if;
exception
  when duplicate_object or unique_violation then null; -- made by another database's migration meanwhile
  when others then raise warning 'warden: cannot create role warden_policy: %', sqlerrm;
end;
$$;

do $$
begin
  if not pg_has_role(current_user, 'warden_policy', 'member') then
    execute format('grant warden_policy to %I', current_user);
  end if;
exception
  when unique_violation then null;
  when others then raise warning 'warden: cannot make % a member of role warden_policy: %', current_user, sqlerrm;
end;
$$;

do $$
begin
  grant usage on schema public to warden_policy;
  grant select on resource, search_string, search_token, search_reference, search_date, search_quantity to warden_policy;
  alter table resource enable row level security;
  create policy warden_policy_reads on resource for select to warden_policy using (type <> 'TokenIntrospector');
exception when others then
  raise warning 'warden: cannot grant role warden_policy its reads: %', sqlerrm;
end;
$$;

-- SET ROLE is checked against the session user, not the current one: a policy query that could call
-- set_config('role', ...) (directly, or through query_to_xml and the like) would take the owner's rights back.
-- Only the function's owner (a superuser) can take it from PUBLIC; Warden's own user keeps it.
do $$
begin
  execute format('grant execute on function pg_catalog.set_config(text, text, boolean) to %I', current_user);
  revoke execute on function pg_catalog.set_config(text, text, boolean) from public;
exception when others then
  raise warning 'warden: cannot revoke set_config from PUBLIC: %', sqlerrm;
end;
$$;
