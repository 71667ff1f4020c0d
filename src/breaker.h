/* breaker.h: a circuit breaker that stops calling a failing dependency for a while. */
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
struct breaker	*breaker_create(int, int);
void		 breaker_free(struct breaker *);
/*
 * May a call go now? When it may not, *retry_in_ms (may be NULL) says when
 * to ask again. A true answer must be followed by breaker_success or
 * breaker_failure.
 */
bool		 breaker_allow(struct breaker *, uint64_t, int *);
void		 breaker_success(struct breaker *, uint64_t);
void		 breaker_failure(struct breaker *, uint64_t);
void		 breaker_info(struct breaker *, uint64_t, struct breaker_info *);
const char	*breaker_state_name(enum breaker_state);

#endif
