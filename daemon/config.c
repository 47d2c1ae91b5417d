/*
 * config.c -- lecternd's configuration file (INI, parsed with inih).
 *
 * Debian's libinih is built without INI_HANDLER_LINENO, so the handler is
 * not told the line it is looking at. We parse with ini_parse_stream and
 * our own reader, which counts the lines it hands out: inih calls the
 * handler for the line it has just read, so the count is that line's
 * number. The reader also catches what inih would only report as "the
 * first error": over-long lines, NUL bytes, lines that are neither a
 * section nor a key, unknown sections. Every problem is reported, not
 * just the first, so that "lecternd -n" lists them all in one go.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "lectern.h"
#include "config.h"
#include "duration.h"
#include "log.h"
#include "tz.h"
#include "valid.h"

#define CONFIG_GROUP_DEFAULT	"lectern-coord"
#define CONFIG_STATE_DEFAULT	"/var/lib/lectern"
#define CONFIG_PASSWORD_MAX	4096
#define CONFIG_CREDENTIAL	"smtp-password"
#define CONFIG_MSG_MAX		1024

struct config_parse;
struct config_key;

typedef int (*config_setter)(struct config_parse *, const struct config_key *,
    const char *, char *, size_t);

struct config_key {
	const char	*section;
	const char	*name;
	config_setter	 set;
	size_t		 off;		/* offsetof(struct config, field) */
	long long	 min, max;	/* for numbers */
	int		 empty_ok;
};

struct config_parse {
	const char	*file;		/* as the caller named it, for messages */
	FILE		*fp;
	int		 lineno;
	char		*buf;
	size_t		 bufsz;
	char		*cwd;
	struct config	*cfg;
	void		(*errfn)(const char *, void *);
	void		*arg;
	int		 nproblems;
	int		 url_loopback;	/* the url's host is loopback */
	int		*lines;		/* per key: line where it was set, 0 if not */
};

static int config_set_path(struct config_parse *, const struct config_key *,
    const char *, char *, size_t);
static int config_set_group(struct config_parse *, const struct config_key *,
    const char *, char *, size_t);
static int config_set_timezone(struct config_parse *,
    const struct config_key *, const char *, char *, size_t);
static int config_set_lang(struct config_parse *, const struct config_key *,
    const char *, char *, size_t);
static int config_set_log_level(struct config_parse *,
    const struct config_key *, const char *, char *, size_t);
static int config_set_size(struct config_parse *, const struct config_key *,
    const char *, char *, size_t);
static int config_set_int(struct config_parse *, const struct config_key *,
    const char *, char *, size_t);
static int config_set_seconds(struct config_parse *,
    const struct config_key *, const char *, char *, size_t);
static int config_set_seconds64(struct config_parse *,
    const struct config_key *, const char *, char *, size_t);
static int config_set_url(struct config_parse *, const struct config_key *,
    const char *, char *, size_t);
static int config_set_from(struct config_parse *, const struct config_key *,
    const char *, char *, size_t);
static int config_set_domain(struct config_parse *, const struct config_key *,
    const char *, char *, size_t);
static int config_set_username(struct config_parse *,
    const struct config_key *, const char *, char *, size_t);
static int config_set_tls(struct config_parse *, const struct config_key *,
    const char *, char *, size_t);
static int config_set_bool(struct config_parse *, const struct config_key *,
    const char *, char *, size_t);
static int config_set_reminders(struct config_parse *,
    const struct config_key *, const char *, char *, size_t);
static int config_set_cycle(struct config_parse *, const struct config_key *,
    const char *, char *, size_t);
static int config_set_days(struct config_parse *, const struct config_key *,
    const char *, char *, size_t);
static int config_set_tenths(struct config_parse *, const struct config_key *,
    const char *, char *, size_t);
static int config_set_waitlist_order(struct config_parse *,
    const struct config_key *, const char *, char *, size_t);
static int config_set_digest(struct config_parse *, const struct config_key *,
    const char *, char *, size_t);
static int config_set_digest_to(struct config_parse *,
    const struct config_key *, const char *, char *, size_t);

#define CONFIG_OFF(f) offsetof(struct config, f)

enum {
	CONFIG_K_STATE_DIR, CONFIG_K_DATABASE, CONFIG_K_SOCKET,
	CONFIG_K_GROUP, CONFIG_K_TIMEZONE, CONFIG_K_LANG, CONFIG_K_LOG_LEVEL,
	CONFIG_K_MAX_LINE, CONFIG_K_MAX_CLIENTS, CONFIG_K_REQUEST_TIMEOUT,
	CONFIG_K_IDLE_TIMEOUT, CONFIG_K_MAX_OUTPUT,
	CONFIG_K_URL, CONFIG_K_FROM, CONFIG_K_DOMAIN, CONFIG_K_USERNAME,
	CONFIG_K_PASSWORD_FILE, CONFIG_K_TLS, CONFIG_K_MAX_CONNECTIONS,
	CONFIG_K_RETRY_INITIAL, CONFIG_K_RETRY_MAX, CONFIG_K_TEMPLATES,
	CONFIG_K_CA_FILE,
	CONFIG_K_REMINDERS, CONFIG_K_ALARM, CONFIG_K_HORIZON,
	CONFIG_K_CYCLE, CONFIG_K_DUE_SOON, CONFIG_K_MIN_HOURS,
	CONFIG_K_ATTENDANCE, CONFIG_K_WAITLIST_ORDER, CONFIG_K_NOTICES,
	CONFIG_K_DIGEST, CONFIG_K_DIGEST_TO,
	CONFIG_NKEYS
};

