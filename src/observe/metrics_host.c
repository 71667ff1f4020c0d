/* observe/metrics_host.c: the machine around the service for /metrics: free space of the configured filesystems and the memory of the neighbour processes (Caddy, memcached). */
#include "autoconf.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "config.h"
#include "metrics.h"
#include "metrics_internal.h"
#include "util.h"

#define METRICS_COMM_MAX	15	/* /proc/PID/comm without its newline */
#define METRICS_NEIGHBOURS_MAX	16	/* entries of METRICS_PROCESSES */

/*
 * The next item of a comma-separated list into out, spaces around it
 * trimmed; *p moves past it. False at the end of the list; an item longer
 * than cap - 1 bytes is cut (the checks below refuse those).
 */
static bool
metrics_list_next(const char **p, char *out, size_t cap)
{
	const char	*s = *p, *e;
	size_t		 n;

	while (*s == ' ' || *s == '\t' || *s == ',')
		s++;
	if (*s == '\0')
		return (false);
	n = strcspn(s, ",");
	*p = s + n;
	for (e = s + n; e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	n = (size_t)(e - s);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return (true);
}

/* The length of the item *p starts (before trimming), for the checks. */
static size_t
metrics_list_item_len(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == ',')
		p++;
	return (strcspn(p, ","));
}

/*
 * Is an item of value before the position upto equal to item: whole, or
 * with name_only up to its '='? Two equal entries would export the same
 * series twice.
 */
static bool
metrics_list_seen(const char *value, const char *upto, const char *item,
    bool name_only)
{
	char		 prev[PATH_MAX + METRICS_COMM_MAX + 2];
	const char	*p = value, *stop = name_only ? "=" : "";
	size_t		 n = strcspn(item, stop);

	while (p < upto && metrics_list_next(&p, prev, sizeof prev)) {
		if (p > upto)
			break;
		if (strcspn(prev, stop) == n && strncmp(prev, item, n) == 0)
			return (true);
	}
	return (false);
}

bool
metrics_disk_paths_check(const char *value, char **cause)
{
	char		 path[PATH_MAX];
	const char	*p = value, *start;

	for (;;) {
		start = p;
		if (metrics_list_item_len(p) >= sizeof path) {
			xasprintf(cause, "a path is longer than %d bytes",
			    PATH_MAX - 1);
			return (false);
		}
		if (!metrics_list_next(&p, path, sizeof path))
			return (true);
		if (path[0] != '/') {
			xasprintf(cause, "\"%s\" is not an absolute path", path);
			return (false);
		}
		if (metrics_list_seen(value, start, path, false)) {
			xasprintf(cause, "\"%s\" is listed twice", path);
			return (false);
		}
	}
}

/* A neighbour's name: what /proc/PID/comm says, and not one of ours. */
static bool
metrics_neighbour_name_ok(const char *name, size_t n)
{
	size_t	i;

	if (n == 0 || n > METRICS_COMM_MAX)
		return (false);
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' &&
		    name[i] != '-' && name[i] != '.')
			return (false);
	}
	return (!(n == 6 && strncmp(name, "master", 6) == 0) &&
	    !(n > 7 && strncmp(name, "worker-", 7) == 0));
}

bool
metrics_neighbours_check(const char *value, char **cause)
{
	char		 item[PATH_MAX + METRICS_COMM_MAX + 2];
	const char	*p = value, *eq, *start;
	size_t		 n, count = 0;

	for (;;) {
		start = p;
		if (metrics_list_item_len(p) >= sizeof item) {
			xasprintf(cause, "an entry is too long");
			return (false);
		}
		if (!metrics_list_next(&p, item, sizeof item))
			return (true);
		if (++count > METRICS_NEIGHBOURS_MAX) {
			xasprintf(cause, "at most %d processes",
			    METRICS_NEIGHBOURS_MAX);
			return (false);
		}
		eq = strchr(item, '=');
		n = eq != NULL ? (size_t)(eq - item) : strlen(item);
		if (!metrics_neighbour_name_ok(item, n)) {
			xasprintf(cause, "\"%.*s\": a process name is 1 to %d "
			    "letters, digits, '_', '-' or '.', and not master "
			    "or worker-N", (int)n, item, METRICS_COMM_MAX);
			return (false);
		}
		if (eq != NULL && eq[1] != '/') {
			xasprintf(cause, "\"%s\": the pidfile after '=' must be "
			    "an absolute path", item);
			return (false);
		}
		if (metrics_list_seen(value, start, item, true)) {
			xasprintf(cause, "\"%.*s\" is listed twice", (int)n,
			    item);
			return (false);
		}
	}
}

bool
metrics_fs_space(const char *path, double *avail, double *size)
{
	struct statvfs	sv;

	if (statvfs(path, &sv) != 0 || sv.f_blocks == 0)
		return (false);
	*avail = (double)sv.f_bavail * (double)sv.f_frsize;
	*size = (double)sv.f_blocks * (double)sv.f_frsize;
	return (true);
}

bool
metrics_pidfile_read(const char *path, pid_t *pid)
{
	FILE	*f;
	long	 v;
	int	 n;

	if ((f = fopen(path, "r")) == NULL)
		return (false);
	n = fscanf(f, "%ld", &v);
	fclose(f);
	if (n != 1 || v <= 0 || v > INT_MAX)
		return (false);
	*pid = (pid_t)v;
	return (true);
}

