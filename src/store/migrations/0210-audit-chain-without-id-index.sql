-- Nothing looks an audit chain link up by its event's id: the verifier, the exporter and the retention sweep walk
-- the chain by seq and join each link's event by resource's key (src/audit/chain.ts, export.ts, store/sweeper.ts).
-- The unique index on id was one more btree entry written per AuditEvent; an event's id is unique in resource
-- already, and a link is written in the statement that writes its event (src/audit/trail.ts).
alter table audit_chain drop constraint audit_chain_id_key;
