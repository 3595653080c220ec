CREATE UNIQUE INDEX users_dir_username ON directory_users(directory_id, user_name_ci);
DROP INDEX users_username_dir;
