-- Each directory's user and group counts, kept by triggers in the same transaction as
-- every write to its users and groups (SCIM writes, bulk, directory deletion), so that
-- the admin UI and the vendor API's `metadata` read one row instead of counting
-- (issue 16: counts kept up to date rather than COUNT(*) per view). Writers already
-- hold the directory's lock (store::lock_directory), so the row adds no contention.
CREATE TABLE directory_counts (
    directory_id TEXT PRIMARY KEY NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    users_active BIGINT NOT NULL DEFAULT 0,
    users_inactive BIGINT NOT NULL DEFAULT 0,
    groups BIGINT NOT NULL DEFAULT 0
);

INSERT INTO directory_counts (directory_id, users_active, users_inactive, groups)
SELECT d.id,
       (SELECT count(*) FROM directory_users u WHERE u.directory_id = d.id AND u.active),
       (SELECT count(*) FROM directory_users u WHERE u.directory_id = d.id AND NOT u.active),
       (SELECT count(*) FROM directory_groups g WHERE g.directory_id = d.id)
FROM directories d;

CREATE FUNCTION directory_counts_new_directory() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO directory_counts (directory_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER directory_counts_new_directory AFTER INSERT ON directories
    FOR EACH ROW EXECUTE FUNCTION directory_counts_new_directory();

-- statement-level, with transition tables: one UPDATE per statement, not per row
CREATE FUNCTION directory_counts_users_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_counts c
       SET users_active = c.users_active + x.a, users_inactive = c.users_inactive + x.i
      FROM (SELECT directory_id, count(*) FILTER (WHERE active) AS a,
                   count(*) FILTER (WHERE NOT active) AS i
              FROM new_rows GROUP BY directory_id) x
     WHERE c.directory_id = x.directory_id;
    RETURN NULL;
END $$;
CREATE TRIGGER directory_counts_users_ins AFTER INSERT ON directory_users
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION directory_counts_users_ins();

CREATE FUNCTION directory_counts_users_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_counts c
       SET users_active = c.users_active - x.a, users_inactive = c.users_inactive - x.i
      FROM (SELECT directory_id, count(*) FILTER (WHERE active) AS a,
                   count(*) FILTER (WHERE NOT active) AS i
              FROM old_rows GROUP BY directory_id) x
     WHERE c.directory_id = x.directory_id;
    RETURN NULL;
END $$;
CREATE TRIGGER directory_counts_users_del AFTER DELETE ON directory_users
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION directory_counts_users_del();

-- an update moves users between active and inactive
CREATE FUNCTION directory_counts_users_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_counts c
       SET users_active = c.users_active + x.d, users_inactive = c.users_inactive - x.d
      FROM (SELECT n.directory_id,
                   sum(CASE WHEN n.active AND NOT o.active THEN 1
                            WHEN o.active AND NOT n.active THEN -1 ELSE 0 END) AS d
              FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE n.active <> o.active
             GROUP BY n.directory_id) x
     WHERE c.directory_id = x.directory_id;
    RETURN NULL;
END $$;
CREATE TRIGGER directory_counts_users_upd AFTER UPDATE ON directory_users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION directory_counts_users_upd();

CREATE FUNCTION directory_counts_groups_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_counts c SET groups = c.groups + x.n
      FROM (SELECT directory_id, count(*) AS n FROM new_rows GROUP BY directory_id) x
     WHERE c.directory_id = x.directory_id;
    RETURN NULL;
END $$;
CREATE TRIGGER directory_counts_groups_ins AFTER INSERT ON directory_groups
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION directory_counts_groups_ins();

CREATE FUNCTION directory_counts_groups_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_counts c SET groups = c.groups - x.n
      FROM (SELECT directory_id, count(*) AS n FROM old_rows GROUP BY directory_id) x
     WHERE c.directory_id = x.directory_id;
    RETURN NULL;
END $$;
CREATE TRIGGER directory_counts_groups_del AFTER DELETE ON directory_groups
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION directory_counts_groups_del();
