/* recommend/feedback.h: recommendation feedback in PostgreSQL: events, the list-add hook and accuracy. */
#ifndef FEEDBACK_H
#define FEEDBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What happened to one recommended title (recommendation_events.event). */
enum feedback_action {
	FEEDBACK_SHOWN,
	FEEDBACK_ACCEPTED,
	FEEDBACK_DISMISSED,
	FEEDBACK_ADDED_TO_LIST
};

/* Longest reference stored with an event, in bytes. */
#define FEEDBACK_REFERENCE_MAX	100
/* A list add counts for a recommendation shown this many days before. */
#define FEEDBACK_LIST_WINDOW_DAYS 30

/* "shown" … "added_to_list" to the action; false if unknown. */
bool	 feedback_action_parse(const char *s, enum feedback_action *out);
const char *feedback_action_name(enum feedback_action a);

/*
 * Store one event. user_id 0 is anonymous; reference (NULL: none) says
 * what the title was recommended for ("21", "taste_profile"). *id gets the
 * event's id. Returns 0, or 503 with *cause (caller frees) when the
 * database is not configured or unreachable.
 */
int	 feedback_record(long long user_id, long long media_id,
	    enum feedback_action action, const char *reference, long long *id,
	    char **cause) __attribute__((warn_unused_result));

/*
 * The titles get_anime_recommendations showed a signed-in user, in one
 * statement, so a later list add can be credited. 0 or 503 with *cause.
 */
int	 feedback_shown(long long user_id, const int64_t *ids, size_t n,
	    const char *reference, char **cause)
	    __attribute__((warn_unused_result));

/*
 * The hook for the tools that change a user's list (update_list_entry):
 * call it after AniList saved media_id on user_id's list. When the title
 * was shown to that user as a recommendation in the last
 * FEEDBACK_LIST_WINDOW_DAYS and not yet credited since, an added_to_list
 * event is stored (it counts as accepted) and *recorded is true. 0, or 503
 * with *cause; a failure must not fail the list change.
 */
int	 feedback_list_added(long long user_id, long long media_id,
	    bool *recorded, char **cause) __attribute__((warn_unused_result));

/* Counts of the events of a window, and the accuracy they give. */
struct feedback_stats {
	int		window_days;
	long long	shown;
	long long	accepted;
	long long	dismissed;
	long long	added_to_list;
	/*
	 * (accepted + added_to_list) / (accepted + added_to_list +
	 * dismissed); negative when there is nothing to divide.
	 */
	double		accuracy;
};

/* The events of the last window_days days. 0, or 503 with *cause. */
int	 feedback_stats(int window_days, struct feedback_stats *st,
	    char **cause) __attribute__((warn_unused_result));

#endif
