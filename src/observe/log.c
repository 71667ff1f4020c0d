/* observe/log.c: JSON-lines logger; each event is one write(2) so lines never interleave. */
#include "autoconf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

enum log_level		 log_threshold = LOG_INFO;
static int		 log_fd = 2;
static const char	*log_role = "main";
/* Set with the role, once per process after fork; 0 asks getpid(). */
static long		 log_pid;
static __thread char	 log_rid[64];

static const char *log_names[] = { "debug", "info", "warn", "error", "fatal" };

const char *
log_level_name(enum log_level level)
{
	if ((unsigned)level >= nitems(log_names))
		return ("info");
	return (log_names[level]);
}

bool
log_level_parse(const char *s, enum log_level *out)
{
	size_t	i;

	for (i = 0; i < nitems(log_names); i++) {
		if (strcasecmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return (true);
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = LOG_WARN;
		return (true);
	}
	return (false);
}

void
log_set_fd(int fd)
{
	log_fd = fd;
}

void
log_set_role(const char *role)
{
	log_role = role;
	log_pid = (long)getpid();
}

void
log_set_request_id(const char *rid)
{
	if (rid == NULL)
		log_rid[0] = '\0';
	else
		snprintf(log_rid, sizeof log_rid, "%s", rid);
}

const char *
log_request_id(void)
{
	return (log_rid[0] != '\0' ? log_rid : NULL);
}

void
log_format_ts(unsigned long long ms, char *out)
{
	/* The seconds part changes once a second: format it only then. */
	static __thread time_t	cached = (time_t)-1;
	static __thread char	secs[24];
	static __thread size_t	len;
	time_t			t = (time_t)(ms / 1000);
	struct tm		tm;
	unsigned		frac = (unsigned)(ms % 1000);

	if (t != cached) {
		gmtime_r(&t, &tm);
		len = strftime(secs, sizeof secs, "%Y-%m-%dT%H:%M:%S", &tm);
		cached = t;
	}
	memcpy(out, secs, len);
	out[len] = '.';
	out[len + 1] = (char)('0' + frac / 100);
	out[len + 2] = (char)('0' + frac / 10 % 10);
	out[len + 3] = (char)('0' + frac % 10);
	out[len + 4] = 'Z';
	out[len + 5] = '\0';
}

void
log_emit(enum log_level level, const char *msg, ...)
{
	struct buf	 b;
	char		 ts[32], num[UTIL_NUM_MAX];
	va_list		 ap;
	int		 tag;
	const char	*key, *s = NULL;
	double		 d;
	ssize_t		 n;
	size_t		 off;

	buf_init(&b);
	log_format_ts(util_wall_ms(), ts);
	/* Fixed parts without printf: this runs for every request. */
	buf_puts(&b, "{\"ts\":\"");
	buf_puts(&b, ts);
	buf_puts(&b, "\",\"level\":\"");
	buf_puts(&b, log_level_name(level));
	buf_puts(&b, "\",\"msg\":");
	buf_json_string(&b, msg);
	buf_puts(&b, ",\"pid\":");
	buf_put_ll(&b, log_pid != 0 ? log_pid : (long)getpid());
	buf_puts(&b, ",\"role\":\"");
	buf_puts(&b, log_role);
	buf_putc(&b, '"');
	if (log_rid[0] != '\0') {
		buf_puts(&b, ",\"request_id\":");
		buf_json_string(&b, log_rid);
	}

	va_start(ap, msg);
	while ((tag = va_arg(ap, int)) != LOG_F_END) {
		key = va_arg(ap, const char *);
		if (tag == LOG_F_STR || tag == LOG_F_RAW) {
			/* A NULL string leaves the field out. */
			s = va_arg(ap, const char *);
			if (s == NULL)
				continue;
		}
		buf_putc(&b, ',');
		buf_json_string(&b, key);
		buf_putc(&b, ':');
		switch (tag) {
		case LOG_F_STR:
			buf_json_string(&b, s);
			break;
		case LOG_F_INT:
			buf_put_ll(&b, va_arg(ap, long long));
			break;
		case LOG_F_DBL:
			d = va_arg(ap, double);
			if (isfinite(d))
				buf_append(&b, num, util_fmt_fixed3(num, d));
			else
				buf_puts(&b, "null");
			break;
		case LOG_F_BOOL:
			buf_puts(&b, va_arg(ap, int) ? "true" : "false");
			break;
		case LOG_F_RAW:
			buf_puts(&b, s);
			break;
		default:
			goto out;
		}
	}
out:
	va_end(ap);
	buf_puts(&b, "}\n");

	for (off = 0; off < b.len; off += (size_t)n) {
		n = write(log_fd, b.data + off, b.len - off);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			break;
	}
	buf_free(&b);
}