static const struct config_key config_keys[CONFIG_NKEYS] = {
	[CONFIG_K_STATE_DIR] = { "daemon", "state_dir", config_set_path,
	    CONFIG_OFF(state_dir), 0, 0, 0 },
	[CONFIG_K_DATABASE] = { "daemon", "database", config_set_path,
	    CONFIG_OFF(database), 0, 0, 0 },
	[CONFIG_K_SOCKET] = { "daemon", "socket", config_set_path,
	    CONFIG_OFF(socket), 0, 0, 0 },
	[CONFIG_K_GROUP] = { "daemon", "coordinator_group", config_set_group,
	    CONFIG_OFF(coordinator_group), 0, 0, 0 },
	[CONFIG_K_TIMEZONE] = { "daemon", "timezone", config_set_timezone,
	    CONFIG_OFF(timezone), 0, 0, 0 },
	[CONFIG_K_LANG] = { "daemon", "lang", config_set_lang,
	    CONFIG_OFF(lang), 0, 0, 0 },
	[CONFIG_K_LOG_LEVEL] = { "daemon", "log_level", config_set_log_level,
	    CONFIG_OFF(log_level), 0, 0, 0 },
	[CONFIG_K_MAX_LINE] = { "daemon", "max_line", config_set_size,
	    CONFIG_OFF(max_line), LECTERN_LINE_MIN, 1024LL * 1024 * 1024, 0 },
	[CONFIG_K_MAX_CLIENTS] = { "daemon", "max_clients", config_set_int,
	    CONFIG_OFF(max_clients), 1, 65536, 0 },
	[CONFIG_K_REQUEST_TIMEOUT] = { "daemon", "request_timeout",
	    config_set_seconds, CONFIG_OFF(request_timeout), 1, 86400, 0 },
	[CONFIG_K_IDLE_TIMEOUT] = { "daemon", "idle_timeout",
	    config_set_seconds, CONFIG_OFF(idle_timeout), 1, 7 * 86400, 0 },
	[CONFIG_K_MAX_OUTPUT] = { "daemon", "max_output", config_set_size,
	    CONFIG_OFF(max_output), 64 * 1024, 1024LL * 1024 * 1024, 0 },
	[CONFIG_K_URL] = { "mail", "url", config_set_url,
	    CONFIG_OFF(mail_url), 0, 0, 0 },
	[CONFIG_K_FROM] = { "mail", "from", config_set_from,
	    CONFIG_OFF(mail_from), 0, 0, 0 },
	[CONFIG_K_DOMAIN] = { "mail", "domain", config_set_domain,
	    CONFIG_OFF(domain), 0, 0, 0 },
	[CONFIG_K_USERNAME] = { "mail", "username", config_set_username,
	    CONFIG_OFF(username), 0, 0, 0 },
	[CONFIG_K_PASSWORD_FILE] = { "mail", "password_file", config_set_path,
	    CONFIG_OFF(password_file), 0, 0, 0 },
	[CONFIG_K_TLS] = { "mail", "tls", config_set_tls,
	    CONFIG_OFF(tls), 0, 0, 0 },
	[CONFIG_K_MAX_CONNECTIONS] = { "mail", "max_connections",
	    config_set_int, CONFIG_OFF(mail_max_connections), 1, 100, 0 },
	[CONFIG_K_RETRY_INITIAL] = { "mail", "retry_initial",
	    config_set_seconds64, CONFIG_OFF(retry_initial), 1, 86400, 0 },
	[CONFIG_K_RETRY_MAX] = { "mail", "retry_max", config_set_seconds64,
	    CONFIG_OFF(retry_max), 1, 7 * 86400, 0 },
	[CONFIG_K_TEMPLATES] = { "mail", "templates", config_set_path,
	    CONFIG_OFF(templates), 0, 0, 0 },
	[CONFIG_K_CA_FILE] = { "mail", "ca_file", config_set_path,
	    CONFIG_OFF(ca_file), 0, 0, 0 },
	[CONFIG_K_REMINDERS] = { "reminders", "default", config_set_reminders,
	    0, 0, 0, 1 },
	[CONFIG_K_ALARM] = { "reminders", "alarm_in_invite", config_set_bool,
	    CONFIG_OFF(alarm_in_invite), 0, 0, 0 },
	[CONFIG_K_HORIZON] = { "reminders", "horizon", config_set_seconds64,
	    CONFIG_OFF(horizon), 86400, 10LL * 366 * 86400, 0 },
	[CONFIG_K_CYCLE] = { "recertification", "cycle", config_set_cycle,
	    CONFIG_OFF(recert_cycle), 0, 0, 0 },
	[CONFIG_K_DUE_SOON] = { "recertification", "due_soon",
	    config_set_days, CONFIG_OFF(recert_due_soon), 0, 3660, 0 },
	/* Tenths: min_hours up to 10000 hours, completion_attendance %. */
	[CONFIG_K_MIN_HOURS] = { "recertification", "min_hours",
	    config_set_tenths, CONFIG_OFF(recert_min_hours), 0, 100000, 0 },
	[CONFIG_K_ATTENDANCE] = { "recertification", "completion_attendance",
	    config_set_tenths, CONFIG_OFF(recert_attendance), 1, 1000, 0 },
	[CONFIG_K_WAITLIST_ORDER] = { "recertification", "waitlist_order",
	    config_set_waitlist_order, CONFIG_OFF(recert_waitlist_due), 0, 0,
	    0 },
	[CONFIG_K_NOTICES] = { "recertification", "notices", config_set_bool,
	    CONFIG_OFF(recert_notices), 0, 0, 0 },
	[CONFIG_K_DIGEST] = { "recertification", "digest", config_set_digest,
	    CONFIG_OFF(recert_digest), 0, 0, 0 },
	[CONFIG_K_DIGEST_TO] = { "recertification", "digest_to",
	    config_set_digest_to, 0, 0, 0, 0 },
};

static const char *const config_sections[] = { "daemon", "mail", "reminders",
	"recertification" };

