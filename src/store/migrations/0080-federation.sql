-- Sign-in through another identity provider (issue 20): what Warden remembers between sending the browser to the
-- provider and its return. Keyed by the SHA-256 of a random cookie, so the flow is bound to the browser that
-- started it (RFC 9700 §4.7.1) and a copy of the database cannot finish it.

create table federation_flow (
  binding_hash   text        primary key,        -- sha256(cookie value), base64url
  provider_id    text        not null,            -- the IdentityProvider the browser was sent to (mix-up defence)
  state          text        not null,
  nonce          text        not null,
  code_verifier  text        not null,            -- PKCE (RFC 7636)
  return_to      text        not null,            -- the /auth/authorize request to continue, or ''
  expires_at     timestamptz not null
);
create index federation_flow_expires on federation_flow (expires_at);
