-- Each directory's user and group counts, kept by triggers in the same transaction as
-- every write to its users and groups (see the PostgreSQL migration).
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

CREATE TRIGGER directory_counts_new_directory AFTER INSERT ON directories BEGIN
    INSERT OR IGNORE INTO directory_counts (directory_id) VALUES (NEW.id);
END;

CREATE TRIGGER directory_counts_users_ins AFTER INSERT ON directory_users BEGIN
    UPDATE directory_counts
       SET users_active = users_active + (NEW.active <> 0),
           users_inactive = users_inactive + (NEW.active = 0)
     WHERE directory_id = NEW.directory_id;
END;

CREATE TRIGGER directory_counts_users_del AFTER DELETE ON directory_users BEGIN
    UPDATE directory_counts
       SET users_active = users_active - (OLD.active <> 0),
           users_inactive = users_inactive - (OLD.active = 0)
     WHERE directory_id = OLD.directory_id;
END;

CREATE TRIGGER directory_counts_users_upd AFTER UPDATE OF active ON directory_users
WHEN (OLD.active <> 0) <> (NEW.active <> 0) BEGIN
    UPDATE directory_counts
       SET users_active = users_active + (NEW.active <> 0) - (OLD.active <> 0),
           users_inactive = users_inactive + (NEW.active = 0) - (OLD.active = 0)
     WHERE directory_id = NEW.directory_id;
END;

CREATE TRIGGER directory_counts_groups_ins AFTER INSERT ON directory_groups BEGIN
    UPDATE directory_counts SET groups = groups + 1 WHERE directory_id = NEW.directory_id;
END;

CREATE TRIGGER directory_counts_groups_del AFTER DELETE ON directory_groups BEGIN
    UPDATE directory_counts SET groups = groups - 1 WHERE directory_id = OLD.directory_id;
END;