static void config_problem(struct config_parse *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
config_problem(struct config_parse *p, int line, const char *fmt, ...)
{
	char msg[CONFIG_MSG_MAX], clean[CONFIG_MSG_MAX], out[CONFIG_MSG_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
		snprintf(msg, sizeof msg, "(unformattable message)");
	va_end(ap);
	/* The file may hold control characters; never echo them raw. */
	log_sanitise(clean, sizeof clean, msg);
	if (line > 0)
		snprintf(out, sizeof out, "%s:%d: %s", p->file, line, clean);
	else
		snprintf(out, sizeof out, "%s: %s", p->file, clean);
	p->nproblems++;
	if (p->errfn != NULL)
		p->errfn(out, p->arg);
}

static char *
config_xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		log_fatal("out of memory");
	return d;
}

static char *
config_cat(const char *a, const char *sep, const char *b)
{
	char *d;
	size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);

	if ((d = malloc(la + ls + lb + 1)) == NULL)
		log_fatal("out of memory");
	memcpy(d, a, la);
	memcpy(d + la, sep, ls);
	memcpy(d + la + ls, b, lb + 1);
	return d;
}

/* dir "/" name, without doubling a trailing slash of dir. */
static char *
config_join(const char *dir, const char *name)
{
	size_t ld = strlen(dir);

	return config_cat(dir, ld > 0 && dir[ld - 1] == '/' ? "" : "/", name);
}

/*
 * The installed templates, or, for a lecternd run from its build tree
 * (build/lecternd), the tree's config/templates: the source tree works
 * without a "templates" line in every test configuration.
 */
static char *
config_default_templates(void)
{
	char		 exe[4096], *dir, *p;
	struct stat	 st;
	ssize_t		 n;

	if (stat(LECTERN_DATADIR "/templates", &st) == 0)
		return config_xstrdup(LECTERN_DATADIR "/templates");
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((p = strrchr(exe, '/')) != NULL) {
			*p = '\0';
			dir = config_cat(exe, "/", "../config/templates");
			if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
				return dir;
			free(dir);
		}
	}
	return config_xstrdup(LECTERN_DATADIR "/templates");
}

static char **
config_str(struct config *cfg, size_t off)
{
	return (char **)(void *)((char *)cfg + off);
}

static int
config_has_controls(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	}
	return 0;
}

/* A path, made absolute against the directory lecternd started in. */
static char *
config_abspath(struct config_parse *p, const char *path)
{
	if (path[0] == '/' || p->cwd == NULL)
		return config_xstrdup(path);
	if (path[0] == '.' && path[1] == '/')
		path += 2;
	return config_join(p->cwd, path);
}

static int
config_check_path(const char *key, const char *value, char *err,
    size_t errlen)
{
	if (*value == '\0') {
		snprintf(err, errlen, "%s: the path is empty", key);
		return -1;
	}
	if (config_has_controls(value)) {
		snprintf(err, errlen, "%s: the path contains control characters",
		    key);
		return -1;
	}
	if (strlen(value) >= PATH_MAX) {
		snprintf(err, errlen, "%s: the path is longer than %d bytes",
		    key, PATH_MAX - 1);
		return -1;
	}
	return 0;
}

static int
config_set_path(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	char **dst = config_str(p->cfg, k->off);

	if (config_check_path(k->name, value, err, errlen) == -1)
		return -1;
	free(*dst);
	*dst = config_abspath(p, value);
	return 0;
}

static int
config_set_group(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	const char *s;

	if (strlen(value) > 64) {
		snprintf(err, errlen, "%s: a group name has at most 64 "
		    "characters", k->name);
		return -1;
	}
	for (s = value; *s != '\0'; s++) {
		if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == ':' ||
		    *s == ',' || *s == '/') {
			snprintf(err, errlen, "%s: \"%s\" is not a group name",
			    k->name, value);
			return -1;
		}
	}
	free(p->cfg->coordinator_group);
	p->cfg->coordinator_group = config_xstrdup(value);
	return 0;
}

static int
config_set_timezone(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	if (config_has_controls(value) || !tz_valid(value)) {
		snprintf(err, errlen, "%s: \"%s\" is not a known IANA time zone "
		    "(such as Europe/Moscow or UTC)", k->name, value);
		return -1;
	}
	free(p->cfg->timezone);
	p->cfg->timezone = config_xstrdup(value);
	return 0;
}

static int
config_set_lang(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	if (valid_lang(value, k->name, err, errlen) == -1)
		return -1;
	free(p->cfg->lang);
	p->cfg->lang = config_xstrdup(value);
	return 0;
}

static int
config_set_log_level(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	int level = log_level_parse(value);

	if (level == -1) {
		snprintf(err, errlen, "%s: \"%s\" is not one of error, warning, "
		    "notice, info, debug", k->name, value);
		return -1;
	}
	p->cfg->log_level = level;
	return 0;
}

/* A number of bytes with an optional binary suffix k/K, M or G. */
static int
config_set_size(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	char *end;
	long long v, mult = 1;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (end == value || errno != 0 || v < 0 || value[0] == '-' ||
	    value[0] == '+')
		goto bad;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1024;
		end++;
		break;
	case 'M':
		mult = 1024 * 1024;
		end++;
		break;
	case 'G':
		mult = 1024 * 1024 * 1024;
		end++;
		break;
	default:
		goto bad;
	}
	if (*end != '\0')
		goto bad;
	if (v > k->max / mult || v * mult > k->max) {
		snprintf(err, errlen, "%s: %s is more than the largest allowed, "
		    "%lld bytes", k->name, value, k->max);
		return -1;
	}
	v *= mult;
	if (v < k->min) {
		snprintf(err, errlen, "%s: %s is less than the smallest allowed, "
		    "%lld bytes", k->name, value, k->min);
		return -1;
	}
	*(size_t *)(void *)((char *)p->cfg + k->off) = (size_t)v;
	return 0;
bad:
	snprintf(err, errlen, "%s: \"%s\" is not a size (a number of bytes, "
	    "optionally followed by k, M or G)", k->name, value);
	return -1;
}

