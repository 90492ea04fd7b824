-- Browser flows (issue 5): browser sessions, authorization codes and the key that signs CSRF tokens.
-- Cookie values and codes are never stored: only their SHA-256, so a read of the database cannot replay them.

create table browser_session (
  id_hash     text        primary key,            -- sha256(cookie value), base64url
  sid         text        not null unique,        -- public id: the id_token `sid` claim, links tokens to it
  user_id     text        not null,
  auth_time   timestamptz not null,
  expires_at  timestamptz not null,
  ended_at    timestamptz
);
create index browser_session_user on browser_session (user_id);

create table authorization_code (
  code_hash       text        primary key,        -- sha256(code), base64url
  client_id       text        not null,
  user_id         text        not null,
  redirect_uri    text        not null,
  redirect_uri_required boolean not null,         -- the request named it, so the exchange must (RFC 6749 §4.1.3)
  scope           text        not null,
  code_challenge  text,                           -- S256 only; null when the client sent none
  nonce           text,
  sid             text        not null,           -- browser session the code was issued in
  auth_time       timestamptz not null,
  expires_at      timestamptz not null,
  used_at         timestamptz,
  issued_session  text                            -- Session the exchange created: revoked if the code is replayed
);

create table browser_secret (
  name   text primary key,
  value  text not null
);

-- Token Sessions issued in a browser session, ended with it at logout.
create table browser_session_token (
  sid         text not null,
  session_id  text not null,
  primary key (sid, session_id)
);
