-- 003_search_askers.sql: who asked a search query, as far as publishing it
-- needs. GET /v1/stats/top-searches shows a query only after
-- TOP_SEARCH_MIN_USERS distinct clients (IPv4 address, IPv6 /64) asked it
-- in the window. A row is one client's tag for one query in one UTC hour:
-- 64 bits of SHA-256 over the client's keyed identity (64 bits of an HMAC
-- of its address under a key derived from SECRET_KEY, as the rate limit
-- uses) and the lowered query, made by the insert itself, so one client's
-- tags for two queries differ: no row names an address or ties two queries
-- to one client. Each worker keeps at most
-- TOP_SEARCH_MIN_USERS tags per query between flushes; rows older than 31
-- days are deleted with search_queries.
CREATE TABLE search_askers (
	hour	timestamptz NOT NULL,
	query	text NOT NULL CHECK (char_length(query) BETWEEN 1 AND 100),
	asker	bytea NOT NULL CHECK (octet_length(asker) = 8),
	PRIMARY KEY (hour, query, asker)
);
