DROP INDEX IF EXISTS users_dir_email;
CREATE INDEX users_dir_email ON directory_users(directory_id, email_ci);
DROP INDEX IF EXISTS users_dir_inactive;
