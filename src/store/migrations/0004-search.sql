-- Search index: one row per value of each search parameter of each current, not deleted, resource.
-- Written in the transaction that writes the resource version; `code` is the search parameter's code.

-- String values lower-cased and without accents in `value` (prefix and :contains), as written in `raw` (:exact).
create table search_string (
  type   text not null,
  id     text not null,
  code   text not null,
  value  text not null,
  raw    text not null
);
create index search_string_resource on search_string (type, id);
create index search_string_value on search_string (type, code, value text_pattern_ops);

-- Tokens (codes, identifiers, booleans) and uris; system is null when the value has none.
create table search_token (
  type    text not null,
  id      text not null,
  code    text not null,
  system  text,
  value   text not null
);
create index search_token_resource on search_token (type, id);
create index search_token_value on search_token (type, code, value);

-- References: the type and id they name, and the URL when absolute (null for a relative reference).
create table search_reference (
  type         text not null,
  id           text not null,
  code         text not null,
  target_type  text,
  target_id    text,
  url          text
);
create index search_reference_resource on search_reference (type, id);
create index search_reference_target on search_reference (target_id, target_type, type, code);
create index search_reference_url on search_reference (url, type, code) where url is not null;

-- Dates as half-open ranges [low, high); an open end of a Period is -infinity or infinity.
create table search_date (
  type  text        not null,
  id    text        not null,
  code  text        not null,
  low   timestamptz not null,
  high  timestamptz not null
);
create index search_date_resource on search_date (type, id);
create index search_date_value on search_date (type, code, low, high);

-- Quantities as numeric ranges [low, high]: a Quantity is one point, a Range may be open (±Infinity).
-- `unit_code` is Quantity.code, `unit` the human-readable Quantity.unit; a search unit may match either.
create table search_quantity (
  type       text    not null,
  id         text    not null,
  code       text    not null,
  system     text,
  unit_code  text,
  unit       text,
  low        numeric not null,
  high       numeric not null
);
create index search_quantity_resource on search_quantity (type, id);
create index search_quantity_value on search_quantity (type, code, low, high);
