/*
 * mime.h -- the iCalendar REPLY in an e-mail, found with GMime; pure.
 */
#ifndef MIME_H
#define MIME_H

#include <stddef.h>

/*
 * Find the first text/calendar (or application/ics) part of the e-mail
 * msg (len octets, RFC 5322, an mbox "From " line allowed first) whose
 * content is a VCALENDAR with METHOD:REPLY; undo its transfer encoding
 * and convert it from its charset to UTF-8. Returns 1 with the text in
 * *ical (NUL-terminated, *icallen octets; the caller frees it), 0 when
 * there is no such part, or -1 with err set when the message or the part
 * cannot be read. A cmd_mail_fn (cmd.h).
 */
int mime_find_reply(const char *msg, size_t len, char **ical,
    size_t *icallen, char *err, size_t errlen);

#endif
