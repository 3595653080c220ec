ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD CONSTRAINT events_id_key UNIQUE (id);
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (gid);
ALTER TABLE memberships ADD CONSTRAINT memberships_group_id_fkey
    FOREIGN KEY (group_id) REFERENCES directory_groups(id) ON DELETE CASCADE;
ALTER TABLE user_attrs ADD CONSTRAINT user_attrs_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES directory_users(id) ON DELETE CASCADE;
