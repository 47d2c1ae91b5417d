/*
 * notify.c -- what teachers must be told about a session.
 *
 * For each person the session's current revision is rendered once: an
 * iCalendar object addressed to that person alone (ical.c), wrapped in a
 * whole message from the person's language templates (mail.c), and queued
 * in the outbox (store.c) inside the caller's transaction, so that the
 * change and its messages are committed together or not at all.
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
#include "store.h"
#include "tz.h"

static const struct config	*notify_cfg;

/* The facts of one session that every message about it shares. */
struct notify_session {
	json_t		*json;		/* owned: store_session_get's object */
	const char	*uid, *kind, *title, *description, *location, *url;
	const char	*tz, *local_start, *rrule, *status, *reason;
	int64_t		 start_utc;
	int		 sequence, duration;
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
	return LECTERN_OK;
}

/*
 * Until when a message about s is worth delivering: an invitation or an
 * update until the session starts, a cancellation until it ends. A series
 * is worth it until its end, which the recurrence work will compute; until
 * then it never expires.
 */
static int64_t
notify_expires(const struct notify_session *s, enum mail_kind kind)
{
	if (s->rrule != NULL)
		return 0;
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
	}
	return "invite";
}

/* Render and queue one message about s for person_id. */
static enum lectern_error
notify_one(const struct notify_session *s, int64_t session_id,
    int64_t person_id, enum mail_kind kind, const char *reason, int64_t now,
    char *err, size_t errlen)
{
	struct store_outbox_new	 row;
	struct mail_message	 m;
	struct ical_event	 ev;
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

	calendar = kind == MAIL_INVITE || kind == MAIL_UPDATE ||
	    kind == MAIL_CANCEL;
	if (calendar) {
		memset(&ev, 0, sizeof ev);
		ev.method = kind == MAIL_CANCEL ? ICAL_CANCEL : ICAL_REQUEST;
		ev.uid = s->uid;
		ev.sequence = s->sequence;
		ev.dtstamp = now;
		ev.tz = s->tz;
		ev.start_local = s->local_start;
		ev.start_utc = s->start_utc;
		ev.duration = s->duration;
		ev.summary = s->title;
		ev.description = s->description;
		ev.location = s->location;
		ev.url = s->url;
		ev.organizer_name = notify_cfg->mail_from_name;
		ev.organizer_addr = notify_cfg->mail_from_addr;
		ev.attendee_name = name != NULL ? name : "";
		ev.attendee_addr = email;
		ev.rrule = s->rrule;
		if (kind != MAIL_CANCEL && notify_cfg->alarm_in_invite) {
			ev.alarms = notify_cfg->reminders;
			ev.nalarms = notify_cfg->nreminders;
		}
		if ((cal = ical_render(&ev, why, sizeof why)) == NULL) {
			snprintf(err, errlen, "cannot build the invitation "
			    "for %s: %s", email, why);
			code = LECTERN_E_INTERNAL;
			goto fail;
		}
	}

	memset(&m, 0, sizeof m);
	m.kind = kind;
	m.lang = lang;
	m.from_name = notify_cfg->mail_from_name;
	m.from_addr = notify_cfg->mail_from_addr;
	m.to_name = name != NULL ? name : "";
	m.to_addr = email;
	m.domain = notify_cfg->domain;
	m.date = now;
	m.session_kind = s->kind;
	m.title = s->title;
	m.description = s->description;
	m.location = s->location;
	m.url = s->url;
	m.reason = reason != NULL ? reason : s->reason;
	m.tz = s->tz;
	m.start_utc = s->start_utc;
	m.duration = s->duration;
	m.rrule = s->rrule;
	m.ical = cal;
	m.ical_method = calendar ? (kind == MAIL_CANCEL ? "CANCEL" :
	    "REQUEST") : NULL;
	if ((msg = mail_render(&m, &len, &message_id, why, sizeof why)) ==
	    NULL) {
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

/* Queue one message of kind about session_id for each of people. */
enum lectern_error
notify_session(int64_t session_id, enum mail_kind kind,
    const int64_t *people, size_t n, const char *reason, int64_t now,
    char *err, size_t errlen)
{
	struct notify_session	 s;
	enum lectern_error	 code;
	size_t			 i;

	if (n == 0 || notify_cfg == NULL)
		return LECTERN_OK;
	if ((code = notify_load(session_id, &s, err, errlen)) != LECTERN_OK)
		return code;
	/* Nobody needs a message about something already over. */
	if (notify_expires(&s, kind) != 0 && notify_expires(&s, kind) <= now)
		goto done;
	for (i = 0; i < n && code == LECTERN_OK; i++)
		code = notify_one(&s, session_id, people[i], kind, reason, now,
		    err, errlen);
done:
	json_decref(s.json);
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
