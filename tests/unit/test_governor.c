/* test_governor.c: the rate-limit governor's arithmetic: budgets, slot windows, pacing, the local bucket. */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "governor.h"
#include "util.h"

static const struct {
	int	limit;		/* configured per minute */
	long	reported;	/* AniList's X-RateLimit-Limit, -1 none */
	int	window;		/* seconds */
	long	want;
} budget_cases[] = {
	{ 80, -1, 60, 80 },
	{ 80, 90, 60, 80 },	/* a higher report never raises it */
	{ 80, 30, 60, 30 },	/* AniList degraded */
	{ 80, 0, 60, 80 },	/* a zero report is ignored */
	{ 60, -1, 10, 10 },
	{ 60, 30, 10, 5 },
	{ 1, -1, 1, 1 },	/* never below one */
	{ 90, -1, 1, 1 },
	{ 90, -1, 30, 45 },
};

START_TEST(test_governor_budget_scales_and_adapts_down)
{
	ck_assert_int_eq(governor_budget(budget_cases[_i].limit,
	    budget_cases[_i].reported, budget_cases[_i].window),
	    budget_cases[_i].want);
}
END_TEST

/* slot_ms 1000, now inside slot 100 (100 500 ms). */
#define SLOT	1000
#define NOW	100500

START_TEST(test_governor_fits_within_budget)
{
	uint64_t	counts[GOVERNOR_SLOTS + 1], wait = 99;

	memset(counts, 0, sizeof counts);
	counts[GOVERNOR_SLOTS] = 1;
	ck_assert(governor_fits(counts, 1, NOW, SLOT, &wait));
	ck_assert_uint_eq(wait, 0);
	counts[0] = 4;
	counts[5] = 5;
	counts[GOVERNOR_SLOTS] = 1;
	ck_assert(governor_fits(counts, 10, NOW, SLOT, &wait));
}
END_TEST

START_TEST(test_governor_over_budget_waits_for_oldest_slot)
{
	uint64_t	counts[GOVERNOR_SLOTS + 1], wait;

	memset(counts, 0, sizeof counts);
	counts[0] = 4;		/* slot 88: leaves when slot 101 begins */
	counts[5] = 6;
	counts[GOVERNOR_SLOTS] = 1;
	ck_assert(!governor_fits(counts, 10, NOW, SLOT, &wait));
	ck_assert_uint_eq(wait, 500);
}
END_TEST

START_TEST(test_governor_waits_until_enough_slots_leave)
{
	uint64_t	counts[GOVERNOR_SLOTS + 1], wait;

	memset(counts, 0, sizeof counts);
	counts[0] = 1;
	counts[1] = 1;
	counts[2] = 3;		/* slot 90: leaves when slot 103 begins */
	counts[GOVERNOR_SLOTS] = 1;
	/* sum 6, budget 2: 4 must leave: slots 88, 89 and 90. */
	ck_assert(!governor_fits(counts, 2, NOW, SLOT, &wait));
	ck_assert_uint_eq(wait, 2500);
}
END_TEST

START_TEST(test_governor_full_current_slot_waits_a_whole_window)
{
	uint64_t	counts[GOVERNOR_SLOTS + 1], wait;

	memset(counts, 0, sizeof counts);
	counts[GOVERNOR_SLOTS] = 11;
	ck_assert(!governor_fits(counts, 10, NOW, SLOT, &wait));
	ck_assert_uint_eq(wait, (uint64_t)(GOVERNOR_SLOTS + 1) * SLOT - 500);
}
END_TEST

/*
 * Whatever the arrivals, no span of one window (GOVERNOR_SLOTS slots)
 * admits more than the budget when each admission is checked.
 */
START_TEST(test_governor_no_window_exceeds_budget)
{
	enum { SLOTS = 400, BUDGET = 7 };
	uint64_t	per_slot[SLOTS], counts[GOVERNOR_SLOTS + 1], wait;
	uint64_t	sum, now;
	int		 s, k, tries;
	unsigned int	 seed = 12345;

	memset(per_slot, 0, sizeof per_slot);
	for (s = GOVERNOR_SLOTS; s < SLOTS; s++) {
		tries = rand_r(&seed) % 5;
		for (; tries > 0; tries--) {
			for (k = 0; k < GOVERNOR_SLOTS; k++)
				counts[k] = per_slot[s - GOVERNOR_SLOTS + k];
			counts[GOVERNOR_SLOTS] = per_slot[s] + 1;
			now = (uint64_t)s * SLOT + (uint64_t)(rand_r(&seed) %
			    SLOT);
			if (governor_fits(counts, BUDGET, now, SLOT, &wait))
				per_slot[s]++;
		}
	}
	/* Any window of GOVERNOR_SLOTS slots, however aligned. */
	for (s = GOVERNOR_SLOTS; s + GOVERNOR_SLOTS < SLOTS; s++) {
		sum = 0;
		for (k = 0; k <= GOVERNOR_SLOTS; k++)
			sum += per_slot[s + k];
		ck_assert_uint_le(sum, BUDGET);
	}
}
END_TEST

