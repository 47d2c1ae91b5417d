/*
 * notify.c -- what teachers must be told about a session.
 *
 * For each person the session's current revision is rendered once: an
 * iCalendar object addressed to that person alone (ical.c), wrapped in a
 * whole message from the person's language templates (mail.c), and queued
 * in the outbox (store.c) inside the caller's transaction, so that the
 * change and its messages are committed together or not at all. What the
 * messages of one call share is prepared once (struct notify_cache), so
 * that each person costs little more than their own lines.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "ical.h"
#include "log.h"
#include "mail.h"
#include "notify.h"
#include "series.h"
#include "store.h"
#include "tz.h"

static const struct config	*notify_cfg;

struct notify_session;
static enum lectern_error notify_load_series(int64_t,
    struct notify_session *, char *, size_t);
static void notify_override(const struct notify_session *, json_t *,
    struct ical_event *);

/* The facts of one session that every message about it shares. */
struct notify_session {
	json_t		*json;		/* owned: store_session_get's object */
	const char	*uid, *kind, *title, *description, *location, *url;
	const char	*tz, *local_start, *rrule, *status, *reason;
	int64_t		 start_utc;
	int		 sequence, duration;
	/* A series: its end (0: open-ended) and its changed occurrences. */
	int64_t		 series_end;
	json_t		*overrides;	/* owned: store_occurrence_list's */
	int64_t		*exdates;	/* the cancelled ones */
	size_t		 nexdates;
	struct ical_event *ovev;	/* the changed ones, for a REQUEST */
	char		(*ovrid)[32];	/* ...their original wall times */
	size_t		 novev;
	/* A message about one occurrence: its original wall time. */
	char		 rid_local[32];
	int		 occurrence;
};

/* Borrow the configuration (organizer, domain, alarms, default language). */
void
notify_set_config(const struct config *cfg)
{
	notify_cfg = cfg;
}

static const char *
notify_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static enum lectern_error
notify_load(int64_t session_id, struct notify_session *s, char *err,
    size_t errlen)
{
	enum lectern_error	 code;
	const char		*start;

	memset(s, 0, sizeof *s);
	code = store_session_get(session_id, 0, &s->json, err, errlen);
	if (code != LECTERN_OK)
		return code;
	s->uid = notify_str(s->json, "uid");
	s->kind = notify_str(s->json, "kind");
	s->title = notify_str(s->json, "title");
	s->description = notify_str(s->json, "description");
	s->location = notify_str(s->json, "location");
	s->url = notify_str(s->json, "url");
	s->tz = notify_str(s->json, "tz");
	s->local_start = notify_str(s->json, "local_start");
	s->rrule = notify_str(s->json, "rrule");
	s->status = notify_str(s->json, "status");
	s->reason = notify_str(s->json, "cancel_reason");
	s->sequence = (int)json_integer_value(json_object_get(s->json,
	    "sequence"));
	s->duration = (int)json_integer_value(json_object_get(s->json,
	    "duration"));
	start = notify_str(s->json, "start");
	if (s->uid == NULL || s->title == NULL || s->tz == NULL ||
	    s->local_start == NULL || start == NULL ||
	    tz_parse_utc(start, &s->start_utc) != 0) {
		json_decref(s->json);
		s->json = NULL;
		snprintf(err, errlen, "session %" PRId64 " is incomplete",
		    session_id);
		return LECTERN_E_INTERNAL;
	}
	if (s->rrule != NULL)
		return notify_load_series(session_id, s, err, errlen);
	return LECTERN_OK;
}

static void
notify_unload(struct notify_session *s)
{
	free(s->exdates);
	free(s->ovev);
	free(s->ovrid);
	json_decref(s->overrides);
	json_decref(s->json);
	memset(s, 0, sizeof *s);
}

/*
 * A series: when its last occurrence ends (what its messages are worth
 * until; 0 for a rule without end) and its occurrences changed or
 * cancelled on their own, which every REQUEST for the whole series must
 * carry (RFC 5546: EXDATE and RECURRENCE-ID instances with the master).
 */
