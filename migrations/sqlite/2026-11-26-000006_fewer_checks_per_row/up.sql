-- PostgreSQL only (user_attrs and memberships without their foreign keys, events keyed
-- by id).
-- On SQLite gid is the rowid (no index of its own) and a foreign-key check is an
-- in-process probe; dropping a constraint would mean rebuilding the table.
SELECT 1;
