/*
 * notices.c -- the daily recertification run; see notices.h.
 *
 * Once at start-up and then every day at NOTICES_HOUR in the daemon's
 * zone, one pass over everyone (store_recert_scan, in a read
 * transaction) finds the people whose status is due_soon and, for the
 * digest, the status counts, the overdue list and the coverage. The pass
 * reads a few hundred milliseconds' worth over a large district, so it
 * runs on the reader thread (offload.c) when there is one; it touches
 * nothing there but the store and its own job. Each notice is queued
 * in the same transaction as its row in recert_notices, keyed by (person,
 * due day): a restart, a second run on the same day or a crash between
 * two transactions never sends one twice, and a new completion moves the
 * due day, so the next due_soon gets its own notice. Notices go out
 * NOTICES_BATCH per transaction, one batch per wake-up, so that a first
 * run over a large district leaves the loop free for clients in between.
 * The digest, once the notices are done, is one transaction with its row
 * in recert_digests, keyed by the period (month or ISO week).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "config.h"
#include "delivery.h"
#include "log.h"
#include "mail.h"
#include "notices.h"
#include "offload.h"
#include "notify.h"
#include "recert.h"
#include "store.h"
#include "tz.h"
#include "wake.h"

#define NOTICES_HOUR	"06:00"	/* the daily run, in the daemon's zone */
#define NOTICES_BATCH	32	/* notices per transaction and wake-up */
#define NOTICES_RETRY	60	/* seconds, after a busy database */
#define NOTICES_LATE	200	/* overdue people named in a digest */

/* A person who may need a notice. */
struct notices_one {
	int64_t	 person, due, days_left, last, last_id;
};

/* An overdue person for the digest. */
struct notices_late {
	char	*name, *email, *organization;
	int64_t	 due, days;
};

/* One run: what the scan found and how far the notices got. */
struct notices_run {
	int64_t			 today;
	struct notices_one	*due;		/* due_soon people */
	size_t			 ndue, capdue, next;
	struct notices_late	*late;
	size_t			 nlate, caplate;
	int64_t			 counts[RECERT_NSTATUS];
	struct store_coverage_row *groups;	/* the digest's coverage */
	size_t			 ngroups;
	int			 coverage;	/* groups were read */
	int			 active;	/* notices of this run remain */
};

/* The scan as a job for the reader thread (or run in place). */
struct notices_job {
	struct notices_run	 run;
	char			 day[16], from[16];
	int			 digest;	/* read the coverage too */
	enum lectern_error	 code;
	char			 err[256];
};

static const struct config	*notices_cfg;
static int			 notices_started;
static int64_t			 notices_next_run;	/* UTC; 0: none */
static int64_t			 notices_sent;		/* rows in recert_notices */
static char			 notices_last_digest[16];
static struct notices_run	 notices_run;
static int			 notices_scanning;	/* a job is out */

static int notices_wanted(void);

void
notices_set_config(const struct config *cfg)
{
	notices_cfg = cfg;
	/* Turned on by a reload: the run is due now. */
	if (notices_started && notices_next_run == 0 && notices_wanted()) {
		notices_next_run = clock_now();
		wake_set(WAKE_RECERT, notices_next_run);
	}
}

static int
notices_wanted(void)
{
	/* A digest goes only where digest_to says: it names people. */
	return notices_cfg != NULL && (notices_cfg->recert_notices ||
	    (notices_cfg->recert_digest != CONFIG_DIGEST_OFF &&
	    notices_cfg->recert_ndigest_to > 0));
}

static const char *
notices_zone(void)
{
	return notices_cfg != NULL && notices_cfg->timezone != NULL ?
	    notices_cfg->timezone : "UTC";
}

static void
notices_run_free(struct notices_run *r)
{
	size_t	 i;

	for (i = 0; i < r->nlate; i++) {
		free(r->late[i].name);
		free(r->late[i].email);
		free(r->late[i].organization);
	}
	free(r->late);
	free(r->due);
	store_coverage_free(r->groups, r->ngroups);
	memset(r, 0, sizeof *r);
}