static enum lectern_error
notify_load_series(int64_t session_id, struct notify_session *s, char *err,
    size_t errlen)
{
	enum lectern_error	 code;
	struct ical_event	*e;
	json_t			*v;
	int64_t			*occ, rid;
	size_t			 i;
	int			 n, more;

	if ((occ = calloc(SERIES_MAX, sizeof *occ)) == NULL)
		log_fatal("notify: out of memory");
	n = series_expand(s->rrule, s->tz, s->local_start, s->start_utc,
	    INT64_MAX, occ, SERIES_MAX, &more, err, errlen);
	s->series_end = n > 0 && !more ? occ[n - 1] +
	    (int64_t)s->duration * 60 : 0;
	free(occ);
	if (n == -1)
		return LECTERN_E_INTERNAL;
	code = store_occurrence_list(session_id, &s->overrides, err, errlen);
	if (code != LECTERN_OK)
		return code;
	n = (int)json_array_size(s->overrides);
	if (n == 0)
		return LECTERN_OK;
	if ((s->exdates = calloc((size_t)n, sizeof *s->exdates)) == NULL ||
	    (s->ovev = calloc((size_t)n, sizeof *s->ovev)) == NULL ||
	    (s->ovrid = calloc((size_t)n, sizeof *s->ovrid)) == NULL)
		log_fatal("notify: out of memory");
	json_array_foreach(s->overrides, i, v) {
		if (tz_parse_utc(notify_str(v, "occurrence"), &rid) == -1)
			continue;
		if (strcmp(notify_str(v, "status"), "cancelled") == 0) {
			s->exdates[s->nexdates++] = rid;
			continue;
		}
		e = &s->ovev[s->novev];
		memset(e, 0, sizeof *e);
		if (tz_format_local(rid, s->tz, "%Y-%m-%dT%H:%M:%S",
		    s->ovrid[s->novev], sizeof s->ovrid[0]) == -1)
			continue;
		e->recurrence_id_local = s->ovrid[s->novev];
		notify_override(s, v, e);
		s->novev++;
	}
	return LECTERN_OK;
}

/* The override's text for key, or the series' own (dflt). */
static const char *
notify_or(json_t *o, const char *key, const char *dflt)
{
	const char	*v = notify_str(o, key);

	return v != NULL ? v : dflt;
}

/* What the override v (store_occurrence_list) makes of the series s. */
static void
notify_override(const struct notify_session *s, json_t *v,
    struct ical_event *e)
{
	tz_parse_utc(notify_str(v, "start"), &e->start_utc);
	e->start_local = notify_str(v, "local_start");
	e->duration = (int)json_integer_value(json_object_get(v, "duration"));
	e->sequence = (int)json_integer_value(json_object_get(v, "sequence"));
	e->summary = notify_or(v, "title", s->title);
	e->description = notify_or(v, "description", s->description);
	e->location = notify_or(v, "location", s->location);
	e->url = notify_or(v, "url", s->url);
}

/*
 * The view of one occurrence (original start rid) of the series in s:
 * its own start, length, texts and SEQUENCE, its RECURRENCE-ID, no RRULE.
 */
static enum lectern_error
notify_occurrence(struct notify_session *s, int64_t rid, char *err,
    size_t errlen)
{
	struct ical_event	 e;
	json_t			*v;

	if (s->rrule == NULL) {
		snprintf(err, errlen, "the session does not repeat");
		return LECTERN_E_INTERNAL;
	}
	if (tz_format_local(rid, s->tz, "%Y-%m-%dT%H:%M:%S", s->rid_local,
	    sizeof s->rid_local) == -1) {
		snprintf(err, errlen, "occurrence: cannot write it in %s",
		    s->tz);
		return LECTERN_E_INTERNAL;
	}
	s->occurrence = 1;
	s->start_utc = rid;
	s->local_start = s->rid_local;
	if ((v = series_find(s->overrides, rid)) != NULL) {
		memset(&e, 0, sizeof e);
		e.start_utc = rid;
		notify_override(s, v, &e);
		s->start_utc = e.start_utc;
		s->local_start = e.start_local;
		s->duration = e.duration;
		s->sequence = e.sequence;
		s->title = e.summary;
		s->description = e.description;
		s->location = e.location;
		s->url = e.url;
		if (notify_str(v, "cancel_reason") != NULL)
			s->reason = notify_str(v, "cancel_reason");
	}
	s->rrule = NULL;
	s->series_end = 0;
	s->nexdates = s->novev = 0;
	return LECTERN_OK;
}

