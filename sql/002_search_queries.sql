-- 002_search_queries.sql: top searched titles (GET /v1/stats/top-searches).
-- Each worker counts anime searches by their normalised query text
-- (case-folded, trimmed, white space collapsed, at most 100 bytes) and adds
-- its counts here every SEARCH_STATS_FLUSH_SECONDS, into the UTC hour of
-- the flush. Nothing ties a row to a person: no user id, no IP, no time
-- finer than the hour. The workers delete rows older than 31 days.
-- (search_stats of 001 keeps per-day filter counts; query text lives here.)
CREATE TABLE search_queries (
	hour	timestamptz NOT NULL,
	query	text NOT NULL CHECK (char_length(query) BETWEEN 1 AND 100),
	hits	bigint NOT NULL CHECK (hits > 0),
	PRIMARY KEY (hour, query)
);
