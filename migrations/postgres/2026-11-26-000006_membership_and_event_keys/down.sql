ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD CONSTRAINT events_id_key UNIQUE (id);
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (gid);
ALTER TABLE memberships ADD CONSTRAINT memberships_group_id_fkey
    FOREIGN KEY (group_id) REFERENCES directory_groups(id) ON DELETE CASCADE;