static char *
notices_strdup(const char *s)
{
	char	*d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		log_fatal("notices: out of memory");
	return d;
}

static int
notices_scan_cb(const struct store_recert_row *sr, void *arg)
{
	struct notices_run	*r = arg;
	struct notices_one	*o;
	struct notices_late	*l;
	int64_t			 last = 0, due = 0;
	int			 has, st;

	has = sr->last_on != NULL && recert_parse_day(sr->last_on, &last) == 0;
	st = recert_status(has, last, r->today, &notices_cfg->recert_cycle,
	    notices_cfg->recert_due_soon, &due);
	r->counts[st]++;
	if (st == RECERT_DUE_SOON && notices_cfg->recert_notices) {
		if (r->ndue == r->capdue) {
			r->capdue = r->capdue ? r->capdue * 2 : 64;
			if ((r->due = reallocarray(r->due, r->capdue,
			    sizeof *r->due)) == NULL)
				log_fatal("notices: out of memory");
		}
		o = &r->due[r->ndue++];
		o->person = sr->person_id;
		o->due = due;
		o->days_left = due - r->today;
		o->last = last;
		o->last_id = sr->last_id;
	}
	if (st == RECERT_OVERDUE &&
	    notices_cfg->recert_digest != CONFIG_DIGEST_OFF &&
	    notices_cfg->recert_ndigest_to > 0) {
		if (r->nlate == r->caplate) {
			r->caplate = r->caplate ? r->caplate * 2 : 64;
			if ((r->late = reallocarray(r->late, r->caplate,
			    sizeof *r->late)) == NULL)
				log_fatal("notices: out of memory");
		}
		l = &r->late[r->nlate++];
		l->name = notices_strdup(sr->name);
		l->email = notices_strdup(sr->email);
		l->organization = notices_strdup(sr->organization);
		l->due = due;
		l->days = r->today - due;
	}
	return 0;
}

/* The most overdue first, then by name. */
static int
notices_late_cmp(const void *a, const void *b)
{
	const struct notices_late	*x = a, *y = b;
	int				 c;

	if (x->due != y->due)
		return x->due < y->due ? -1 : 1;
	if ((c = strcmp(x->name != NULL ? x->name : "", y->name != NULL ?
	    y->name : "")) != 0)
		return c;
	return strcmp(x->email != NULL ? x->email : "", y->email != NULL ?
	    y->email : "");
}

/* Today in the daemon's zone, as a day number. */
static int64_t
notices_today(int64_t now)
{
	char	 buf[16];
	int64_t	 day;

	if (tz_format_local(now, notices_zone(), "%Y-%m-%d", buf,
	    sizeof buf) == -1 || recert_parse_day(buf, &day) == -1)
		return now / 86400;
	return day;
}

/* The next daily run after now: NOTICES_HOUR local, today or tomorrow. */
static int64_t
notices_next(int64_t now)
{
	char	 day[16], when[32], err[256];
	int64_t	 d, t;
	int	 i, hour;

	d = notices_today(now);
	for (i = 0; i < 3; i++, d++) {
		recert_format_day(d, day, sizeof day);
		/* A clock change at that hour: the first hour that exists. */
		for (hour = 6; hour < 9; hour++) {
			snprintf(when, sizeof when, "%sT%02d:00", day, hour);
			if (tz_parse(when, notices_zone(), 0, "run", &t, NULL,
			    0, err, sizeof err) == 0)
				break;
		}
		if (hour < 9 && t > now)
			return t;
	}
	return now + 86400;
}

/*
 * The scan (on the reader thread, or in place): everyone's status today
 * and, for the digest, the coverage of the cycle window; only the store
 * and the job itself are touched.
 */
