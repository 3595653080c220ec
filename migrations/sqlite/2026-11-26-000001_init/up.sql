-- scimgate schema, SQLite flavour. Same tables and columns as ../../postgres (a test compares them).
-- Timestamps are UTC, microsecond precision. JSON is TEXT.

CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    domains TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE directories (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    dir_type TEXT NOT NULL,
    state TEXT NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0,
    activated_at TIMESTAMP NULL,
    attribute_mappings TEXT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX directories_org ON directories(organization_id, id);

CREATE TABLE directory_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    directory_id TEXT NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    suffix TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NULL,
    revoked_at TIMESTAMP NULL
);
CREATE INDEX directory_tokens_dir ON directory_tokens(directory_id);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    suffix TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NULL,
    revoked_at TIMESTAMP NULL
);

CREATE TABLE directory_users (
    id TEXT PRIMARY KEY NOT NULL,
    directory_id TEXT NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    user_name TEXT NOT NULL,
    user_name_ci TEXT NOT NULL,
    external_id TEXT NULL,
    active BOOLEAN NOT NULL,
    email_ci TEXT NULL,
    state TEXT NOT NULL,
    version BIGINT NOT NULL,
    scim TEXT NOT NULL,
    normalized TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_dir_username ON directory_users(directory_id, user_name_ci);
CREATE INDEX users_dir_id ON directory_users(directory_id, id);
CREATE INDEX users_dir_external ON directory_users(directory_id, external_id);
CREATE INDEX users_dir_email ON directory_users(directory_id, email_ci);

-- One row per filterable scalar of a user's SCIM document (see core::scim::index).
CREATE TABLE user_attrs (
    user_id TEXT NOT NULL REFERENCES directory_users(id) ON DELETE CASCADE,
    directory_id TEXT NOT NULL,
    attr TEXT NOT NULL,
    elem INTEGER NOT NULL,
    vtype TEXT NULL,
    vprimary BOOLEAN NULL,
    value TEXT NULL,
    value_ci TEXT NULL
);
CREATE INDEX user_attrs_lookup ON user_attrs(directory_id, attr, value_ci);
CREATE INDEX user_attrs_user ON user_attrs(user_id, attr);

CREATE TABLE directory_groups (
    id TEXT PRIMARY KEY NOT NULL,
    directory_id TEXT NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    display_name_ci TEXT NOT NULL,
    external_id TEXT NULL,
    version BIGINT NOT NULL,
    scim TEXT NOT NULL,
    normalized TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX groups_dir_id ON directory_groups(directory_id, id);
CREATE INDEX groups_dir_name ON directory_groups(directory_id, display_name_ci);
CREATE INDEX groups_dir_external ON directory_groups(directory_id, external_id);

CREATE TABLE memberships (
    group_id TEXT NOT NULL REFERENCES directory_groups(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    member_type TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX memberships_member ON memberships(member_id, group_id);

-- The event log. `gid` is the global insertion order, `txid` the writing transaction
-- (PostgreSQL: pg_current_xact_id(); SQLite: 0, a single writer), `seq` the per-directory order.
CREATE TABLE events (
    gid INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    txid BIGINT NOT NULL DEFAULT 0,
    directory_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    event TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX events_dir_seq ON events(directory_id, seq);
CREATE INDEX events_order ON events(txid, gid);
CREATE INDEX events_org ON events(organization_id, txid, gid);
CREATE INDEX events_created ON events(created_at);

CREATE TABLE role_mappings (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL,
    role_slug TEXT NOT NULL,
    priority INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX role_mappings_org_group_role ON role_mappings(organization_id, group_id, role_slug);
