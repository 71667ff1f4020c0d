-- 001_initial.sql: users, tokens, OAuth state, preferences, feedback and usage
-- statistics. No anime data is ever stored here (AniList's terms): AniList ids
-- are references only. Secrets are stored hashed (HMAC-SHA256) or encrypted
-- (AES-256-GCM); never in plain text. Applied by `anilist-gpt migrate` in one
-- transaction; must not contain transaction control.

-- A person, as AniList names them.
CREATE TABLE users (
	id		bigserial PRIMARY KEY,
	anilist_id	bigint NOT NULL UNIQUE CHECK (anilist_id > 0),
	anilist_name	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	last_login_at	timestamptz NOT NULL DEFAULT now()
);

-- The user's AniList access token (a JWT valid about a year), sealed with
-- AES-256-GCM under a key derived from SECRET_KEY, bound to the user id.
CREATE TABLE anilist_tokens (
	user_id		bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	token_sealed	bytea NOT NULL,
	expires_at	timestamptz,
	updated_at	timestamptz NOT NULL DEFAULT now()
);

-- OAuth 2.1 clients registered dynamically (RFC 7591): ChatGPT, MCP clients.
CREATE TABLE oauth_clients (
	client_id		text PRIMARY KEY,
	secret_hash		bytea,		-- NULL: public client (PKCE only)
	client_name		text,
	redirect_uris		text[] NOT NULL,
	token_endpoint_auth_method text NOT NULL CHECK
	    (token_endpoint_auth_method IN
	     ('none', 'client_secret_post', 'client_secret_basic')),
	created_at		timestamptz NOT NULL DEFAULT now()
);

-- A login in progress (10 minutes, single use). When it carries a client_id
-- it is an OAuth authorization waiting for the AniList login and consent.
CREATE TABLE login_states (
	state_hash	bytea PRIMARY KEY,
	expires_at	timestamptz NOT NULL,
	client_id	text REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
	redirect_uri	text,
	client_state	text,
	code_challenge	text,
	scope		text,
	resource	text,
	consented	boolean NOT NULL DEFAULT false,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_states_expires_at ON login_states (expires_at);

-- One grant of a client by a user; every token issued for it (and every
-- refresh) belongs to it, so a replayed refresh token revokes them all.
CREATE TABLE token_families (
	id		bigserial PRIMARY KEY,
	user_id		bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	client_id	text REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
	revoked_at	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX token_families_user_id ON token_families (user_id);

-- Authorization codes (10 minutes, single use, PKCE S256).
CREATE TABLE authorization_codes (
	code_hash	bytea PRIMARY KEY,
	client_id	text NOT NULL REFERENCES oauth_clients (client_id)
			    ON DELETE CASCADE,
	user_id		bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	redirect_uri	text NOT NULL,
	code_challenge	text NOT NULL,
	scope		text,
	resource	text,
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz,
	family_id	bigint REFERENCES token_families (id) ON DELETE CASCADE,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);

-- Our opaque tokens, stored only as HMAC-SHA256 hashes: web sessions (the
-- cookie), OAuth access tokens and OAuth refresh tokens.
CREATE TABLE tokens (
	token_hash	bytea PRIMARY KEY,
	kind		text NOT NULL CHECK (kind IN ('session', 'access', 'refresh')),
	user_id		bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	client_id	text REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
	family_id	bigint REFERENCES token_families (id) ON DELETE CASCADE,
	scope		text,
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz,		-- refresh tokens: when rotated
	revoked_at	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tokens_user_id ON tokens (user_id);
CREATE INDEX tokens_family_id ON tokens (family_id);
CREATE INDEX tokens_expires_at ON tokens (expires_at);

-- What a user told us about their taste (genres, tags, formats …).
CREATE TABLE user_preferences (
	user_id		bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	preferences	jsonb NOT NULL DEFAULT '{}'::jsonb,
	updated_at	timestamptz NOT NULL DEFAULT now()
);

-- Feedback on recommendations: which AniList media id was shown, accepted
-- or dismissed. Anonymous events have no user.
CREATE TABLE recommendation_events (
	id		bigserial PRIMARY KEY,
	user_id		bigint REFERENCES users (id) ON DELETE CASCADE,
	media_id	integer NOT NULL CHECK (media_id > 0),
	event		text NOT NULL CHECK (event IN
			    ('shown', 'accepted', 'dismissed', 'added_to_list')),
	source		text,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recommendation_events_user_id ON recommendation_events (user_id);
CREATE INDEX recommendation_events_created_at
    ON recommendation_events (created_at);

-- Usage statistics: how often each tool and filter is used, per day. Counts
-- only; no user, no query text.
CREATE TABLE search_stats (
	day		date NOT NULL,
	tool		text NOT NULL,
	dimension	text NOT NULL,	-- "genre", "season", "sort" …
	value		text NOT NULL,
	hits		bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (day, tool, dimension, value)
);
