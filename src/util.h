/* util.h: allocation, growable buffers, time and string helpers shared by all modules. */
#ifndef UTIL_H
#define UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Allocation policy: running out of memory aborts the process (the master
 * restarts the worker), so callers never check what these return.
 */
void	*xmalloc(size_t size);
void	*xcalloc(size_t n, size_t size);
void	*xrealloc(void *old, size_t size);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
int	 xasprintf(char **out, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 xvasprintf(char **out, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));

#define nitems(a) (sizeof (a) / sizeof (a)[0])

/* A growable byte buffer, always NUL-terminated. */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	 buf_init(struct buf *b);
void	 buf_free(struct buf *b);
void	 buf_reset(struct buf *b);
void	 buf_append(struct buf *b, const void *p, size_t n);
void	 buf_puts(struct buf *b, const char *s);
void	 buf_putc(struct buf *b, char c);
void	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/* Append s as a quoted, escaped JSON string. */
/* A decimal integer, without printf. */
void	 buf_put_ll(struct buf *b, long long v);
/*
 * Numbers as printf's "%lld" and "%.3f" write them, without printf (every
 * request formats a few): into out, NUL-terminated; the length.
 */
#define UTIL_NUM_MAX	32
size_t	 util_fmt_ll(char out[UTIL_NUM_MAX], long long v);
size_t	 util_fmt_fixed3(char out[UTIL_NUM_MAX], double d);
void	 buf_json_string(struct buf *b, const char *s);
/* Hand the contents to the caller (caller frees) and reset the buffer. */
char	*buf_detach(struct buf *b);
/* Replace each byte that is not part of valid UTF-8 by U+FFFD. */
void	 buf_utf8_repair(struct buf *b);

/* Milliseconds: monotonic for durations, wall clock for timestamps. */
uint64_t util_mono_ms(void);
uint64_t util_wall_ms(void);
/* Microseconds, monotonic. */
uint64_t util_mono_us(void);

bool	 util_utf8_valid(const char *s, size_t len);
/*
 * The length of the UTF-8 character at s (left bytes available): 1 to 4,
 * or 0 when the bytes there are not one.
 */
size_t	 util_utf8_char(const char *s, size_t left);
/* Parse a whole decimal integer; false on garbage or overflow. */
bool	 util_parse_ll(const char *s, long long *out);
/* Fill with cryptographically random bytes; false if the RNG fails. */
bool	 util_random_bytes(void *p, size_t n)
	    __attribute__((warn_unused_result));
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void	 util_hex(const unsigned char *p, size_t n, char *out);
/* Constant-time comparison of two byte strings. */
bool	 util_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
