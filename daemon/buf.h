/*
 * buf.h -- a growing NUL-terminated text buffer for the message builders
 * (ical.c, mail.c); pure.
 *
 * A failed allocation marks the buffer failed and later additions are
 * ignored, so a builder checks once at the end instead of after every
 * piece. An embedded struct: zero-initialised, released with buf_free.
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

struct buf {
	char	*s;		/* the text, NUL-terminated (NULL while empty) */
	size_t	 len, cap;
	int	 failed;
};

/* Append n octets of p. */
void buf_add(struct buf *b, const char *p, size_t n);
/* Make room for n more octets; 0, or -1 (and b failed). */
int buf_reserve(struct buf *b, size_t n);
/* Append the string s. */
void buf_str(struct buf *b, const char *s);
/* Append a short formatted piece (under 512 octets; longer fails b). */
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The text (never NULL: "" when empty), or NULL if b failed; b keeps it. */
const char *buf_get(struct buf *b);
/* The text, now owned by the caller, or NULL (and b freed) if b failed. */
char *buf_take(struct buf *b);
/* Release the text and reset b. */
void buf_free(struct buf *b);

#endif
