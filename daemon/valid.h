/*
 * valid.h -- validation of values from outside; pure.
 *
 * Each returns 0 when the value is acceptable, or -1 with a sentence in err
 * that names field ("email: ...").
 */
#ifndef VALID_H
#define VALID_H

#include <stddef.h>

/* 0 if s is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF), else -1. */
int valid_utf8(const char *s, size_t len);
/* Number of code points in valid UTF-8. */
size_t valid_utf8_len(const char *s);

/*
 * An email address: local@domain, at most 254 octets, ASCII printable
 * without spaces, no CR/LF/NUL/controls, no "<>()[]\,;:" or quotes, one
 * '@', a non-empty local part of at most 64 octets, a domain of dot-separated
 * labels (letters, digits, hyphens; no leading/trailing hyphen).
 */
int valid_email(const char *s, const char *field, char *err, size_t errlen);

/*
 * A line of text: valid UTF-8, 1..max code points (or 0.. if allow_empty),
 * no control characters (C0, DEL, C1), no U+2028/U+2029, no bidi
 * override/isolate controls, not only blanks. With multiline, LF (and CRLF,
 * which the caller should normalise) and TAB are allowed.
 */
int valid_text(const char *s, size_t max, int allow_empty, int multiline,
    const char *field, char *err, size_t errlen);

/* An http:// or https:// URL with a host, at most LECTERN_URL_MAX octets,
 * only printable ASCII without spaces, quotes, '<', '>', '\\'. */
int valid_url(const char *s, const char *field, char *err, size_t errlen);

/* A session kind from the protocol's list. */
int valid_kind(const char *s, const char *field, char *err, size_t errlen);
/* The comma-separated list of session kinds (for messages and --help). */
const char *valid_kinds(void);

/* A language tag: 2-3 lowercase letters, optionally "-" and 2-8 alnum ("en", "ru", "pt-br"). */
int valid_lang(const char *s, const char *field, char *err, size_t errlen);

/* A tag: 1..LECTERN_TAG_MAX characters of letters, digits, '-', '_', '.', no spaces. */
int valid_tag(const char *s, const char *field, char *err, size_t errlen);

#endif