/*
 * Until when a message about s is worth delivering: an invitation, an
 * update or a reminder until the session (the series' last occurrence)
 * starts, a cancellation until it ends. A series without end: always.
 */
static int64_t
notify_expires(const struct notify_session *s, enum mail_kind kind)
{
	if (s->rrule != NULL) {
		/* A series: until its last occurrence (ends). */
		if (s->series_end == 0)
			return 0;
		if (kind == MAIL_CANCEL)
			return s->series_end;
		return s->series_end - (int64_t)s->duration * 60;
	}
	if (kind == MAIL_CANCEL)
		return s->start_utc + (int64_t)s->duration * 60;
	return s->start_utc;
}

static const char *
notify_kind_name(enum mail_kind kind)
{
	switch (kind) {
	case MAIL_INVITE:
		return "invite";
	case MAIL_UPDATE:
		return "update";
	case MAIL_CANCEL:
		return "cancel";
	case MAIL_REMINDER:
		return "reminder";
	case MAIL_WAITLIST:
		return "waitlist";
	case MAIL_COURSE_INVITE:
		return "invite";
	case MAIL_COURSE_UPDATE:
		return "update";
	case MAIL_COURSE_CANCEL:
		return "cancel";
	case MAIL_COURSE_WAITLIST:
		return "waitlist";
	case MAIL_RECERT_NOTICE:
		return "notice";
	case MAIL_RECERT_DIGEST:
		return "digest";
	}
	return "invite";
}

/*
 * What one notify_session call renders once for all its recipients: the
 * calendar (the same for everyone but the ATTENDEE line) and, per language,
 * the message around it. A part that cannot be prepared is left NULL and
 * each message is then rendered whole, which also gives the error a
 * coordinator must see. Lives for one call: one session revision, one
 * kind, one "now".
 */
struct notify_cache {
	struct ical_prep	*ical;
	int			 ical_tried;
	struct notify_cache_lang {
		char		*lang;
		struct mail_prep *prep;
	}			*langs;
	size_t			 nlangs;
};

/* The placeholder attendee of the prepared calendar. */
#define NOTIFY_PREP_ADDR	"attendee@lectern.invalid"

static void
notify_cache_free(struct notify_cache *c)
{
	size_t	i;

	ical_prep_free(c->ical);
	for (i = 0; i < c->nlangs; i++) {
		free(c->langs[i].lang);
		mail_prep_free(c->langs[i].prep);
	}
	free(c->langs);
	memset(c, 0, sizeof *c);
}

/* The calendar of a message of kind about s, without its attendee. */
static void
notify_event(const struct notify_session *s, enum mail_kind kind,
    int64_t now, struct ical_event *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->method = kind == MAIL_CANCEL ? ICAL_CANCEL : ICAL_REQUEST;
	ev->uid = s->uid;
	ev->sequence = s->sequence;
	ev->dtstamp = now;
	ev->tz = s->tz;
	ev->start_local = s->local_start;
	ev->start_utc = s->start_utc;
	ev->duration = s->duration;
	ev->summary = s->title;
	ev->description = s->description;
	ev->location = s->location;
	ev->url = s->url;
	ev->organizer_name = notify_cfg->mail_from_name;
	ev->organizer_addr = notify_cfg->mail_from_addr;
	ev->rrule = s->rrule;
	if (s->occurrence)
		ev->recurrence_id_local = s->rid_local;
	if (kind != MAIL_CANCEL && s->rrule != NULL) {
		size_t	i;

		ev->exdates = s->exdates;
		ev->nexdates = s->nexdates;
		ev->overrides = s->ovev;
		ev->noverrides = s->novev;
		for (i = 0; i < s->novev; i++) {
			s->ovev[i].method = ICAL_REQUEST;
			s->ovev[i].uid = s->uid;
			s->ovev[i].dtstamp = now;
			s->ovev[i].tz = s->tz;
			s->ovev[i].organizer_name = ev->organizer_name;
			s->ovev[i].organizer_addr = ev->organizer_addr;
		}
	}
	if (kind != MAIL_CANCEL && notify_cfg->alarm_in_invite) {
		ev->alarms = notify_cfg->reminders;
		ev->nalarms = notify_cfg->nreminders;
	}
}

