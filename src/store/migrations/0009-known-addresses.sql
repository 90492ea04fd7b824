-- Addresses from which an identity authenticated recently: they are not held back when failures from
-- elsewhere lock the identity (see src/authn/throttle.ts). `identity` is what the throttle counts (`Client/x`,
-- `User/login`).
create table auth_known_address (
  identity      text        not null,
  address       text        not null,
  last_success  timestamptz not null,
  primary key (identity, address)
);
