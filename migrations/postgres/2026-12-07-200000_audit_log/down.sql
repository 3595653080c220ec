DROP TABLE audit_anchor;
DROP TABLE audit_log;
