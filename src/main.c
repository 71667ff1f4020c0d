/* main.c: command line: serve (default), check-config, version, migrate; --help, --version. */
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

static const struct option main_long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "sql-dir", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* --help: what GNU tools print, on stdout, exit 0. */
static void __attribute__((noreturn))
main_help(void)
{
	printf("Usage: anilist-gpt [OPTION]... [COMMAND]\n"
	    "Serve the anilist-gpt MCP and REST API as FastCGI workers.\n"
	    "\n"
	    "Commands:\n"
	    "  serve          run the master and its workers (default)\n"
	    "  check-config   validate the configuration and print it, "
	    "secrets masked\n"
	    "  migrate        apply pending PostgreSQL migrations\n"
	    "  version        print the version\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config=FILE    configuration file (default "
	    "%s/anilist-gpt.conf,\n"
	    "                       if it exists); environment variables "
	    "override it\n"
	    "  -s, --sql-dir=DIR    migrations for `migrate' (default SQL_DIR, "
	    "else\n"
	    "                       %s/sql)\n"
	    "  -h, --help           display this help and exit\n"
	    "  -V, --version        output version information and exit\n"
	    "\n"
	    "Signals to the master: SIGHUP reloads the configuration, SIGTERM "
	    "drains.\n"
	    "Every configuration key: anilist-gpt(8).\n"
	    "Report bugs to: %s\n",
	    SYSCONFDIR, PKGDATADIR, PACKAGE_BUGREPORT);
	exit(0);
}

/* A usage error: one line on stderr, exit 2. */
static void __attribute__((noreturn))
main_usage_error(const char *what)
{
	if (what != NULL)
		fprintf(stderr, "anilist-gpt: %s\n", what);
	fprintf(stderr, "Try 'anilist-gpt --help' for more information.\n");
	exit(2);
}

static int
main_version(void)
{
	printf("%s %s\n", PACKAGE, PACKAGE_VERSION);
	return (0);
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

	while ((ch = getopt_long(argc, argv, "c:s:hV", main_long_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 's':
			sql_dir = optarg;
			break;
		case 'h':
			main_help();
		case 'V':
			return (main_version());
		default:
			main_usage_error(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		main_usage_error("one command at most");
	if (argc == 1)
		cmd = argv[0];

	if (strcmp(cmd, "version") == 0)
		return (main_version());
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "check-config") != 0 &&
	    strcmp(cmd, "migrate") != 0) {
		fprintf(stderr, "anilist-gpt: unknown command '%s'\n", cmd);
		main_usage_error(NULL);
	}

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
