/* main.c: command line: serve (default), check-config, version, migrate. */
#include "autoconf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "master.h"
#include "util.h"

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: anilist-gpt [-c file] [-s dir] "
	    "[serve|check-config|migrate|version]\n"
	    "  -c file   configuration file (default %s/anilist-gpt.conf,\n"
	    "            if it exists); environment variables override it\n"
	    "  -s dir    migrations for `migrate` (default SQL_DIR, else\n"
	    "            %s/sql)\n",
	    SYSCONFDIR, PKGDATADIR);
	exit(status);
}

/* Apply pending migrations from dir (or the configured one). */
static int
main_migrate(const char *dir)
{
	char	*path, *cause = NULL;
	int	 status = 0;

	if (!db_enabled()) {
		fprintf(stderr, "anilist-gpt: migrate: DATABASE_URL is not "
		    "set\n");
		return (1);
	}
	path = dir != NULL ? xstrdup(dir) : db_sql_dir();
	if (!db_migrate(cfg->database_url, path, stdout, &cause)) {
		fprintf(stderr, "anilist-gpt: migrate: %s\n", cause);
		free(cause);
		status = 1;
	}
	free(path);
	return (status);
}

int
main(int argc, char **argv)
{
	const char	*path = NULL, *cmd = "serve", *sql_dir = NULL;
	char		*cause = NULL, *def = NULL;
	enum log_level	 level;
	int		 ch, status;

	while ((ch = getopt(argc, argv, "c:s:hV")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 's':
			sql_dir = optarg;
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
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "check-config") != 0 &&
	    strcmp(cmd, "migrate") != 0)
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
	} else if (strcmp(cmd, "migrate") == 0)
		status = main_migrate(sql_dir);
	else
		status = master_run(path);
	config_free(cfg);
	free(def);
	return (status);
}
