/*
 * buf.c -- a growing text buffer for the message builders.
 *
 * libevent's evbuffer would serve, but these builders want one contiguous
 * NUL-terminated string at every step (they search and re-read what they
 * wrote) and a sticky failure flag; this is that, once, for both.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Make room for n more octets (and the NUL). */
int
buf_reserve(struct buf *b, size_t n)
{
	char	*ns;
	size_t	 cap;

	if (b->failed)
		return -1;
	if (n > SIZE_MAX / 2 - b->len - 1) {
		b->failed = 1;
		return -1;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap == 0 ? 256 : b->cap;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((ns = realloc(b->s, cap)) == NULL) {
			b->failed = 1;
			return -1;
		}
		b->s = ns;
		b->cap = cap;
	}
	return 0;
}

/* Append n octets of p. */
void
buf_add(struct buf *b, const char *p, size_t n)
{
	if (b->failed)
		return;
	if ((n > SIZE_MAX / 2 - b->len - 1 || b->len + n + 1 > b->cap) &&
	    buf_reserve(b, n) == -1)
		return;
	if (n > 0)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Append the string s. */
void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Append a short formatted piece. */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	char	tmp[512];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		b->failed = 1;	/* only short fixed pieces come here */
		return;
	}
	buf_add(b, tmp, (size_t)n);
}

/* The text, or NULL if b failed. */
const char *
buf_get(struct buf *b)
{
	if (b->failed)
		return NULL;
	if (b->s == NULL)
		buf_add(b, "", 0);
	return b->failed ? NULL : b->s;
}

/* The text, owned by the caller, or NULL if b failed. */
char *
buf_take(struct buf *b)
{
	char	*s;

	if (buf_get(b) == NULL) {
		buf_free(b);
		return NULL;
	}
	s = b->s;
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

/* Release the text and reset b. */
void
buf_free(struct buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}
