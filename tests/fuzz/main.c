/* main.c: runs a fuzz target over files and directories of inputs, without libFuzzer (the corpus regression of make check). */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "util.h"

/* Read a whole file; false (with errno) when it cannot be read. */
static bool
fuzz_read(const char *path, struct buf *b)
{
	FILE	*f;
	char	 chunk[65536];
	size_t	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return (false);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(b, chunk, n);
	if (ferror(f)) {
		fclose(f);
		return (false);
	}
	fclose(f);
	return (true);
}

static int
fuzz_name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* One input file, or every regular file of a directory in name order. */
static bool
fuzz_run_path(const char *path, size_t *count)
{
	struct stat	 st;
	struct dirent	*de;
	struct buf	 b;
	DIR		*d;
	char		**names = NULL, *sub;
	size_t		 n = 0, i;
	bool		 ok = true;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return (false);
	}
	if (S_ISDIR(st.st_mode)) {
		if ((d = opendir(path)) == NULL) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			return (false);
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			names = xrealloc(names, (n + 1) * sizeof *names);
			xasprintf(&names[n++], "%s/%s", path, de->d_name);
		}
		closedir(d);
		qsort(names, n, sizeof *names, fuzz_name_cmp);
		for (i = 0; i < n; i++) {
			sub = names[i];
			if (stat(sub, &st) == 0 && S_ISREG(st.st_mode))
				ok = fuzz_run_path(sub, count) && ok;
			free(sub);
		}
		free(names);
		return (ok);
	}
	buf_init(&b);
	if (!fuzz_read(path, &b)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		buf_free(&b);
		return (false);
	}
	/* An exact-size copy, so ASan sees a read past the end. */
	sub = xmalloc(b.len > 0 ? b.len : 1);
	if (b.len > 0)
		memcpy(sub, b.data, b.len);
	LLVMFuzzerTestOneInput((const uint8_t *)sub, b.len);
	free(sub);
	buf_free(&b);
	(*count)++;
	return (true);
}

int
main(int argc, char **argv)
{
	size_t	count = 0;
	int	i;
	bool	ok = true;

	if (argc < 2) {
		fprintf(stderr, "usage: %s file|directory ...\n", argv[0]);
		return (2);
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++)
		ok = fuzz_run_path(argv[i], &count) && ok;
	printf("%s: %zu inputs\n", argv[0], count);
	return (ok && count > 0 ? 0 : 1);
}
