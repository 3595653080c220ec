-- Membership events stored compactly. A membership PATCH of 100 members emits 100
-- `dsync.group.user_added` events of ~1.5 kB; as 100 rows, each with its b-trees, they
-- were most of PostgreSQL's work per PATCH. Now consecutive membership events of one
-- kind from one write share a row: `n` events with the ids `id`, `id`+1, …, `id`+n−1
-- (ULID increments, see `ids::offset`), the seqs `seq` … `seq`+n−1, and, when n > 1,
-- `data` the JSON array of their data. `events::list` and `events::get` hand out the
-- events one by one, as before.
ALTER TABLE events ADD COLUMN n INTEGER NOT NULL DEFAULT 1;
