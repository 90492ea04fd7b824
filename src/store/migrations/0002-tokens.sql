-- Issue 3: signing keys, opaque tokens, client-assertion replay protection and failed-authentication counters.

-- Keys that sign access tokens, shared by every server process. The newest active key of the configured
-- algorithm signs; every key not yet retired stays in the JWKS so tokens it signed still verify.
create table signing_key (
  kid         text        primary key,
  alg         text        not null,
  private_jwk jsonb       not null,
  public_jwk  jsonb       not null,
  created_at  timestamptz not null default now(),
  retired_at  timestamptz
);

-- Opaque access tokens and refresh tokens, stored only as SHA-256 hashes of the token.
create table oauth_token (
  hash        text        primary key,
  kind        text        not null check (kind in ('access', 'refresh')),
  session_id  text        not null,
  client_id   text        not null,
  claims      jsonb       not null,
  expires_at  timestamptz not null,
  -- A refresh token is used once: rotation sets this, and a second use ends the whole session.
  used_at     timestamptz
);
create index oauth_token_session on oauth_token (session_id);

-- RFC 7523 §3: the jti of a client assertion may be used once; kept until the assertion expires.
create table client_assertion_jti (
  client_id   text        not null,
  jti         text        not null,
  expires_at  timestamptz not null,
  primary key (client_id, jti)
);
create index client_assertion_jti_expiry on client_assertion_jti (expires_at);

-- Failed authentications per identity and per address, in fixed windows, for throttling.
create table auth_failure (
  key          text        primary key,
  failures     int         not null,
  window_start timestamptz not null
);
