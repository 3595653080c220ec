-- The admin UI's user searches on a directory of 100,000 users (docs/BENCHMARKS.md, "admin UI
-- pages").
--
-- By name: each word must start one of a user's names, read as a range of the
-- (directory_id, attr, value_ci) index (`store::users::users_query`). value_ci is the
-- lower-cased value of an indexed attribute; a prefix is a range of it only in code-point
-- order, which is SQLite's (BINARY) and what the SCIM filters already ask for with an
-- explicit COLLATE "C" (`store::filter_sql`), so that the index of a database created with a
-- language collation could serve neither. Equality is the same in both collations.
ALTER TABLE user_attrs ALTER COLUMN value_ci TYPE TEXT COLLATE "C";

-- By state: the inactive users of a directory in id order. Without it, a directory with few
-- inactive users was read whole through users_dir_id to find them (41.8 ms p95 at 100,000
-- users). Partial: an active user, the common case of a SCIM write, adds nothing to it.
CREATE INDEX users_dir_inactive ON directory_users(directory_id, id) WHERE NOT active;

-- By email: the directory's users with an email in id order, so that the keyset page is a
-- range of this index on both backends (SQLite, without ANALYZE statistics, preferred to
-- read the directory in id order through users_dir_id and test each user's email: 45.9 ms
-- p95 at 100,000 users).
DROP INDEX IF EXISTS users_dir_email;
CREATE INDEX users_dir_email ON directory_users(directory_id, email_ci, id);