static int
config_set_int(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (end == value || *end != '\0' || errno != 0 || value[0] == '+') {
		snprintf(err, errlen, "%s: \"%s\" is not a whole number",
		    k->name, value);
		return -1;
	}
	if (v < k->min || v > k->max) {
		snprintf(err, errlen, "%s: %ld is out of range (%lld to %lld)",
		    k->name, v, k->min, k->max);
		return -1;
	}
	*(int *)(void *)((char *)p->cfg + k->off) = (int)v;
	return 0;
}

static int
config_parse_seconds(const struct config_key *k, const char *value,
    int64_t *secs, char *err, size_t errlen)
{
	char derr[256];

	if (duration_parse(value, 1, 0, secs, derr, sizeof derr) == -1) {
		snprintf(err, errlen, "%s: %s", k->name, derr);
		return -1;
	}
	if (*secs < k->min || *secs > k->max) {
		snprintf(err, errlen, "%s: %s is out of range (%llds to %llds)",
		    k->name, value, k->min, k->max);
		return -1;
	}
	return 0;
}

static int
config_set_seconds(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	int64_t secs;

	if (config_parse_seconds(k, value, &secs, err, errlen) == -1)
		return -1;
	*(int *)(void *)((char *)p->cfg + k->off) = (int)secs;
	return 0;
}

static int
config_set_seconds64(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	int64_t secs;

	if (config_parse_seconds(k, value, &secs, err, errlen) == -1)
		return -1;
	*(int64_t *)(void *)((char *)p->cfg + k->off) = secs;
	return 0;
}

/* localhost, 127.0.0.0/8 or ::1. */
static int
config_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0 ||
	    strcasecmp(host, "localhost.") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/*
 * smtp://host[:port] or smtps://host[:port] (host a name, an IPv4 address
 * or a bracketed IPv6 address), or maildir:PATH. Written by hand: libcurl's
 * URL parser (curl_url) would accept far more than we want to allow here
 * (user info, query strings, other schemes) and only the delivery module
 * links it to do real work.
 */
static int
config_set_url(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	const char *rest, *s, *hend;
	char host[256], *end, *path;
	size_t hlen;
	long port;

	if (strncmp(value, "maildir:", 8) == 0) {
		if (config_check_path(k->name, value + 8, err, errlen) == -1)
			return -1;
		path = config_abspath(p, value + 8);
		free(p->cfg->maildir);
		free(p->cfg->mail_url);
		p->cfg->maildir = path;
		p->cfg->mail_url = config_cat("maildir:", "", path);
		p->url_loopback = 0;
		return 0;
	}
	if (strncmp(value, "smtp://", 7) == 0)
		rest = value + 7;
	else if (strncmp(value, "smtps://", 8) == 0)
		rest = value + 8;
	else {
		snprintf(err, errlen, "%s: \"%s\" must start with smtp://, "
		    "smtps:// or maildir:", k->name, value);
		return -1;
	}
	if (strchr(rest, '@') != NULL) {
		snprintf(err, errlen, "%s: put the user name in \"username\" "
		    "and the password in a password_file, not in the url",
		    k->name);
		return -1;
	}
	if (*rest == '[') {
		if ((hend = strchr(rest, ']')) == NULL)
			goto bad;
		s = rest + 1;
		hlen = (size_t)(hend - s);
		hend++;
	} else {
		hend = rest + strcspn(rest, ":/");
		s = rest;
		hlen = (size_t)(hend - s);
	}
	if (hlen == 0 || hlen >= sizeof host)
		goto bad;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (*rest == '[') {
		struct in6_addr a6;

		if (inet_pton(AF_INET6, host, &a6) != 1)
			goto bad;
	} else {
		for (s = host; *s != '\0'; s++) {
			if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			    (*s >= '0' && *s <= '9') || *s == '.' || *s == '-'))
				goto bad;
		}
	}
	s = hend;
	if (*s == ':') {
		errno = 0;
		port = strtol(s + 1, &end, 10);
		if (end == s + 1 || errno != 0 || port < 1 || port > 65535 ||
		    s[1] == '+' || s[1] == '-') {
			snprintf(err, errlen, "%s: the port in \"%s\" must be a "
			    "number from 1 to 65535", k->name, value);
			return -1;
		}
		s = end;
	}
	if (*s == '/')
		s++;
	if (*s != '\0')
		goto bad;
	free(p->cfg->maildir);
	p->cfg->maildir = NULL;
	free(p->cfg->mail_url);
	p->cfg->mail_url = config_xstrdup(value);
	p->url_loopback = config_is_loopback(host);
	return 0;
bad:
	snprintf(err, errlen, "%s: \"%s\" is not of the form smtp://host[:port], "
	    "smtps://host[:port] or maildir:PATH", k->name, value);
	return -1;
}

/*
 * "Name <addr>", "\"Name\" <addr>", "<addr>" or a bare address. The name
 * may be double-quoted, with \" and \\ inside the quotes.
 */