/* The message of kind about s in lang, without its recipient. */
static void
notify_message(const struct notify_session *s, enum mail_kind kind,
    const char *lang, const char *reason, int64_t now, struct mail_message *m)
{
	int	calendar = kind == MAIL_INVITE || kind == MAIL_UPDATE ||
	    kind == MAIL_CANCEL;

	memset(m, 0, sizeof *m);
	m->kind = kind;
	m->lang = lang;
	m->from_name = notify_cfg->mail_from_name;
	m->from_addr = notify_cfg->mail_from_addr;
	m->domain = notify_cfg->domain;
	m->date = now;
	m->session_kind = s->kind;
	m->title = s->title;
	m->description = s->description;
	m->location = s->location;
	m->url = s->url;
	m->reason = reason != NULL ? reason : s->reason;
	m->tz = s->tz;
	m->start_utc = s->start_utc;
	m->duration = s->duration;
	m->rrule = s->rrule;
	m->ical_method = calendar ? (kind == MAIL_CANCEL ? "CANCEL" :
	    "REQUEST") : NULL;
}

/*
 * The prepared message for lang (made on first use), or NULL: render
 * whole. m is the message for lang; its strings but lang (the person's)
 * outlive the cache.
 */
static struct mail_prep *
notify_cache_mail(struct notify_cache *c, const char *lang, int calendar,
    const struct mail_message *m)
{
	struct notify_cache_lang *nl;
	struct mail_message	 pm;
	char			*ph = NULL;
	size_t			 i;

	for (i = 0; i < c->nlangs; i++) {
		if (strcmp(c->langs[i].lang, lang) == 0)
			return c->langs[i].prep;
	}
	if ((nl = reallocarray(c->langs, c->nlangs + 1, sizeof *nl)) == NULL)
		return NULL;
	c->langs = nl;
	nl = &c->langs[c->nlangs];
	if ((nl->lang = strdup(lang)) == NULL)
		return NULL;
	nl->prep = NULL;
	c->nlangs++;
	pm = *m;
	pm.lang = nl->lang;	/* m's is the person's, freed before the cache */
	if (calendar) {
		if (c->ical == NULL || (ph = ical_prep_render(c->ical, "",
		    NOTIFY_PREP_ADDR, NULL, 0)) == NULL)
			return NULL;
		pm.to_addr = NOTIFY_PREP_ADDR;
		pm.ical = ph;
	}
	nl->prep = mail_prep_new(&pm, NULL, 0);
	free(ph);
	return nl->prep;
}

/* What differs between the calls of notify_one beyond the kind. */
struct notify_extra {
	const char	*reason;	/* a cancellation's */
	int64_t		 remind_before;	/* a reminder: seconds to the start */
	int64_t		 position;	/* a waitlist notice: the place */
};

