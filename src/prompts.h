/* prompts.h: the MCP prompts of the service (prompts/list, prompts/get): common journeys as ready-made user messages. */
#ifndef PROMPTS_H
#define PROMPTS_H

#include <stdbool.h>

struct json_object;

/* The result of prompts/list, {"prompts": [...]}; caller owns. */
struct json_object *prompts_list(void);

/*
 * The result of prompts/get for name with arguments (an object of strings,
 * or NULL; borrowed): {"description", "messages": [{"role": "user",
 * "content": {"type": "text", "text"}}]}. NULL when the name is unknown or
 * an argument is missing, unknown or bad, with *why (caller frees) saying
 * which and what is allowed.
 */
struct json_object *prompts_get(const char *name, struct json_object *args,
	    char **why);

#endif
