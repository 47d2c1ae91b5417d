/*
 * remind.c -- reminders; see remind.h.
 *
 * A reminder is a row per (session, occurrence, offset) in the reminders
 * table, created by remind_sync() in the same transaction as the change
 * to the session. When one falls due, its whole fan-out (one rendered
 * message per person in the outbox) and its "sent" mark are committed in
 * one transaction: a crash in the middle leaves it pending and it is done
 * again, whole, after the restart, so nobody gets it twice. A reminder
 * that can no longer arrive before its session starts is marked expired
 * instead, and the messages themselves expire at the start (outbox).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "clock.h"
#include "config.h"
#include "delivery.h"
#include "log.h"
#include "notify.h"
#include "remind.h"
#include "wake.h"
#include "series.h"
#include "store.h"
#include "tz.h"

/* Reminders fired per pass before the loop serves its clients again. */
#define REMIND_BATCH	16
/* After a failed pass (a busy database), try again this much later. */
#define REMIND_RETRY	1
/* A series' occurrences are looked at from this long ago. */
#define REMIND_LOOKBACK	86400

static const struct config	*remind_cfg;
static int			 remind_started;

/*
 * How late the last reminders were handed to the outbox (committed), in
 * milliseconds after their due time: a ring for status.
 */
#define REMIND_DELAYS	1024
static int64_t			 remind_delays[REMIND_DELAYS];
static uint64_t			 remind_ndelays;

/* The wall clock (the daemon's, see clock.h) in milliseconds. */
static int64_t
remind_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec + clock_offset()) * 1000 +
	    ts.tv_nsec / 1000000;
}

void
remind_set_config(const struct config *cfg)
{
	remind_cfg = cfg;
}

static int64_t
remind_horizon(void)
{
	return remind_cfg != NULL && remind_cfg->horizon > 0 ?
	    remind_cfg->horizon : 365LL * 86400;
}

/* Put one row per offset for an occurrence starting at starts. */
static enum lectern_error
remind_put_all(int64_t id, int64_t occurrence, int64_t starts,
    json_t *offsets, int64_t now, char *err, size_t errlen)
{
	enum lectern_error	 code = LECTERN_OK;
	json_t			*v;
	size_t			 i;

	json_array_foreach(offsets, i, v) {
		code = store_remind_put(id, occurrence, starts,
		    (int64_t)json_integer_value(v) * 60, now, err, errlen);
		if (code != LECTERN_OK)
			break;
	}
	return code;
}

enum lectern_error
remind_sync(int64_t id, int64_t now, char *err, size_t errlen)
{
	enum lectern_error	 code;
	json_t			*s = NULL, *offsets, *overrides = NULL;
	json_t			*occ = NULL, *o;
	const char		*status, *rrule, *zone, *local;
	int64_t			 start, key;
	size_t			 i;

	if ((code = store_session_get(id, 0, &s, err, errlen)) != LECTERN_OK)
		return code;
	status = json_string_value(json_object_get(s, "status"));
	if (status != NULL && strcmp(status, "cancelled") == 0) {
		code = store_remind_drop(id, err, errlen);
		goto done;
	}
	offsets = json_object_get(s, "reminders");
	rrule = json_string_value(json_object_get(s, "rrule"));
	zone = json_string_value(json_object_get(s, "tz"));
	local = json_string_value(json_object_get(s, "local_start"));
	if (tz_parse_utc(json_string_value(json_object_get(s, "start")),
	    &start) == -1 || zone == NULL || local == NULL) {
		snprintf(err, errlen, "session %" PRId64 " is unreadable", id);
		code = LECTERN_E_INTERNAL;
		goto done;
	}
	if ((code = store_remind_begin(id, err, errlen)) != LECTERN_OK)
		goto done;
	if (rrule == NULL)
		code = remind_put_all(id, 0, start, offsets, now, err, errlen);
	else if (json_array_size(offsets) > 0) {
		code = store_occurrence_list(id, &overrides, err, errlen);
		if (code == LECTERN_OK && (occ = series_occurrences(s,
		    overrides, now - REMIND_LOOKBACK, now + remind_horizon(),
		    err, errlen)) == NULL)
			code = LECTERN_E_INTERNAL;
		json_array_foreach(occ, i, o) {
			if (code != LECTERN_OK)
				break;
			/* A cancelled occurrence's reminders are swept. */
			if (strcmp(json_string_value(json_object_get(o,
			    "status")), "scheduled") != 0)
				continue;
			if (tz_parse_utc(json_string_value(json_object_get(o,
			    "occurrence")), &key) == -1 ||
			    tz_parse_utc(json_string_value(json_object_get(o,
			    "start")), &start) == -1) {
				snprintf(err, errlen, "session %" PRId64
				    ": an unreadable occurrence", id);
				code = LECTERN_E_INTERNAL;
				break;
			}
			code = remind_put_all(id, key, start, offsets, now,
			    err, errlen);
		}
	}
	if (code == LECTERN_OK)
		code = store_remind_end(id, err, errlen);
done:
	json_decref(occ);
	json_decref(overrides);
	json_decref(s);
	return code;
}