int
config_parse_from(const char *value, char **name, char **addr, char *err,
    size_t errlen)
{
	const char *lt, *gt, *s, *e;
	char *n = NULL, *a = NULL, *d;
	size_t len;

	*name = *addr = NULL;
	lt = strchr(value, '<');
	if (lt == NULL) {
		if (valid_email(value, "from", err, errlen) == -1)
			goto fail;
		n = config_xstrdup("");
		a = config_xstrdup(value);
		goto done;
	}
	gt = strchr(lt, '>');
	if (gt == NULL || gt[1] != '\0' || strchr(lt + 1, '<') != NULL) {
		snprintf(err, errlen, "from: \"%s\" is not of the form "
		    "Name <address>", value);
		goto fail;
	}
	len = (size_t)(gt - lt - 1);
	if ((a = malloc(len + 1)) == NULL)
		log_fatal("out of memory");
	memcpy(a, lt + 1, len);
	a[len] = '\0';
	if (valid_email(a, "from", err, errlen) == -1)
		goto fail;

	s = value;
	e = lt;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if ((n = malloc((size_t)(e - s) + 1)) == NULL)
		log_fatal("out of memory");
	d = n;
	if (e > s && *s == '"') {
		if (e - s < 2 || e[-1] != '"')
			goto badname;
		for (s++, e--; s < e; s++) {
			if (*s == '\\' && s + 1 < e)
				s++;
			else if (*s == '"' || *s == '\\')
				goto badname;
			*d++ = *s;
		}
	} else {
		for (; s < e; s++) {
			if (*s == '"' || *s == '>')
				goto badname;
			*d++ = *s;
		}
	}
	*d = '\0';
	if (*n != '\0' && valid_text(n, LECTERN_NAME_MAX, 0, 0, "from", err,
	    errlen) == -1)
		goto fail;
done:
	*name = n;
	*addr = a;
	return 0;
badname:
	snprintf(err, errlen, "from: the name in \"%s\" has a stray quote or "
	    "'>'; write it as \"Name\" <address>", value);
fail:
	free(n);
	free(a);
	return -1;
}

static int
config_set_from(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	char *name, *addr;

	(void)k;
	if (config_parse_from(value, &name, &addr, err, errlen) == -1)
		return -1;
	free(p->cfg->mail_from);
	free(p->cfg->mail_from_name);
	free(p->cfg->mail_from_addr);
	p->cfg->mail_from = config_xstrdup(value);
	p->cfg->mail_from_name = name;
	p->cfg->mail_from_addr = addr;
	return 0;
}

static int
config_valid_domain(const char *value, const char *key, char *err,
    size_t errlen)
{
	char probe[300], verr[256];

	/* A domain is valid exactly when it is valid after '@'. */
	if (strlen(value) > 253 || snprintf(probe, sizeof probe, "x@%s",
	    value) >= (int)sizeof probe ||
	    valid_email(probe, key, verr, sizeof verr) == -1) {
		snprintf(err, errlen, "%s: \"%s\" is not a domain name", key,
		    value);
		return -1;
	}
	return 0;
}

static int
config_set_domain(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	if (config_valid_domain(value, k->name, err, errlen) == -1)
		return -1;
	free(p->cfg->domain);
	p->cfg->domain = config_xstrdup(value);
	return 0;
}

static int
config_set_username(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	if (strlen(value) > 256 || valid_utf8(value, strlen(value)) != 0 ||
	    config_has_controls(value)) {
		snprintf(err, errlen, "%s: must be at most 256 bytes of UTF-8 "
		    "without control characters", k->name);
		return -1;
	}
	free(p->cfg->username);
	p->cfg->username = config_xstrdup(value);
	return 0;
}

static int
config_set_tls(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "required") == 0)
		p->cfg->tls = CONFIG_TLS_REQUIRED;
	else if (strcmp(value, "opportunistic") == 0)
		p->cfg->tls = CONFIG_TLS_OPPORTUNISTIC;
	else if (strcmp(value, "none") == 0)
		p->cfg->tls = CONFIG_TLS_NONE;
	else {
		snprintf(err, errlen, "%s: \"%s\" is not one of required, "
		    "opportunistic, none", k->name, value);
		return -1;
	}
	return 0;
}

/* yes/no/true/false/on/off/1/0 -> 1 or 0; -1 if none of them. */
int
config_parse_bool(const char *value)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(value, yes[i]) == 0)
			return 1;
		if (strcasecmp(value, no[i]) == 0)
			return 0;
	}
	return -1;
}

static int
config_set_bool(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	int v = config_parse_bool(value);

	if (v == -1) {
		snprintf(err, errlen, "%s: \"%s\" is not yes or no", k->name,
		    value);
		return -1;
	}
	*(int *)(void *)((char *)p->cfg + k->off) = v;
	return 0;
}

static int
config_set_reminders(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	int64_t v[LECTERN_REMINDERS_MAX];
	char derr[256];
	int n, i;

	/* Bare numbers are minutes, as reminders are in the protocol. */
	n = duration_parse_list(value, 60, v, LECTERN_REMINDERS_MAX, derr,
	    sizeof derr);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", k->name, derr);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (v[i] % 60 != 0 || v[i] < 60 || v[i] > 525600LL * 60) {
			snprintf(err, errlen, "%s: each reminder must be whole "
			    "minutes, from 1m to 365d", k->name);
			return -1;
		}
	}
	memcpy(p->cfg->reminders, v, (size_t)n * sizeof v[0]);
	p->cfg->nreminders = (size_t)n;
	return 0;
}

static int
config_set_cycle(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	return recert_parse_cycle(value, k->name, &p->cfg->recert_cycle, err,
	    errlen);
}

/* A number of whole days: "180d", "26w" or a bare "180". */
static int
config_set_days(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	int64_t secs;
	char derr[256];

	if (duration_parse(value, 86400, 1, &secs, derr, sizeof derr) == -1) {
		snprintf(err, errlen, "%s: %s", k->name, derr);
		return -1;
	}
	if (secs % 86400 != 0) {
		snprintf(err, errlen, "%s: \"%s\" is not a whole number of days "
		    "(write days, such as 180d)", k->name, value);
		return -1;
	}
	if (secs / 86400 < k->min || secs / 86400 > k->max) {
		snprintf(err, errlen, "%s: %s is out of range (%lld to %lld "
		    "days)", k->name, value, k->min, k->max);
		return -1;
	}
	*(int64_t *)(void *)((char *)p->cfg + k->off) = secs / 86400;
	return 0;
}

/*
 * A number with at most one decimal, kept in tenths: min_hours ("7.5"),
 * or completion_attendance, a share in percent ("75%", "66.7%").
 */
