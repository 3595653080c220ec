-- Events are appended in time order, so a BRIN index (one summary per 128 pages) serves
-- `range_start`/`range_end` as well as a b-tree did, at almost no cost per insert: a
-- membership PATCH of 100 members writes 100 events, and each b-tree on `events` is
-- 100 more index insertions in the PATCH's critical path.
DROP INDEX events_created;
CREATE INDEX events_created ON events USING brin (created_at) WITH (autosummarize = on);
