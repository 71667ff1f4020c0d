/* prompts.c: the MCP prompts (tonight's pick from my list, this season's digest, catch up on a franchise), listed and filled in. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "prompts.h"
#include "util.h"

#define PROMPTS_ARGS_MAX	4
#define PROMPTS_VALUE_MAX	200	/* bytes of one argument value */

/* What an argument's value may be. */
enum prompts_check {
	PROMPTS_TEXT,		/* 1-200 bytes, no control characters */
	PROMPTS_NAME,		/* an AniList user name */
	PROMPTS_MINUTES,	/* 1 to 1440 */
	PROMPTS_MOOD,		/* a mood of pick_from_my_list */
	PROMPTS_SEASON,		/* WINTER, SPRING, SUMMER, FALL */
	PROMPTS_YEAR		/* 1940 to 2100 */
};

struct prompts_arg {
	const char		*name;
	const char		*description;
	bool			 required;
	enum prompts_check	 check;
};

/*
 * One prompt. build writes the message with the (checked) values, in the
 * order of args; an absent optional value is NULL.
 */
struct prompts_prompt {
	const char		*name;
	const char		*title;
	const char		*description;
	struct prompts_arg	 args[PROMPTS_ARGS_MAX];
	void			(*build)(struct buf *, const char *const *);
};

static const char *const prompts_moods[] = { "light", "funny", "cozy",
	"exciting", "intense", "emotional", "romantic", "dark", "thoughtful" };
static const char *const prompts_seasons[] = { "WINTER", "SPRING", "SUMMER",
	"FALL" };

static void
prompts_tonight(struct buf *b, const char *const *v)
{
	buf_puts(b, "Help me pick something to watch tonight from ");
	if (v[2] != NULL)
		buf_printf(b, "the AniList planning list of the user \"%s\"",
		    v[2]);
	else
		buf_puts(b, "my own AniList planning list");
	buf_puts(b, ". Call pick_from_my_list");
	buf_printf(b, " with count 5%s%s%s%s%s%s%s.", v[0] != NULL ?
	    ", minutes " : "", v[0] != NULL ? v[0] : "", v[1] != NULL ?
	    ", mood \"" : "", v[1] != NULL ? v[1] : "", v[1] != NULL ? "\"" :
	    "", v[2] != NULL ? ", user_name " : "", v[2] != NULL ? v[2] : "");
	buf_puts(b, " Show the best three with their reasons in a sentence "
	    "each, and how many episodes fit the time. If nothing fits, say "
	    "why (the notes of the answer) and offer the paused list "
	    "(status PAUSED) instead.");
}

static void
prompts_season(struct buf *b, const char *const *v)
{
	buf_puts(b, "Give me a digest of ");
	if (v[0] != NULL && v[1] != NULL)
		buf_printf(b, "the %s %s anime season", v[0], v[1]);
	else if (v[0] != NULL)
		buf_printf(b, "the %s anime season", v[0]);
	else
		buf_puts(b, "this anime season");
	buf_printf(b, ". Call get_seasonal_anime%s%s%s%s%s with per_page 25, "
	    "then group the titles by genre, pick the five most popular and "
	    "the five best scored with one line each, and end with what "
	    "airs in the next days (get_airing_schedule).", v[0] != NULL ||
	    v[1] != NULL ? " with" : "", v[0] != NULL ? " season " : "",
	    v[0] != NULL ? v[0] : "", v[1] != NULL ? " year " : "",
	    v[1] != NULL ? v[1] : "");
}

static void
prompts_franchise(struct buf *b, const char *const *v)
{
	buf_printf(b, "I want to catch up on the franchise of \"%s\". Find "
	    "the title with search_anime, then call get_watch_order with its "
	    "id. Tell me the order to watch it in, which entries I can skip "
	    "(recaps and compilations) and how long the main story is.",
	    v[0]);
	if (v[1] != NULL)
		buf_printf(b, " Then read the list of the user \"%s\" "
		    "(get_user_list with user_name %s) and tell me where I am "
		    "in the franchise and what comes next.", v[1], v[1]);
	else
		buf_puts(b, " If I am signed in, read my list (get_user_list) "
		    "and tell me where I am in the franchise and what comes "
		    "next.");
}

static const struct prompts_prompt prompts[] = {
	{ "tonights_pick", "Tonight's pick from my list",
	    "Pick what to watch tonight from the user's planning list, by "
	    "taste, mood and the time they have.",
	    { { "minutes", "Time to watch, in minutes (1-1440).", false,
	    PROMPTS_MINUTES },
	    { "mood", "light, funny, cozy, exciting, intense, emotional, "
	    "romantic, dark or thoughtful.", false, PROMPTS_MOOD },
	    { "user_name", "An AniList user name; leave out for your own "
	    "list (needs sign-in).", false, PROMPTS_NAME } },
	    prompts_tonight },
	{ "season_digest", "This season's digest",
	    "A digest of an anime season: genres, the most popular and best "
	    "scored titles, and what airs next.",
	    { { "season", "WINTER, SPRING, SUMMER or FALL; leave out for "
	    "the current season.", false, PROMPTS_SEASON },
	    { "year", "The season's year (1940-2100).", false,
	    PROMPTS_YEAR } },
	    prompts_season },
	{ "catch_up_on_franchise", "Catch up on a franchise",
	    "The order to watch a franchise in, what to skip, and where the "
	    "user is in it.",
	    { { "title", "A title of the franchise.", true, PROMPTS_TEXT },
	    { "user_name", "An AniList user name whose list says where they "
	    "are; leave out for your own.", false, PROMPTS_NAME } },
	    prompts_franchise },
};

static bool
prompts_in(const char *v, const char *const *set, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(v, set[i]) == 0)
			return (true);
	}
	return (false);
}