/* Render and queue one message about s for person_id. */
static enum lectern_error
notify_one(const struct notify_session *s, struct notify_cache *c,
    int64_t session_id, int64_t person_id, enum mail_kind kind,
    const struct notify_extra *x, int64_t now, char *err, size_t errlen)
{
	struct store_outbox_new	 row;
	struct mail_message	 m;
	struct ical_event	 ev;
	struct mail_prep	*mp = NULL;
	enum lectern_error	 code;
	json_t			*person = NULL;
	const char		*name, *email, *lang;
	char			*cal = NULL, *msg = NULL, *message_id = NULL;
	char			 why[512];
	size_t			 len;
	int			 calendar;

	code = store_person_get(person_id, 0, &person, err, errlen);
	if (code != LECTERN_OK)
		return code;
	name = notify_str(person, "name");
	email = notify_str(person, "email");
	lang = notify_str(person, "lang");
	if (lang == NULL)
		lang = notify_cfg->lang;
	if (name == NULL)
		name = "";

	calendar = kind == MAIL_INVITE || kind == MAIL_UPDATE ||
	    kind == MAIL_CANCEL;
	if (calendar) {
		notify_event(s, kind, now, &ev);
		if (!c->ical_tried) {
			c->ical_tried = 1;
			c->ical = ical_prep_new(&ev, NULL, 0);
		}
		if (c->ical != NULL)
			cal = ical_prep_render(c->ical, name, email, why,
			    sizeof why);
		else {
			size_t	i;

			ev.attendee_name = name;
			ev.attendee_addr = email;
			for (i = 0; i < s->novev; i++) {
				s->ovev[i].attendee_name = name;
				s->ovev[i].attendee_addr = email;
			}
			cal = ical_render(&ev, why, sizeof why);
		}
		if (cal == NULL) {
			snprintf(err, errlen, "cannot build the invitation "
			    "for %s: %s", email, why);
			code = LECTERN_E_INTERNAL;
			goto fail;
		}
	}

	notify_message(s, kind, lang, x->reason, now, &m);
	m.remind_before = x->remind_before;
	m.waitlist_position = (int)x->position;
	/* A place on the waitlist is each person's own: rendered whole. */
	if (x->position == 0 &&
	    (mp = notify_cache_mail(c, lang, calendar, &m)) != NULL)
		msg = mail_prep_render(mp, name, email, cal, &len,
		    &message_id, why, sizeof why);
	else {
		m.to_name = name;
		m.to_addr = email;
		m.ical = cal;
		msg = mail_render(&m, &len, &message_id, why, sizeof why);
	}
	if (msg == NULL) {
		snprintf(err, errlen, "cannot build the message for %s: %s",
		    email, why);
		code = LECTERN_E_INTERNAL;
		goto fail;
	}

	memset(&row, 0, sizeof row);
	row.session_id = session_id;
	row.person_id = person_id;
	row.recipient = email;
	row.kind = notify_kind_name(kind);
	row.message_id = message_id;
	row.message = msg;
	row.len = len;
	row.next_attempt = now;
	row.expires = notify_expires(s, kind);
	code = store_outbox_add(&row, now, NULL, err, errlen);
fail:
	free(message_id);
	free(msg);
	free(cal);
	json_decref(person);
	return code;
}

/*
 * Queue one message of kind about s for each of people (positions: their
 * places on the waitlist, or NULL), unless it is already of no use.
 */
static enum lectern_error
notify_people(struct notify_session *s, int64_t session_id,
    enum mail_kind kind, const int64_t *people, const int64_t *positions,
    size_t n, struct notify_extra *x, int64_t now, char *err, size_t errlen)
{
	struct notify_cache	 c;
	enum lectern_error	 code = LECTERN_OK;
	size_t			 i;

	/* Nobody needs a message about something already over. */
	if (notify_expires(s, kind) != 0 && notify_expires(s, kind) <= now)
		return LECTERN_OK;
	memset(&c, 0, sizeof c);
	for (i = 0; i < n && code == LECTERN_OK; i++) {
		x->position = positions != NULL ? positions[i] : 0;
		code = notify_one(s, &c, session_id, people[i], kind, x, now,
		    err, errlen);
	}
	notify_cache_free(&c);
	return code;
}

/* Queue one message of kind about session_id for each of people. */
enum lectern_error
notify_session(int64_t session_id, enum mail_kind kind,
    const int64_t *people, size_t n, const char *reason, int64_t now,
    char *err, size_t errlen)
{
	struct notify_session	 s;
	struct notify_extra	 x;
	enum lectern_error	 code;

	if (n == 0 || notify_cfg == NULL)
		return LECTERN_OK;
	if ((code = notify_load(session_id, &s, err, errlen)) != LECTERN_OK) {
		notify_unload(&s);
		return code;
	}
	memset(&x, 0, sizeof x);
	x.reason = reason;
	code = notify_people(&s, session_id, kind, people, NULL, n, &x, now,
	    err, errlen);
	notify_unload(&s);
	return code;
}

