-- Issue 6: SMART launch contexts. An EHR mints a context (patient, encounter, ...) and hands the app an opaque
-- `launch` value; only its SHA-256 hash is stored. The context then travels with the authorization code.
create table smart_launch (
  launch_hash text        primary key,
  -- The client the launch is for; null when any client the user authorizes may use it.
  client_id   text,
  context     jsonb       not null,
  expires_at  timestamptz not null
);

alter table authorization_code add column launch_context jsonb;