/* Fire one due reminder, inside a transaction; *queued: messages queued. */
static enum lectern_error
remind_fire_one(const struct store_reminder *r, int64_t now, size_t *queued,
    char *err, size_t errlen)
{
	enum lectern_error	 code;
	int64_t			*people = NULL;
	size_t			 n = 0;

	*queued = 0;
	if (r->starts <= now) {
		log_info("reminder for session %" PRId64 " (%" PRId64 " min "
		    "before): its start has passed; expired", r->session_id,
		    r->before / 60);
		return store_remind_done(r->id, "expired", now, 0, err,
		    errlen);
	}
	code = store_session_attending(r->session_id, &people, &n, err,
	    errlen);
	if (code == LECTERN_OK)
		code = notify_reminder(r->session_id, r->occurrence, r->starts,
		    people, n, now, err, errlen);
	if (code == LECTERN_OK)
		code = store_remind_done(r->id, "sent", now, (int64_t)n, err,
		    errlen);
	/* A series moves its window on as its reminders fire. */
	if (code == LECTERN_OK && r->occurrence != 0)
		code = remind_sync(r->session_id, now, err, errlen);
	free(people);
	if (code == LECTERN_OK) {
		*queued = n;
		log_info("reminder for session %" PRId64 " (%" PRId64 " min "
		    "before): %zu message%s queued", r->session_id,
		    r->before / 60, n, n == 1 ? "" : "s");
	}
	return code;
}

static void
remind_fire_cb(int64_t now)
{
	struct store_reminder	 due[REMIND_BATCH];
	enum lectern_error	 code;
	char			 err[512];
	size_t			 n, i, queued, total = 0;

	code = store_remind_due(now, REMIND_BATCH, due, &n, err, sizeof err);
	if (code != LECTERN_OK) {
		log_warn("reminders: %s; trying again shortly", err);
		wake_set(WAKE_REMINDERS, now + REMIND_RETRY);
		return;
	}
	for (i = 0; i < n; i++) {
		if ((code = store_begin()) != LECTERN_OK) {
			snprintf(err, sizeof err, "the database is busy");
			break;
		}
		code = remind_fire_one(&due[i], now, &queued, err, sizeof err);
		if (code == LECTERN_OK)
			code = store_commit();
		if (code != LECTERN_OK) {
			store_rollback();
			break;
		}
		if (queued > 0)
			remind_delays[remind_ndelays++ % REMIND_DELAYS] =
			    remind_now_ms() - due[i].due * 1000;
		total += queued;
	}
	if (total > 0)
		delivery_kick();
	if (code != LECTERN_OK) {
		log_warn("reminders: session %" PRId64 ": %s; trying again "
		    "shortly", due[i].session_id, err);
		wake_set(WAKE_REMINDERS, now + REMIND_RETRY);
		return;
	}
	/* A full batch: more may be due; go on after the loop's turn. */
	if (n == REMIND_BATCH)
		wake_set(WAKE_REMINDERS, now);
	else
		remind_arm();
}

void
remind_arm(void)
{
	int64_t	 next;
	char	 err[256];

	if (!remind_started)
		return;
	if (store_remind_next(&next, err, sizeof err) != LECTERN_OK) {
		log_warn("reminders: %s", err);
		next = clock_now() + REMIND_RETRY;
	}
	wake_set(WAKE_REMINDERS, next);
}

static int
remind_cmp(const void *a, const void *b)
{
	int64_t	 x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

json_t *
remind_stats(void)
{
	int64_t	 d[REMIND_DELAYS];
	size_t	 n = remind_ndelays < REMIND_DELAYS ? remind_ndelays :
	    REMIND_DELAYS;
	json_t	*o;

	if ((o = json_object()) == NULL)
		return NULL;
	json_object_set_new(o, "fired", json_integer((json_int_t)
	    remind_ndelays));
	if (n == 0)
		return o;
	memcpy(d, remind_delays, n * sizeof d[0]);
	qsort(d, n, sizeof d[0], remind_cmp);
	json_object_set_new(o, "handoff_ms", json_pack("{s:I, s:I, s:I, s:I}",
	    "n", (json_int_t)n, "p50", (json_int_t)d[n / 2],
	    "p99", (json_int_t)d[(n * 99) / 100], "max",
	    (json_int_t)d[n - 1]));
	return o;
}

int
remind_start(char *err, size_t errlen)
{
	enum lectern_error	 code;
	int64_t			*ids = NULL, now = clock_now();
	size_t			 n = 0, i;

	wake_register(WAKE_REMINDERS, remind_fire_cb);
	/* Open-ended series: their window moved while we were away. */
	if ((code = store_begin()) != LECTERN_OK) {
		snprintf(err, errlen, "the database is locked");
		return -1;
	}
	code = store_series_ids(&ids, &n, err, errlen);
	for (i = 0; i < n && code == LECTERN_OK; i++)
		code = remind_sync(ids[i], now, err, errlen);
	free(ids);
	if (code == LECTERN_OK)
		code = store_commit();
	if (code != LECTERN_OK) {
		store_rollback();
		return -1;
	}
	remind_started = 1;
	remind_arm();
	return 0;
}

void
remind_stop(void)
{
	remind_started = 0;
	wake_register(WAKE_REMINDERS, NULL);
}
