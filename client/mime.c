/*
 * mime.c -- the iCalendar REPLY in an e-mail; pure (bytes in, bytes out).
 *
 * A calendar client answers an invitation with an e-mail to the organizer:
 * usually multipart/alternative (text/plain, text/html, text/calendar;
 * method=REPLY), sometimes inside multipart/mixed with the same REPLY as
 * an .ics attachment, base64 or quoted-printable, in any charset. The
 * message is parsed with GMime rather than by a hand-written MIME parser:
 * MIME's corners (nested multiparts, odd boundaries, broken headers,
 * transfer encodings, charsets) are where hand-written parsers go wrong,
 * and this input comes from anyone who can mail the organizer.
 */
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "cmd.h"
#include "mime.h"

/* What the walk over the parts has found so far. */
struct mime_walk {
	char	*ical;		/* the first REPLY, UTF-8 (malloc) */
	size_t	 len;
	char	*err;		/* why the first unreadable part was */
	size_t	 errlen;
	int	 failed;	/* some calendar part could not be read */
};

/* 1 if charset names UTF-8 or its subset ASCII: nothing to convert. */
static int
mime_is_utf8(const char *charset)
{
	return g_ascii_strcasecmp(charset, "utf-8") == 0 ||
	    g_ascii_strcasecmp(charset, "utf8") == 0 ||
	    g_ascii_strcasecmp(charset, "us-ascii") == 0 ||
	    g_ascii_strcasecmp(charset, "ascii") == 0;
}

/*
 * The content of part, its transfer encoding undone and converted from
 * its charset (RFC 5545: UTF-8 unless the part says otherwise) to UTF-8.
 * A new NUL-terminated string (malloc) with its length in *len, or NULL
 * with err set.
 */
static char *
mime_decode(GMimePart *part, size_t *len, char *err, size_t errlen)
{
	GMimeDataWrapper	*content;
	GMimeStream		*mem = NULL, *filtered = NULL;
	GMimeFilter		*conv;
	GByteArray		*bytes;
	const char		*charset;
	char			*text = NULL;

	charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part),
	    "charset");
	if ((content = g_mime_part_get_content(part)) == NULL) {
		snprintf(err, errlen, "a calendar part has no content");
		return NULL;
	}
	mem = g_mime_stream_mem_new();
	filtered = g_mime_stream_filter_new(mem);
	if (charset != NULL && !mime_is_utf8(charset)) {
		if ((conv = g_mime_filter_charset_new(charset, "UTF-8")) ==
		    NULL) {
			snprintf(err, errlen, "the calendar part is in an "
			    "unknown charset \"%.40s\"", charset);
			goto fail;
		}
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), conv);
		g_object_unref(conv);
	}
	if (g_mime_data_wrapper_write_to_stream(content, filtered) == -1 ||
	    g_mime_stream_flush(filtered) == -1) {
		snprintf(err, errlen, "a calendar part cannot be decoded");
		goto fail;
	}
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	if ((text = malloc(bytes->len + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	memcpy(text, bytes->data, bytes->len);
	text[bytes->len] = '\0';
	*len = bytes->len;
fail:
	g_object_unref(filtered);
	g_object_unref(mem);
	return text;
}

/* For each part: keep the first calendar part that is a REPLY. */
static void
mime_part_cb(GMimeObject *parent, GMimeObject *object, gpointer data)
{
	struct mime_walk	*w = data;
	GMimeContentType	*type;
	char			*text;
	size_t			 len;

	(void)parent;
	if (w->ical != NULL || !GMIME_IS_PART(object))
		return;
	type = g_mime_object_get_content_type(object);
	if (type == NULL ||
	    (!g_mime_content_type_is_type(type, "text", "calendar") &&
	    !g_mime_content_type_is_type(type, "application", "ics")))
		return;
	/* A part that cannot be read only matters if no other is a REPLY. */
	if ((text = mime_decode(GMIME_PART(object), &len,
	    w->failed ? NULL : w->err, w->failed ? 0 : w->errlen)) == NULL) {
		w->failed = 1;
		return;
	}
	/* The invitation quoted back, or a CANCEL, is not the answer. */
	if (cmd_ical_kind(text, len) != CMD_ICAL_REPLY) {
		free(text);
		return;
	}
	w->ical = text;
	w->len = len;
}

/* Find the REPLY in an e-mail; see mime.h. */
int
mime_find_reply(const char *msg, size_t len, char **ical, size_t *icallen,
    char *err, size_t errlen)
{
	struct mime_walk	 w = { .err = err, .errlen = errlen };
	GMimeStream		*stream;
	GMimeParser		*parser;
	GMimeMessage		*m;
	const char		*nl;
	int			 rc = -1;

	/* A message piped by procmail or an MTA may begin "From addr date". */
	if (len >= 5 && memcmp(msg, "From ", 5) == 0 &&
	    (nl = memchr(msg, '\n', len)) != NULL) {
		len -= (size_t)(nl + 1 - msg);
		msg = nl + 1;
	}
	g_mime_init();
	stream = g_mime_stream_mem_new_with_buffer(msg, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	m = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	if (m == NULL) {
		snprintf(err, errlen, "not an e-mail message (no headers)");
		goto out;
	}
	g_mime_message_foreach(m, mime_part_cb, &w);
	g_object_unref(m);
	if (w.ical == NULL) {
		rc = w.failed ? -1 : 0;
		goto out;
	}
	*ical = w.ical;
	*icallen = w.len;
	rc = 1;
out:
	g_mime_shutdown();
	return rc;
}
