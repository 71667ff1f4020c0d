/* common.c: the offline configuration every fuzz target runs under. */
#include "autoconf.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "crypto.h"
#include "fuzz.h"
#include "log.h"
#include "tool.h"
#include "util.h"

#ifndef ABS_TOP_SRCDIR
#define ABS_TOP_SRCDIR "."
#endif

/* Bound and never listening: AniList "answers" with a refused connection. */
static void
fuzz_refusing_url(char *url, size_t len)
{
	struct sockaddr_in	sin;
	socklen_t		slen = sizeof sin;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		abort();
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, slen) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &slen) == -1)
		abort();
	/* fd stays open for the life of the process. */
	snprintf(url, len, "http://127.0.0.1:%u/", (unsigned)ntohs(sin.sin_port));
}

void
fuzz_setup(void)
{
	static const char *const fixed[][2] = {
		{ "ENVIRONMENT", "development" },
		{ "LOG_LEVEL", "fatal" },
		{ "MEMCACHED_SERVERS", "" },
		{ "DATABASE_URL", "" },
		{ "SECRET_KEY", "fuzz-secret-key-fuzz-secret-key-0123456789" },
		{ "UPSTREAM_TIMEOUT_MS", "100" },
		{ "UPSTREAM_RETRIES", "0" },
		{ "PUBLIC_URL", "https://fuzz.example" },
		{ "WIDGETS_DIR", ABS_TOP_SRCDIR "/widgets" },
	};
	static int	done;
	char		*cause = NULL, url[64];
	size_t		 i;
	int		 fd;

	if (done++)
		return;
	if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		abort();
	log_set_fd(fd);
	log_threshold = LOG_FATAL;
	cfg = config_create();
	for (i = 0; i < nitems(fixed); i++) {
		if (!config_set(cfg, fixed[i][0], fixed[i][1], &cause))
			goto fail;
	}
	fuzz_refusing_url(url, sizeof url);
	if (!config_set(cfg, "ANILIST_API_URL", url, &cause) ||
	    !config_validate(cfg, &cause))
		goto fail;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    !crypto_init(cfg->secret_key))
		abort();
	if (!tool_init(&cause))
		goto fail;
	return;
fail:
	fprintf(stderr, "fuzz_setup: %s\n", cause != NULL ? cause : "?");
	abort();
}

char *
fuzz_string(const uint8_t *data, size_t size)
{
	return (xstrndup((const char *)data, size));
}
