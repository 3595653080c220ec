-- Membership events stored compactly. A membership PATCH of 100 members emits 100
-- `dsync.group.user_added` events of ~1.5 kB; as 100 rows, each with its b-trees, they
-- were most of PostgreSQL's work per PATCH. Now consecutive membership events of one
-- kind from one write share a row: `n` events with the ids `id`, `id`+1, …, `id`+n−1
-- (ULID increments, see `ids::offset`), the seqs `seq` … `seq`+n−1, and, when n > 1,
-- `data` the JSON array of their data. `events::list` and `events::get` hand out the
-- events one by one, as before.
ALTER TABLE events ADD COLUMN n INTEGER NOT NULL DEFAULT 1;
-- A shared row's data (~1.5 kB per event) is compressed by TOAST: LZ4 where the server
-- has it (PostgreSQL 14+ built with lz4), several times faster than the default pglz.
DO $$
BEGIN
    ALTER TABLE events ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END $$;