/* Whether v is digits for a number in [lo, hi]. */
static bool
prompts_number(const char *v, long lo, long hi)
{
	long	n = 0;

	if (*v == '\0' || strlen(v) > 6)
		return (false);
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return (false);
		n = n * 10 + (*v - '0');
	}
	return (n >= lo && n <= hi);
}

static bool
prompts_valid(enum prompts_check check, const char *v)
{
	const unsigned char	*p;

	switch (check) {
	case PROMPTS_NAME:
		for (p = (const unsigned char *)v; *p != '\0'; p++) {
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
			    *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    *p == '_' || *p == '-'))
				return (false);
		}
		return (*v != '\0' && strlen(v) <= 64);
	case PROMPTS_MINUTES:
		return (prompts_number(v, 1, 1440));
	case PROMPTS_MOOD:
		return (prompts_in(v, prompts_moods, nitems(prompts_moods)));
	case PROMPTS_SEASON:
		return (prompts_in(v, prompts_seasons, nitems(prompts_seasons)));
	case PROMPTS_YEAR:
		return (prompts_number(v, 1940, 2100));
	case PROMPTS_TEXT:
	default:
		for (p = (const unsigned char *)v; *p != '\0'; p++) {
			if (*p < 0x20 || *p == 0x7f || *p == '"')
				return (false);
		}
		return (*v != '\0' && strlen(v) <= PROMPTS_VALUE_MAX &&
		    util_utf8_valid(v, strlen(v)));
	}
}

static size_t
prompts_nargs(const struct prompts_prompt *p)
{
	size_t	n;

	for (n = 0; n < PROMPTS_ARGS_MAX && p->args[n].name != NULL; n++)
		;
	return (n);
}

struct json_object *
prompts_list(void)
{
	struct json_object	*list = json_object_new_array(), *o, *args, *a;
	struct json_object	*result;
	size_t			 i, j;

	for (i = 0; i < nitems(prompts); i++) {
		o = json_object_new_object();
		json_object_object_add(o, "name",
		    json_object_new_string(prompts[i].name));
		json_object_object_add(o, "title",
		    json_object_new_string(prompts[i].title));
		json_object_object_add(o, "description",
		    json_object_new_string(prompts[i].description));
		args = json_object_new_array();
		for (j = 0; j < prompts_nargs(&prompts[i]); j++) {
			a = json_object_new_object();
			json_object_object_add(a, "name", json_object_new_string(
			    prompts[i].args[j].name));
			json_object_object_add(a, "description",
			    json_object_new_string(
			    prompts[i].args[j].description));
			json_object_object_add(a, "required",
			    json_object_new_boolean(prompts[i].args[j].required));
			json_object_array_add(args, a);
		}
		json_object_object_add(o, "arguments", args);
		json_object_array_add(list, o);
	}
	result = json_object_new_object();
	json_object_object_add(result, "prompts", list);
	return (result);
}

/* The checked values of args in p's order (borrowed), or false with *why. */
static bool
prompts_values(const struct prompts_prompt *p, struct json_object *args,
    const char **v, char **why)
{
	struct json_object	*x;
	size_t			 j, n = prompts_nargs(p);

	if (args != NULL) {
		json_object_object_foreach(args, key, val) {
			(void)val;
			for (j = 0; j < n && strcmp(p->args[j].name, key) != 0;
			    j++)
				;
			if (j == n) {
				xasprintf(why, "prompt %s takes no argument "
				    "\"%.64s\"", p->name, key);
				return (false);
			}
		}
	}
	for (j = 0; j < n; j++) {
		v[j] = NULL;
		if (args != NULL && json_object_object_get_ex(args,
		    p->args[j].name, &x) && x != NULL) {
			if (!json_object_is_type(x, json_type_string) ||
			    !prompts_valid(p->args[j].check,
			    json_object_get_string(x))) {
				xasprintf(why, "argument %s of prompt %s: %s",
				    p->args[j].name, p->name,
				    p->args[j].description);
				return (false);
			}
			v[j] = json_object_get_string(x);
		} else if (p->args[j].required) {
			xasprintf(why, "prompt %s needs the argument %s: %s",
			    p->name, p->args[j].name, p->args[j].description);
			return (false);
		}
	}
	return (true);
}

struct json_object *
prompts_get(const char *name, struct json_object *args, char **why)
{
	const struct prompts_prompt	*p = NULL;
	const char			*v[PROMPTS_ARGS_MAX];
	struct json_object		*result, *msgs, *m, *c;
	struct buf			 b;
	size_t				 i;

	*why = NULL;
	for (i = 0; i < nitems(prompts); i++) {
		if (strcmp(prompts[i].name, name) == 0)
			p = &prompts[i];
	}
	if (p == NULL) {
		xasprintf(why, "unknown prompt \"%.64s\"; prompts/list names "
		    "them", name);
		return (NULL);
	}
	if (args != NULL && !json_object_is_type(args, json_type_object)) {
		xasprintf(why, "the arguments of prompt %s must be an object "
		    "of strings", p->name);
		return (NULL);
	}
	if (!prompts_values(p, args, v, why))
		return (NULL);
	buf_init(&b);
	p->build(&b, v);
	c = json_object_new_object();
	json_object_object_add(c, "type", json_object_new_string("text"));
	json_object_object_add(c, "text", json_object_new_string(b.data));
	buf_free(&b);
	m = json_object_new_object();
	json_object_object_add(m, "role", json_object_new_string("user"));
	json_object_object_add(m, "content", c);
	msgs = json_object_new_array();
	json_object_array_add(msgs, m);
	result = json_object_new_object();
	json_object_object_add(result, "description",
	    json_object_new_string(p->description));
	json_object_object_add(result, "messages", msgs);
	return (result);
}
