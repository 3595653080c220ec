-- A membership PATCH of 100 members inserts 100 membership rows and 100 events; what
-- each row checks and indexes is in its critical path.
--
-- memberships.group_id needs no foreign key: every write of a directory holds the
-- directory's advisory lock and reads the group it changes in the same transaction,
-- and every path that deletes a group or a directory deletes its memberships first
-- (groups::prepare_delete, admin::delete_directory; tested). The per-row check cost
-- 0.5–0.7 ms per 100 members (EXPLAIN ANALYZE: "Trigger for constraint
-- memberships_group_id_fkey: time=0.661 calls=100").
ALTER TABLE memberships DROP CONSTRAINT memberships_group_id_fkey;

-- The event id, unique and looked up by cursors, becomes the primary key; gid (the
-- insertion order, only ever read after txid through events_order / events_org)
-- keeps no b-tree of its own: one index insertion less per event.
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events DROP CONSTRAINT events_id_key;
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id);
