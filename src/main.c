/* main.c: command line: serve (default), check-config, version, migrate. */
#include "autoconf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "master.h"
#include "util.h"

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: anilist-gpt [-c file] [serve|check-config|version]\n"
	    "  -c file   configuration file (default %s/anilist-gpt.conf,\n"
	    "            if it exists); environment variables override it\n",
	    SYSCONFDIR);
	exit(status);
}

int
main(int argc, char **argv)
{
	const char	*path = NULL, *cmd = "serve";
	char		*cause = NULL, *def = NULL;
	enum log_level	 level;
	int		 ch, status;

	while ((ch = getopt(argc, argv, "c:hV")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(0);
		case 'V':
			cmd = "version";
			break;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage(2);
	if (argc == 1)
		cmd = argv[0];

	if (strcmp(cmd, "version") == 0) {
		printf("%s %s\n", PACKAGE, PACKAGE_VERSION);
		return (0);
	}
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "check-config") != 0)
		usage(2);

	if (path == NULL) {
		xasprintf(&def, "%s/anilist-gpt.conf", SYSCONFDIR);
		if (access(def, R_OK) == 0)
			path = def;
	}
	cfg = config_load(path, &cause);
	if (cfg == NULL) {
		log_error("invalid configuration", LF_STR("error", cause),
		    LF_STR("file", path), LF_END);
		if (strcmp(cmd, "check-config") == 0)
			fprintf(stderr, "anilist-gpt: %s\n", cause);
		free(cause);
		free(def);
		return (1);
	}
	if (log_level_parse(cfg->log_level, &level))
		log_threshold = level;

	if (strcmp(cmd, "check-config") == 0) {
		printf("# %s: configuration OK\n", path != NULL ? path :
		    "(no file: defaults and environment)");
		config_print(cfg, stdout);
		status = 0;
	} else
		status = master_run(path);
	config_free(cfg);
	free(def);
	return (status);
}
