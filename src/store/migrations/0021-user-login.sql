-- The canonical email and userName of each User (NFKC, case-folded; src/iam/user-logins.ts), each held by one
-- User: what a login names, and what keeps two Users from sharing a name that differs only by case or form.
-- Users stored before this table are indexed at start (the canonical form is computed in the application).
create table user_login (
  login    text primary key,
  user_id  text not null
);
create index user_login_user on user_login (user_id);
