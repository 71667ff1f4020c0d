/* anilist/breaker.h: a circuit breaker that stops calling a failing dependency for a while. */
#ifndef BREAKER_H
#define BREAKER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * closed: calls go through, failures in a row are counted; open: calls
 * are refused until the cool-down has passed; half-open: one trial call at
 * a time, whose success closes the breaker and whose failure opens it again.
 * Times are monotonic milliseconds passed in by the caller. Thread safe.
 */
enum breaker_state {
	BREAKER_CLOSED,
	BREAKER_OPEN,
	BREAKER_HALF_OPEN
};

struct breaker;

struct breaker_info {
	enum breaker_state	state;
	int			failures;	/* in a row */
	int			threshold;
	int			cooldown_ms;
	uint64_t		opened_at;	/* monotonic ms, 0 if never */
	uint64_t		opens;		/* times it opened */
	int			retry_in_ms;	/* until a trial may go, if open */
};

/* Opens after threshold failures in a row; half-opens after cooldown_ms. */
struct breaker	*breaker_create(int threshold, int cooldown_ms);
void		 breaker_free(struct breaker *b);
/*
 * May a call go now? When it may not, *retry_in_ms (may be NULL) says when
 * to ask again. A true answer must be followed by breaker_success or
 * breaker_failure.
 */
bool		 breaker_allow(struct breaker *b, uint64_t now,
		    int *retry_in_ms);
void		 breaker_success(struct breaker *b, uint64_t now);
void		 breaker_failure(struct breaker *b, uint64_t now);
void		 breaker_info(struct breaker *b, uint64_t now,
		    struct breaker_info *out);
const char	*breaker_state_name(enum breaker_state s);
/*
 * Call fn with the new state each time it changes (for a gauge). fn runs
 * with the breaker's lock held: it must be quick and never call back into
 * the breaker.
 */
void		 breaker_on_change(struct breaker *b,
		    void (*fn)(enum breaker_state state));

#endif
