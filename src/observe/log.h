/* observe/log.h: JSON-lines logging on stderr, one object per event, with the request id. */
#ifndef LOG_H
#define LOG_H

#include <stdbool.h>

enum log_level {
	LOG_DEBUG = 0,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
	LOG_FATAL
};

/* Field tags for log_emit's variable arguments; use the LF_* macros. */
enum log_field {
	LOG_F_END = 0,
	LOG_F_STR,
	LOG_F_INT,
	LOG_F_DBL,
	LOG_F_BOOL,
	LOG_F_RAW	/* already-encoded JSON value */
};

#define LF_STR(k, v)	LOG_F_STR, (const char *)(k), (const char *)(v)
#define LF_INT(k, v)	LOG_F_INT, (const char *)(k), (long long)(v)
#define LF_DBL(k, v)	LOG_F_DBL, (const char *)(k), (double)(v)
#define LF_BOOL(k, v)	LOG_F_BOOL, (const char *)(k), (int)(v)
#define LF_RAW(k, v)	LOG_F_RAW, (const char *)(k), (const char *)(v)
#define LF_END		LOG_F_END

extern enum log_level log_threshold;

#define log_enabled(l) ((l) >= log_threshold)

/* The level is tested before the arguments are evaluated. */
#define log_at(l, ...) do {						\
	if (log_enabled(l))						\
		log_emit((l), __VA_ARGS__);				\
} while (0)
#define log_debug(...)	log_at(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)	log_at(LOG_INFO, __VA_ARGS__)
#define log_warn(...)	log_at(LOG_WARN, __VA_ARGS__)
#define log_error(...)	log_at(LOG_ERROR, __VA_ARGS__)

/*
 * log_emit(level, msg, LF_..., LF_END): fields end with LF_END; a NULL
 * LF_STR or LF_RAW value leaves its field out.
 */
void	log_emit(enum log_level level, const char *msg, ...);
bool	log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);
/* Where lines go (default 2); tests point it at a pipe or file. */
void	log_set_fd(int fd);
/* The request id carried by every line this thread logs; NULL clears it. */
void	log_set_request_id(const char *rid);
const char *log_request_id(void);
/* Role shown in each line: "master" or "worker". */
void	log_set_role(const char *role);
/* RFC 3339 UTC timestamp with milliseconds; out holds 32 bytes. */
void	log_format_ts(unsigned long long ms, char *out);

#endif