static int
config_set_tenths(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	const char *s = value;
	long long v = 0;
	int digits = 0, percent = strcmp(k->name, "completion_attendance") == 0;

	for (; *s >= '0' && *s <= '9'; s++) {
		if (++digits > 7)
			goto bad;
		v = v * 10 + (*s - '0');
	}
	v *= 10;
	if (*s == '.' && s[1] >= '0' && s[1] <= '9') {
		v += s[1] - '0';
		s += 2;
	}
	if (percent && *s == '%')
		s++;
	if (digits == 0 || *s != '\0')
		goto bad;
	if (v < k->min || v > k->max) {
		snprintf(err, errlen, "%s: %s is out of range (%lld.%lld to "
		    "%lld%s)", k->name, value, k->min / 10, k->min % 10,
		    k->max / 10, percent ? "%" : "");
		return -1;
	}
	*(int64_t *)(void *)((char *)p->cfg + k->off) = v;
	return 0;
bad:
	snprintf(err, errlen, percent ? "%s: \"%s\" is not a share such as "
	    "75%%" : "%s: \"%s\" is not a number of hours such as 16 or 7.5",
	    k->name, value);
	return -1;
}

static int
config_set_waitlist_order(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "fifo") == 0)
		p->cfg->recert_waitlist_due = 0;
	else if (strcmp(value, "due_date") == 0)
		p->cfg->recert_waitlist_due = 1;
	else {
		snprintf(err, errlen, "%s: \"%s\" is not fifo or due_date",
		    k->name, value);
		return -1;
	}
	return 0;
}

static int
config_set_digest(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "monthly") == 0)
		p->cfg->recert_digest = CONFIG_DIGEST_MONTHLY;
	else if (strcmp(value, "weekly") == 0)
		p->cfg->recert_digest = CONFIG_DIGEST_WEEKLY;
	else if (strcmp(value, "off") == 0)
		p->cfg->recert_digest = CONFIG_DIGEST_OFF;
	else {
		snprintf(err, errlen, "%s: \"%s\" is not monthly, weekly or off",
		    k->name, value);
		return -1;
	}
	return 0;
}

static void
config_digest_to_clear(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->recert_ndigest_to; i++) {
		free(cfg->recert_digest_to[i]);
		cfg->recert_digest_to[i] = NULL;
	}
	cfg->recert_ndigest_to = 0;
}

/* Comma-separated bare addresses, each valid; at most CONFIG_DIGEST_TO_MAX. */
static int
config_set_digest_to(struct config_parse *p, const struct config_key *k,
    const char *value, char *err, size_t errlen)
{
	struct config *cfg = p->cfg;
	char addr[LECTERN_EMAIL_MAX + 1], verr[256];
	const char *s = value, *e, *end;
	size_t n;

	config_digest_to_clear(cfg);
	for (;;) {
		e = s + strcspn(s, ",");
		end = e;
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		n = (size_t)(end - s);
		if (n == 0 || n > LECTERN_EMAIL_MAX) {
			snprintf(err, errlen, "%s: an address in the list is "
			    "%s", k->name, n == 0 ? "empty" : "too long");
			goto fail;
		}
		memcpy(addr, s, n);
		addr[n] = '\0';
		if (valid_email(addr, k->name, verr, sizeof verr) == -1) {
			snprintf(err, errlen, "%s", verr);
			goto fail;
		}
		if (cfg->recert_ndigest_to == CONFIG_DIGEST_TO_MAX) {
			snprintf(err, errlen, "%s: at most %d addresses",
			    k->name, CONFIG_DIGEST_TO_MAX);
			goto fail;
		}
		cfg->recert_digest_to[cfg->recert_ndigest_to++] =
		    config_xstrdup(addr);
		if (*e == '\0')
			break;
		s = e + 1;
	}
	return 0;
fail:
	config_digest_to_clear(cfg);
	return -1;
}

static int
config_section_known(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof config_sections / sizeof config_sections[0];
	    i++) {
		if (strcmp(name, config_sections[i]) == 0)
			return 1;
	}
	return 0;
}

/*
 * The ini_reader: fgets-like, one line per call, counted. A line we find
 * fault with is reported here and handed to inih as an empty line, so that
 * inih neither reports it again nor calls the handler for it.
 */
