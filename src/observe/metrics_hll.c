/* observe/metrics_hll.c: distinct active users per 5-minute window, a HyperLogLog in the shared registry. */
#include "autoconf.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>

#include "metrics.h"
#include "metrics_internal.h"
#include "util.h"

#define METRICS_USER_WINDOW_S	300

static uint64_t
metrics_user_window(void)
{
	return (util_wall_ms() / 1000 / METRICS_USER_WINDOW_S);
}

/* Make slot hold window w, zeroing it if it held an older one. */
static void
metrics_hll_claim(size_t slot, uint64_t w)
{
	uint64_t	cur = atomic_load(&metrics_shm->hll_window[slot]);
	size_t		i;

	if (cur == w)
		return;
	if (!atomic_compare_exchange_strong(&metrics_shm->hll_window[slot],
	    &cur, w))
		return;
	for (i = 0; i < METRICS_HLL_M; i++)
		atomic_store_explicit(&metrics_shm->hll[slot][i], 0,
		    memory_order_relaxed);
}

void
metrics_user(const char *hash)
{
	uint64_t	h, w;
	size_t		slot, idx;
	uint8_t		rho, cur;

	if (hash == NULL || *hash == '\0')
		return;
	if (metrics_shm != NULL) {
		w = metrics_user_window();
		slot = (size_t)(w % 3);
		/* The next window's slot is cleared ahead, while nobody uses it. */
		metrics_hll_claim(slot, w);
		metrics_hll_claim((size_t)((w + 1) % 3), w + 1);
		h = metrics_hash(hash, 0x75736572);
		idx = (size_t)(h >> (64 - METRICS_HLL_BITS));
		rho = (uint8_t)(__builtin_clzll((h << METRICS_HLL_BITS) |
		    (1ULL << (METRICS_HLL_BITS - 1))) + 1);
		cur = atomic_load(&metrics_shm->hll[slot][idx]);
		while (rho > cur && !atomic_compare_exchange_weak(
		    &metrics_shm->hll[slot][idx], &cur, rho))
			;
	}
	metrics_statsd("users.active", hash, "s", NULL);
}

double
metrics_active_users(void)
{
	double		sum = 0, m = METRICS_HLL_M, e;
	uint64_t	w;
	size_t		slot, i, zeros = 0;
	uint8_t		r;

	if (metrics_shm == NULL)
		return (0);
	w = metrics_user_window();
	slot = (size_t)(w % 3);
	if (atomic_load(&metrics_shm->hll_window[slot]) != w)
		return (0);
	for (i = 0; i < METRICS_HLL_M; i++) {
		r = atomic_load_explicit(&metrics_shm->hll[slot][i],
		    memory_order_relaxed);
		sum += ldexp(1.0, -(int)r);
		if (r == 0)
			zeros++;
	}
	e = (0.7213 / (1.0 + 1.079 / m)) * m * m / sum;
	if (e <= 2.5 * m && zeros != 0)
		e = m * log(m / (double)zeros);
	return (round(e));
}