/* The same for everyone enrolled in session_id. */
enum lectern_error
notify_session_all(int64_t session_id, enum mail_kind kind,
    const char *reason, int64_t now, char *err, size_t errlen)
{
	enum lectern_error	 code;
	int64_t			*ids = NULL;
	size_t			 n = 0;

	code = store_session_people(session_id, &ids, &n, err, errlen);
	if (code == LECTERN_OK)
		code = notify_session(session_id, kind, ids, n, reason, now,
		    err, errlen);
	free(ids);
	return code;
}

/* One occurrence of a series changed or cancelled: tell everyone. */
enum lectern_error
notify_occurrence_all(int64_t session_id, int64_t rid, enum mail_kind kind,
    const char *reason, int64_t now, char *err, size_t errlen)
{
	struct notify_session	 s;
	struct notify_extra	 x;
	enum lectern_error	 code;
	int64_t			*ids = NULL;
	size_t			 n = 0;

	if (notify_cfg == NULL)
		return LECTERN_OK;
	code = store_session_people(session_id, &ids, &n, err, errlen);
	if (code == LECTERN_OK && n > 0 &&
	    (code = notify_load(session_id, &s, err, errlen)) == LECTERN_OK &&
	    (code = notify_occurrence(&s, rid, err, errlen)) == LECTERN_OK) {
		memset(&x, 0, sizeof x);
		x.reason = reason;
		code = notify_people(&s, session_id, kind, ids, NULL, n, &x,
		    now, err, errlen);
	}
	if (n > 0)
		notify_unload(&s);
	free(ids);
	return code;
}

/* A reminder for the occurrence starting at starts (occurrence 0: single). */
enum lectern_error
notify_reminder(int64_t session_id, int64_t occurrence, int64_t starts,
    const int64_t *people, size_t n, int64_t now, char *err, size_t errlen)
{
	struct notify_session	 s;
	struct notify_extra	 x;
	enum lectern_error	 code;

	if (n == 0 || notify_cfg == NULL)
		return LECTERN_OK;
	code = notify_load(session_id, &s, err, errlen);
	if (code == LECTERN_OK && occurrence != 0)
		code = notify_occurrence(&s, occurrence, err, errlen);
	if (code == LECTERN_OK) {
		memset(&x, 0, sizeof x);
		/* "Starts in": from now, to the minute, however late. */
		x.remind_before = (starts - now + 30) / 60 * 60;
		code = notify_people(&s, session_id, MAIL_REMINDER, people,
		    NULL, n, &x, now, err, errlen);
	}
	notify_unload(&s);
	return code;
}

/* "You are on the waiting list (position N)" to each of people. */
enum lectern_error
notify_waitlist(int64_t session_id, const int64_t *people,
    const int64_t *positions, size_t n, int64_t now, char *err,
    size_t errlen)
{
	struct notify_session	 s;
	struct notify_extra	 x;
	enum lectern_error	 code;

	if (n == 0 || notify_cfg == NULL)
		return LECTERN_OK;
	if ((code = notify_load(session_id, &s, err, errlen)) == LECTERN_OK) {
		memset(&x, 0, sizeof x);
		code = notify_people(&s, session_id, MAIL_WAITLIST, people,
		    positions, n, &x, now, err, errlen);
	}
	notify_unload(&s);
	return code;
}

/*
 * A course's own calendar entry: one all-day event over its period, with
 * its own UID, beside the timed meetings (each of which is a session with
 * its own invitation). Few per course and rarely sent, so each message is
 * rendered whole.
 */
