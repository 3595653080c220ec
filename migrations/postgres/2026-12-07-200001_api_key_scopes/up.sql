-- API keys with least privilege: scopes (space-separated; existing keys keep every
-- scope), an optional expiry, and which key is SCIMGATE_BOOTSTRAP_API_KEY's (revoked
-- when the configuration no longer names it). Directory tokens get an optional expiry.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'events:read directories:read directories:write portal:write admin';
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMP;
ALTER TABLE api_keys ADD COLUMN is_bootstrap BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE api_keys SET is_bootstrap = TRUE WHERE name = 'bootstrap';
ALTER TABLE directory_tokens ADD COLUMN expires_at TIMESTAMP;
