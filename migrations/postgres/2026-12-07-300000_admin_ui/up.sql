-- The admin UI (issue 16): operators can be disabled and have their password reset
-- (a session issued before `password_changed_at` is no longer accepted); the session
-- signing keys every instance shares, sealed with core::seal (newest signs, all open);
-- the setup links of the portal (single use: `used_at`); each directory's sync
-- health (requests and rejections per hour, the last rejections with their reason),
-- written by a periodic flush outside the SCIM transactions.
ALTER TABLE admin_users ADD COLUMN disabled_at TIMESTAMP;
ALTER TABLE admin_users ADD COLUMN password_changed_at TIMESTAMP;
CREATE TABLE admin_session_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    sealed_secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE setup_links (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    return_url TEXT,
    success_url TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX setup_links_organization ON setup_links (organization_id, id);
CREATE TABLE directory_sync_hours (
    directory_id TEXT NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    hour TIMESTAMP NOT NULL,
    requests BIGINT NOT NULL,
    rejections BIGINT NOT NULL,
    last_request_at TIMESTAMP NOT NULL,
    PRIMARY KEY (directory_id, hour)
);
CREATE TABLE directory_sync_rejections (
    id TEXT PRIMARY KEY NOT NULL,
    directory_id TEXT NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    method TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX directory_sync_rejections_directory ON directory_sync_rejections (directory_id, id);
