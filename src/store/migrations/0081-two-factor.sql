-- TOTP two-factor login (issue 20).

-- The last time step whose code each user signed in with: a code is accepted once (RFC 6238 §5.2).
create table two_factor_step (
  user_id    text   primary key,
  last_step  bigint not null
);

-- A user who gave the right password and still owes the code: bound to the browser by the hash of a cookie.
create table two_factor_challenge (
  binding_hash  text        primary key,      -- sha256(cookie value), base64url
  user_id       text        not null,
  return_to     text        not null,
  expires_at    timestamptz not null
);
create index two_factor_challenge_expires on two_factor_challenge (expires_at);