enum lectern_error
notify_course(int64_t course_id, enum mail_kind kind, const int64_t *people,
    const int64_t *positions, size_t n, const char *reason, int64_t now,
    char *err, size_t errlen)
{
	struct store_outbox_new	 row;
	struct ical_allday	 ev;
	struct mail_message	 m;
	enum lectern_error	 code;
	json_t			*c = NULL, *person;
	const char		*name, *email, *lang, *last;
	char			*cal, *msg, *message_id, why[512];
	size_t			 i, len;
	int64_t			 until;

	if (n == 0 || notify_cfg == NULL)
		return LECTERN_OK;
	if ((code = store_course_get(course_id, 0, &c, err, errlen)) !=
	    LECTERN_OK)
		return code;
	/* Worth sending until the course's last day is over. */
	last = notify_str(c, "last_day");
	until = 0;
	if (last != NULL && strlen(last) == 10)
		until = tz_days_from_civil(atoi(last), atoi(last + 5),
		    atoi(last + 8)) * 86400 + 86400;
	if (until != 0 && until <= now)
		goto done;
	memset(&ev, 0, sizeof ev);
	ev.method = kind == MAIL_COURSE_CANCEL ? ICAL_CANCEL : ICAL_REQUEST;
	ev.uid = notify_str(c, "uid");
	ev.sequence = (int)json_integer_value(json_object_get(c, "sequence"));
	ev.dtstamp = now;
	ev.first_day = notify_str(c, "first_day");
	ev.last_day = last;
	ev.summary = notify_str(c, "title");
	ev.description = notify_str(c, "description");
	ev.organizer_name = notify_cfg->mail_from_name;
	ev.organizer_addr = notify_cfg->mail_from_addr;
	for (i = 0; i < n && code == LECTERN_OK; i++) {
		cal = msg = message_id = NULL;
		person = NULL;
		if ((code = store_person_get(people[i], 0, &person, err,
		    errlen)) != LECTERN_OK)
			break;
		name = notify_str(person, "name");
		email = notify_str(person, "email");
		lang = notify_str(person, "lang");
		ev.attendee_name = name != NULL ? name : "";
		ev.attendee_addr = email;
		if (kind != MAIL_COURSE_WAITLIST &&
		    (cal = ical_render_allday(&ev, why, sizeof why)) == NULL) {
			snprintf(err, errlen, "cannot build the course entry "
			    "for %s: %s", email, why);
			code = LECTERN_E_INTERNAL;
			goto next;
		}
		memset(&m, 0, sizeof m);
		m.kind = kind;
		m.lang = lang != NULL ? lang : notify_cfg->lang;
		m.from_name = notify_cfg->mail_from_name;
		m.from_addr = notify_cfg->mail_from_addr;
		m.to_name = ev.attendee_name;
		m.to_addr = email;
		m.domain = notify_cfg->domain;
		m.date = now;
		m.session_kind = "course_meeting";
		m.title = ev.summary;
		m.description = ev.description;
		m.reason = reason != NULL ? reason :
		    notify_str(c, "cancel_reason");
		m.tz = notify_cfg->timezone != NULL ? notify_cfg->timezone :
		    "UTC";
		m.start_utc = now;
		m.first_day = ev.first_day;
		m.last_day = ev.last_day;
		m.provider = notify_str(c, "provider");
		m.hours = json_integer_value(json_object_get(c, "hours"));
		m.waitlist_position = positions != NULL ? (int)positions[i] :
		    0;
		m.ical = cal;
		m.ical_method = cal == NULL ? NULL : ev.method == ICAL_CANCEL ?
		    "CANCEL" : "REQUEST";
		if ((msg = mail_render(&m, &len, &message_id, why,
		    sizeof why)) == NULL) {
			snprintf(err, errlen, "cannot build the message for "
			    "%s: %s", email, why);
			code = LECTERN_E_INTERNAL;
			goto next;
		}
		memset(&row, 0, sizeof row);
		row.person_id = people[i];
		row.recipient = email;
		row.kind = notify_kind_name(kind);
		row.message_id = message_id;
		row.message = msg;
		row.len = len;
		row.next_attempt = now;
		row.expires = until;
		code = store_outbox_add(&row, now, NULL, err, errlen);
next:
		free(cal);
		free(msg);
		free(message_id);
		json_decref(person);
	}
done:
	json_decref(c);
	return code;
}

