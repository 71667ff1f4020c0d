/* schema.h: checks JSON values against the JSON Schema subset the tools' definitions use. */
#ifndef SCHEMA_H
#define SCHEMA_H

#include <stdbool.h>

struct json_object;
struct tool_error;

/*
 * Check value against schema (a JSON Schema subset: type (one or a list),
 * enum, minimum, maximum, minLength/maxLength in bytes (strings must be
 * valid UTF-8), minItems/maxItems, items, properties, required, default,
 * additionalProperties:false, and "x-maximumYearOffset": n for a maximum
 * of the current UTC year + n). Defaults of absent properties are filled
 * in, and optional properties given as null are treated as absent, so
 * value may change. On the first problem returns false and fills err
 * (status 400, code "invalid_argument", the field path and a message
 * saying what is wrong and what is allowed); release it with
 * tool_error_clear.
 */
bool	schema_validate(const struct json_object *schema,
	    struct json_object *value, struct tool_error *err);

/*
 * Whether input is a usable tool input schema: an object schema whose
 * properties all have a type, whose defaults pass their own property's
 * schema and whose enum values have the property's type. False with
 * *cause (caller frees) saying what is wrong: an error in our own
 * definitions.
 */
bool	schema_sane(struct json_object *input, char **cause);

#endif
