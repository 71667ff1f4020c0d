/* feedback-driver.c: calls the list-add hook feedback_list_added against a real database and prints the outcome (tests only). */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "feedback.h"
#include "log.h"
#include "util.h"

/*
 * feedback-driver -c FILE USER_ID MEDIA_ID: what update_list_entry does
 * after AniList saved a title on a user's list. Prints
 * {"recorded": true|false} or {"error": "..."} (exit 1).
 */
int
main(int argc, char **argv)
{
	long long	 user, media;
	char		*cause = NULL;
	bool		 recorded = false;
	int		 rc;

	if (argc != 5 || strcmp(argv[1], "-c") != 0 ||
	    !util_parse_ll(argv[3], &user) || !util_parse_ll(argv[4], &media)) {
		fprintf(stderr, "usage: feedback-driver -c FILE USER_ID "
		    "MEDIA_ID\n");
		return (2);
	}
	if ((cfg = config_load(argv[2], &cause)) == NULL) {
		fprintf(stderr, "feedback-driver: %s\n", cause);
		free(cause);
		return (2);
	}
	log_set_role("driver");
	db_init();
	rc = feedback_list_added(user, media, &recorded, &cause);
	if (rc == 0)
		printf("{\"recorded\": %s}\n", recorded ? "true" : "false");
	else
		printf("{\"error\": \"%s\"}\n", cause != NULL ? "unavailable" :
		    "unknown");
	free(cause);
	db_shutdown();
	config_free(cfg);
	return (rc == 0 ? 0 : 1);
}
