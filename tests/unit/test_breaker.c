/* test_breaker.c: the circuit breaker's state machine, with time passed in. */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>

#include "breaker.h"

static enum breaker_state
state(struct breaker *b, uint64_t now)
{
	struct breaker_info	i;

	breaker_info(b, now, &i);
	return (i.state);
}

START_TEST(test_breaker_stays_closed_below_threshold)
{
	struct breaker	*b = breaker_create(3, 1000);
	int		 i;

	for (i = 0; i < 2; i++) {
		ck_assert(breaker_allow(b, 100, NULL));
		breaker_failure(b, 100);
	}
	ck_assert_int_eq(state(b, 100), BREAKER_CLOSED);
	ck_assert(breaker_allow(b, 100, NULL));
	breaker_free(b);
}
END_TEST

START_TEST(test_breaker_success_resets_the_count)
{
	struct breaker	*b = breaker_create(3, 1000);

	breaker_failure(b, 1);
	breaker_failure(b, 2);
	breaker_success(b, 3);
	breaker_failure(b, 4);
	breaker_failure(b, 5);
	ck_assert_int_eq(state(b, 5), BREAKER_CLOSED);
	breaker_failure(b, 6);
	ck_assert_int_eq(state(b, 6), BREAKER_OPEN);
	breaker_free(b);
}
END_TEST

START_TEST(test_breaker_opens_at_threshold_and_refuses)
{
	struct breaker		*b = breaker_create(3, 1000);
	struct breaker_info	 i;
	int			 retry;

	breaker_failure(b, 10);
	breaker_failure(b, 10);
	breaker_failure(b, 10);
	ck_assert_int_eq(state(b, 10), BREAKER_OPEN);
	ck_assert(!breaker_allow(b, 400, &retry));
	ck_assert_int_eq(retry, 610);
	breaker_info(b, 400, &i);
	ck_assert_uint_eq(i.opens, 1);
	ck_assert_int_eq(i.retry_in_ms, 610);
	breaker_free(b);
}
END_TEST

START_TEST(test_breaker_half_opens_for_one_trial)
{
	struct breaker	*b = breaker_create(1, 1000);
	int		 retry;

	breaker_failure(b, 0);
	ck_assert(!breaker_allow(b, 999, NULL));
	ck_assert(breaker_allow(b, 1000, NULL));
	ck_assert_int_eq(state(b, 1000), BREAKER_HALF_OPEN);
	ck_assert(!breaker_allow(b, 1001, &retry));
	ck_assert_int_gt(retry, 0);
	breaker_free(b);
}
END_TEST

START_TEST(test_breaker_trial_success_closes)
{
	struct breaker	*b = breaker_create(2, 500);

	breaker_failure(b, 0);
	breaker_failure(b, 0);
	ck_assert(breaker_allow(b, 600, NULL));
	breaker_success(b, 610);
	ck_assert_int_eq(state(b, 610), BREAKER_CLOSED);
	ck_assert(breaker_allow(b, 611, NULL));
	ck_assert(breaker_allow(b, 612, NULL));
	breaker_free(b);
}
END_TEST

START_TEST(test_breaker_trial_failure_reopens)
{
	struct breaker		*b = breaker_create(2, 500);
	struct breaker_info	 i;

	breaker_failure(b, 0);
	breaker_failure(b, 0);
	ck_assert(breaker_allow(b, 600, NULL));
	breaker_failure(b, 650);
	ck_assert_int_eq(state(b, 650), BREAKER_OPEN);
	ck_assert(!breaker_allow(b, 1100, NULL));
	ck_assert(breaker_allow(b, 1150, NULL));
	breaker_info(b, 1150, &i);
	ck_assert_uint_eq(i.opens, 2);
	breaker_free(b);
}
END_TEST

START_TEST(test_breaker_lost_trial_is_replaced_after_cooldown)
{
	struct breaker	*b = breaker_create(1, 500);

	breaker_failure(b, 0);
	ck_assert(breaker_allow(b, 500, NULL));
	ck_assert(!breaker_allow(b, 900, NULL));
	ck_assert(breaker_allow(b, 1000, NULL));
	breaker_free(b);
}
END_TEST

START_TEST(test_breaker_state_names)
{
	ck_assert_str_eq(breaker_state_name(BREAKER_CLOSED), "closed");
	ck_assert_str_eq(breaker_state_name(BREAKER_OPEN), "open");
	ck_assert_str_eq(breaker_state_name(BREAKER_HALF_OPEN), "half-open");
	breaker_free(NULL);
}
END_TEST

static Suite *
breaker_suite(void)
{
	Suite	*s = suite_create("breaker");
	TCase	*tc = tcase_create("states");

	tcase_add_test(tc, test_breaker_stays_closed_below_threshold);
	tcase_add_test(tc, test_breaker_success_resets_the_count);
	tcase_add_test(tc, test_breaker_opens_at_threshold_and_refuses);
	tcase_add_test(tc, test_breaker_half_opens_for_one_trial);
	tcase_add_test(tc, test_breaker_trial_success_closes);
	tcase_add_test(tc, test_breaker_trial_failure_reopens);
	tcase_add_test(tc, test_breaker_lost_trial_is_replaced_after_cooldown);
	tcase_add_test(tc, test_breaker_state_names);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(breaker_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