static const struct {
	long		budget;
	uint64_t	window_ms, window_slot_ms, want_slot;
	int		want_burst;
} pace_cases[] = {
	{ 80, 60000, 1000, 860, 8 },	/* 61 000 / 71, rounded up */
	{ 90, 60000, 1000, 763, 9 },	/* 61 000 / 80 */
	{ 30, 60000, 1000, 2347, 3 },	/* AniList degraded: 61 000 / 26 */
	{ 10, 10000, 166, 1271, 1 },	/* 10 166 / 8 */
	{ 9, 10000, 166, 1271, 0 },
	{ 400, 60000, 1000, 160, 16 },	/* the burst is capped */
	{ 2, 60000, 1000, 61000, 0 },	/* one a window, and its slot */
	{ 1, 60000, 1000, 61000, 0 },
};

START_TEST(test_governor_pace_spreads_the_budget)
{
	struct governor_pace	pace;

	governor_pace_of(pace_cases[_i].budget, pace_cases[_i].window_ms,
	    pace_cases[_i].window_slot_ms, &pace);
	ck_assert_uint_eq(pace.slot_ms, pace_cases[_i].want_slot);
	ck_assert_int_eq(pace.burst, pace_cases[_i].want_burst);
}
END_TEST

START_TEST(test_governor_pace_one_per_slot_burst_after_quiet)
{
	struct governor_pace	pace = { .slot_ms = 800, .burst = 3 };
	uint64_t		quiet[3] = { 0, 0, 0 }, busy[3] = { 1, 2, 0 };
	uint64_t		some[3] = { 0, 1, 0 }, wait = 99;

	/* slot 125 starts at 100 000 ms; now is 300 ms into it */
	ck_assert(governor_pace_fits(1, busy, &pace, 100300, &wait));
	ck_assert_uint_eq(wait, 0);
	ck_assert(!governor_pace_fits(2, busy, &pace, 100300, &wait));
	ck_assert_uint_eq(wait, 500);
	ck_assert(governor_pace_fits(2, quiet, &pace, 100300, &wait));
	ck_assert(governor_pace_fits(4, quiet, &pace, 100300, &wait));
	ck_assert(!governor_pace_fits(5, quiet, &pace, 100300, &wait));
	ck_assert_uint_eq(wait, 500);
	/* one request in the last three slots: two more than one */
	ck_assert(governor_pace_fits(3, some, &pace, 100300, &wait));
	ck_assert(!governor_pace_fits(4, some, &pace, 100300, &wait));
	pace.burst = 0;
	ck_assert(!governor_pace_fits(2, quiet, &pace, 100799, &wait));
	ck_assert_uint_eq(wait, 1);
}
END_TEST

/*
 * Budget 10 a minute, checked over 1 s slots: paced one per 7 625 ms with a
 * burst of one. Now is 300 ms into window slot 100 (pace slot 13).
 */
START_TEST(test_governor_room_beyond_the_pace)
{
	struct governor_pace	pace;
	uint64_t		counts[GOVERNOR_SLOTS + 1];
	uint64_t		now = 100300;

	governor_pace_of(10, 60000, 1000, &pace);
	ck_assert_uint_eq(pace.slot_ms, 7625);
	memset(counts, 0, sizeof counts);
	/* the slot's request and this extra, then 8 paced: 10 */
	counts[GOVERNOR_SLOTS] = 2;
	ck_assert(governor_room_fits(counts, 10, now, 1000, &pace));
	counts[GOVERNOR_SLOTS] = 3;
	ck_assert(!governor_room_fits(counts, 10, now, 1000, &pace));
	/* seven that leave within the second take nothing from the pace */
	counts[GOVERNOR_SLOTS] = 2;
	counts[0] = 7;
	ck_assert(governor_room_fits(counts, 10, now, 1000, &pace));
	/* seven that stay until after the pace's next six do */
	counts[0] = 0;
	counts[GOVERNOR_SLOTS - 1] = 7;
	ck_assert(!governor_room_fits(counts, 10, now, 1000, &pace));
	counts[GOVERNOR_SLOTS - 1] = 0;
	counts[GOVERNOR_SLOTS - 8] = 1;
	ck_assert(governor_room_fits(counts, 10, now, 1000, &pace));
}
END_TEST

