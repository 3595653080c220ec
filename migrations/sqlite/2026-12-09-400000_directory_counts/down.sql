DROP TRIGGER IF EXISTS directory_counts_groups_del;
DROP TRIGGER IF EXISTS directory_counts_groups_ins;
DROP TRIGGER IF EXISTS directory_counts_users_upd;
DROP TRIGGER IF EXISTS directory_counts_users_del;
DROP TRIGGER IF EXISTS directory_counts_users_ins;
DROP TRIGGER IF EXISTS directory_counts_new_directory;
DROP TABLE IF EXISTS directory_counts;
