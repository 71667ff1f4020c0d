-- 004_oauth_clients_use.sql: what the cleanup of OAuth clients and the
-- registration quota need. registered_by is a keyed identity of the
-- address that registered the client (an HMAC under a key derived from
-- SECRET_KEY, never the address), counted against OAUTH_REGISTER_LIMIT per
-- hour; last_code_at is when the client last received an authorization
-- code. A client that never received one is deleted
-- OAUTH_CLIENT_UNUSED_DAYS after its registration.
ALTER TABLE oauth_clients ADD COLUMN registered_by bytea;
ALTER TABLE oauth_clients ADD COLUMN last_code_at timestamptz;
CREATE INDEX oauth_clients_registered_by
    ON oauth_clients (registered_by, created_at);
UPDATE oauth_clients c SET last_code_at = c.created_at
    WHERE EXISTS (SELECT 1 FROM token_families f
                  WHERE f.client_id = c.client_id)
       OR EXISTS (SELECT 1 FROM authorization_codes a
                  WHERE a.client_id = c.client_id);
