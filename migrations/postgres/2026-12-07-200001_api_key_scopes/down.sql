ALTER TABLE directory_tokens DROP COLUMN expires_at;
ALTER TABLE api_keys DROP COLUMN is_bootstrap;
ALTER TABLE api_keys DROP COLUMN expires_at;
ALTER TABLE api_keys DROP COLUMN scopes;