static void
notices_scan_run(void *arg)
{
	struct notices_job	*j = arg;

	if ((j->code = store_begin_read()) != LECTERN_OK) {
		snprintf(j->err, sizeof j->err, "the database is busy");
		return;
	}
	j->code = store_recert_scan(j->day, notices_cfg->recert_min_hours,
	    NULL, notices_scan_cb, &j->run, j->err, sizeof j->err);
	if (j->code == LECTERN_OK && j->digest) {
		j->code = store_coverage(1, j->from, j->day,
		    notices_cfg->recert_min_hours, NULL, &j->run.groups,
		    &j->run.ngroups, j->err, sizeof j->err);
		j->run.coverage = j->code == LECTERN_OK;
	}
	if (store_commit() != LECTERN_OK)
		store_rollback();
}

static void
notices_job_free(struct notices_job *j)
{
	if (j == NULL)
		return;
	notices_run_free(&j->run);
	free(j);
}

/* Take the job's findings as today's run; 0, or -1 if the scan failed. */
static int
notices_adopt(struct notices_job *j, int64_t now)
{
	if (j->code != LECTERN_OK) {
		log_warn("recertification: %s; trying again in %d s", j->err,
		    NOTICES_RETRY);
		notices_next_run = now + NOTICES_RETRY;
		wake_set(WAKE_RECERT, notices_next_run);
		notices_job_free(j);
		return -1;
	}
	notices_run_free(&notices_run);
	notices_run = j->run;
	memset(&j->run, 0, sizeof j->run);
	notices_run.active = 1;
	notices_job_free(j);
	return 0;
}

/* The scan finished on the reader: go on with the notices on the loop. */
static void
notices_scan_done(void *arg, int cancelled)
{
	struct notices_job	*j = arg;
	int64_t			 now;

	notices_scanning = 0;
	if (cancelled || !notices_started) {
		notices_job_free(j);
		return;
	}
	now = clock_now();
	if (notices_adopt(j, now) == 0)
		wake_set(WAKE_RECERT, now);
}

/*
 * Start today's scan. 1: it runs on the reader (notices_scan_done goes
 * on); 0: it ran here and the run is ready; -1: it failed (retry set).
 */
static int
notices_scan(int64_t now)
{
	struct notices_job	*j;

	if ((j = calloc(1, sizeof *j)) == NULL)
		log_fatal("notices: out of memory");
	j->run.today = notices_today(now);
	recert_format_day(j->run.today, j->day, sizeof j->day);
	recert_format_day(recert_window_start(j->run.today,
	    &notices_cfg->recert_cycle), j->from, sizeof j->from);
	j->digest = notices_cfg->recert_digest != CONFIG_DIGEST_OFF &&
	    notices_cfg->recert_ndigest_to > 0;
	if (offload_submit(notices_scan_run, notices_scan_done, j) == 0) {
		notices_scanning = 1;
		return 1;
	}
	notices_scan_run(j);
	return notices_adopt(j, now);
}

/* One notice, inside the caller's transaction; *queued if one was. */
static enum lectern_error
notices_one(const struct notices_one *o, int64_t now, int *queued, char *err,
    size_t errlen)
{
	enum lectern_error	 code;
	json_t			*last;
	char			 due[16], on[16];
	int64_t			 outbox;
	int			 sent;

	*queued = 0;
	recert_format_day(o->due, due, sizeof due);
	if ((code = store_notice_sent(o->person, due, &sent, err, errlen)) !=
	    LECTERN_OK || sent)
		return code;
	if ((last = json_object()) == NULL)
		log_fatal("notices: out of memory");
	recert_format_day(o->last, on, sizeof on);
	code = store_recert_last(o->last_id, last, err, errlen);
	if (code == LECTERN_OK)
		code = notify_recert_notice(o->person, due, o->days_left,
		    json_string_value(json_object_get(last, "last_title")), on,
		    now, &outbox, err, errlen);
	if (code == LECTERN_OK)
		code = store_notice_add(o->person, due, outbox, now, err,
		    errlen);
	json_decref(last);
	*queued = code == LECTERN_OK;
	return code;
}

