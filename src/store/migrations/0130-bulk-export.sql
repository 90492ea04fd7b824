-- Bulk Data export (src/bulk/): a job per kick-off, run in the background by whichever process claims it
-- (select ... for update skip locked), and its NDJSON output, kept in the store itself on both engines.
create table export_job (
  id                text        primary key,
  -- accepted → in-progress → completed | failed; a cancelled job is deleted with its output.
  status            text        not null,
  -- Who asked, as the authorize step knew them (client, user, scopes, patient context), and what they asked.
  requester         jsonb       not null,
  request           jsonb       not null,
  transaction_time  timestamptz not null,
  -- Where the run got to (type index and last id written), saved with each chunk: a resumed job goes on from it.
  position          jsonb       not null default '{"type": 0}',
  exported          bigint      not null default 0,
  -- Each claim is a new token; a process whose lease ran out (and was taken over) can no longer write.
  claim             text,
  lease_until       timestamptz,
  attempts          int         not null default 0,
  error_status      int,
  error             text,
  created_at        timestamptz not null default now(),
  expires_at        timestamptz not null
);
create index export_job_runnable on export_job (created_at) where status in ('accepted', 'in-progress');

-- One chunk of one type's NDJSON file; the file is its parts in order.
create table export_file_part (
  job_id  text   not null references export_job (id) on delete cascade,
  type    text   not null,
  part    int    not null,
  count   int    not null,
  ndjson  text   not null,
  primary key (job_id, type, part)
);
-- Written once and read once: stored out of line without compression, which costs more time than it saves.
alter table export_file_part alter column ndjson set storage external;