/*
 * The governor's two checks as governor_acquire makes them, over simulated
 * time: step_ms between attempts (several per step when bursty).
 */
struct pace_sim {
	long			 budget;
	uint64_t		 window_ms, slot_ms;
	struct governor_pace	 pace;
	uint64_t		*per_slot, *per_pace, *admitted;
	size_t			 n, window_refusals;
};

static bool
pace_sim_try(struct pace_sim *sim, uint64_t now)
{
	uint64_t	counts[GOVERNOR_SLOTS + 1], prev[GOVERNOR_BURST_MAX];
	uint64_t	wait, s = now / sim->slot_ms, p = now / sim->pace.slot_ms;
	bool		window_ok;
	int		k;

	for (k = 0; k < GOVERNOR_SLOTS; k++)
		counts[k] = s >= (uint64_t)(GOVERNOR_SLOTS - k) ?
		    sim->per_slot[s - GOVERNOR_SLOTS + (uint64_t)k] : 0;
	counts[GOVERNOR_SLOTS] = sim->per_slot[s] + 1;
	for (k = 0; k < sim->pace.burst; k++)
		prev[k] = p >= (uint64_t)k + 1 ? sim->per_pace[p - 1 -
		    (uint64_t)k] : 0;
	window_ok = governor_fits(counts, sim->budget, now, sim->slot_ms,
	    &wait);
	if (!governor_pace_fits(sim->per_pace[p] + 1, prev, &sim->pace, now,
	    &wait) && (sim->per_pace[p] + 1 > 2 || !governor_room_fits(counts,
	    sim->budget, now, sim->slot_ms, &sim->pace)))
		return (false);
	if (!window_ok) {
		sim->window_refusals++;
		return (false);
	}
	sim->per_slot[s]++;
	sim->per_pace[p]++;
	sim->admitted[sim->n++] = now;
	return (true);
}

/* No span of one window holds more than the budget. */
static void
pace_sim_check_windows(const struct pace_sim *sim)
{
	size_t	i, j = 0;

	for (i = 0; i < sim->n; i++) {
		while (sim->admitted[i] - sim->admitted[j] > sim->window_ms)
			j++;
		ck_assert_uint_le(i - j + 1, (uint64_t)sim->budget);
	}
}

static void
pace_sim_init(struct pace_sim *sim, long budget, uint64_t total_ms)
{
	memset(sim, 0, sizeof *sim);
	sim->budget = budget;
	sim->window_ms = 60000;
	sim->slot_ms = sim->window_ms / GOVERNOR_SLOTS;
	governor_pace_of(budget, sim->window_ms, sim->slot_ms, &sim->pace);
	sim->per_slot = calloc(total_ms / sim->slot_ms + 2, sizeof (uint64_t));
	sim->per_pace = calloc(total_ms / sim->pace.slot_ms + 2,
	    sizeof (uint64_t));
	sim->admitted = calloc((size_t)budget * (total_ms / sim->window_ms +
	    2) + 64, sizeof (uint64_t));
	ck_assert(sim->per_slot != NULL && sim->per_pace != NULL &&
	    sim->admitted != NULL);
}

static void
pace_sim_free(struct pace_sim *sim)
{
	free(sim->per_slot);
	free(sim->per_pace);
	free(sim->admitted);
}

/*
 * Under steady pressure (an attempt every 20 ms for five windows) the
 * requests are spread: the burst goes at once, then one per pace slot and
 * an extra where the window has room, so no wait is longer than a pace
 * slot, the window's bound never has to stop one, and the whole budget
 * goes.
 */
START_TEST(test_governor_pressure_is_paced_not_stalled)
{
	static const long budgets[] = { 80, 90, 30, 12 };
	struct pace_sim	sim;
	uint64_t	t, total = 5 * 60000;
	size_t		i;

	pace_sim_init(&sim, budgets[_i], total);
	for (t = 0; t < total; t += 20)
		(void)pace_sim_try(&sim, t);
	ck_assert_uint_eq(sim.window_refusals, 0);
	pace_sim_check_windows(&sim);
	for (i = 1; i < sim.n; i++)
		ck_assert_uint_le(sim.admitted[i] - sim.admitted[i - 1],
		    sim.pace.slot_ms + 20);
	/*
	 * At least 97 % of the budget goes, window after window: the pace
	 * alone (budget - 1 - burst a window) would send 89 % of 80.
	 */
	ck_assert_uint_ge(sim.n * 100, (uint64_t)budgets[_i] * 5 * 97);
	pace_sim_free(&sim);
}
END_TEST