/* Up to NOTICES_BATCH notices in one transaction; *done when none remain. */
static enum lectern_error
notices_batch(int64_t now, int *done, char *err, size_t errlen)
{
	enum lectern_error	 code;
	size_t			 i, end;
	int			 queued, n = 0;

	*done = 0;
	end = notices_run.next + NOTICES_BATCH;
	if (end > notices_run.ndue)
		end = notices_run.ndue;
	if ((code = store_begin()) != LECTERN_OK) {
		snprintf(err, errlen, "the database is busy");
		return code;
	}
	for (i = notices_run.next; i < end && code == LECTERN_OK; i++) {
		code = notices_one(&notices_run.due[i], now, &queued, err,
		    errlen);
		n += queued;
	}
	if (code == LECTERN_OK)
		code = store_commit();
	if (code != LECTERN_OK) {
		store_rollback();
		return code;
	}
	notices_run.next = end;
	notices_sent += n;
	if (n > 0) {
		log_info("recertification: %d notice%s queued", n, n == 1 ?
		    "" : "s");
		delivery_kick();
	}
	*done = notices_run.next >= notices_run.ndue;
	return LECTERN_OK;
}

/* The digest of this period, unless it went out already. */
static enum lectern_error
notices_digest(int64_t now, char *err, size_t errlen)
{
	struct mail_digest		 d;
	struct mail_digest_group	*groups = NULL;
	struct mail_digest_person	*late = NULL;
	struct store_coverage_row	*rows = notices_run.groups;
	enum lectern_error		 code;
	char				 period[16], from[16], to[16];
	char				(*dues)[16] = NULL;
	int64_t				 outbox, first = 0;
	size_t				 i, n = notices_run.ngroups, nl;
	int				 sent = 1;

	if (notices_cfg->recert_digest == CONFIG_DIGEST_OFF ||
	    notices_cfg->recert_ndigest_to == 0 || !notices_run.coverage)
		return LECTERN_OK;
	recert_period(notices_run.today, notices_cfg->recert_digest ==
	    CONFIG_DIGEST_WEEKLY, period, sizeof period);
	recert_format_day(recert_window_start(notices_run.today,
	    &notices_cfg->recert_cycle), from, sizeof from);
	recert_format_day(notices_run.today, to, sizeof to);
	if ((code = store_begin()) != LECTERN_OK) {
		snprintf(err, errlen, "the database is busy");
		return code;
	}
	if ((code = store_digest_sent(period, &sent, err, errlen)) !=
	    LECTERN_OK || sent)
		goto done;
	memset(&d, 0, sizeof d);
	d.period = period;
	d.from = from;
	d.to = to;
	if ((groups = calloc(n + 1, sizeof *groups)) == NULL)
		log_fatal("notices: out of memory");
	for (i = 0; i < n; i++) {
		groups[i].name = rows[i].group;
		groups[i].total = rows[i].total;
		groups[i].trained = rows[i].trained;
		groups[i].permille = rows[i].total > 0 ? rows[i].trained *
		    1000 / rows[i].total : 0;
		d.total += rows[i].total;
		d.trained += rows[i].trained;
		d.hours += rows[i].hours;
	}
	d.permille = d.total > 0 ? d.trained * 1000 / d.total : 0;
	d.groups = groups;
	d.ngroups = n;
	d.ok = notices_run.counts[RECERT_OK];
	d.due_soon = notices_run.counts[RECERT_DUE_SOON];
	d.overdue = notices_run.counts[RECERT_OVERDUE];
	d.never = notices_run.counts[RECERT_NEVER];
	if (notices_run.nlate > 1)
		qsort(notices_run.late, notices_run.nlate,
		    sizeof *notices_run.late, notices_late_cmp);
	nl = notices_run.nlate < NOTICES_LATE ? notices_run.nlate :
	    NOTICES_LATE;
	if ((late = calloc(nl + 1, sizeof *late)) == NULL ||
	    (dues = calloc(nl + 1, sizeof *dues)) == NULL)
		log_fatal("notices: out of memory");
	for (i = 0; i < nl; i++) {
		recert_format_day(notices_run.late[i].due, dues[i],
		    sizeof dues[i]);
		late[i].name = notices_run.late[i].name;
		late[i].email = notices_run.late[i].email;
		late[i].organization = notices_run.late[i].organization;
		late[i].due = dues[i];
		late[i].days = notices_run.late[i].days;
	}
	d.late = late;
	d.nlate = nl;
	d.more = (int64_t)(notices_run.nlate - nl);
	for (i = 0; i < notices_cfg->recert_ndigest_to; i++) {
		if ((code = notify_recert_digest(&d,
		    notices_cfg->recert_digest_to[i], now, &outbox, err,
		    errlen)) != LECTERN_OK)
			goto done;
		if (first == 0)
			first = outbox;
	}
	code = store_digest_add(period, first, now, err, errlen);
done:
	if (code == LECTERN_OK)
		code = store_commit();
	if (code != LECTERN_OK)
		store_rollback();
	else if (!sent) {
		snprintf(notices_last_digest, sizeof notices_last_digest, "%s",
		    period);
		log_info("recertification: digest %s queued for %zu "
		    "address%s", period, notices_cfg->recert_ndigest_to,
		    notices_cfg->recert_ndigest_to == 1 ? "" : "es");
		delivery_kick();
	}
	free(dues);
	free(late);
	free(groups);
	return code;
}

