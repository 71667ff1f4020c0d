/* test_season.c: the current AniList season, December belonging to next year's WINTER. */
#include "autoconf.h"

#include <check.h>
#include <string.h>
#include <time.h>

#include "tools/tools.h"
#include "util.h"

static const struct {
	int		 month;
	int		 year;
	const char	*season;
	int		 season_year;
} month_cases[] = {
	{ 1, 2024, "WINTER", 2024 },
	{ 2, 2024, "WINTER", 2024 },
	{ 3, 2024, "SPRING", 2024 },
	{ 4, 2024, "SPRING", 2024 },
	{ 5, 2024, "SPRING", 2024 },
	{ 6, 2024, "SUMMER", 2024 },
	{ 7, 2024, "SUMMER", 2024 },
	{ 8, 2024, "SUMMER", 2024 },
	{ 9, 2024, "FALL", 2024 },
	{ 10, 2024, "FALL", 2024 },
	{ 11, 2024, "FALL", 2024 },
	{ 12, 2024, "WINTER", 2025 },
	{ 12, 1999, "WINTER", 2000 },
};

START_TEST(test_season_of_every_month)
{
	struct season	s = season_of(month_cases[_i].month,
			    month_cases[_i].year);

	ck_assert_str_eq(s.name, month_cases[_i].season);
	ck_assert_int_eq(s.year, month_cases[_i].season_year);
}
END_TEST

static const struct {
	time_t		 t;
	const char	*season;
	int		 year;
} moment_cases[] = {
	{ 1704067199, "WINTER", 2024 },	/* 2023-12-31T23:59:59Z */
	{ 1701388800, "WINTER", 2024 },	/* 2023-12-01T00:00:00Z */
	{ 1701388799, "FALL", 2023 },	/* 2023-11-30T23:59:59Z */
	{ 1709251199, "WINTER", 2024 },	/* 2024-02-29T23:59:59Z (leap) */
	{ 1709251200, "SPRING", 2024 },	/* 2024-03-01T00:00:00Z */
	{ 1717200000, "SUMMER", 2024 },	/* 2024-06-01T00:00:00Z */
	{ 1725148800, "FALL", 2024 },	/* 2024-09-01T00:00:00Z */
	{ 1704067200, "WINTER", 2024 },	/* 2024-01-01T00:00:00Z */
};

START_TEST(test_season_at_uses_utc_and_december_is_next_winter)
{
	struct season	s = season_at(moment_cases[_i].t);

	ck_assert_str_eq(s.name, moment_cases[_i].season);
	ck_assert_int_eq(s.year, moment_cases[_i].year);
}
END_TEST

static Suite *
season_suite(void)
{
	Suite	*s = suite_create("season");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_season_of_every_month, 0,
	    (int)nitems(month_cases));
	tcase_add_loop_test(tc, test_season_at_uses_utc_and_december_is_next_winter,
	    0, (int)nitems(moment_cases));
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(season_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
