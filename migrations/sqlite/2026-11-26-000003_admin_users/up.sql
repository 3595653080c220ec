-- Operators of the admin UI (`scimgate admins create`); passwords as argon2id PHC strings.
CREATE TABLE admin_users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    email_ci TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
