/* config.h -- lecternd's configuration (INI, parsed with inih). */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "recert.h"

enum config_tls { CONFIG_TLS_REQUIRED, CONFIG_TLS_OPPORTUNISTIC, CONFIG_TLS_NONE };
enum config_digest { CONFIG_DIGEST_MONTHLY, CONFIG_DIGEST_WEEKLY, CONFIG_DIGEST_OFF };

/* Most addresses in [recertification] digest_to. */
#define CONFIG_DIGEST_TO_MAX	32

struct config {
	char *path;			/* the file this came from (absolute) */

	/* [daemon] */
	char *state_dir;		/* default $STATE_DIRECTORY or /var/lib/lectern */
	char *database;			/* default <state_dir>/lectern.db */
	char *socket;			/* default $RUNTIME_DIRECTORY/lectern.sock or LECTERN_SOCKET_DEFAULT */
	char *coordinator_group;	/* default "lectern-coord" */
	gid_t coordinator_gid;		/* resolved; (gid_t)-1 if the group does not exist */
	char *timezone;			/* default tz_system_zone() */
	char *lang;			/* default language of mail text, "en" */
	int log_level;			/* enum log_level, default info */
	size_t max_line;		/* request line limit, default LECTERN_LINE_DEFAULT */
	int max_clients;		/* concurrent connections, default 256 */
	int request_timeout;		/* seconds to receive one whole request, default 10 */
	int idle_timeout;		/* seconds a quiet connection is kept, default 300 */
	size_t max_output;		/* queued reply bytes per connection, default 16 MiB */

	/* [mail] */
	char *mail_url;			/* smtp://host:port, smtps://..., maildir:PATH (PATH made absolute) */
	char *maildir;			/* the absolute PATH of a maildir: url, else NULL */
	char *mail_from;		/* "Name <address>" as written */
	char *mail_from_name;		/* parsed display name (may be "") */
	char *mail_from_addr;		/* parsed bare address */
	char *domain;			/* for UIDs, Message-IDs, EHLO; default: from's domain */
	char *username;
	char *password_file;
	char *password;			/* read from password_file at load, never logged */
	enum config_tls tls;		/* default required, opportunistic for loopback */
	int mail_max_connections;	/* default 4 */
	int64_t retry_initial;		/* seconds, default 60 */
	int64_t retry_max;		/* seconds, default 3600 */
	char *ca_file;			/* PEM CA bundle for the server's certificate; NULL: the system's */
	char *templates;		/* mail templates: <templates>/<lang>/; default LECTERN_DATADIR "/templates" */

	/* [reminders] */
	int64_t reminders[16];		/* seconds before start */
	size_t nreminders;		/* default: 1d, 1h */
	int alarm_in_invite;		/* default 0 */
	int64_t horizon;		/* series expanded this far ahead; 365d */

	/* [recertification] */
	struct recert_cycle recert_cycle;	/* default 3y */
	int64_t recert_due_soon;	/* days, default 180 */
	int64_t recert_min_hours;	/* tenths of an hour, default 0 */
	int64_t recert_attendance;	/* completion_attendance, tenths of a percent, default 750 */
	int recert_waitlist_due;	/* waitlist_order = due_date (default fifo: 0) */
	int recert_notices;		/* default 1 */
	enum config_digest recert_digest;	/* default monthly */
	char *recert_digest_to[CONFIG_DIGEST_TO_MAX];	/* bare addresses; none: no digest */
	size_t recert_ndigest_to;
};

/*
 * Load path into cfg (which is initialised here); path NULL gives the
 * built-in defaults (no file). Every problem is
 * reported through errfn as "file:line: message" (just "file: message"
 * when the problem is not on one line); returns the number of problems, 0 when cfg is
 * usable. Relative paths in the file are made absolute against the
 * current directory.
 */
int config_load(const char *path, struct config *cfg,
    void (*errfn)(const char *msg, void *arg), void *arg);
/*
 * Split a From value ("Name <addr>", "\"Name\" <addr>", "<addr>" or a
 * bare address) into *name (may be "") and *addr, both malloc'd and owned
 * by the caller. Returns 0, or -1 with a sentence in err.
 */
int config_parse_from(const char *value, char **name, char **addr,
    char *err, size_t errlen);
/* yes/no/true/false/on/off/1/0 (any case) -> 1 or 0; -1 if none of them. */
int config_parse_bool(const char *value);
/* Release what config_load allocated; cfg may be zeroed or half-loaded. */
void config_cleanup(struct config *cfg);

#endif
