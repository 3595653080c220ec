-- userName lookups (every Okta/Entra create is preceded by `userName eq`) name the
-- lowercased userName alone, so that this unique index is the only one that can serve
-- them: with `directory_id` leading, a plan made while the table was still empty could
-- take users_dir_id (directory_id, id) instead and scan the whole directory per lookup.
-- Rows of other directories with the same userName are dropped by the caller.
CREATE UNIQUE INDEX users_username_dir ON directory_users(user_name_ci, directory_id);
DROP INDEX users_dir_username;
