-- AuditEvents are never changed (src/audit/): their one version is the current one, so none is written to
-- resource_history as well (it doubled what each event costs to write). History reads go through this view,
-- which gives every type's versions: resource_history's, and each AuditEvent's one version from resource.
create view resource_versions as
  select type, id, version_id, last_updated, deleted, resource from resource_history
  union all
  select type, id, version_id, last_updated, deleted, resource from resource where type = 'AuditEvent';

-- The copies written before: each is its event's row in resource.
delete from resource_history where type = 'AuditEvent';
