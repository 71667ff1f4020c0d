/* test_governor.c: the rate-limit governor's arithmetic: budgets, slot windows, the local bucket. */
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
