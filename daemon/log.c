/*
 * log.c -- lecternd's log: one line per message on stderr.
 *
 * Under systemd, stderr is a stream to journald ($JOURNAL_STREAM names its
 * device and inode); lines then carry a "<N>" priority prefix (sd-daemon(3))
 * and no timestamp, since the journal adds its own. Otherwise each line is
 * "YYYY-MM-DD HH:MM:SS lecternd[pid]: level: message". A daemon that
 * detached from its terminal logs through syslog(3) instead.
 *
 * Messages may quote values that a peer sent (an email address, a command
 * name), so every line is sanitised: control characters are written as
 * visible escapes and can neither end the line early nor forge another one.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Longest message kept; longer ones are cut and marked with "...". */
#define LOG_LINE_MAX 4096

static int log_journal;
static int log_syslog;
static enum log_level log_level = LOG_LEVEL_INFO;

static const struct {
	const char	*name;
	enum log_level	 level;
} log_levels[] = {
	{ "error", LOG_LEVEL_ERR },
	{ "warning", LOG_LEVEL_WARN },
	{ "notice", LOG_LEVEL_NOTICE },
	{ "info", LOG_LEVEL_INFO },
	{ "debug", LOG_LEVEL_DEBUG },
};

static void log_vlog(enum log_level, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

/* Open logging: detect whether stderr is connected to journald. */
void
log_init(void)
{
	const char *js;
	char *end;
	unsigned long long dev, ino;
	struct stat st;

	log_journal = 0;
	js = getenv("JOURNAL_STREAM");
	if (js == NULL || *js == '\0')
		return;
	errno = 0;
	dev = strtoull(js, &end, 10);
	if (errno != 0 || end == js || *end != ':')
		return;
	js = end + 1;
	ino = strtoull(js, &end, 10);
	if (errno != 0 || end == js || *end != '\0')
		return;
	if (fstat(STDERR_FILENO, &st) != 0)
		return;
	if ((unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino)
		log_journal = 1;
}

/* After the daemon detached from its terminal: log through syslog(3). */
void
log_use_syslog(void)
{
	openlog("lecternd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = 1;
	log_journal = 0;
}

/* Set the most verbose level that is still written. */
void
log_set_level(enum log_level level)
{
	log_level = level;
}

/* "error", "warning", "notice", "info", "debug" -> level; -1 if unknown. */
int
log_level_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof log_levels / sizeof log_levels[0]; i++) {
		if (strcasecmp(name, log_levels[i].name) == 0)
			return (int)log_levels[i].level;
	}
	return -1;
}

/* The name of a level, as log_level_parse accepts it. */
const char *
log_level_name(enum log_level level)
{
	size_t i;

	for (i = 0; i < sizeof log_levels / sizeof log_levels[0]; i++) {
		if (log_levels[i].level == level)
			return log_levels[i].name;
	}
	return "unknown";
}

/*
 * Copy src into dst (dstlen > 0), escaping C0 controls, DEL and the C1
 * controls (U+0080..U+009F, which some terminals obey) so that nothing a
 * peer supplied can start a new line or move the cursor. Returns the
 * length written.
 */
size_t
log_sanitise(char *dst, size_t dstlen, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n = 0;
	char esc[8];
	int elen;

	while (*s != '\0') {
		if (*s < 0x20 || *s == 0x7f) {
			if (*s == '\n')
				elen = snprintf(esc, sizeof esc, "\\n");
			else if (*s == '\r')
				elen = snprintf(esc, sizeof esc, "\\r");
			else if (*s == '\t')
				elen = snprintf(esc, sizeof esc, "\\t");
			else
				elen = snprintf(esc, sizeof esc, "\\x%02x", *s);
			s++;
		} else if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) {
			elen = snprintf(esc, sizeof esc, "\\u%04x", s[1]);
			s += 2;
		} else {
			esc[0] = (char)*s;
			esc[1] = '\0';
			elen = 1;
			s++;
		}
		if (elen < 0 || n + (size_t)elen >= dstlen)
			break;
		memcpy(dst + n, esc, (size_t)elen);
		n += (size_t)elen;
	}
	dst[n] = '\0';
	return n;
}

static void
log_vlog(enum log_level level, const char *fmt, va_list ap)
{
	char raw[LOG_LINE_MAX], clean[LOG_LINE_MAX], line[LOG_LINE_MAX + 128];
	char stamp[32];
	struct tm tm;
	time_t now;
	int n, saved_errno = errno;
	size_t off;

	if (level > log_level)
		return;
	n = vsnprintf(raw, sizeof raw, fmt, ap);
	if (n < 0)
		snprintf(raw, sizeof raw, "(unformattable log message)");
	else if ((size_t)n >= sizeof raw)
		memcpy(raw + sizeof raw - 4, "...", 4);
	log_sanitise(clean, sizeof clean, raw);

	if (log_syslog) {
		syslog((int)level, "%s: %s", log_level_name(level), clean);
		errno = saved_errno;
		return;
	}
	if (log_journal)
		n = snprintf(line, sizeof line, "<%d>%s\n", (int)level, clean);
	else {
		now = time(NULL);
		if (localtime_r(&now, &tm) == NULL ||
		    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm) == 0)
			snprintf(stamp, sizeof stamp, "%lld", (long long)now);
		n = snprintf(line, sizeof line, "%s lecternd[%ld]: %s: %s\n",
		    stamp, (long)getpid(), log_level_name(level), clean);
	}
	if (n < 0)
		goto out;
	if ((size_t)n >= sizeof line) {
		n = (int)sizeof line - 1;
		line[n - 1] = '\n';
	}
	/* One write per line, so concurrent writers never interleave. */
	off = 0;
	while (off < (size_t)n) {
		ssize_t w = write(STDERR_FILENO, line + off, (size_t)n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
out:
	errno = saved_errno;
}

/* Log a message at level error. */
void
log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
}

/* Log a message at level warning. */
void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_WARN, fmt, ap);
	va_end(ap);
}

/* Log a message at level notice. */
void
log_notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_NOTICE, fmt, ap);
	va_end(ap);
}

/* Log a message at level info. */
void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

/* Log a message at level debug. */
void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}

/* A broken invariant: log at level error and abort. */
void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	abort();
}
