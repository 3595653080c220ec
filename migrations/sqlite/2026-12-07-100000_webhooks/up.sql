-- Webhooks (issue 15): endpoints, one delivery cursor per (endpoint, directory), and one
-- row per delivery attempt. Delivery is derived from the event log by the cursors: no
-- row is written in a SCIM write's transaction (docs/ARCHITECTURE.md "Webhooks").
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    endpoint_url TEXT NOT NULL,
    -- a JSON array of event names
    events TEXT NOT NULL,
    organization_id TEXT REFERENCES organizations(id) ON DELETE CASCADE,
    description TEXT,
    -- enabled | disabled
    status TEXT NOT NULL,
    -- why it was disabled (`gone`: a 410 answer), null when enabled or disabled by the API
    disabled_reason TEXT,
    -- core::seal sealed `whsec_…`; the previous one signs too until it expires (rotation)
    secret_sealed TEXT NOT NULL,
    previous_secret_sealed TEXT,
    previous_secret_expires_at TIMESTAMP,
    last_success_at TIMESTAMP,
    failing_since TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- How far an endpoint has got in a directory's events (`delivered_seq`: every event up
-- to it was delivered, given up, or not subscribed), its retry state and its lease.
-- A redelivery rewinds `delivered_seq` and sets `replay_to` / `replay_resume`: once
-- `replay_to` is passed the cursor jumps back to `replay_resume`.
CREATE TABLE webhook_cursors (
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    directory_id TEXT NOT NULL,
    delivered_seq BIGINT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMP,
    last_error TEXT,
    replay_to BIGINT,
    replay_resume BIGINT,
    PRIMARY KEY (endpoint_id, directory_id)
);
CREATE INDEX webhook_cursors_due ON webhook_cursors(next_attempt_at);

-- One row per attempt. outcome: delivered | failed (retried) | gave_up | disabled (410)
CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    directory_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event TEXT NOT NULL,
    seq BIGINT NOT NULL,
    attempt INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    status_code INTEGER,
    latency_ms BIGINT NOT NULL,
    error_kind TEXT,
    response_snippet TEXT,
    attempted_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts(endpoint_id, id);
CREATE INDEX webhook_attempts_at ON webhook_attempts(attempted_at);
