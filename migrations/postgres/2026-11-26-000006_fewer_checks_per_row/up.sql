-- A create writes a user, ~5 user_attrs rows and an event; a membership PATCH of 100
-- members 100 membership rows and 100 events. What each row checks and indexes is in
-- the critical path of every write.
--
-- user_attrs.user_id needs no foreign key: a user's attribute rows are only written
-- with the user, in the same transaction under the directory's advisory lock, and
-- deleted with it (users::prepare_delete, admin::delete_directory). The per-row check
-- cost 8–16 µs per row (EXPLAIN ANALYZE: "Trigger for constraint
-- user_attrs_user_id_fkey: time=0.826 calls=100"), up to 80 µs of a create.
ALTER TABLE user_attrs DROP CONSTRAINT user_attrs_user_id_fkey;
--
-- memberships.group_id likewise: every write of a directory holds the
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