/* pid's command name (/proc/PID/comm, without its newline) into comm. */
static bool
metrics_proc_comm(const char *pid, char comm[METRICS_COMM_MAX + 2])
{
	char	path[300];
	ssize_t	n;
	int	fd;

	snprintf(path, sizeof path, "/proc/%s/comm", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (false);
	n = read(fd, comm, METRICS_COMM_MAX + 1);
	close(fd);
	if (n <= 0)
		return (false);
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	return (true);
}

size_t
metrics_proc_find(const char *const *names, size_t nnames, pid_t *pids,
    size_t *which, size_t cap)
{
	DIR		*d;
	struct dirent	*e;
	char		 comm[METRICS_COMM_MAX + 2], *end;
	size_t		 n = 0, i;
	long		 v;

	if ((d = opendir("/proc")) == NULL)
		return (0);
	while (n < cap && (e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		v = strtol(e->d_name, &end, 10);
		if (*end != '\0' || v <= 0 || v > INT_MAX ||
		    !metrics_proc_comm(e->d_name, comm))
			continue;
		for (i = 0; i < nnames; i++) {
			if (names[i] != NULL && strcmp(comm, names[i]) == 0) {
				pids[n] = (pid_t)v;
				which[n++] = i;
				break;
			}
		}
	}
	closedir(d);
	return (n);
}

/* One METRICS_PROCESSES entry and what its processes use. */
struct metrics_neighbour {
	char	 name[METRICS_COMM_MAX + 1];
	char	*pidfile;	/* NULL: every process of that name */
	double	 rss;
	double	 cpu;
	bool	 running;
};

/* Add pid's memory and CPU to nb (a process gone meanwhile adds nothing). */
static void
metrics_neighbour_add(struct metrics_neighbour *nb, pid_t pid)
{
	double	r, c;

	if (!metrics_proc_stat(pid, &r, &c))
		return;
	nb->rss += r;
	nb->cpu += c;
	nb->running = true;
}

/*
 * The checked METRICS_PROCESSES into nb (at most METRICS_NEIGHBOURS_MAX;
 * pidfile strings: caller frees), the names to look for in /proc into
 * names (NULL for a pidfile entry); how many.
 */
static size_t
metrics_neighbours_parse(const char *value, struct metrics_neighbour *nb,
    const char **names)
{
	char		 item[PATH_MAX + METRICS_COMM_MAX + 2], *eq;
	const char	*p = value;
	size_t		 n = 0;

	while (n < METRICS_NEIGHBOURS_MAX &&
	    metrics_list_next(&p, item, sizeof item)) {
		memset(&nb[n], 0, sizeof nb[n]);
		if ((eq = strchr(item, '=')) != NULL) {
			*eq++ = '\0';
			nb[n].pidfile = xstrdup(eq);
		}
		snprintf(nb[n].name, sizeof nb[n].name, "%.*s",
		    METRICS_COMM_MAX, item);
		names[n] = nb[n].pidfile == NULL ? nb[n].name : NULL;
		n++;
	}
	return (n);
}

void
metrics_expose_neighbours(struct buf *rss, struct buf *cpu)
{
	struct metrics_neighbour nb[METRICS_NEIGHBOURS_MAX];
	const char	*names[METRICS_NEIGHBOURS_MAX];
	pid_t		 pids[METRICS_MAX_PROCS], pid;
	size_t		 which[METRICS_MAX_PROCS], n, found, i, len;
	char		 label[METRICS_LABELS_LEN], num[48];
	bool		 scan = false;

	n = metrics_neighbours_parse(cfg->metrics_processes, nb, names);
	for (i = 0; i < n; i++) {
		if (nb[i].pidfile != NULL &&
		    metrics_pidfile_read(nb[i].pidfile, &pid))
			metrics_neighbour_add(&nb[i], pid);
		scan |= names[i] != NULL;
	}
	/* One pass over /proc for every name. */
	found = scan ? metrics_proc_find(names, n, pids, which,
	    nitems(pids)) : 0;
	for (i = 0; i < found; i++)
		metrics_neighbour_add(&nb[which[i]], pids[i]);
	for (i = 0; i < n; i++) {
		free(nb[i].pidfile);
		len = 0;
		if (!nb[i].running || !metrics_label(label, sizeof label, &len,
		    "process", nb[i].name))
			continue;
		snprintf(num, sizeof num, "%.0f", nb[i].rss);
		metrics_sample(rss, "process_resident_memory_bytes", "", label,
		    NULL, num);
		snprintf(num, sizeof num, "%.2f", nb[i].cpu);
		metrics_sample(cpu, "process_cpu_seconds_total", "", label,
		    NULL, num);
	}
}

void
metrics_expose_disks(struct buf *b)
{
	struct buf	 size;
	char		 path[PATH_MAX], label[METRICS_LABELS_LEN], num[48];
	const char	*p = cfg->metrics_disk_paths;
	size_t		 len;
	double		 avail, total;

	buf_init(&size);
	metrics_header(b, "filesystem_avail_bytes", "gauge",
	    "Bytes the service may still write on the filesystem of each "
	    "METRICS_DISK_PATHS path.");
	metrics_header(&size, "filesystem_size_bytes", "gauge",
	    "Size of the filesystem of each METRICS_DISK_PATHS path.");
	while (metrics_list_next(&p, path, sizeof path)) {
		len = 0;
		if (!metrics_fs_space(path, &avail, &total) ||
		    !metrics_label(label, sizeof label, &len, "path", path))
			continue;
		snprintf(num, sizeof num, "%.0f", avail);
		metrics_sample(b, "filesystem_avail_bytes", "", label, NULL,
		    num);
		snprintf(num, sizeof num, "%.0f", total);
		metrics_sample(&size, "filesystem_size_bytes", "", label, NULL,
		    num);
	}
	buf_append(b, size.data, size.len);
	buf_free(&size);
}