static char *
config_reader_cb(char *str, int num, void *stream)
{
	struct config_parse *p = stream;
	ssize_t n;
	size_t len;
	char *s, *rb, *name;

	n = getline(&p->buf, &p->bufsz, p->fp);
	if (n < 0) {
		if (ferror(p->fp))
			config_problem(p, p->lineno + 1, "read error: %s",
			    strerror(errno));
		return NULL;
	}
	p->lineno++;
	s = p->buf;
	len = (size_t)n;
	if (memchr(s, '\0', len) != NULL) {
		config_problem(p, p->lineno, "the line contains a NUL byte");
		goto empty;
	}
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	if (p->lineno == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		len -= 3;
	}
	/*
	 * Leading blanks are dropped before inih sees the line: inih would
	 * take an indented line as the continuation of the previous value
	 * (INI_ALLOW_MULTILINE), and values never span lines here.
	 */
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	if (len + 2 > (size_t)num) {
		config_problem(p, p->lineno, "the line is longer than %d "
		    "characters", num - 2);
		goto empty;
	}
	if (len == 0 || *s == ';' || *s == '#')
		goto copy;
	if (*s == '[') {
		if ((rb = strchr(s, ']')) == NULL) {
			config_problem(p, p->lineno, "a section header needs a "
			    "closing ']'");
			goto empty;
		}
		/* Not trimmed: inih passes the name exactly as written. */
		*rb = '\0';
		name = s + 1;
		if (!config_section_known(name))
			config_problem(p, p->lineno, "unknown section [%s]: "
			    "the sections are [daemon], [mail], [reminders] and "
			    "[recertification]",
			    name);
		*rb = ']';
		goto copy;
	}
	if (strpbrk(s, "=:") == NULL) {
		config_problem(p, p->lineno, "expected \"key = value\" or "
		    "\"[section]\"");
		goto empty;
	}
copy:
	memcpy(str, s, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
empty:
	str[0] = '\n';
	str[1] = '\0';
	return str;
}

static int
config_handler_cb(void *user, const char *section, const char *name,
    const char *value)
{
	struct config_parse *p = user;
	const struct config_key *k = NULL;
	char err[CONFIG_MSG_MAX];
	size_t i;

	if (*section == '\0') {
		config_problem(p, p->lineno, "\"%s\" is outside of any section: "
		    "put it under [daemon], [mail], [reminders] or "
		    "[recertification]", name);
		return 1;
	}
	if (!config_section_known(section))
		return 1;	/* reported at its header */
	if (*name == '\0') {
		config_problem(p, p->lineno, "the key name is missing before "
		    "'='");
		return 1;
	}
	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0) {
			k = &config_keys[i];
			break;
		}
	}
	if (k == NULL) {
		config_problem(p, p->lineno, "unknown key \"%s\" in [%s]", name,
		    section);
		return 1;
	}
	if (p->lines[i] != 0) {
		config_problem(p, p->lineno, "duplicate key \"%s\" in [%s] "
		    "(first set on line %d)", name, section, p->lines[i]);
		return 1;
	}
	p->lines[i] = p->lineno;
	if (*value == '\0' && !k->empty_ok) {
		config_problem(p, p->lineno, "%s: the value is empty", name);
		return 1;
	}
	if (k->set(p, k, value, err, sizeof err) == -1)
		config_problem(p, p->lineno, "%s", err);
	return 1;
}

/* The first directory of a colon-separated systemd directory list. */
static char *
config_env_dir(struct config_parse *p, const char *var)
{
	const char *v = getenv(var);
	char *d, *colon;

	if (v == NULL || *v == '\0' || config_has_controls(v))
		return NULL;
	d = config_abspath(p, v);
	if ((colon = strchr(d, ':')) != NULL)
		*colon = '\0';
	return d;
}