/* Whatever the arrivals (bursts, quiet spells), no window passes the budget. */
START_TEST(test_governor_paced_bursts_never_pass_the_budget)
{
	struct pace_sim	sim;
	uint64_t	t, total = 20 * 60000;
	unsigned int	seed = 777 + (unsigned int)_i;
	int		k;

	pace_sim_init(&sim, _i == 0 ? 80 : 30, total);
	for (t = 0; t < total; t += 1 + (uint64_t)(rand_r(&seed) % 900)) {
		if (rand_r(&seed) % 50 == 0)
			t += (uint64_t)(rand_r(&seed) % 20000);
		if (t >= total)
			break;
		for (k = rand_r(&seed) % 12; k >= 0; k--)
			(void)pace_sim_try(&sim, t);
	}
	pace_sim_check_windows(&sim);
	pace_sim_free(&sim);
}
END_TEST

/* Capacity 4 over 1024 ms: one token every 256 ms, exact in binary. */
START_TEST(test_governor_bucket_spends_and_refills)
{
	struct governor_bucket	b;
	uint64_t		wait;
	int			i;

	memset(&b, 0, sizeof b);
	for (i = 0; i < 4; i++)
		ck_assert(governor_bucket_take(&b, 4.0, 1024, 10000, &wait));
	ck_assert(!governor_bucket_take(&b, 4.0, 1024, 10000, &wait));
	ck_assert_uint_eq(wait, 256);
	ck_assert(!governor_bucket_take(&b, 4.0, 1024, 10128, &wait));
	ck_assert_uint_eq(wait, 128);
	ck_assert(governor_bucket_take(&b, 4.0, 1024, 10256, &wait));
	ck_assert(!governor_bucket_take(&b, 4.0, 1024, 10256, &wait));
	/* A long idle spell refills to the capacity, not beyond. */
	for (i = 0; i < 4; i++)
		ck_assert(governor_bucket_take(&b, 4.0, 1024, 99999, &wait));
	ck_assert(!governor_bucket_take(&b, 4.0, 1024, 99999, &wait));
}
END_TEST

START_TEST(test_governor_bucket_charge_runs_into_bounded_debt)
{
	struct governor_bucket	b;
	uint64_t		wait;
	int			i;

	memset(&b, 0, sizeof b);
	for (i = 0; i < 6; i++)
		governor_bucket_charge(&b, 4.0, 1024, 5000);
	ck_assert(!governor_bucket_take(&b, 4.0, 1024, 5000, &wait));
	ck_assert_uint_eq(wait, 768);
	for (i = 0; i < 100; i++)
		governor_bucket_charge(&b, 4.0, 1024, 5000);
	ck_assert(!governor_bucket_take(&b, 4.0, 1024, 5000, &wait));
	ck_assert_uint_eq(wait, 1280);
	ck_assert(governor_bucket_take(&b, 4.0, 1024, 6280, &wait));
}
END_TEST

static Suite *
governor_suite(void)
{
	Suite	*s = suite_create("governor");
	TCase	*tc = tcase_create("arithmetic");

	tcase_add_loop_test(tc, test_governor_budget_scales_and_adapts_down, 0,
	    (int)nitems(budget_cases));
	tcase_add_test(tc, test_governor_fits_within_budget);
	tcase_add_test(tc, test_governor_over_budget_waits_for_oldest_slot);
	tcase_add_test(tc, test_governor_waits_until_enough_slots_leave);
	tcase_add_test(tc, test_governor_full_current_slot_waits_a_whole_window);
	tcase_add_test(tc, test_governor_no_window_exceeds_budget);
	tcase_add_loop_test(tc, test_governor_pace_spreads_the_budget, 0,
	    (int)nitems(pace_cases));
	tcase_add_test(tc, test_governor_pace_one_per_slot_burst_after_quiet);
	tcase_add_test(tc, test_governor_room_beyond_the_pace);
	tcase_add_loop_test(tc, test_governor_pressure_is_paced_not_stalled, 0,
	    4);
	tcase_add_loop_test(tc, test_governor_paced_bursts_never_pass_the_budget,
	    0, 2);
	tcase_add_test(tc, test_governor_bucket_spends_and_refills);
	tcase_add_test(tc, test_governor_bucket_charge_runs_into_bounded_debt);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(governor_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
