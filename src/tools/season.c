/* tools/season.c: which AniList season a date belongs to. */
#include "autoconf.h"

#include <time.h>

#include "tools/tools.h"

/*
 * WINTER is December to February; December counts towards the next
 * year's WINTER, as on AniList.
 */
struct season
season_of(int month, int year)
{
	struct season	s;

	s.year = year;
	if (month == 12) {
		s.name = "WINTER";
		s.year = year + 1;
	} else if (month <= 2)
		s.name = "WINTER";
	else if (month <= 5)
		s.name = "SPRING";
	else if (month <= 8)
		s.name = "SUMMER";
	else
		s.name = "FALL";
	return (s);
}

struct season
season_at(time_t t)
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	return (season_of(tm.tm_mon + 1, tm.tm_year + 1900));
}