enum lectern_error
notify_course_all(int64_t course_id, enum mail_kind kind, const char *reason,
    int64_t now, char *err, size_t errlen)
{
	enum lectern_error	 code;
	int64_t			*ids = NULL;
	size_t			 n = 0;

	code = store_course_people(course_id, &ids, &n, err, errlen);
	if (code == LECTERN_OK)
		code = notify_course(course_id, kind, ids, NULL, n, reason,
		    now, err, errlen);
	free(ids);
	return code;
}

/*
 * Recertification: a message about no session, rendered whole and queued
 * with no expiry (a notice or a digest is still worth reading late).
 */
static enum lectern_error
notify_recert_queue(const struct mail_message *m, int64_t person_id,
    int64_t now, int64_t *outbox_id, char *err, size_t errlen)
{
	struct store_outbox_new	 row;
	enum lectern_error	 code;
	char			*msg, *message_id = NULL, why[512];
	size_t			 len;

	if ((msg = mail_render(m, &len, &message_id, why, sizeof why)) ==
	    NULL) {
		snprintf(err, errlen, "cannot build the %s for %s: %s",
		    m->kind == MAIL_RECERT_NOTICE ? "notice" : "digest",
		    m->to_addr, why);
		return LECTERN_E_INTERNAL;
	}
	memset(&row, 0, sizeof row);
	row.person_id = person_id;
	row.recipient = m->to_addr;
	row.kind = notify_kind_name(m->kind);
	row.message_id = message_id;
	row.message = msg;
	row.len = len;
	row.next_attempt = now;
	code = store_outbox_add(&row, now, outbox_id, err, errlen);
	free(message_id);
	free(msg);
	return code;
}

/* The parts of a recertification message that do not depend on it. */
static void
notify_recert_message(struct mail_message *m, enum mail_kind kind,
    int64_t now)
{
	memset(m, 0, sizeof *m);
	m->kind = kind;
	m->lang = notify_cfg->lang;
	m->from_name = notify_cfg->mail_from_name;
	m->from_addr = notify_cfg->mail_from_addr;
	m->domain = notify_cfg->domain;
	m->date = now;
	m->tz = notify_cfg->timezone != NULL ? notify_cfg->timezone : "UTC";
	m->start_utc = now;
}

/* A person's recertification falls due: one notice in their language. */
enum lectern_error
notify_recert_notice(int64_t person_id, const char *due, int64_t days_left,
    const char *last_title, const char *last_completed_on, int64_t now,
    int64_t *outbox_id, char *err, size_t errlen)
{
	struct mail_message	 m;
	enum lectern_error	 code;
	json_t			*person = NULL;
	const char		*lang;

	*outbox_id = 0;
	if (notify_cfg == NULL)
		return LECTERN_OK;
	if ((code = store_person_get(person_id, 0, &person, err, errlen)) !=
	    LECTERN_OK)
		return code;
	notify_recert_message(&m, MAIL_RECERT_NOTICE, now);
	if ((lang = notify_str(person, "lang")) != NULL)
		m.lang = lang;
	m.to_name = notify_str(person, "name");
	m.to_addr = notify_str(person, "email");
	m.due = due;
	m.days_left = days_left;
	m.last_title = last_title;
	m.last_completed_on = last_completed_on;
	code = notify_recert_queue(&m, person_id, now, outbox_id, err, errlen);
	json_decref(person);
	return code;
}

/* The coordinators' digest d to one address (the default language). */
enum lectern_error
notify_recert_digest(const struct mail_digest *d, const char *to_addr,
    int64_t now, int64_t *outbox_id, char *err, size_t errlen)
{
	struct mail_message	 m;

	*outbox_id = 0;
	if (notify_cfg == NULL)
		return LECTERN_OK;
	notify_recert_message(&m, MAIL_RECERT_DIGEST, now);
	m.to_name = "";
	m.to_addr = to_addr;
	m.digest = d;
	return notify_recert_queue(&m, 0, now, outbox_id, err, errlen);
}
