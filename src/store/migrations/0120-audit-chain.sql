-- The audit trail (src/audit/): AuditEvents are stored as resources (so they are read and searched like any
-- type, under the same policies), and each is a link of one hash chain kept here. `seq` orders the chain;
-- `previous` is the hash of the link before, `hash` covers the event's content, its seq and `previous`.
create table audit_chain (
  seq       bigint primary key,
  id        text   not null unique,
  previous  text   not null,
  hash      text   not null
);

-- The chain's one head row. Writers lock it (select ... for update) for the length of their transaction, so
-- links are numbered and committed in one order, whichever server process writes them.
--   swept_*     the last link the retention sweep removed: the first remaining link must follow it
--   exported_seq  the last link sent to the external audit repository
create table audit_chain_head (
  one           boolean primary key default true check (one),
  seq           bigint  not null,
  hash          text    not null,
  swept_seq     bigint  not null,
  swept_hash    text    not null,
  exported_seq  bigint  not null
);
insert into audit_chain_head (seq, hash, swept_seq, swept_hash, exported_seq)
values (0, repeat('0', 64), 0, repeat('0', 64), 0);
