-- A row of resource is compressed (pglz) when it passes ~2 kB, and an AuditEvent is about 2 kB: compressing it
-- was a fifth of what PostgreSQL spends writing one (bench/audit-write.ts). Rows up to the page's limit are now
-- kept as they are, for every type: a few more bytes stored, less CPU to write and to read. Larger rows are
-- still compressed and moved out of line as before. Rows already written are not rewritten.
alter table resource set (toast_tuple_target = 8160);
