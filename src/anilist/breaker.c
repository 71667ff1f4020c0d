/* anilist/breaker.c: closed → open after failures in a row → half-open trial → closed. */
#include "autoconf.h"

#include <pthread.h>
#include <stdlib.h>

#include "breaker.h"
#include "util.h"

struct breaker {
	pthread_mutex_t		lock;
	enum breaker_state	state;
	int			failures;
	int			threshold;
	int			cooldown_ms;
	uint64_t		opened_at;
	uint64_t		opens;
	bool			trial;		/* a half-open call is out */
	uint64_t		trial_at;
	void		      (*on_change)(enum breaker_state);
};

struct breaker *
breaker_create(int threshold, int cooldown_ms)
{
	struct breaker	*b = xcalloc(1, sizeof *b);

	if (pthread_mutex_init(&b->lock, NULL) != 0)
		abort();
	b->threshold = threshold < 1 ? 1 : threshold;
	b->cooldown_ms = cooldown_ms < 0 ? 0 : cooldown_ms;
	b->state = BREAKER_CLOSED;
	return (b);
}

void
breaker_free(struct breaker *b)
{
	if (b == NULL)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* Change state (the lock is held) and tell the observer. */
static void
breaker_set(struct breaker *b, enum breaker_state s)
{
	if (b->state == s)
		return;
	b->state = s;
	if (b->on_change != NULL)
		b->on_change(s);
}

static void
breaker_open(struct breaker *b, uint64_t now)
{
	breaker_set(b, BREAKER_OPEN);
	b->opened_at = now;
	b->opens++;
	b->trial = false;
}

bool
breaker_allow(struct breaker *b, uint64_t now, int *retry_in_ms)
{
	uint64_t	until;
	bool		ok = true;

	if (retry_in_ms != NULL)
		*retry_in_ms = 0;
	pthread_mutex_lock(&b->lock);
	until = b->opened_at + (uint64_t)b->cooldown_ms;
	switch (b->state) {
	case BREAKER_CLOSED:
		break;
	case BREAKER_OPEN:
		if (now < until) {
			ok = false;
			if (retry_in_ms != NULL)
				*retry_in_ms = (int)(until - now);
			break;
		}
		breaker_set(b, BREAKER_HALF_OPEN);
		b->trial = true;
		b->trial_at = now;
		break;
	case BREAKER_HALF_OPEN:
		/* A trial that never reported back is given up after a cool-down. */
		if (b->trial && now < b->trial_at + (uint64_t)b->cooldown_ms) {
			ok = false;
			if (retry_in_ms != NULL)
				*retry_in_ms = (int)(b->trial_at +
				    (uint64_t)b->cooldown_ms - now);
			break;
		}
		b->trial = true;
		b->trial_at = now;
		break;
	}
	pthread_mutex_unlock(&b->lock);
	return (ok);
}

void
breaker_success(struct breaker *b, uint64_t now)
{
	pthread_mutex_lock(&b->lock);
	breaker_set(b, BREAKER_CLOSED);
	b->failures = 0;
	b->trial = false;
	pthread_mutex_unlock(&b->lock);
}

void
breaker_failure(struct breaker *b, uint64_t now)
{
	pthread_mutex_lock(&b->lock);
	b->failures++;
	if (b->state == BREAKER_HALF_OPEN ||
	    (b->state == BREAKER_CLOSED && b->failures >= b->threshold))
		breaker_open(b, now);
	pthread_mutex_unlock(&b->lock);
}

void
breaker_info(struct breaker *b, uint64_t now, struct breaker_info *out)
{
	uint64_t	until;

	pthread_mutex_lock(&b->lock);
	out->state = b->state;
	out->failures = b->failures;
	out->threshold = b->threshold;
	out->cooldown_ms = b->cooldown_ms;
	out->opened_at = b->opened_at;
	out->opens = b->opens;
	out->retry_in_ms = 0;
	until = b->opened_at + (uint64_t)b->cooldown_ms;
	if (b->state == BREAKER_OPEN && now < until)
		out->retry_in_ms = (int)(until - now);
	pthread_mutex_unlock(&b->lock);
}

const char *
breaker_state_name(enum breaker_state s)
{
	switch (s) {
	case BREAKER_CLOSED:
		return ("closed");
	case BREAKER_OPEN:
		return ("open");
	case BREAKER_HALF_OPEN:
		return ("half-open");
	}
	return ("unknown");
}

void
breaker_on_change(struct breaker *b, void (*fn)(enum breaker_state state))
{
	pthread_mutex_lock(&b->lock);
	b->on_change = fn;
	pthread_mutex_unlock(&b->lock);
}
