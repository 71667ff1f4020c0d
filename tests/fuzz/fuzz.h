/* fuzz.h: what the fuzz targets share: the libFuzzer entry points and an offline, quiet service configuration. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Each target defines both; main.c (gcc) or libFuzzer calls them. */
int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Once per process: a development config that needs no server (no
 * memcached, no PostgreSQL, AniList at a loopback port that refuses
 * connections, short deadlines, no retries), logs to /dev/null, the tool
 * registry loaded and crypto keyed. Aborts when any of it fails.
 */
void	fuzz_setup(void);

/* data as a NUL-terminated string (stops at its first NUL); caller frees. */
char	*fuzz_string(const uint8_t *, size_t);

/* A broken invariant is a crash the fuzzer reports. */
#define fuzz_assert(x) do {						\
	if (!(x)) {							\
		fprintf(stderr, "fuzz: %s:%d: %s\n", __FILE__,		\
		    __LINE__, #x);					\
		abort();						\
	}								\
} while (0)

#endif