static void
config_read_password(struct config_parse *p, const char *path, int line)
{
	struct config *cfg = p->cfg;
	struct stat st;
	char buf[CONFIG_PASSWORD_MAX + 2];
	ssize_t n;
	size_t len = 0, i;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		config_problem(p, line, "password_file: cannot open %s: %s",
		    path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		config_problem(p, line, "password_file: %s is not a regular "
		    "file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		config_problem(p, line, "password_file: %s has mode %04o, which "
		    "lets group or others read it; run \"chmod 600 %s\"", path,
		    (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	while (len < sizeof buf) {
		n = read(fd, buf + len, sizeof buf - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			config_problem(p, line, "password_file: cannot read "
			    "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len > CONFIG_PASSWORD_MAX) {
		config_problem(p, line, "password_file: %s is longer than %d "
		    "bytes", path, CONFIG_PASSWORD_MAX);
		goto out;
	}
	if (len == 0) {
		config_problem(p, line, "password_file: %s is empty", path);
		goto out;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
			config_problem(p, line, "password_file: %s holds more "
			    "than one line or a control character", path);
			goto out;
		}
	}
	free(cfg->password);
	if ((cfg->password = malloc(len + 1)) == NULL)
		log_fatal("out of memory");
	memcpy(cfg->password, buf, len);
	cfg->password[len] = '\0';
out:
	explicit_bzero(buf, sizeof buf);
	close(fd);
}

static void
config_default_from(struct config *cfg)
{
	char host[256], from[300], err[256], full[320];

	if (gethostname(host, sizeof host) == -1)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	if (host[0] == '\0' ||
	    snprintf(from, sizeof from, "lectern@%s", host) >= (int)sizeof from ||
	    valid_email(from, "from", err, sizeof err) == -1)
		snprintf(from, sizeof from, "lectern@localhost");
	cfg->mail_from_name = config_xstrdup("lectern");
	cfg->mail_from_addr = config_xstrdup(from);
	snprintf(full, sizeof full, "lectern <%s>", from);
	cfg->mail_from = config_xstrdup(full);
}

/* Fill in what the file left out and check what spans several keys. */
static void
config_finish(struct config_parse *p)
{
	struct config *cfg = p->cfg;
	struct sockaddr_un sun;
	struct group *gr;
	struct stat st;
	const char *at;
	char *cred;

	if (cfg->state_dir == NULL &&
	    (cfg->state_dir = config_env_dir(p, "STATE_DIRECTORY")) == NULL)
		cfg->state_dir = config_xstrdup(CONFIG_STATE_DEFAULT);
	if (cfg->database == NULL)
		cfg->database = config_join(cfg->state_dir, "lectern.db");
	if (cfg->socket == NULL) {
		char *rd = config_env_dir(p, "RUNTIME_DIRECTORY");

		if (rd != NULL) {
			cfg->socket = config_join(rd, "lectern.sock");
			free(rd);
		} else
			cfg->socket = config_xstrdup(LECTERN_SOCKET_DEFAULT);
	}
	if (strlen(cfg->socket) >= sizeof sun.sun_path)
		config_problem(p, p->lines[CONFIG_K_SOCKET], "socket: the path "
		    "%s is longer than %zu bytes, the most a Unix socket "
		    "address holds", cfg->socket, sizeof sun.sun_path - 1);

	if (cfg->coordinator_group == NULL)
		cfg->coordinator_group = config_xstrdup(CONFIG_GROUP_DEFAULT);
	gr = getgrnam(cfg->coordinator_group);
	cfg->coordinator_gid = gr != NULL ? gr->gr_gid : (gid_t)-1;

	if (cfg->timezone == NULL) {
		const char *z = tz_system_zone();

		cfg->timezone = config_xstrdup(z != NULL && tz_valid(z) ? z :
		    "UTC");
	}
	if (cfg->lang == NULL)
		cfg->lang = config_xstrdup("en");

	if (cfg->templates == NULL)
		cfg->templates = config_default_templates();
	if (cfg->mail_url == NULL) {
		cfg->maildir = config_join(cfg->state_dir, "maildir");
		cfg->mail_url = config_cat("maildir:", "", cfg->maildir);
	}
	if (cfg->mail_from == NULL)
		config_default_from(cfg);
	if (cfg->domain == NULL && cfg->mail_from_addr != NULL &&
	    (at = strrchr(cfg->mail_from_addr, '@')) != NULL)
		cfg->domain = config_xstrdup(at + 1);
	if (p->lines[CONFIG_K_TLS] == 0)
		cfg->tls = p->url_loopback ? CONFIG_TLS_OPPORTUNISTIC :
		    CONFIG_TLS_REQUIRED;

	if (cfg->ca_file != NULL && access(cfg->ca_file, R_OK) == -1)
		config_problem(p, p->lines[CONFIG_K_CA_FILE],
		    "ca_file: cannot read %s: %s", cfg->ca_file,
		    strerror(errno));
	if (cfg->password_file != NULL)
		config_read_password(p, cfg->password_file,
		    p->lines[CONFIG_K_PASSWORD_FILE]);
	else if ((cred = config_env_dir(p, "CREDENTIALS_DIRECTORY")) != NULL) {
		/* systemd's LoadCredential=smtp-password:... */
		char *path = config_join(cred, CONFIG_CREDENTIAL);

		free(cred);
		if (stat(path, &st) == 0) {
			cfg->password_file = path;
			config_read_password(p, path, 0);
		} else
			free(path);
	}
	if (cfg->password != NULL && cfg->username == NULL)
		config_problem(p, p->lines[CONFIG_K_PASSWORD_FILE], "there is "
		    "a password (%s) but no [mail] username to go with it",
		    cfg->password_file);
	if (cfg->username != NULL && cfg->password == NULL &&
	    cfg->password_file == NULL)
		config_problem(p, p->lines[CONFIG_K_USERNAME], "username: "
		    "there is no password for it: set password_file, or pass "
		    "the systemd credential \"%s\"", CONFIG_CREDENTIAL);
	if (cfg->retry_initial > cfg->retry_max)
		config_problem(p, p->lines[CONFIG_K_RETRY_MAX] != 0 ?
		    p->lines[CONFIG_K_RETRY_MAX] :
		    p->lines[CONFIG_K_RETRY_INITIAL], "retry_initial (%llds) "
		    "is longer than retry_max (%llds)",
		    (long long)cfg->retry_initial, (long long)cfg->retry_max);
}

/* Load path (NULL: no file, the built-in defaults) into cfg. */
int
config_load(const char *path, struct config *cfg,
    void (*errfn)(const char *msg, void *arg), void *arg)
{
	struct config_parse p;
	int lines[CONFIG_NKEYS] = { 0 }, rc;

	memset(cfg, 0, sizeof *cfg);
	cfg->coordinator_gid = (gid_t)-1;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->max_line = LECTERN_LINE_DEFAULT;
	cfg->max_clients = 256;
	cfg->request_timeout = 10;
	cfg->idle_timeout = 300;
	cfg->max_output = 16 * 1024 * 1024;
	cfg->tls = CONFIG_TLS_REQUIRED;
	cfg->mail_max_connections = 4;
	cfg->retry_initial = 60;
	cfg->retry_max = 3600;
	cfg->reminders[0] = 86400;
	cfg->reminders[1] = 3600;
	cfg->nreminders = 2;
	cfg->alarm_in_invite = 0;
	cfg->horizon = 365LL * 86400;
	cfg->recert_cycle.months = 36;
	cfg->recert_due_soon = 180;
	cfg->recert_attendance = 750;
	cfg->recert_notices = 1;
	cfg->recert_digest = CONFIG_DIGEST_MONTHLY;

	memset(&p, 0, sizeof p);
	p.file = path != NULL ? path : "(built-in defaults)";
	p.cfg = cfg;
	p.errfn = errfn;
	p.arg = arg;
	p.lines = lines;
	p.cwd = getcwd(NULL, 0);
	if (p.cwd == NULL)
		config_problem(&p, 0, "cannot find the current directory: %s",
		    strerror(errno));

	if (path != NULL) {
		if ((p.fp = fopen(path, "re")) == NULL) {
			config_problem(&p, 0, "cannot open: %s", strerror(errno));
			goto done;
		}
		cfg->path = config_abspath(&p, path);
		rc = ini_parse_stream(config_reader_cb, &p, config_handler_cb,
		    &p);
		if (rc == -2)
			log_fatal("out of memory");
		else if (rc > 0)
			config_problem(&p, rc, "syntax error");
		fclose(p.fp);
	}
	config_finish(&p);
done:
	free(p.buf);
	free(p.cwd);
	return p.nproblems;
}

/* Release what config_load allocated. */
void
config_cleanup(struct config *cfg)
{
	if (cfg->password != NULL) {
		explicit_bzero(cfg->password, strlen(cfg->password));
		free(cfg->password);
	}
	free(cfg->path);
	free(cfg->state_dir);
	free(cfg->database);
	free(cfg->socket);
	free(cfg->coordinator_group);
	free(cfg->timezone);
	free(cfg->lang);
	free(cfg->mail_url);
	free(cfg->maildir);
	free(cfg->mail_from);
	free(cfg->mail_from_name);
	free(cfg->mail_from_addr);
	free(cfg->domain);
	free(cfg->username);
	free(cfg->password_file);
	free(cfg->templates);
	free(cfg->ca_file);
	config_digest_to_clear(cfg);
	memset(cfg, 0, sizeof *cfg);
	cfg->coordinator_gid = (gid_t)-1;
}
