/*
 * lectern.h -- the wire contract shared by lecternd and lectern.
 *
 * Protocol history (bump LECTERN_PROTOCOL only when an existing message
 * changes meaning; new commands, arguments and result fields need no bump):
 *   1  2026-11  first version: status, person.*, group.*, session.*,
 *               enroll, unenroll, outbox.list.
 *
 * The full protocol is documented in docs/PROTOCOL.md.
 */
#ifndef LECTERN_H
#define LECTERN_H

#ifndef LECTERN_VERSION
#define LECTERN_VERSION "0.1.0"
#endif
#define LECTERN_PROTOCOL 1

/* Default socket path when neither the config nor -s names one. */
#define LECTERN_SOCKET_DEFAULT "/run/lectern/lectern.sock"
/* Environment variable the CLI reads for the socket path. */
#define LECTERN_SOCKET_ENV "LECTERN_SOCKET"

/* Limits. */
#define LECTERN_LINE_MIN       (1024 * 1024)       /* smallest accepted line limit */
#define LECTERN_LINE_DEFAULT   (4 * 1024 * 1024)   /* default request line limit */
#define LECTERN_EMAIL_MAX      254                 /* octets (RFC 5321) */
#define LECTERN_NAME_MAX       200                 /* characters: person names */
#define LECTERN_TEXT_MAX       500                 /* characters: titles, organizations, ... */
#define LECTERN_DESC_MAX       10000               /* characters: descriptions */
#define LECTERN_URL_MAX        2000                /* octets */
#define LECTERN_TAGS_MAX       32                  /* tags per person */
#define LECTERN_TAG_MAX        64                  /* characters per tag */
#define LECTERN_DURATION_MAX   (30 * 24 * 60)      /* minutes */
#define LECTERN_REMINDERS_MAX  16                  /* reminder offsets per session */
#define LECTERN_LIST_MAX       10000               /* most rows one list returns */
#define LECTERN_ENROLL_MAX     100000              /* people named in one enroll */

/* Error codes, as they appear on the wire. Keep in sync with proto.c. */
enum lectern_error {
	LECTERN_OK = 0,
	LECTERN_E_BAD_REQUEST,
	LECTERN_E_UNKNOWN_COMMAND,
	LECTERN_E_INVALID_ARGUMENT,
	LECTERN_E_NOT_FOUND,
	LECTERN_E_CONFLICT,
	LECTERN_E_PERMISSION_DENIED,
	LECTERN_E_TOO_LARGE,
	LECTERN_E_BUSY,
	LECTERN_E_INTERNAL,
};

/* CLI exit statuses. */
#define LECTERN_EXIT_OK          0
#define LECTERN_EXIT_REFUSED     1   /* the daemon answered ok:false */
#define LECTERN_EXIT_USAGE       2
#define LECTERN_EXIT_UNAVAILABLE 69  /* EX_UNAVAILABLE: daemon unreachable */

#endif /* LECTERN_H */
