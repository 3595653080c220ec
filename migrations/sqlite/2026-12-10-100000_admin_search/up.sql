-- The admin UI's user searches on a directory of 100,000 users (see the PostgreSQL
-- migration). user_attrs.value_ci already compares in code-point order (BINARY), so a name
-- prefix is a range of user_attrs_lookup as it is.

-- By state: the inactive users of a directory in id order.
CREATE INDEX users_dir_inactive ON directory_users(directory_id, id) WHERE NOT active;

-- By email: the directory's users with an email in id order.
DROP INDEX IF EXISTS users_dir_email;
CREATE INDEX users_dir_email ON directory_users(directory_id, email_ci, id);
