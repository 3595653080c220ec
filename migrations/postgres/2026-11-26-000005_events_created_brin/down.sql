DROP INDEX events_created;
CREATE INDEX events_created ON events(created_at);
