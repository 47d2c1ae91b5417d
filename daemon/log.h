/*
 * log.h -- logging to stderr (journald priorities or timestamps).
 *
 * Never log a password, an SMTP credential or a message body: the log is
 * read by people who may not read the mail. Values that a peer sent may be
 * logged; every line is sanitised (control characters escaped) so that
 * such a value cannot forge a log line.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_LEVEL_ERR = 3, LOG_LEVEL_WARN = 4, LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6, LOG_LEVEL_DEBUG = 7 };

/* Open logging. Detects journald through $JOURNAL_STREAM. */
void log_init(void);
/* After detaching from the terminal: send lines to syslog(3) instead. */
void log_use_syslog(void);
void log_set_level(enum log_level level);
/* "error", "warning", "notice", "info", "debug" -> level; -1 if unknown. */
int log_level_parse(const char *name);
/* The name of a level ("info"); a static string. */
const char *log_level_name(enum log_level level);
/* Copy src into dst with control characters escaped; returns the length. */
size_t log_sanitise(char *dst, size_t dstlen, const char *src);

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A broken invariant: log and abort. Never for anything a peer sent. */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
