/* util.c: allocation, buffers, clocks and small string helpers. */
#include "autoconf.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "util.h"

static void __attribute__((noreturn))
util_oom(size_t size)
{
	fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory\","
	    "\"size\":%zu}\n", size);
	abort();
}

void *
xmalloc(size_t size)
{
	void	*p;

	if (size == 0)
		size = 1;
	if ((p = malloc(size)) == NULL)
		util_oom(size);
	return (p);
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if (n == 0 || size == 0)
		n = size = 1;
	if ((p = calloc(n, size)) == NULL)
		util_oom(n * size);
	return (p);
}

void *
xrealloc(void *old, size_t size)
{
	void	*p;

	if (size == 0)
		size = 1;
	if ((p = realloc(old, size)) == NULL)
		util_oom(size);
	return (p);
}

char *
xstrdup(const char *s)
{
	return (xstrndup(s, strlen(s)));
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;
	size_t	 len = strnlen(s, n);

	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return (p);
}

int
xvasprintf(char **out, const char *fmt, va_list ap)
{
	int	n;

	if ((n = vasprintf(out, fmt, ap)) < 0)
		util_oom(0);
	return (n);
}

int
xasprintf(char **out, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = xvasprintf(out, fmt, ap);
	va_end(ap);
	return (n);
}

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void
buf_grow(struct buf *b, size_t extra)
{
	size_t	need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 256;
	while (b->cap < need)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n != 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	ap2;
	int	n;

	/* Format into the spare room; grow and format again if short. */
	buf_grow(b, 63);
	va_copy(ap2, ap);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->data[b->len] = '\0';
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

size_t
util_fmt_ll(char out[UTIL_NUM_MAX], long long v)
{
	char			 num[UTIL_NUM_MAX], *p = num + sizeof num;
	unsigned long long	 u = v < 0 ? 0ULL - (unsigned long long)v :
				    (unsigned long long)v;
	size_t			 n;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	n = (size_t)(num + sizeof num - p);
	memcpy(out, p, n);
	out[n] = '\0';
	return (n);
}

size_t
util_fmt_fixed3(char out[UTIL_NUM_MAX], double d)
{
	long long	m;
	size_t		n = 0;

	if (!(d < 9e15 && d > -9e15))
		return ((size_t)snprintf(out, UTIL_NUM_MAX, "%.3f", d));
	m = llround(d * 1000.0);
	if (m < 0) {
		out[n++] = '-';
		m = -m;
	}
	n += util_fmt_ll(out + n, m / 1000);
	out[n++] = '.';
	out[n++] = (char)('0' + m / 100 % 10);
	out[n++] = (char)('0' + m / 10 % 10);
	out[n++] = (char)('0' + m % 10);
	out[n] = '\0';
	return (n);
}

void
buf_put_ll(struct buf *b, long long v)
{
	char	num[UTIL_NUM_MAX];

	buf_append(b, num, util_fmt_ll(num, v));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* Invalid UTF-8 becomes U+FFFD so every line stays valid JSON. */
void
buf_json_string(struct buf *b, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s, *run;
	char			 esc[7];
	size_t			 n;

	buf_putc(b, '"');
	for (;;) {
		/* Plain printable ASCII goes in whole runs. */
		for (run = p; *p >= 0x20 && *p < 0x7f && *p != '"' &&
		    *p != '\\'; p++)
			;
		if (p > run)
			buf_append(b, run, (size_t)(p - run));
		if (*p == '\0')
			break;
		switch (*p) {
		case '"':
			buf_append(b, "\\\"", 2);
			break;
		case '\\':
			buf_append(b, "\\\\", 2);
			break;
		case '\n':
			buf_append(b, "\\n", 2);
			break;
		case '\r':
			buf_append(b, "\\r", 2);
			break;
		case '\t':
			buf_append(b, "\\t", 2);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[*p >> 4];
				esc[5] = hex[*p & 0xf];
				buf_append(b, esc, 6);
			} else if ((n = util_utf8_char((const char *)p,
			    strnlen((const char *)p, 4))) != 0) {
				buf_append(b, p, n);
				p += n - 1;
			} else
				buf_append(b, "\\ufffd", 6);	/* not UTF-8 */
		}
		p++;
	}
	buf_putc(b, '"');
}

char *
buf_detach(struct buf *b)
{
	char	*p;

	if (b->data == NULL)
		return (xstrdup(""));
	p = b->data;
	buf_init(b);
	return (p);
}

size_t
util_utf8_char(const char *s, size_t left)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	if (left == 0)
		return (0);
	if (p[0] < 0x80)
		return (1);
	if ((p[0] & 0xe0) == 0xc0)
		n = 2;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4;
	else
		return (0);
	return (n <= left && util_utf8_valid(s, n) ? n : 0);
}

void
buf_utf8_repair(struct buf *b)
{
	struct buf	out;
	size_t		i, n;

	if (b->data == NULL || util_utf8_valid(b->data, b->len))
		return;
	buf_init(&out);
	for (i = 0; i < b->len; i += n) {
		if ((n = util_utf8_char(b->data + i, b->len - i)) == 0) {
			buf_puts(&out, "\xef\xbf\xbd");
			n = 1;
		} else
			buf_append(&out, b->data + i, n);
	}
	buf_free(b);
	*b = out;
}

uint64_t
util_mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

uint64_t
util_mono_ms(void)
{
	return (util_mono_us() / 1000);
}

uint64_t
util_wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

bool
util_utf8_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n, k;
	uint32_t		 cp;

	while (i < len) {
		/* Runs of ASCII, eight bytes at a time. */
		while (i + 8 <= len) {
			uint64_t	w;

			memcpy(&w, p + i, sizeof w);
			if ((w & 0x8080808080808080ULL) != 0)
				break;
			i += 8;
		}
		if (i >= len)
			break;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = p[i] & 0x1f;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = p[i] & 0x0f;
		} else if ((p[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = p[i] & 0x07;
		} else
			return (false);
		for (k = 1; k <= n; k++) {
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				return (false);
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return (false);
		i += n + 1;
	}
	return (true);
}

bool
util_parse_ll(const char *s, long long *out)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s == '\0')
		return (false);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return (false);
	*out = v;
	return (true);
}

bool
util_random_bytes(void *p, size_t n)
{
	if (n > INT_MAX)
		return (false);
	return (RAND_bytes(p, (int)n) == 1);
}

void
util_hex(const unsigned char *p, size_t n, char *out)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

bool
util_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return (false);
	return (CRYPTO_memcmp(a, b, alen) == 0);
}
