-- Resources as JSONB, the current version in resource, every version in resource_history.
create table resource (
  type          text        not null,
  id            text        not null,
  version_id    bigint      not null,
  last_updated  timestamptz not null,
  deleted       boolean     not null default false,
  resource      jsonb       not null,
  primary key (type, id)
);
create index resource_type_last_updated on resource (type, last_updated, id) where not deleted;

create table resource_history (
  type          text        not null,
  id            text        not null,
  version_id    bigint      not null,
  last_updated  timestamptz not null,
  deleted       boolean     not null,
  resource      jsonb       not null,
  primary key (type, id, version_id)
);
