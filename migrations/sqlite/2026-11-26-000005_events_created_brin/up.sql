-- PostgreSQL only (a BRIN index on events.created_at); SQLite keeps its b-tree.
SELECT 1;