static void
notices_run_cb(int64_t now)
{
	enum lectern_error	 code = LECTERN_OK;
	char			 err[512];
	int			 done = 1;

	if (!notices_wanted()) {
		notices_run_free(&notices_run);
		notices_next_run = 0;
		return;
	}
	if (notices_scanning)
		return;		/* notices_scan_done wakes us */
	/* On the reader (1) or failed (-1: a retry is set): later. */
	if (!notices_run.active && notices_scan(now) != 0)
		return;
	if (notices_run.next < notices_run.ndue)
		code = notices_batch(now, &done, err, sizeof err);
	if (code == LECTERN_OK && done)
		code = notices_digest(now, err, sizeof err);
	if (code != LECTERN_OK) {
		log_warn("recertification: %s; trying again in %d s", err,
		    NOTICES_RETRY);
		notices_next_run = now + NOTICES_RETRY;
		wake_set(WAKE_RECERT, notices_next_run);
		return;
	}
	if (!done) {
		/* More notices: after the loop has served its clients. */
		wake_set(WAKE_RECERT, now);
		return;
	}
	notices_run_free(&notices_run);
	notices_next_run = notices_next(now);
	wake_set(WAKE_RECERT, notices_next_run);
}

int
notices_start(char *err, size_t errlen)
{
	enum lectern_error	 code;

	wake_register(WAKE_RECERT, notices_run_cb);
	if ((code = store_begin_read()) != LECTERN_OK) {
		snprintf(err, errlen, "the database is locked");
		return -1;
	}
	code = store_notice_count(&notices_sent, err, errlen);
	if (code == LECTERN_OK)
		code = store_digest_last(notices_last_digest,
		    sizeof notices_last_digest, err, errlen);
	if (store_commit() != LECTERN_OK)
		store_rollback();
	if (code != LECTERN_OK)
		return -1;
	notices_started = 1;
	/* The first run at start-up: a day missed while stopped is caught up. */
	notices_next_run = notices_wanted() ? clock_now() : 0;
	wake_set(WAKE_RECERT, notices_next_run);
	return 0;
}

void
notices_stop(void)
{
	notices_started = 0;
	wake_register(WAKE_RECERT, NULL);
	notices_run_free(&notices_run);
}

json_t *
notices_status(void)
{
	json_t	*o;
	char	 when[32];

	if ((o = json_object()) == NULL)
		return NULL;
	if (notices_started && notices_next_run != 0) {
		tz_format_utc(notices_next_run, when, sizeof when);
		json_object_set_new(o, "next_run", json_string(when));
	} else
		json_object_set_new(o, "next_run", json_null());
	json_object_set_new(o, "notices_sent", json_integer(notices_sent));
	json_object_set_new(o, "last_digest", notices_last_digest[0] != '\0' ?
	    json_string(notices_last_digest) : json_null());
	return o;
}
