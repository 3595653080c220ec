DROP TABLE directory_sync_rejections;
DROP TABLE directory_sync_hours;
DROP TABLE setup_links;
DROP TABLE admin_session_keys;
ALTER TABLE admin_users DROP COLUMN password_changed_at;
ALTER TABLE admin_users DROP COLUMN disabled_at;
