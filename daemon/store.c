/*
 * store.c -- the schedule in SQLite.
 *
 * The only file that includes sqlite3.h. Every statement is prepared once
 * (SQLITE_PREPARE_PERSISTENT) on first use and kept until store_close;
 * every use resets it before returning, so that no statement keeps a read
 * transaction open behind the caller's back (which would stall WAL
 * checkpoints).
 *
 * Checkpoints run on a thread of their own ("the checkpointer") with its
 * own connection, not inside the commit that crosses SQLite's threshold:
 * copying a large transaction (10,000 invitations are 40 MB of WAL) back
 * into the database, with its fsyncs, would otherwise stall the daemon's
 * loop for a tenth of a second or more. The loop's connection has no
 * automatic checkpoints; its WAL hook wakes the checkpointer after a
 * commit leaves STORE_CKPT_PAGES or more in the WAL, and the checkpointer
 * runs PASSIVE checkpoints (never blocking the writer or readers). Shared
 * with it, under store_ckpt_mtx: store_ckpt_wanted and store_ckpt_quit;
 * its connection is its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <jansson.h>

#include "lectern.h"
#include "log.h"
#include "store.h"
#include "tz.h"

/*
 * The schema, one step per version: step i takes user_version i to i+1
 * inside one transaction. Later versions append steps; never edit a
 * released one.
 */
static const char *const store_migrations[] = {
	/* 1: people, groups, courses, sessions, enrollments, outbox, audit. */
	"CREATE TABLE people ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" email TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	" organization TEXT,"
	" position TEXT,"
	" lang TEXT,"
	" tags TEXT NOT NULL DEFAULT '[]',"
	" created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL);"
	"CREATE INDEX people_name ON people(name, id);"
	"CREATE INDEX people_organization ON people(organization COLLATE NOCASE);"
	"CREATE TABLE groups ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE group_members ("
	" group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
	" person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
	" created INTEGER NOT NULL,"
	" PRIMARY KEY (group_id, person_id)) WITHOUT ROWID;"
	"CREATE INDEX group_members_person ON group_members(person_id);"
	"CREATE TABLE courses ("
	" id INTEGER PRIMARY KEY,"
	" uid TEXT NOT NULL UNIQUE,"
	" sequence INTEGER NOT NULL DEFAULT 0,"
	" title TEXT NOT NULL,"
	" description TEXT,"
	" provider TEXT,"
	" hours INTEGER,"
	" first_day TEXT,"
	" last_day TEXT,"
	" capacity INTEGER NOT NULL DEFAULT 0 CHECK (capacity >= 0),"
	" counts_for_recertification INTEGER NOT NULL DEFAULT 1,"
	" status TEXT NOT NULL DEFAULT 'scheduled'"
	"  CHECK (status IN ('scheduled', 'cancelled')),"
	" cancel_reason TEXT,"
	" created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL);"
	"CREATE INDEX courses_first_day ON courses(first_day, id);"
	"CREATE TABLE sessions ("
	" id INTEGER PRIMARY KEY,"
	" uid TEXT NOT NULL UNIQUE,"
	" sequence INTEGER NOT NULL DEFAULT 0,"
	" kind TEXT NOT NULL,"
	" title TEXT NOT NULL,"
	" description TEXT,"
	" location TEXT,"
	" url TEXT,"
	" start_utc INTEGER NOT NULL,"
	" start_local TEXT NOT NULL,"
	" tz TEXT NOT NULL,"
	" duration INTEGER NOT NULL CHECK (duration > 0),"
	" capacity INTEGER NOT NULL DEFAULT 0 CHECK (capacity >= 0),"
	" reminders TEXT NOT NULL DEFAULT '[]',"
	" course_id INTEGER REFERENCES courses(id),"
	" rrule TEXT,"
	" status TEXT NOT NULL DEFAULT 'scheduled'"
	"  CHECK (status IN ('scheduled', 'cancelled')),"
	" cancel_reason TEXT,"
	" created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL);"
	"CREATE INDEX sessions_start ON sessions(start_utc, id);"
	"CREATE INDEX sessions_course ON sessions(course_id);"
	/* ord: the order in which people got a seat (enrolled rows only). */
	"CREATE TABLE enrollments ("
	" id INTEGER PRIMARY KEY,"
	" session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
	" person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
	" state TEXT NOT NULL CHECK (state IN ('enrolled', 'waitlisted')),"
	" position INTEGER,"
	" ord INTEGER,"
	" rsvp TEXT NOT NULL DEFAULT 'needs_action' CHECK (rsvp IN"
	"  ('needs_action', 'accepted', 'declined', 'tentative')),"
	" attendance TEXT CHECK (attendance IN ('attended', 'absent')),"
	" created INTEGER NOT NULL,"
	" UNIQUE (session_id, person_id));"
	"CREATE INDEX enrollments_session ON enrollments(session_id, state, position);"
	"CREATE INDEX enrollments_person ON enrollments(person_id);"
	/* max(ord) per session on every enrolment: O(log n), not a scan. */
	"CREATE INDEX enrollments_ord ON enrollments(session_id, ord);"
	"CREATE TABLE course_enrollments ("
	" id INTEGER PRIMARY KEY,"
	" course_id INTEGER NOT NULL REFERENCES courses(id) ON DELETE CASCADE,"
	" person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
	" state TEXT NOT NULL CHECK (state IN ('enrolled', 'waitlisted')),"
	" position INTEGER,"
	" ord INTEGER,"
	" completed INTEGER,"
	" hours INTEGER,"
	" created INTEGER NOT NULL,"
	" UNIQUE (course_id, person_id));"
	"CREATE INDEX course_enrollments_course"
	" ON course_enrollments(course_id, state, position);"
	"CREATE INDEX course_enrollments_person ON course_enrollments(person_id);"
	"CREATE INDEX course_enrollments_ord ON course_enrollments(course_id, ord);"
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY,"
	" session_id INTEGER REFERENCES sessions(id),"
	" person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,"
	" recipient TEXT NOT NULL,"
	" kind TEXT NOT NULL"
	"  CHECK (kind IN ('invite', 'update', 'cancel', 'reminder',"
	"   'waitlist')),"
	" message_id TEXT NOT NULL,"
	" message BLOB NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'queued'"
	"  CHECK (state IN ('queued', 'sent', 'failed', 'expired')),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt INTEGER NOT NULL,"
	" expires INTEGER NOT NULL DEFAULT 0,"
	" last_reply TEXT,"
	" created INTEGER NOT NULL,"
	" sent_at INTEGER);"
	"CREATE INDEX outbox_due ON outbox(state, next_attempt);"
	/* Expiry looks only at queued messages that can expire. */
	"CREATE INDEX outbox_expiry ON outbox(expires)"
	" WHERE state = 'queued' AND expires > 0;"
	"CREATE INDEX outbox_session ON outbox(session_id);"
	/*
	 * One occurrence of a series changed or cancelled on its own, keyed
	 * by its original start (its RECURRENCE-ID). NULL fields: as the
	 * series.
	 */
	"CREATE TABLE occurrences ("
	" session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
	" recurrence_id INTEGER NOT NULL,"
	" start_utc INTEGER NOT NULL,"
	" start_local TEXT NOT NULL,"
	" duration INTEGER NOT NULL CHECK (duration > 0),"
	" title TEXT,"
	" description TEXT,"
	" location TEXT,"
	" url TEXT,"
	" sequence INTEGER NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'scheduled'"
	"  CHECK (status IN ('scheduled', 'cancelled')),"
	" cancel_reason TEXT,"
	" updated INTEGER NOT NULL,"
	" PRIMARY KEY (session_id, recurrence_id)) WITHOUT ROWID;"
	/*
	 * Reminders: one row per (session, occurrence, offset), kept after it
	 * fires so that it never fires twice. occurrence is 0 for a single
	 * session, else the occurrence's original start (its RECURRENCE-ID).
	 */
	"CREATE TABLE reminders ("
	" id INTEGER PRIMARY KEY,"
	" session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
	" occurrence INTEGER NOT NULL,"
	" starts INTEGER NOT NULL,"
	" before INTEGER NOT NULL,"
	" due INTEGER NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN"
	"  ('pending', 'sent', 'expired', 'missed')),"
	" done INTEGER,"
	" recipients INTEGER NOT NULL DEFAULT 0,"
	" keep INTEGER NOT NULL DEFAULT 1,"
	" UNIQUE (session_id, occurrence, before));"
	"CREATE INDEX reminders_due ON reminders(due) WHERE state = 'pending';"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY,"
	" at INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" pid INTEGER NOT NULL,"
	" cmd TEXT NOT NULL,"
	" args TEXT NOT NULL,"
	" result TEXT NOT NULL);"
	/*
	 * status is asked for tens of thousands of times a second; counting
	 * rows each time would walk whole tables, so triggers keep counts.
	 */
	"CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0)"
	" WITHOUT ROWID;"
	"INSERT INTO counters(name) VALUES ('people'), ('groups'), ('sessions'),"
	" ('courses'), ('outbox.queued'), ('outbox.sent'), ('outbox.failed'),"
	" ('outbox.expired');"
	"CREATE TRIGGER people_count_ai AFTER INSERT ON people BEGIN"
	" UPDATE counters SET n = n + 1 WHERE name = 'people'; END;"
	"CREATE TRIGGER people_count_ad AFTER DELETE ON people BEGIN"
	" UPDATE counters SET n = n - 1 WHERE name = 'people'; END;"
	"CREATE TRIGGER groups_count_ai AFTER INSERT ON groups BEGIN"
	" UPDATE counters SET n = n + 1 WHERE name = 'groups'; END;"
	"CREATE TRIGGER groups_count_ad AFTER DELETE ON groups BEGIN"
	" UPDATE counters SET n = n - 1 WHERE name = 'groups'; END;"
	"CREATE TRIGGER sessions_count_ai AFTER INSERT ON sessions BEGIN"
	" UPDATE counters SET n = n + 1 WHERE name = 'sessions'; END;"
	"CREATE TRIGGER sessions_count_ad AFTER DELETE ON sessions BEGIN"
	" UPDATE counters SET n = n - 1 WHERE name = 'sessions'; END;"
	"CREATE TRIGGER courses_count_ai AFTER INSERT ON courses BEGIN"
	" UPDATE counters SET n = n + 1 WHERE name = 'courses'; END;"
	"CREATE TRIGGER courses_count_ad AFTER DELETE ON courses BEGIN"
	" UPDATE counters SET n = n - 1 WHERE name = 'courses'; END;"
	"CREATE TRIGGER outbox_count_ai AFTER INSERT ON outbox BEGIN"
	" UPDATE counters SET n = n + 1 WHERE name = 'outbox.' || NEW.state; END;"
	"CREATE TRIGGER outbox_count_ad AFTER DELETE ON outbox BEGIN"
	" UPDATE counters SET n = n - 1 WHERE name = 'outbox.' || OLD.state; END;"
	"CREATE TRIGGER outbox_count_au AFTER UPDATE OF state ON outbox"
	" WHEN OLD.state <> NEW.state BEGIN"
	" UPDATE counters SET n = n - 1 WHERE name = 'outbox.' || OLD.state;"
	" UPDATE counters SET n = n + 1 WHERE name = 'outbox.' || NEW.state; END;",
	/*
	 * 2: the outbox (and enrollments) rebuilt. A message's bytes move to
	 * their own table:
	 * a 4 KiB body in the outbox row made every state change rewrite it
	 * into the WAL, and every read of a later column walk past it. Two
	 * kinds join: a recertification notice to a teacher and the
	 * coordinator's digest (no session).
	 */
	"CREATE TABLE outbox_bodies ("
	" id INTEGER PRIMARY KEY,"	/* the outbox row's id */
	" message BLOB NOT NULL);"
	"INSERT INTO outbox_bodies (id, message) SELECT id, message FROM outbox;"
	"CREATE TABLE outbox_new ("
	" id INTEGER PRIMARY KEY,"
	" session_id INTEGER REFERENCES sessions(id),"
	" person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,"
	" recipient TEXT NOT NULL,"
	/*
	 * CHECK with OR, not IN: SQLite builds a temporary table for an IN
	 * list of constants on every statement run, a tenth of the cost of
	 * queueing a message.
	 */
	" kind TEXT NOT NULL"
	"  CHECK (kind = 'invite' OR kind = 'update' OR kind = 'cancel' OR"
	"   kind = 'reminder' OR kind = 'waitlist' OR kind = 'notice' OR"
	"   kind = 'digest'),"
	" message_id TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'queued'"
	"  CHECK (state = 'queued' OR state = 'sent' OR state = 'failed' OR"
	"   state = 'expired'),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt INTEGER NOT NULL,"
	" expires INTEGER NOT NULL DEFAULT 0,"
	" last_reply TEXT,"
	" created INTEGER NOT NULL,"
	" sent_at INTEGER);"
	"INSERT INTO outbox_new (id, session_id, person_id, recipient, kind,"
	" message_id, state, attempts, next_attempt, expires, last_reply,"
	" created, sent_at) SELECT id, session_id, person_id, recipient, kind,"
	" message_id, state, attempts, next_attempt, expires, last_reply,"
	" created, sent_at FROM outbox;"
	"DROP TABLE outbox;"
	"ALTER TABLE outbox_new RENAME TO outbox;"
	"CREATE INDEX outbox_due ON outbox(state, next_attempt);"
	"CREATE INDEX outbox_expiry ON outbox(expires)"
	" WHERE state = 'queued' AND expires > 0;"
	"CREATE INDEX outbox_session ON outbox(session_id);"
	"CREATE INDEX outbox_person ON outbox(person_id);"
	"CREATE TRIGGER outbox_count_ai AFTER INSERT ON outbox BEGIN"
	" UPDATE counters SET n = n + 1 WHERE name = 'outbox.' || NEW.state; END;"
	"CREATE TRIGGER outbox_count_ad AFTER DELETE ON outbox BEGIN"
	" UPDATE counters SET n = n - 1 WHERE name = 'outbox.' || OLD.state; END;"
	"CREATE TRIGGER outbox_count_au AFTER UPDATE OF state ON outbox"
	" WHEN OLD.state <> NEW.state BEGIN"
	" UPDATE counters SET n = n - 1 WHERE name = 'outbox.' || OLD.state;"
	" UPDATE counters SET n = n + 1 WHERE name = 'outbox.' || NEW.state; END;"
	/* Enrollments again, for the same reason as the outbox's CHECKs. */
	"CREATE TABLE enrollments_new ("
	" id INTEGER PRIMARY KEY,"
	" session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
	" person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
	" state TEXT NOT NULL CHECK (state IN ('enrolled', 'waitlisted')),"
	" position INTEGER,"
	" ord INTEGER,"
	" rsvp TEXT NOT NULL DEFAULT 'needs_action' CHECK (rsvp ="
	"  'needs_action' OR rsvp = 'accepted' OR rsvp = 'declined' OR"
	"  rsvp = 'tentative'),"
	" attendance TEXT CHECK (attendance IN ('attended', 'absent')),"
	" created INTEGER NOT NULL,"
	" UNIQUE (session_id, person_id));"
	"INSERT INTO enrollments_new (id, session_id, person_id, state,"
	" position, ord, rsvp, attendance, created) SELECT id, session_id,"
	" person_id, state, position, ord, rsvp, attendance, created"
	" FROM enrollments;"
	"DROP TABLE enrollments;"
	"ALTER TABLE enrollments_new RENAME TO enrollments;"
	"CREATE INDEX enrollments_session ON enrollments(session_id, state,"
	" position);"
	"CREATE INDEX enrollments_person ON enrollments(person_id);"
	"CREATE INDEX enrollments_ord ON enrollments(session_id, ord);",
	/*
	 * 3: CPD records (docs/PROTOCOL.md, "CPD records"). Attendance per
	 * session occurrence (0: a single session); completions, of lectern's
	 * courses and of training done elsewhere, each with its register
	 * number; the notices and digests already queued, so that none is
	 * sent twice. entered_by is the uid of the client that entered it.
	 */
	"CREATE TABLE attendance ("
	" session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
	" occurrence INTEGER NOT NULL DEFAULT 0,"
	" person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
	" state TEXT NOT NULL CHECK (state IN ('attended', 'absent')),"
	" minutes INTEGER,"
	" source TEXT NOT NULL CHECK (source IN ('manual', 'import')),"
	" entered_by INTEGER NOT NULL,"
	" entered_at INTEGER NOT NULL,"
	" PRIMARY KEY (session_id, occurrence, person_id)) WITHOUT ROWID;"
	"CREATE INDEX attendance_person ON attendance(person_id);"
	"CREATE TABLE completions ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"	/* ids never reused */
	" register_no TEXT NOT NULL UNIQUE,"
	" person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
	" course_id INTEGER REFERENCES courses(id),"
	" title TEXT NOT NULL,"
	" provider TEXT,"
	" hours REAL NOT NULL DEFAULT 0 CHECK (hours >= 0),"
	" completed_on TEXT NOT NULL,"
	" counts INTEGER NOT NULL CHECK (counts IN (0, 1)),"
	" source TEXT NOT NULL"
	"  CHECK (source IN ('attendance', 'manual', 'import')),"
	" entered_by INTEGER NOT NULL,"
	" entered_at INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX completions_course ON completions(course_id,"
	" person_id) WHERE course_id IS NOT NULL;"
	"CREATE INDEX completions_person ON completions(person_id,"
	" completed_on);"
	"CREATE INDEX completions_date ON completions(completed_on);"
	"CREATE TABLE register_seq (year INTEGER PRIMARY KEY,"
	" n INTEGER NOT NULL);"
	"CREATE TABLE recert_notices ("
	" person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
	" due_on TEXT NOT NULL,"
	" outbox_id INTEGER,"
	" created INTEGER NOT NULL,"
	" PRIMARY KEY (person_id, due_on)) WITHOUT ROWID;"
	"CREATE TABLE recert_digests ("
	" period TEXT PRIMARY KEY,"
	" outbox_id INTEGER,"
	" created INTEGER NOT NULL) WITHOUT ROWID;",
	/*
	 * 4: the reports (report.recertification, report.coverage,
	 * report.hours, the notices) read a person's completions by date,
	 * and of each only these columns: a covering index answers them from
	 * the index alone (a 100,000-people report in a quarter of a second
	 * instead of more than half a second with a small page cache).
	 */
	"CREATE INDEX completions_cover ON completions(person_id,"
	" completed_on, counts, hours, course_id);",
};

#define STORE_NMIGRATIONS \
	((int)(sizeof store_migrations / sizeof store_migrations[0]))

#define STORE_PERSON_COLS \
	"p.id, p.name, p.email, p.organization, p.position, p.lang, p.tags," \
	" p.created, p.updated"

#define STORE_COURSE_COLS \
	"c.id, c.uid, c.sequence, c.title, c.description, c.provider," \
	" c.hours, c.first_day, c.last_day, c.capacity," \
	" c.counts_for_recertification, c.status, c.cancel_reason," \
	" (SELECT count(*) FROM course_enrollments e WHERE e.course_id = c.id" \
	"  AND e.state = 'enrolled')," \
	" (SELECT count(*) FROM course_enrollments e WHERE e.course_id = c.id" \
	"  AND e.state = 'waitlisted')," \
	" (SELECT count(*) FROM sessions s WHERE s.course_id = c.id)," \
	" c.created, c.updated"

#define STORE_SESSION_COLS \
	"s.id, s.uid, s.sequence, s.kind, s.title, s.description, s.location," \
	" s.url, s.start_utc, s.duration, s.tz, s.start_local, s.capacity," \
	" s.reminders, s.course_id, s.rrule, s.status, s.cancel_reason," \
	" (SELECT count(*) FROM enrollments e WHERE e.session_id = s.id" \
	"  AND e.state = 'enrolled')," \
	" (SELECT count(*) FROM enrollments e WHERE e.session_id = s.id" \
	"  AND e.state = 'waitlisted')," \
	" s.created, s.updated"

#define STORE_COMPLETION_COLS \
	"k.id, k.register_no, k.person_id, p.email, p.name, p.organization," \
	" k.course_id, k.title, k.provider," \
	" CAST(round(k.hours * 10) AS INTEGER), k.completed_on, k.counts," \
	" k.source, k.entered_by, k.entered_at"

/* The register's filters: ?1, ?2 days, ?3 person, ?4 organization, ... */
#define STORE_REGISTER_WHERE \
	"k.completed_on >= coalesce(?1, '0')" \
	" AND k.completed_on <= coalesce(?2, '9')" \
	" AND (?3 = 0 OR k.person_id = ?3)" \
	" AND (?4 IS NULL OR p.organization = ?4 COLLATE NOCASE)" \
	" AND (?5 = 0 OR k.course_id = ?5)" \
	" AND (?6 IS NULL OR k.source = ?6)" \
	" ORDER BY k.completed_on, k.register_no"

/* Per person: h, the hours in [?1, ?2] (tenths); q, one qualifies. */
#define STORE_COVERAGE_PERSON \
	"SELECT p.organization AS org, p.position AS pos," \
	" coalesce(sum(CAST(round(c.hours * 10) AS INTEGER)), 0) AS h," \
	" coalesce(max(c.counts = 1" \
	"  AND CAST(round(c.hours * 10) AS INTEGER) >= ?3), 0) AS q" \
	" FROM people p LEFT JOIN completions c ON c.person_id = p.id" \
	" AND c.completed_on >= ?1 AND c.completed_on <= ?2" \
	" WHERE (?4 IS NULL OR p.organization = ?4 COLLATE NOCASE)" \
	" GROUP BY p.id"

/* The day of a's person's last qualifying completion on or before ?2. */
#define STORE_LAST_QUALIFYING(a) \
	"(SELECT c.completed_on FROM completions c" \
	" WHERE c.person_id = " a ".person_id AND c.completed_on <= ?2" \
	" AND c.counts = 1 AND CAST(round(c.hours * 10) AS INTEGER) >= ?3" \
	" ORDER BY c.completed_on DESC LIMIT 1)"

/*
 * Statements. The enrollment ones come in pairs, the session variant
 * first and the course variant right after it: store_eq() picks one.
 */
enum store_q {
	STORE_Q_BEGIN,
	STORE_Q_BEGIN_READ,
	STORE_Q_COMMIT,
	STORE_Q_ROLLBACK,
	STORE_Q_COUNTS,
	STORE_Q_AUDIT,
	STORE_Q_P_ADD,
	STORE_Q_P_UPDATE,
	STORE_Q_P_REMOVE,
	STORE_Q_P_FIND_ID,
	STORE_Q_P_FIND_EMAIL,
	STORE_Q_P_GET,
	STORE_Q_P_GROUPS,
	STORE_Q_P_ENROLLMENTS,
	STORE_Q_P_LIST,
	STORE_Q_G_ADD,
	STORE_Q_G_REMOVE,
	STORE_Q_G_FIND,
	STORE_Q_G_GET,
	STORE_Q_G_PEOPLE,
	STORE_Q_G_MEMBER_ADD,
	STORE_Q_G_MEMBER_DEL,
	STORE_Q_G_LIST,
	STORE_Q_G_IDS,
	STORE_Q_C_EXISTS,
	STORE_Q_C_ADD,
	STORE_Q_C_UPDATE,
	STORE_Q_C_CANCEL,
	STORE_Q_C_BUMP,
	STORE_Q_C_GET,
	STORE_Q_C_LIST,
	STORE_Q_C_ENROLLMENTS,
	STORE_Q_C_MEETINGS,
	STORE_Q_C_SESSIONS,
	STORE_Q_C_PEOPLE,
	STORE_Q_S_ADD,
	STORE_Q_S_UPDATE,
	STORE_Q_S_CANCEL,
	STORE_Q_S_BUMP,
	STORE_Q_S_GET,
	STORE_Q_S_ENROLLMENTS,
	STORE_Q_S_LIST,
	STORE_Q_E_TARGET,
	STORE_Q_CE_TARGET,
	STORE_Q_E_FIND,
	STORE_Q_CE_FIND,
	STORE_Q_E_INSERT,
	STORE_Q_CE_INSERT,
	STORE_Q_E_DELETE,
	STORE_Q_CE_DELETE,
	STORE_Q_E_SHIFT,
	STORE_Q_CE_SHIFT,
	STORE_Q_E_HEAD,
	STORE_Q_CE_HEAD,
	STORE_Q_E_PROMOTE,
	STORE_Q_CE_PROMOTE,
	STORE_Q_E_TARGETS,
	STORE_Q_CE_TARGETS,
	STORE_Q_O_LIST,
	STORE_Q_S_PEOPLE,
	STORE_Q_S_ATTENDING,
	STORE_Q_E_RSVP_GET,
	STORE_Q_E_RSVP_SET,
	STORE_Q_E_REWAIT,
	STORE_Q_S_BY_UID,
	STORE_Q_S_SERIES,
	STORE_Q_X_PUT,
	STORE_Q_X_LIST,
	STORE_Q_X_CLEAR,
	STORE_Q_R_FIND,
	STORE_Q_R_INSERT,
	STORE_Q_R_UPDATE,
	STORE_Q_R_UNKEEP,
	STORE_Q_R_SWEEP,
	STORE_Q_R_DROP,
	STORE_Q_R_NEXT,
	STORE_Q_R_DUE,
	STORE_Q_R_DONE,
	STORE_Q_R_LIST,
	STORE_Q_R_PENDING,
	STORE_Q_O_ADD,
	STORE_Q_O_ADD_BODY,
	STORE_Q_O_DUE,
	STORE_Q_O_NEXT,
	STORE_Q_O_EXPIRING,
	STORE_Q_O_SENT,
	STORE_Q_O_DEFER,
	STORE_Q_O_FAIL,
	STORE_Q_O_EXPIRE,
	STORE_Q_O_REQUEUE,
	STORE_Q_A_PUT,
	STORE_Q_A_ENROLLMENT,
	STORE_Q_A_LIST,
	STORE_Q_A_COURSE,
	STORE_Q_K_SEQ,
	STORE_Q_K_ADD,
	STORE_Q_K_GET,
	STORE_Q_K_REMOVE,
	STORE_Q_K_OF_COURSE,
	STORE_Q_K_SAME,
	STORE_Q_K_LIST,
	STORE_Q_K_LIST_PERSON,
	STORE_Q_K_LIST_COURSE,
	STORE_Q_K_LIST_ORG,
	STORE_Q_K_CE_MARK,
	STORE_Q_RC_SCAN,
	STORE_Q_RC_LAST,
	STORE_Q_RC_PERSON,
	STORE_Q_CV_NONE,
	STORE_Q_CV_ORG,
	STORE_Q_CV_POS,
	STORE_Q_HR_PEOPLE,
	STORE_Q_HR_SESSIONS,
	STORE_Q_W_LIST,
	STORE_Q_CW_LIST,
	STORE_Q_W_SETPOS,
	STORE_Q_CW_SETPOS,
	STORE_Q_W_OF_PERSON,
	STORE_Q_N_HAS,
	STORE_Q_N_ADD,
	STORE_Q_N_COUNT,
	STORE_Q_D_HAS,
	STORE_Q_D_ADD,
	STORE_Q_D_LAST,
	STORE_Q_MAX
};

static const char *const store_sql[STORE_Q_MAX] = {
	[STORE_Q_BEGIN] = "BEGIN IMMEDIATE",
	[STORE_Q_BEGIN_READ] = "BEGIN DEFERRED",
	[STORE_Q_COMMIT] = "COMMIT",
	[STORE_Q_ROLLBACK] = "ROLLBACK",
	[STORE_Q_COUNTS] = "SELECT name, n FROM counters",
	[STORE_Q_AUDIT] = "INSERT INTO audit (at, uid, pid, cmd, args, result)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[STORE_Q_P_ADD] = "INSERT INTO people (name, email, organization,"
	    " position, lang, tags, created, updated)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, '[]'), ?7, ?7)",
	[STORE_Q_P_UPDATE] = "UPDATE people SET"
	    " name = CASE WHEN ?1 & 1 THEN ?2 ELSE name END,"
	    " email = CASE WHEN ?1 & 2 THEN ?3 ELSE email END,"
	    " organization = CASE WHEN ?1 & 4 THEN ?4 ELSE organization END,"
	    " position = CASE WHEN ?1 & 8 THEN ?5 ELSE position END,"
	    " lang = CASE WHEN ?1 & 16 THEN ?6 ELSE lang END,"
	    " tags = CASE WHEN ?1 & 32 THEN coalesce(?7, '[]') ELSE tags END,"
	    " updated = ?8 WHERE id = ?9",
	[STORE_Q_P_REMOVE] = "DELETE FROM people WHERE id = ?1",
	[STORE_Q_P_FIND_ID] = "SELECT id, email FROM people WHERE id = ?1",
	[STORE_Q_P_FIND_EMAIL] = "SELECT id, email FROM people WHERE email = ?1",
	[STORE_Q_P_GET] = "SELECT " STORE_PERSON_COLS " FROM people p"
	    " WHERE p.id = ?1",
	[STORE_Q_P_GROUPS] = "SELECT g.name FROM group_members m"
	    " JOIN groups g ON g.id = m.group_id WHERE m.person_id = ?1"
	    " ORDER BY g.name",
	[STORE_Q_P_ENROLLMENTS] = "SELECT s.id, s.title, s.start_utc, e.state"
	    " FROM enrollments e JOIN sessions s ON s.id = e.session_id"
	    " WHERE e.person_id = ?1 ORDER BY s.start_utc, s.id",
	[STORE_Q_P_LIST] = "SELECT " STORE_PERSON_COLS " FROM people p WHERE"
	    " (?1 IS NULL OR p.organization = ?1 COLLATE NOCASE)"
	    " AND (?2 = 0 OR p.id IN"
	    "  (SELECT person_id FROM group_members WHERE group_id = ?2))"
	    " AND (?3 IS NULL OR EXISTS"
	    "  (SELECT 1 FROM json_each(p.tags) WHERE value = ?3))"
	    " ORDER BY p.name, p.id LIMIT ?4",
	[STORE_Q_G_ADD] = "INSERT INTO groups (name, created) VALUES (?1, ?2)",
	[STORE_Q_G_REMOVE] = "DELETE FROM groups WHERE id = ?1",
	[STORE_Q_G_FIND] = "SELECT id FROM groups WHERE name = ?1",
	[STORE_Q_G_GET] = "SELECT g.name, (SELECT count(*) FROM group_members m"
	    " WHERE m.group_id = g.id) FROM groups g WHERE g.id = ?1",
	[STORE_Q_G_PEOPLE] = "SELECT " STORE_PERSON_COLS " FROM group_members m"
	    " JOIN people p ON p.id = m.person_id WHERE m.group_id = ?1"
	    " ORDER BY p.name, p.id",
	[STORE_Q_G_MEMBER_ADD] = "INSERT OR IGNORE INTO group_members"
	    " (group_id, person_id, created) VALUES (?1, ?2, ?3)",
	[STORE_Q_G_MEMBER_DEL] = "DELETE FROM group_members"
	    " WHERE group_id = ?1 AND person_id = ?2",
	[STORE_Q_G_LIST] = "SELECT g.name, (SELECT count(*) FROM group_members m"
	    " WHERE m.group_id = g.id) FROM groups g ORDER BY g.name",
	[STORE_Q_G_IDS] = "SELECT p.id FROM group_members m"
	    " JOIN people p ON p.id = m.person_id WHERE m.group_id = ?1"
	    " ORDER BY p.name, p.id",
	[STORE_Q_C_EXISTS] = "SELECT 1 FROM courses WHERE id = ?1",
	[STORE_Q_C_ADD] = "INSERT INTO courses (id, uid, title, description,"
	    " provider, hours, first_day, last_day, capacity,"
	    " counts_for_recertification, created, updated)"
	    " VALUES ((SELECT coalesce(max(id), 0) + 1 FROM courses),"
	    " ?1 || '-course-' || (SELECT coalesce(max(id), 0) + 1 FROM courses)"
	    " || '@' || ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
	[STORE_Q_C_UPDATE] = "UPDATE courses SET title = ?2, description = ?3,"
	    " provider = ?4, hours = ?5, first_day = ?6, last_day = ?7,"
	    " capacity = ?8, counts_for_recertification = ?9,"
	    " sequence = sequence + ?10, updated = ?11"
	    " WHERE id = ?1 AND status = 'scheduled'",
	[STORE_Q_C_CANCEL] = "UPDATE courses SET status = 'cancelled',"
	    " cancel_reason = ?2, sequence = sequence + 1, updated = ?3"
	    " WHERE id = ?1 AND status = 'scheduled'",
	[STORE_Q_C_BUMP] = "UPDATE courses SET sequence = sequence + 1,"
	    " updated = ?2 WHERE id = ?1",
	[STORE_Q_C_GET] = "SELECT " STORE_COURSE_COLS " FROM courses c"
	    " WHERE c.id = ?1",
	[STORE_Q_C_LIST] = "SELECT " STORE_COURSE_COLS " FROM courses c WHERE"
	    " (?1 IS NULL OR c.last_day >= ?1)"
	    " AND (?2 IS NULL OR c.first_day <= ?2)"
	    " AND (?3 IS NULL OR c.status = ?3)"
	    " ORDER BY c.first_day, c.id LIMIT ?4",
	[STORE_Q_C_MEETINGS] = "SELECT " STORE_SESSION_COLS " FROM sessions s"
	    " WHERE s.course_id = ?1 ORDER BY s.start_utc, s.id",
	[STORE_Q_C_ENROLLMENTS] = "SELECT p.id, p.name, p.email,"
	    " p.organization, e.state, e.position, e.completed, e.hours,"
	    " e.created FROM course_enrollments e"
	    " JOIN people p ON p.id = e.person_id"
	    " WHERE e.course_id = ?1 ORDER BY e.state = 'waitlisted',"
	    " CASE WHEN e.state = 'enrolled' THEN e.ord ELSE e.position END,"
	    " e.id",
	[STORE_Q_C_SESSIONS] = "SELECT id FROM sessions WHERE course_id = ?1"
	    " AND status = 'scheduled' ORDER BY start_utc, id",
	[STORE_Q_C_PEOPLE] = "SELECT person_id FROM course_enrollments"
	    " WHERE course_id = ?1 AND state = 'enrolled' ORDER BY ord, id",
	/*
	 * The UID needs the row's id, so the id is chosen here rather than
	 * by SQLite (sessions are never deleted, so max + 1 is unique).
	 */
	[STORE_Q_S_ADD] = "INSERT INTO sessions (id, uid, kind, title,"
	    " description, location, url, start_utc, start_local, tz, duration,"
	    " capacity, reminders, course_id, rrule, created, updated)"
	    " VALUES ((SELECT coalesce(max(id), 0) + 1 FROM sessions),"
	    " ?1 || '-' || (SELECT coalesce(max(id), 0) + 1 FROM sessions)"
	    " || '@' || ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
	    " coalesce(?13, '[]'), nullif(?14, 0), ?15, ?16, ?16)",
	[STORE_Q_S_UPDATE] = "UPDATE sessions SET kind = ?1, title = ?2,"
	    " description = ?3, location = ?4, url = ?5, start_utc = ?6,"
	    " start_local = ?7, tz = ?8, duration = ?9, capacity = ?10,"
	    " reminders = coalesce(?11, '[]'), course_id = nullif(?12, 0),"
	    " rrule = ?13, sequence = sequence + ?14, updated = ?15"
	    " WHERE id = ?16",
	[STORE_Q_S_CANCEL] = "UPDATE sessions SET status = 'cancelled',"
	    " cancel_reason = ?1, sequence = sequence + 1, updated = ?2"
	    " WHERE id = ?3 AND status = 'scheduled'",
	[STORE_Q_S_BUMP] = "UPDATE sessions SET sequence = sequence + 1,"
	    " updated = ?1 WHERE id = ?2",
	[STORE_Q_S_GET] = "SELECT " STORE_SESSION_COLS " FROM sessions s"
	    " WHERE s.id = ?1",
	[STORE_Q_S_ENROLLMENTS] = "SELECT p.id, p.name, p.email,"
	    " p.organization, e.state, e.position, e.rsvp, e.attendance,"
	    " e.created FROM enrollments e JOIN people p ON p.id = e.person_id"
	    " WHERE e.session_id = ?1 ORDER BY e.state = 'waitlisted',"
	    " CASE WHEN e.state = 'enrolled' THEN e.ord ELSE e.position END,"
	    " e.id",
	[STORE_Q_S_LIST] = "SELECT " STORE_SESSION_COLS " FROM sessions s WHERE"
	    " (?1 IS NULL OR s.start_utc >= ?1 OR (?7 AND s.rrule IS NOT NULL))"
	    " AND (?2 IS NULL OR s.start_utc < ?2)"
	    " AND (?3 IS NULL OR s.kind = ?3)"
	    " AND (?4 IS NULL OR s.status = ?4)"
	    " AND (?5 = 0 OR s.course_id = ?5)"
	    " ORDER BY s.start_utc, s.id LIMIT ?6",
	/* A seat is taken by someone enrolled who has not declined. */
	[STORE_Q_E_TARGET] = "SELECT status, capacity,"
	    " (SELECT count(*) FROM enrollments WHERE session_id = ?1"
	    "  AND state = 'enrolled' AND rsvp <> 'declined'),"
	    " (SELECT coalesce(max(position), 0) FROM enrollments"
	    "  WHERE session_id = ?1 AND state = 'waitlisted')"
	    " FROM sessions WHERE id = ?1",
	[STORE_Q_CE_TARGET] = "SELECT status, capacity,"
	    " (SELECT count(*) FROM course_enrollments WHERE course_id = ?1"
	    "  AND state = 'enrolled'),"
	    " (SELECT coalesce(max(position), 0) FROM course_enrollments"
	    "  WHERE course_id = ?1 AND state = 'waitlisted')"
	    " FROM courses WHERE id = ?1",
	[STORE_Q_E_FIND] = "SELECT state, position FROM enrollments"
	    " WHERE session_id = ?1 AND person_id = ?2",
	[STORE_Q_CE_FIND] = "SELECT state, position FROM course_enrollments"
	    " WHERE course_id = ?1 AND person_id = ?2",
	[STORE_Q_E_INSERT] = "INSERT INTO enrollments (session_id, person_id,"
	    " state, position, ord, created) VALUES (?1, ?2, ?3, ?4,"
	    " CASE WHEN ?3 = 'enrolled' THEN (SELECT coalesce(max(ord), 0) + 1"
	    "  FROM enrollments WHERE session_id = ?1) END, ?5)",
	[STORE_Q_CE_INSERT] = "INSERT INTO course_enrollments (course_id,"
	    " person_id, state, position, ord, created) VALUES (?1, ?2, ?3, ?4,"
	    " CASE WHEN ?3 = 'enrolled' THEN (SELECT coalesce(max(ord), 0) + 1"
	    "  FROM course_enrollments WHERE course_id = ?1) END, ?5)",
	[STORE_Q_E_DELETE] = "DELETE FROM enrollments"
	    " WHERE session_id = ?1 AND person_id = ?2",
	[STORE_Q_CE_DELETE] = "DELETE FROM course_enrollments"
	    " WHERE course_id = ?1 AND person_id = ?2",
	[STORE_Q_E_SHIFT] = "UPDATE enrollments SET position = position - 1"
	    " WHERE session_id = ?1 AND state = 'waitlisted' AND position > ?2",
	[STORE_Q_CE_SHIFT] = "UPDATE course_enrollments"
	    " SET position = position - 1 WHERE course_id = ?1"
	    " AND state = 'waitlisted' AND position > ?2",
	[STORE_Q_E_HEAD] = "SELECT e.person_id, p.email FROM enrollments e"
	    " JOIN people p ON p.id = e.person_id WHERE e.session_id = ?1"
	    " AND e.state = 'waitlisted' ORDER BY e.position LIMIT 1",
	[STORE_Q_CE_HEAD] = "SELECT e.person_id, p.email"
	    " FROM course_enrollments e JOIN people p ON p.id = e.person_id"
	    " WHERE e.course_id = ?1 AND e.state = 'waitlisted'"
	    " ORDER BY e.position LIMIT 1",
	[STORE_Q_E_PROMOTE] = "UPDATE enrollments SET state = 'enrolled',"
	    " position = NULL, ord = (SELECT coalesce(max(ord), 0) + 1"
	    "  FROM enrollments WHERE session_id = ?1)"
	    " WHERE session_id = ?1 AND person_id = ?2",
	[STORE_Q_CE_PROMOTE] = "UPDATE course_enrollments SET state = 'enrolled',"
	    " position = NULL, ord = (SELECT coalesce(max(ord), 0) + 1"
	    "  FROM course_enrollments WHERE course_id = ?1)"
	    " WHERE course_id = ?1 AND person_id = ?2",
	[STORE_Q_E_TARGETS] = "SELECT session_id FROM enrollments"
	    " WHERE person_id = ?1 ORDER BY session_id",
	[STORE_Q_CE_TARGETS] = "SELECT course_id FROM course_enrollments"
	    " WHERE person_id = ?1 ORDER BY course_id",
	[STORE_Q_O_LIST] = "SELECT id, recipient, kind, session_id, state,"
	    " attempts, next_attempt, last_reply, message_id, created, sent_at"
	    " FROM outbox WHERE (?1 IS NULL OR state = ?1)"
	    " AND (?2 = 0 OR session_id = ?2) ORDER BY id DESC LIMIT ?3",
	[STORE_Q_S_PEOPLE] = "SELECT person_id FROM enrollments"
	    " WHERE session_id = ?1 AND state = 'enrolled' ORDER BY ord, id",
	[STORE_Q_S_ATTENDING] = "SELECT person_id FROM enrollments"
	    " WHERE session_id = ?1 AND state = 'enrolled'"
	    " AND rsvp <> 'declined' ORDER BY ord, id",
	[STORE_Q_E_RSVP_GET] = "SELECT state, rsvp FROM enrollments"
	    " WHERE session_id = ?1 AND person_id = ?2",
	[STORE_Q_E_RSVP_SET] = "UPDATE enrollments SET rsvp = ?3"
	    " WHERE session_id = ?1 AND person_id = ?2",
	[STORE_Q_E_REWAIT] = "UPDATE enrollments SET state = 'waitlisted',"
	    " ord = NULL, position = (SELECT coalesce(max(position), 0) + 1"
	    "  FROM enrollments WHERE session_id = ?1 AND state = 'waitlisted')"
	    " WHERE session_id = ?1 AND person_id = ?2"
	    " RETURNING position",
	[STORE_Q_S_BY_UID] = "SELECT id, sequence, status FROM sessions"
	    " WHERE uid = ?1",
	[STORE_Q_S_SERIES] = "SELECT id FROM sessions WHERE rrule IS NOT NULL"
	    " AND status = 'scheduled' ORDER BY id",
	[STORE_Q_X_PUT] = "INSERT INTO occurrences (session_id, recurrence_id,"
	    " start_utc, start_local, duration, title, description, location,"
	    " url, sequence, status, cancel_reason, updated) VALUES (?1, ?2,"
	    " ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
	    " ON CONFLICT (session_id, recurrence_id) DO UPDATE SET"
	    " start_utc = excluded.start_utc,"
	    " start_local = excluded.start_local,"
	    " duration = excluded.duration, title = excluded.title,"
	    " description = excluded.description,"
	    " location = excluded.location, url = excluded.url,"
	    " sequence = excluded.sequence, status = excluded.status,"
	    " cancel_reason = excluded.cancel_reason,"
	    " updated = excluded.updated",
	[STORE_Q_X_LIST] = "SELECT recurrence_id, start_utc, start_local,"
	    " duration, title, description, location, url, sequence, status,"
	    " cancel_reason, updated FROM occurrences WHERE session_id = ?1"
	    " ORDER BY recurrence_id",
	[STORE_Q_X_CLEAR] = "DELETE FROM occurrences WHERE session_id = ?1",
	[STORE_Q_R_FIND] = "SELECT id, due, state, done FROM reminders"
	    " WHERE session_id = ?1 AND occurrence = ?2 AND before = ?3",
	[STORE_Q_R_INSERT] = "INSERT INTO reminders (session_id, occurrence,"
	    " starts, before, due, state, done) VALUES (?1, ?2, ?3, ?4, ?5,"
	    " ?6, ?7)",
	[STORE_Q_R_UPDATE] = "UPDATE reminders SET starts = ?2, due = ?3,"
	    " state = ?4, done = ?5, keep = 1 WHERE id = ?1",
	[STORE_Q_R_UNKEEP] = "UPDATE reminders SET keep = 0"
	    " WHERE session_id = ?1 AND state = 'pending'",
	[STORE_Q_R_SWEEP] = "DELETE FROM reminders"
	    " WHERE session_id = ?1 AND state = 'pending' AND keep = 0",
	[STORE_Q_R_DROP] = "DELETE FROM reminders"
	    " WHERE session_id = ?1 AND state IN ('pending', 'missed')",
	[STORE_Q_R_NEXT] = "SELECT min(due) FROM reminders"
	    " INDEXED BY reminders_due WHERE state = 'pending'",
	[STORE_Q_R_DUE] = "SELECT id, session_id, occurrence, starts, before, due"
	    " FROM reminders INDEXED BY reminders_due"
	    " WHERE state = 'pending' AND due <= ?1 ORDER BY due, id LIMIT ?2",
	[STORE_Q_R_DONE] = "UPDATE reminders SET state = ?2, done = ?3,"
	    " recipients = ?4 WHERE id = ?1 AND state = 'pending'",
	/* The UNIQUE index's order (no sort): by occurrence, earliest due. */
	[STORE_Q_R_LIST] = "SELECT occurrence, starts, before, due, state,"
	    " done, recipients FROM reminders WHERE session_id = ?1"
	    " ORDER BY occurrence, before DESC",
	[STORE_Q_R_PENDING] = "SELECT count(*) FROM reminders"
	    " INDEXED BY reminders_due WHERE state = 'pending'",
	[STORE_Q_O_ADD] = "INSERT INTO outbox (session_id, person_id,"
	    " recipient, kind, message_id, next_attempt, expires,"
	    " created) VALUES (nullif(?1, 0), nullif(?2, 0), ?3, ?4, ?5,"
	    " ?6, ?7, ?8)",
	[STORE_Q_O_ADD_BODY] = "INSERT INTO outbox_bodies (id, message)"
	    " VALUES (?1, ?2)",
	/* The in-flight ids are skipped by the caller: ?2 is max + nskip. */
	[STORE_Q_O_DUE] = "SELECT o.id, o.recipient, b.message, o.attempts,"
	    " o.expires, o.message_id FROM outbox o"
	    " JOIN outbox_bodies b ON b.id = o.id"
	    " WHERE o.state = 'queued' AND o.next_attempt <= ?1"
	    " AND (o.expires = 0 OR o.expires > ?1)"
	    " ORDER BY o.next_attempt, o.id LIMIT ?2",
	/* The next attempt, or an expiry before it (to mark it expired). */
	[STORE_Q_O_NEXT] = "SELECT min((SELECT min(next_attempt) FROM outbox"
	    " WHERE state = 'queued'), coalesce((SELECT min(expires)"
	    " FROM outbox INDEXED BY outbox_expiry WHERE state = 'queued'"
	    " AND expires > 0), 9223372036854775807))",
	[STORE_Q_O_EXPIRING] = "SELECT count(*) FROM (SELECT 1 FROM outbox"
	    " INDEXED BY outbox_expiry WHERE state = 'queued' AND expires > 0"
	    " AND expires <= ?1 LIMIT 1)",
	[STORE_Q_O_SENT] = "UPDATE outbox SET state = 'sent', sent_at = ?2,"
	    " attempts = attempts + 1, last_reply = ?3"
	    " WHERE id = ?1 AND (state = 'queued' OR state = 'expired')",
	[STORE_Q_O_DEFER] = "UPDATE outbox SET next_attempt = ?2,"
	    " attempts = attempts + 1, last_reply = ?3"
	    " WHERE id = ?1 AND state = 'queued'",
	[STORE_Q_O_FAIL] = "UPDATE outbox SET state = 'failed',"
	    " attempts = attempts + 1, last_reply = ?2"
	    " WHERE id = ?1 AND state = 'queued'",
	/*
	 * Without ANALYZE the planner prefers outbox_due, which walks every
	 * queued message (with its body) on each call: name the index.
	 */
	[STORE_Q_O_EXPIRE] = "UPDATE outbox INDEXED BY outbox_expiry"
	    " SET state = 'expired'"
	    " WHERE state = 'queued' AND expires > 0 AND expires <= ?1",
	/*
	 * A passed expiry is cleared (the coordinator asked for the send);
	 * a queued message named by id is simply made due now.
	 */
	[STORE_Q_O_REQUEUE] = "UPDATE outbox SET state = 'queued',"
	    " next_attempt = ?2, attempts = 0,"
	    " expires = CASE WHEN ?1 <> 0 AND expires > 0 AND expires <= ?2"
	    "  THEN 0 ELSE expires END"
	    " WHERE (?1 = 0 AND state = 'failed')"
	    " OR (?1 <> 0 AND id = ?1 AND state IN ('failed', 'expired',"
	    "  'queued'))",
	/* CPD records: see "CPD records" at the end of this file. */
	[STORE_Q_A_PUT] = "INSERT INTO attendance (session_id, occurrence,"
	    " person_id, state, minutes, source, entered_by, entered_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
	    " ON CONFLICT (session_id, occurrence, person_id) DO UPDATE SET"
	    " state = excluded.state, minutes = excluded.minutes,"
	    " source = excluded.source, entered_by = excluded.entered_by,"
	    " entered_at = excluded.entered_at",
	[STORE_Q_A_ENROLLMENT] = "UPDATE enrollments SET attendance = ?3"
	    " WHERE session_id = ?1 AND person_id = ?2",
	[STORE_Q_A_LIST] = "SELECT a.person_id, p.email, p.name,"
	    " p.organization, a.occurrence, a.state, a.minutes, a.source,"
	    " a.entered_by, a.entered_at FROM attendance a"
	    " JOIN people p ON p.id = a.person_id WHERE a.session_id = ?1"
	    " AND (?2 < 0 OR a.occurrence = ?2)"
	    " ORDER BY a.occurrence, p.name, p.id",
	[STORE_Q_A_COURSE] = "SELECT a.session_id, a.occurrence"
	    " FROM attendance a JOIN sessions s ON s.id = a.session_id"
	    " WHERE a.person_id = ?2 AND s.course_id = ?1"
	    " AND a.state = 'attended' AND s.status = 'scheduled'",
	/* The year's next number: register numbers are never reused. */
	[STORE_Q_K_SEQ] = "INSERT INTO register_seq (year, n) VALUES (?1, 1)"
	    " ON CONFLICT (year) DO UPDATE SET n = n + 1 RETURNING n",
	[STORE_Q_K_ADD] = "INSERT INTO completions (register_no, person_id,"
	    " course_id, title, provider, hours, completed_on, counts, source,"
	    " entered_by, entered_at) VALUES (?1, ?2, nullif(?3, 0), ?4, ?5,"
	    " ?6 / 10.0, ?7, ?8, ?9, ?10, ?11)",
	[STORE_Q_K_GET] = "SELECT " STORE_COMPLETION_COLS
	    " FROM completions k JOIN people p ON p.id = k.person_id"
	    " WHERE k.id = ?1",
	[STORE_Q_K_REMOVE] = "DELETE FROM completions WHERE id = ?1",
	[STORE_Q_K_OF_COURSE] = "SELECT id, source, register_no"
	    " FROM completions WHERE course_id = ?1 AND person_id = ?2",
	[STORE_Q_K_SAME] = "SELECT count(*) FROM completions"
	    " WHERE person_id = ?1 AND completed_on = ?4 AND title = ?2"
	    " AND provider IS ?3",
	/*
	 * The register, in four shapes so that each filter has its index:
	 * a person's completions, a course's, an organization's people's,
	 * or a range of days.
	 */
	[STORE_Q_K_LIST] = "SELECT " STORE_COMPLETION_COLS
	    " FROM completions k JOIN people p ON p.id = k.person_id"
	    " WHERE " STORE_REGISTER_WHERE " LIMIT ?7",
	[STORE_Q_K_LIST_PERSON] = "SELECT " STORE_COMPLETION_COLS
	    " FROM completions k INDEXED BY completions_person"
	    " JOIN people p ON p.id = k.person_id"
	    " WHERE k.person_id = ?3 AND " STORE_REGISTER_WHERE " LIMIT ?7",
	[STORE_Q_K_LIST_COURSE] = "SELECT " STORE_COMPLETION_COLS
	    " FROM completions k INDEXED BY completions_course"
	    " JOIN people p ON p.id = k.person_id"
	    " WHERE k.course_id = ?5 AND " STORE_REGISTER_WHERE " LIMIT ?7",
	[STORE_Q_K_LIST_ORG] = "SELECT " STORE_COMPLETION_COLS
	    " FROM people p CROSS JOIN completions k INDEXED BY"
	    " completions_person ON k.person_id = p.id"
	    " WHERE p.organization = ?4 COLLATE NOCASE"
	    " AND " STORE_REGISTER_WHERE " LIMIT ?7",
	[STORE_Q_K_CE_MARK] = "UPDATE course_enrollments SET completed = ?3"
	    " WHERE course_id = ?1 AND person_id = ?2",
	/*
	 * Everyone with their last qualifying completion on or before ?1:
	 * its day and id in one value ("YYYY-MM-DD" then the id), so that
	 * the subquery stays within completions_cover and is walked once,
	 * backwards from ?1, stopping at the first that qualifies.
	 */
	[STORE_Q_RC_SCAN] = "SELECT p.id, p.name, p.email, p.organization,"
	    " p.position, p.lang, (SELECT c.completed_on || c.id"
	    "  FROM completions c WHERE c.person_id = p.id"
	    "  AND c.completed_on <= ?1 AND c.counts = 1"
	    "  AND CAST(round(c.hours * 10) AS INTEGER) >= ?2"
	    "  ORDER BY c.completed_on DESC LIMIT 1)"
	    " FROM people p WHERE (?3 IS NULL OR p.organization = ?3"
	    " COLLATE NOCASE)",
	[STORE_Q_RC_LAST] = "SELECT title, register_no FROM completions"
	    " WHERE id = ?1",
	[STORE_Q_RC_PERSON] = "SELECT c.completed_on FROM completions c"
	    " WHERE c.person_id = ?1 AND c.completed_on <= ?2 AND c.counts = 1"
	    " AND CAST(round(c.hours * 10) AS INTEGER) >= ?3"
	    " ORDER BY c.completed_on DESC LIMIT 1",
	/*
	 * Coverage: per person (one walk of completions_cover over the
	 * period) the hours in tenths and whether one qualifies, then per
	 * group. ?1, ?2 the period, ?3 min_hours in tenths, ?4 organization.
	 */
	[STORE_Q_CV_NONE] = "SELECT NULL, count(*), coalesce(sum(q), 0),"
	    " coalesce(sum(h), 0) FROM (" STORE_COVERAGE_PERSON ")",
	[STORE_Q_CV_ORG] = "SELECT org, count(*), sum(q), sum(h)"
	    " FROM (" STORE_COVERAGE_PERSON ") GROUP BY org",
	[STORE_Q_CV_POS] = "SELECT pos, count(*), sum(q), sum(h)"
	    " FROM (" STORE_COVERAGE_PERSON ") GROUP BY pos",
	/*
	 * report.hours: completions of lectern's courses and elsewhere in
	 * [?1, ?2] per person (?3 person, ?4 organization), by id.
	 */
	[STORE_Q_HR_PEOPLE] = "SELECT p.id, p.email, p.name, p.organization,"
	    " coalesce(sum(CASE WHEN c.course_id IS NOT NULL"
	    "  THEN CAST(round(c.hours * 10) AS INTEGER) END), 0),"
	    " coalesce(sum(CASE WHEN c.course_id IS NULL"
	    "  THEN CAST(round(c.hours * 10) AS INTEGER) END), 0),"
	    " count(c.person_id)"
	    " FROM people p LEFT JOIN completions c ON c.person_id = p.id"
	    " AND c.completed_on >= ?1 AND c.completed_on <= ?2"
	    " WHERE (?3 = 0 OR p.id = ?3)"
	    " AND (?4 IS NULL OR p.organization = ?4 COLLATE NOCASE)"
	    " GROUP BY p.id ORDER BY p.id",
	/*
	 * Minutes of attended sessions and occurrences that belong to no
	 * course and start in [?1, ?2) (UTC), per person, by id: an
	 * occurrence moved or shortened on its own counts as it was held.
	 */
	[STORE_Q_HR_SESSIONS] = "SELECT a.person_id,"
	    " sum(coalesce(o.duration, s.duration)) FROM attendance a"
	    " JOIN sessions s ON s.id = a.session_id"
	    " LEFT JOIN occurrences o ON a.occurrence <> 0"
	    " AND o.session_id = a.session_id AND o.recurrence_id = a.occurrence"
	    " WHERE a.state = 'attended' AND s.course_id IS NULL"
	    " AND s.status = 'scheduled' AND coalesce(o.status, 'scheduled') ="
	    " 'scheduled' AND coalesce(o.start_utc, CASE WHEN a.occurrence <> 0"
	    " THEN a.occurrence ELSE s.start_utc END) >= ?1"
	    " AND coalesce(o.start_utc, CASE WHEN a.occurrence <> 0"
	    " THEN a.occurrence ELSE s.start_utc END) < ?2"
	    " AND (?3 = 0 OR a.person_id = ?3)"
	    " GROUP BY a.person_id ORDER BY a.person_id",
	/* A waitlist with each one's last qualifying completion (?2, ?3). */
	[STORE_Q_W_LIST] = "SELECT e.person_id, " STORE_LAST_QUALIFYING("e")
	    " FROM enrollments e WHERE e.session_id = ?1"
	    " AND e.state = 'waitlisted' ORDER BY e.position, e.id",
	[STORE_Q_CW_LIST] = "SELECT e.person_id, " STORE_LAST_QUALIFYING("e")
	    " FROM course_enrollments e WHERE e.course_id = ?1"
	    " AND e.state = 'waitlisted' ORDER BY e.position, e.id",
	[STORE_Q_W_SETPOS] = "UPDATE enrollments SET position = ?3"
	    " WHERE session_id = ?1 AND person_id = ?2"
	    " AND state = 'waitlisted'",
	[STORE_Q_CW_SETPOS] = "UPDATE course_enrollments SET position = ?3"
	    " WHERE course_id = ?1 AND person_id = ?2"
	    " AND state = 'waitlisted'",
	[STORE_Q_W_OF_PERSON] = "SELECT 0, session_id FROM enrollments"
	    " WHERE person_id = ?1 AND state = 'waitlisted'"
	    " UNION ALL SELECT 1, course_id FROM course_enrollments"
	    " WHERE person_id = ?1 AND state = 'waitlisted'",
	[STORE_Q_N_HAS] = "SELECT count(*) FROM recert_notices"
	    " WHERE person_id = ?1 AND due_on = ?2",
	[STORE_Q_N_ADD] = "INSERT INTO recert_notices (person_id, due_on,"
	    " outbox_id, created) VALUES (?1, ?2, nullif(?3, 0), ?4)",
	[STORE_Q_N_COUNT] = "SELECT count(*) FROM recert_notices",
	[STORE_Q_D_HAS] = "SELECT count(*) FROM recert_digests"
	    " WHERE period = ?1",
	[STORE_Q_D_ADD] = "INSERT INTO recert_digests (period, outbox_id,"
	    " created) VALUES (?1, nullif(?2, 0), ?3)",
	[STORE_Q_D_LAST] = "SELECT period FROM recert_digests"
	    " ORDER BY created DESC, period DESC LIMIT 1",
};

/*
 * The connection and its statements are per thread: the loop's own, and
 * the reader's (store_reader_open), on which offload.c runs long
 * read-only commands (reports) so that the loop keeps serving.
 */
static __thread sqlite3		*store_db;
/* synchronous is NORMAL (the last transaction was light); see store_sync. */
static __thread int		 store_sync_light;

static __thread sqlite3_stmt	*store_stmts[STORE_Q_MAX];

/* Map a SQLite result code to the protocol's, with a sentence. */
static enum lectern_error
store_fail(int rc, char *err, size_t errlen)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		snprintf(err, errlen, "the database is locked by another "
		    "process; retry");
		return LECTERN_E_BUSY;
	case SQLITE_CONSTRAINT:
		snprintf(err, errlen, "the change contradicts the stored "
		    "data (%s)", sqlite3_errmsg(store_db));
		return LECTERN_E_CONFLICT;
	default:
		snprintf(err, errlen, "database error: %s",
		    store_db != NULL ? sqlite3_errmsg(store_db) : "not open");
		log_err("store: %s", err);
		return LECTERN_E_INTERNAL;
	}
}

/* The cached statement q, prepared on first use; NULL with err set. */
static sqlite3_stmt *
store_stmt(enum store_q q, char *err, size_t errlen)
{
	int	 rc;

	if (store_db == NULL) {
		snprintf(err, errlen, "the database is not open");
		return NULL;
	}
	if (store_stmts[q] == NULL) {
		rc = sqlite3_prepare_v3(store_db, store_sql[q], -1,
		    SQLITE_PREPARE_PERSISTENT, &store_stmts[q], NULL);
		if (rc != SQLITE_OK) {
			store_fail(rc, err, errlen);
			store_stmts[q] = NULL;
			return NULL;
		}
	}
	return store_stmts[q];
}

/* The session (course == 0) or course variant of an enrollment statement. */
static enum store_q
store_eq(enum store_q q, int course)
{
	return (enum store_q)(q + (course ? 1 : 0));
}

static void
store_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static int
store_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Step a statement that returns no rows; reset it. */
static enum lectern_error
store_run(sqlite3_stmt *st, char *err, size_t errlen)
{
	int	 rc;

	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(rc, err, errlen);
	return LECTERN_OK;
}

static enum lectern_error
store_bind_failed(sqlite3_stmt *st, char *err, size_t errlen)
{
	store_done(st);
	snprintf(err, errlen, "database error: cannot bind a value: %s",
	    sqlite3_errmsg(store_db));
	log_err("store: %s", err);
	return LECTERN_E_INTERNAL;
}

/*
 * The cached statement q with its parameters ?1, ?2, ... bound from the
 * arguments as fmt says: 'i' an int64_t, 'n' an int64_t that binds NULL
 * when negative, 't' a string (NULL binds NULL).
 * NULL with err set if it cannot be prepared or bound.
 */
static sqlite3_stmt *
store_bindv(enum store_q q, char *err, size_t errlen, const char *fmt,
    va_list ap)
{
	sqlite3_stmt	*st;
	int64_t		 v;
	int		 i, rc = SQLITE_OK;

	if ((st = store_stmt(q, err, errlen)) == NULL)
		return NULL;
	for (i = 0; fmt[i] != '\0' && rc == SQLITE_OK; i++) {
		if (fmt[i] == 'i')
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		else if (fmt[i] == 'n') {
			v = va_arg(ap, int64_t);
			rc = v < 0 ? sqlite3_bind_null(st, i + 1) :
			    sqlite3_bind_int64(st, i + 1, v);
		} else
			rc = store_bind_text(st, i + 1, va_arg(ap, const char *));
	}
	if (rc != SQLITE_OK) {
		store_bind_failed(st, err, errlen);
		return NULL;
	}
	return st;
}

static sqlite3_stmt *
store_bind(enum store_q q, char *err, size_t errlen, const char *fmt, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;

	va_start(ap, fmt);
	st = store_bindv(q, err, errlen, fmt, ap);
	va_end(ap);
	return st;
}

/* Run statement q (no rows wanted) with its parameters; see store_bind. */
static enum lectern_error
store_runf(enum store_q q, char *err, size_t errlen, const char *fmt, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;

	va_start(ap, fmt);
	st = store_bindv(q, err, errlen, fmt, ap);
	va_end(ap);
	if (st == NULL)
		return LECTERN_E_INTERNAL;
	return store_run(st, err, errlen);
}

static json_t *
store_json_text(sqlite3_stmt *st, int i)
{
	const unsigned char	*s;

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	s = sqlite3_column_text(st, i);
	if (s == NULL)
		return json_null();
	return json_stringn((const char *)s,
	    (size_t)sqlite3_column_bytes(st, i));
}

static json_t *
store_json_int(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return json_integer(sqlite3_column_int64(st, i));
}

static json_t *
store_json_time_value(int64_t t)
{
	char	 buf[64];

	tz_format_utc(t, buf, sizeof buf);
	return json_string(buf);
}

static json_t *
store_json_time(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return store_json_time_value(sqlite3_column_int64(st, i));
}

/* A JSON array stored as text; anything unreadable shows as []. */
static json_t *
store_json_array(sqlite3_stmt *st, int i)
{
	const char	*s;
	json_t		*a;

	s = (const char *)sqlite3_column_text(st, i);
	if (s == NULL)
		return json_array();
	a = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
	if (a == NULL || !json_is_array(a)) {
		json_decref(a);
		return json_array();
	}
	return a;
}

static void
store_set(json_t *o, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		log_fatal("store: out of memory building a reply");
}

/* A person from STORE_PERSON_COLS starting at column 0. */
static json_t *
store_person_json(sqlite3_stmt *st)
{
	json_t	*o;

	if ((o = json_object()) == NULL)
		log_fatal("store: out of memory");
	store_set(o, "id", store_json_int(st, 0));
	store_set(o, "name", store_json_text(st, 1));
	store_set(o, "email", store_json_text(st, 2));
	store_set(o, "organization", store_json_text(st, 3));
	store_set(o, "position", store_json_text(st, 4));
	store_set(o, "lang", store_json_text(st, 5));
	store_set(o, "tags", store_json_array(st, 6));
	store_set(o, "created", store_json_time(st, 7));
	store_set(o, "updated", store_json_time(st, 8));
	return o;
}

/* A session from STORE_SESSION_COLS starting at column 0. */
static json_t *
store_session_json(sqlite3_stmt *st)
{
	json_t	*o;
	int64_t	 start, duration;

	if ((o = json_object()) == NULL)
		log_fatal("store: out of memory");
	start = sqlite3_column_int64(st, 8);
	duration = sqlite3_column_int64(st, 9);
	store_set(o, "id", store_json_int(st, 0));
	store_set(o, "uid", store_json_text(st, 1));
	store_set(o, "sequence", store_json_int(st, 2));
	store_set(o, "kind", store_json_text(st, 3));
	store_set(o, "title", store_json_text(st, 4));
	store_set(o, "description", store_json_text(st, 5));
	store_set(o, "location", store_json_text(st, 6));
	store_set(o, "url", store_json_text(st, 7));
	store_set(o, "start", store_json_time_value(start));
	store_set(o, "end", store_json_time_value(start + duration * 60));
	store_set(o, "tz", store_json_text(st, 10));
	store_set(o, "local_start", store_json_text(st, 11));
	store_set(o, "duration", json_integer(duration));
	store_set(o, "capacity", store_json_int(st, 12));
	store_set(o, "reminders", store_json_array(st, 13));
	store_set(o, "course", store_json_int(st, 14));
	store_set(o, "rrule", store_json_text(st, 15));
	store_set(o, "status", store_json_text(st, 16));
	store_set(o, "cancel_reason", store_json_text(st, 17));
	store_set(o, "enrolled", store_json_int(st, 18));
	store_set(o, "waitlisted", store_json_int(st, 19));
	store_set(o, "created", store_json_time(st, 20));
	store_set(o, "updated", store_json_time(st, 21));
	return o;
}

/* Run every remaining step of a SELECT into an array of objects. */
static enum lectern_error
store_rows(sqlite3_stmt *st, json_t *(*row)(sqlite3_stmt *), json_t **out,
    char *err, size_t errlen)
{
	json_t	*a;
	int	 rc;

	if ((a = json_array()) == NULL)
		log_fatal("store: out of memory");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (json_array_append_new(a, row(st)) != 0)
			log_fatal("store: out of memory");
	}
	store_done(st);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		return store_fail(rc, err, errlen);
	}
	*out = a;
	return LECTERN_OK;
}

/* The one row of query (bound to id) as a new object; what names it in errors. */
static enum lectern_error
store_one(int query, int64_t id, json_t *(*row)(sqlite3_stmt *),
    const char *what, json_t **out, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_bind(query, err, errlen, "i", id)) == NULL)
		return LECTERN_E_INTERNAL;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = row(st);
	store_done(st);
	if (rc == SQLITE_DONE) {
		snprintf(err, errlen, "%s %" PRId64 " does not exist", what, id);
		return LECTERN_E_NOT_FOUND;
	}
	if (rc != SQLITE_ROW)
		return store_fail(rc, err, errlen);
	return LECTERN_OK;
}

/* The rows of query bound to id, as a new array. */
static enum lectern_error
store_rows_of(int query, int64_t id, json_t *(*row)(sqlite3_stmt *),
    json_t **out, char *err, size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_bind(query, err, errlen, "i", id)) == NULL)
		return LECTERN_E_INTERNAL;
	return store_rows(st, row, out, err, errlen);
}

/* Set o's key to the rows of query (bound to id), as an array. */
static enum lectern_error
store_children(json_t *o, const char *key, int query, int64_t id,
    json_t *(*row)(sqlite3_stmt *), char *err, size_t errlen)
{
	sqlite3_stmt		*st;
	enum lectern_error	 code;
	json_t			*a;

	if ((st = store_bind(query, err, errlen, "i", id)) == NULL)
		return LECTERN_E_INTERNAL;
	if ((code = store_rows(st, row, &a, err, errlen)) == LECTERN_OK)
		store_set(o, key, a);
	return code;
}

/* A detail of an object: key set to the rows of query bound to its id. */
struct store_child {
	const char	*key;
	int		 query;
	json_t		*(*row)(sqlite3_stmt *);
};

/*
 * The row of query for id as a new object (what names it in errors),
 * with the children in kids[0..nkids) when detail is set.
 */
static enum lectern_error
store_object(int query, int64_t id, json_t *(*row)(sqlite3_stmt *),
    const char *what, int detail, const struct store_child *kids,
    size_t nkids, json_t **out, char *err, size_t errlen)
{
	enum lectern_error	 code;
	json_t			*o = NULL;
	size_t			 i;

	code = store_one(query, id, row, what, &o, err, errlen);
	for (i = 0; detail && i < nkids && code == LECTERN_OK; i++)
		code = store_children(o, kids[i].key, kids[i].query, id,
		    kids[i].row, err, errlen);
	if (code != LECTERN_OK) {
		json_decref(o);
		return code;
	}
	*out = o;
	return LECTERN_OK;
}

/*
 * The array v (of *cap elements of size, len used) with room for one
 * more: v itself, or v grown to twice its capacity (16 the first time).
 */
static void *
store_grow(void *v, size_t len, size_t *cap, size_t size)
{
	void	*nv;

	if (len < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 16;
	if ((nv = reallocarray(v, *cap, size)) == NULL)
		log_fatal("store: out of memory");
	return nv;
}

/* Run a SELECT of one integer column into a malloc'd array. */
static enum lectern_error
store_ids(sqlite3_stmt *st, int64_t **ids, size_t *n, char *err,
    size_t errlen)
{
	int64_t	*v = NULL;
	size_t	 len = 0, cap = 0;
	int	 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = store_grow(v, len, &cap, sizeof *v);
		v[len++] = sqlite3_column_int64(st, 0);
	}
	store_done(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_fail(rc, err, errlen);
	}
	*ids = v;
	*n = len;
	return LECTERN_OK;
}

/*
 * Run a SELECT of two integer columns into two malloc'd arrays of *n
 * each (*a the first column, *b the second). st is from store_bind:
 * NULL, a statement that could not be bound, is an internal error.
 */
static enum lectern_error
store_pairs(sqlite3_stmt *st, int64_t **a, int64_t **b, size_t *n,
    char *err, size_t errlen)
{
	int64_t	*va = NULL, *vb = NULL;
	size_t	 len = 0, capa = 0, capb = 0;
	int	 rc;

	*a = *b = NULL;
	*n = 0;
	if (st == NULL)
		return LECTERN_E_INTERNAL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		va = store_grow(va, len, &capa, sizeof *va);
		vb = store_grow(vb, len, &capb, sizeof *vb);
		va[len] = sqlite3_column_int64(st, 0);
		vb[len++] = sqlite3_column_int64(st, 1);
	}
	store_done(st);
	if (rc != SQLITE_DONE) {
		free(va);
		free(vb);
		return store_fail(rc, err, errlen);
	}
	*a = va;
	*b = vb;
	*n = len;
	return LECTERN_OK;
}

static enum lectern_error
store_exec(const char *sql, char *err, size_t errlen)
{
	char	*msg = NULL;
	int	 rc;

	rc = sqlite3_exec(store_db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		enum lectern_error	 code;

		code = store_fail(rc, err, errlen);
		if (code != LECTERN_E_BUSY && msg != NULL)
			snprintf(err, errlen, "database error: %s", msg);
		sqlite3_free(msg);
		return code;
	}
	return LECTERN_OK;
}

/* One integer from a one-row query (a PRAGMA). */
static int
store_query_int(const char *sql, int64_t *v)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(store_db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int
store_migrate(char *err, size_t errlen)
{
	char		 sql[64];
	int64_t		 version;
	int		 v;

	if (store_query_int("PRAGMA user_version", &version) == -1) {
		snprintf(err, errlen, "cannot read the schema version: %s",
		    sqlite3_errmsg(store_db));
		return -1;
	}
	if (version > STORE_NMIGRATIONS) {
		snprintf(err, errlen, "the database has schema version %" PRId64
		    ", newer than this lecternd knows (%d)", version,
		    STORE_NMIGRATIONS);
		return -1;
	}
	for (v = (int)version; v < STORE_NMIGRATIONS; v++) {
		if (store_exec("BEGIN IMMEDIATE", err, errlen) != LECTERN_OK)
			return -1;
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
		if (store_exec(store_migrations[v], err, errlen) != LECTERN_OK ||
		    store_exec(sql, err, errlen) != LECTERN_OK ||
		    store_exec("COMMIT", err, errlen) != LECTERN_OK) {
			sqlite3_exec(store_db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return 0;
}

/* The schema version this build migrates to. */
int
store_schema_version(void)
{
	return STORE_NMIGRATIONS;
}

/* The checkpointer (see the top of this file). */
#define STORE_CKPT_PAGES	1000	/* SQLite's own default threshold */
#define STORE_CKPT_RESTART	4096	/* WAL pages before starting it again */
#define STORE_CKPT_CATCHUP	512	/* frames the loop copies itself, at most */

static pthread_t	 store_ckpt_thread;
static int		 store_ckpt_running;
static int		 store_ckpt_mark;	/* WAL pages at the last wake-up */
/* Frames the checkpointer has copied, of the WAL it last saw. */
static atomic_int	 store_ckpt_done;
static pthread_mutex_t	 store_ckpt_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 store_ckpt_cond = PTHREAD_COND_INITIALIZER;
static int		 store_ckpt_wanted, store_ckpt_quit;	/* mtx */

/*
 * After every commit on the loop's connection (pages: the WAL's length):
 * wake the checkpointer once per STORE_CKPT_PAGES written, not on every
 * commit of a long WAL.
 */
static int
store_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	int	 behind;

	(void)arg;
	(void)name;
	/*
	 * SQLite starts the WAL again only when a write transaction begins
	 * with every frame copied back; with the copying on another thread
	 * that moment never comes while commits keep coming (a large send),
	 * and the WAL would grow without end. So once it is long and the
	 * checkpointer has copied nearly all of it, the last few frames are
	 * copied here, and the next transaction starts the WAL again.
	 */
	behind = pages - atomic_load(&store_ckpt_done);
	if (pages >= STORE_CKPT_RESTART && behind >= 0 &&
	    behind <= STORE_CKPT_CATCHUP) {
		sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
		store_ckpt_mark = 0;
		return SQLITE_OK;
	}
	if (pages < store_ckpt_mark)
		store_ckpt_mark = 0;	/* the WAL started again */
	if (pages < store_ckpt_mark + STORE_CKPT_PAGES)
		return SQLITE_OK;
	store_ckpt_mark = pages;
	pthread_mutex_lock(&store_ckpt_mtx);
	if (!store_ckpt_wanted) {
		store_ckpt_wanted = 1;
		pthread_cond_signal(&store_ckpt_cond);
	}
	pthread_mutex_unlock(&store_ckpt_mtx);
	return SQLITE_OK;
}

static void *
store_ckpt_main(void *arg)
{
	sqlite3	*db = arg;
	int	 rc, log, done;

	pthread_mutex_lock(&store_ckpt_mtx);
	for (;;) {
		while (!store_ckpt_wanted && !store_ckpt_quit)
			pthread_cond_wait(&store_ckpt_cond, &store_ckpt_mtx);
		if (store_ckpt_quit)
			break;
		store_ckpt_wanted = 0;
		pthread_mutex_unlock(&store_ckpt_mtx);
		/*
		 * PASSIVE: copies what no reader still needs; the rest waits
		 * for the next wake-up. Busy (another checkpoint, a process
		 * holding the lock) is not an error either.
		 */
		rc = sqlite3_wal_checkpoint_v2(db, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, &log, &done);
		if (rc == SQLITE_OK && done >= 0)
			atomic_store(&store_ckpt_done, done);
		if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY &&
		    (rc & 0xff) != SQLITE_LOCKED)
			log_warn("store: checkpoint: %s", sqlite3_errstr(rc));
		pthread_mutex_lock(&store_ckpt_mtx);
	}
	pthread_mutex_unlock(&store_ckpt_mtx);
	return db;
}

/*
 * Start the checkpointer on its own connection to path. Without it
 * (memory database, or no thread) SQLite's automatic checkpoints stay.
 */
static void
store_ckpt_start(const char *path)
{
	sqlite3	*db = NULL;
	int	 rc;

	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_warn("store: no checkpoint thread: %s", db != NULL ?
		    sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return;
	}
	sqlite3_busy_timeout(db, 1000);
	/* Until it has read the file, a connection does not know it is WAL. */
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		log_warn("store: no checkpoint thread: %s", sqlite3_errmsg(db));
		sqlite3_close(db);
		return;
	}
	store_ckpt_wanted = store_ckpt_quit = 0;
	if ((rc = pthread_create(&store_ckpt_thread, NULL, store_ckpt_main,
	    db)) != 0) {
		log_warn("store: no checkpoint thread: %s", strerror(rc));
		sqlite3_close(db);
		return;
	}
	store_ckpt_running = 1;
	store_ckpt_mark = 0;
	atomic_store(&store_ckpt_done, 0);
	sqlite3_wal_hook(store_db, store_wal_hook, NULL);
}

/* Stop the checkpointer; SQLite checkpoints on the last close. */
static void
store_ckpt_stop(void)
{
	void	*db;

	if (!store_ckpt_running)
		return;
	pthread_mutex_lock(&store_ckpt_mtx);
	store_ckpt_quit = 1;
	pthread_cond_signal(&store_ckpt_cond);
	pthread_mutex_unlock(&store_ckpt_mtx);
	pthread_join(store_ckpt_thread, &db);
	sqlite3_close(db);
	store_ckpt_running = 0;
	if (store_db != NULL)
		sqlite3_wal_hook(store_db, NULL, NULL);
}

/* Open the database at path (or ":memory:") and migrate it forward. */
int
store_open(const char *path, char *err, size_t errlen)
{
	sqlite3_stmt	*st = NULL;
	const char	*mode;
	int		 rc, memory;

	if (store_db != NULL) {
		snprintf(err, errlen, "the database is already open");
		return -1;
	}
	memory = strcmp(path, ":memory:") == 0;
	rc = sqlite3_open_v2(path, &store_db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open the database: %s", path,
		    store_db != NULL ? sqlite3_errmsg(store_db) :
		    sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(store_db, 1);
	/* Never hang the loop on a lock: fail with busy after 100 ms. */
	sqlite3_busy_timeout(store_db, 100);

	rc = sqlite3_prepare_v2(store_db, "PRAGMA journal_mode = WAL", -1,
	    &st, NULL);
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		snprintf(err, errlen, "%s: cannot set WAL mode: %s", path,
		    sqlite3_errmsg(store_db));
		goto fail;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	if (!memory && (mode == NULL || strcmp(mode, "wal") != 0)) {
		snprintf(err, errlen, "%s: the database refuses WAL mode "
		    "(journal mode %s)", path, mode != NULL ? mode : "unknown");
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;

	/* A modest page cache keeps the daemon small (about 2 MiB). */
	if (store_exec("PRAGMA synchronous = FULL;"
	    "PRAGMA foreign_keys = ON;"
	    "PRAGMA cache_size = -2000;"
	    "PRAGMA temp_store = MEMORY;", err, errlen) != LECTERN_OK)
		goto fail;
	if (store_migrate(err, errlen) == -1)
		goto fail;
	store_sync_light = 0;
	if (!memory)
		store_ckpt_start(path);
	return 0;

fail:
	sqlite3_finalize(st);
	sqlite3_close(store_db);
	store_db = NULL;
	return -1;
}

/*
 * Open the calling thread's read-only connection to the database at path
 * (the loop's store_open ran before: the schema is current). Only
 * read transactions and queries run on it.
 */
int
store_reader_open(const char *path, char *err, size_t errlen)
{
	int	 rc;

	if (store_db != NULL) {
		snprintf(err, errlen, "this thread has a connection already");
		return -1;
	}
	rc = sqlite3_open_v2(path, &store_db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open the database: %s", path,
		    store_db != NULL ? sqlite3_errmsg(store_db) :
		    sqlite3_errstr(rc));
		sqlite3_close(store_db);
		store_db = NULL;
		return -1;
	}
	sqlite3_extended_result_codes(store_db, 1);
	sqlite3_busy_timeout(store_db, 1000);
	if (store_exec("PRAGMA cache_size = -8000;"
	    "PRAGMA temp_store = MEMORY;", err, errlen) != LECTERN_OK) {
		sqlite3_close(store_db);
		store_db = NULL;
		return -1;
	}
	return 0;
}

/* Close the calling thread's reader connection. */
void
store_reader_close(void)
{
	size_t	 i;

	for (i = 0; i < STORE_Q_MAX; i++) {
		sqlite3_finalize(store_stmts[i]);
		store_stmts[i] = NULL;
	}
	if (store_db != NULL)
		sqlite3_close(store_db);
	store_db = NULL;
}

/* Finalize every cached statement and close the database. */
void
store_close(void)
{
	size_t	 i;

	store_ckpt_stop();
	for (i = 0; i < STORE_Q_MAX; i++) {
		sqlite3_finalize(store_stmts[i]);
		store_stmts[i] = NULL;
	}
	if (store_db != NULL) {
		if (sqlite3_close(store_db) != SQLITE_OK)
			log_err("store: close: %s", sqlite3_errmsg(store_db));
		store_db = NULL;
	}
}

/*
 * A read transaction: the statements of one read-only command share one
 * snapshot and take SQLite's WAL read lock once (an fcntl pair per
 * statement otherwise, a fifth of the cost of a session.get). End it with
 * store_commit.
 */
enum lectern_error
store_begin_read(void)
{
	char		 err[256];
	sqlite3_stmt	*st;

	if ((st = store_stmt(STORE_Q_BEGIN_READ, err, sizeof err)) == NULL)
		return LECTERN_E_INTERNAL;
	return store_run(st, err, sizeof err);
}

/*
 * Durability for the next transaction: synchronous=FULL, or NORMAL for a
 * light one (see store_begin_light). SQLite applies the pragma when it is
 * prepared, so it is run with sqlite3_exec, and only when it changes: a
 * run of light transactions (a large send) pays for it once.
 */
static enum lectern_error
store_sync(int light)
{
	if (store_sync_light == light)
		return LECTERN_OK;
	if (sqlite3_exec(store_db, light ? "PRAGMA synchronous = NORMAL" :
	    "PRAGMA synchronous = FULL", NULL, NULL, NULL) != SQLITE_OK) {
		log_err("store: cannot set synchronous: %s",
		    sqlite3_errmsg(store_db));
		return LECTERN_E_INTERNAL;
	}
	store_sync_light = light;
	return LECTERN_OK;
}

/* Begin a write transaction (BEGIN IMMEDIATE: the lock is taken now). */
static enum lectern_error
store_begin_sync(int light)
{
	char		 err[256];
	sqlite3_stmt	*st;

	if (store_sync(light) != LECTERN_OK)
		return LECTERN_E_INTERNAL;
	if ((st = store_stmt(STORE_Q_BEGIN, err, sizeof err)) == NULL)
		return LECTERN_E_INTERNAL;
	return store_run(st, err, sizeof err);
}

enum lectern_error
store_begin(void)
{
	return store_begin_sync(0);
}

/*
 * A transaction whose commit is not followed by an fsync (WAL with
 * synchronous=NORMAL): it survives a crash of the daemon, since the WAL is
 * written before the commit returns, but perhaps not a power loss. For
 * delivery outcomes only: a lost "sent" mark means the message is sent
 * once more (at-least-once), never lost, and not waiting for the disk
 * several hundred times a second keeps the loop free for clients.
 */
enum lectern_error
store_begin_light(void)
{
	return store_begin_sync(1);
}

/* Commit; on failure the transaction is rolled back. */
enum lectern_error
store_commit(void)
{
	char			 err[256];
	sqlite3_stmt		*st;
	enum lectern_error	 code;

	if ((st = store_stmt(STORE_Q_COMMIT, err, sizeof err)) == NULL)
		return LECTERN_E_INTERNAL;
	if ((code = store_run(st, err, sizeof err)) != LECTERN_OK)
		store_rollback();
	return code;
}

/* Roll back the open transaction, if any. */
void
store_rollback(void)
{
	char		 err[256];
	sqlite3_stmt	*st;

	if (store_db == NULL || sqlite3_get_autocommit(store_db))
		return;
	if ((st = store_stmt(STORE_Q_ROLLBACK, err, sizeof err)) == NULL)
		return;
	if (store_run(st, err, sizeof err) != LECTERN_OK)
		log_err("store: rollback: %s", err);
}

/* Read the trigger-kept row counts into c. */
enum lectern_error
store_counts(struct store_counts *c, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	const char	*name;
	int64_t		 n;
	int		 rc;

	memset(c, 0, sizeof *c);
	if ((st = store_stmt(STORE_Q_COUNTS, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(st, 0);
		n = sqlite3_column_int64(st, 1);
		if (name == NULL)
			continue;
		if (strcmp(name, "people") == 0)
			c->people = n;
		else if (strcmp(name, "groups") == 0)
			c->groups = n;
		else if (strcmp(name, "sessions") == 0)
			c->sessions = n;
		else if (strcmp(name, "courses") == 0)
			c->courses = n;
		else if (strcmp(name, "outbox.queued") == 0)
			c->queued = n;
		else if (strcmp(name, "outbox.sent") == 0)
			c->sent = n;
		else if (strcmp(name, "outbox.failed") == 0)
			c->failed = n;
		else if (strcmp(name, "outbox.expired") == 0)
			c->expired = n;
	}
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_fail(rc, err, errlen);
	return LECTERN_OK;
}

/* Append one row to the audit table. */
enum lectern_error
store_audit(int64_t at, int64_t uid, int64_t pid, const char *cmd,
    const char *args_json, const char *result, char *err, size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_bind(STORE_Q_AUDIT, err, errlen, "iiittt", (int64_t)at,
	    (int64_t)uid, (int64_t)pid, cmd, args_json != NULL ? args_json :
	    "{}", result)) == NULL)
		return LECTERN_E_INTERNAL;
	return store_run(st, err, errlen);
}

/* People. */

static enum lectern_error
store_person_conflict(int rc, const char *email, char *err, size_t errlen)
{
	enum lectern_error	 code;

	code = store_fail(rc, err, errlen);
	if (code == LECTERN_E_CONFLICT)
		snprintf(err, errlen, "email: %s is already used by another "
		    "person", email != NULL ? email : "the address");
	return code;
}

/* Insert a person; *id gets the new id. */
enum lectern_error
store_person_add(const struct store_person *p, int64_t now, int64_t *id,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_bind(STORE_Q_P_ADD, err, errlen, "tttttti", p->name,
	    p->email, p->organization, p->position, p->lang, p->tags, now)) ==
	    NULL)
		return LECTERN_E_INTERNAL;
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_person_conflict(rc, p->email, err, errlen);
	*id = sqlite3_last_insert_rowid(store_db);
	return LECTERN_OK;
}

/* Change the fields of person id named in p->set. */
enum lectern_error
store_person_update(int64_t id, const struct store_person *p, int64_t now,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_stmt(STORE_Q_P_UPDATE, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	if (sqlite3_bind_int(st, 1, (int)p->set) != SQLITE_OK ||
	    store_bind_text(st, 2, p->name) != SQLITE_OK ||
	    store_bind_text(st, 3, p->email) != SQLITE_OK ||
	    store_bind_text(st, 4, p->organization) != SQLITE_OK ||
	    store_bind_text(st, 5, p->position) != SQLITE_OK ||
	    store_bind_text(st, 6, p->lang) != SQLITE_OK ||
	    store_bind_text(st, 7, p->tags) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 8, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 9, id) != SQLITE_OK)
		return store_bind_failed(st, err, errlen);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_person_conflict(rc, p->email, err, errlen);
	if (sqlite3_changes(store_db) == 0) {
		snprintf(err, errlen, "person %" PRId64 " does not exist", id);
		return LECTERN_E_NOT_FOUND;
	}
	return LECTERN_OK;
}

/* Delete person id (memberships and enrollments go with it). */
enum lectern_error
store_person_remove(int64_t id, char *err, size_t errlen)
{
	sqlite3_stmt		*st;
	enum lectern_error	 code;

	if ((st = store_bind(STORE_Q_P_REMOVE, err, errlen, "i", id)) == NULL)
		return LECTERN_E_INTERNAL;
	if ((code = store_run(st, err, errlen)) != LECTERN_OK)
		return code;
	if (sqlite3_changes(store_db) == 0) {
		snprintf(err, errlen, "person %" PRId64 " does not exist", id);
		return LECTERN_E_NOT_FOUND;
	}
	return LECTERN_OK;
}

/* Find a person by email or id; email_out gets the stored address. */
enum lectern_error
store_person_find(int64_t id, const char *email, int64_t *id_out,
    char *email_out, size_t email_len, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	const char	*e;
	int		 rc;

	st = store_stmt(email != NULL ? STORE_Q_P_FIND_EMAIL :
	    STORE_Q_P_FIND_ID, err, errlen);
	if (st == NULL)
		return LECTERN_E_INTERNAL;
	rc = email != NULL ? store_bind_text(st, 1, email) :
	    sqlite3_bind_int64(st, 1, id);
	if (rc != SQLITE_OK)
		return store_bind_failed(st, err, errlen);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id_out = sqlite3_column_int64(st, 0);
		if (email_out != NULL) {
			e = (const char *)sqlite3_column_text(st, 1);
			snprintf(email_out, email_len, "%s", e != NULL ? e : "");
		}
		store_done(st);
		return LECTERN_OK;
	}
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_fail(rc, err, errlen);
	if (email != NULL)
		snprintf(err, errlen, "no person has the email %s", email);
	else
		snprintf(err, errlen, "person %" PRId64 " does not exist", id);
	return LECTERN_E_NOT_FOUND;
}

static json_t *
store_text_row(sqlite3_stmt *st)
{
	return store_json_text(st, 0);
}

static json_t *
store_person_enrollment_row(sqlite3_stmt *st)
{
	json_t	*o;

	if ((o = json_object()) == NULL)
		log_fatal("store: out of memory");
	store_set(o, "session", store_json_int(st, 0));
	store_set(o, "title", store_json_text(st, 1));
	store_set(o, "start", store_json_time(st, 2));
	store_set(o, "state", store_json_text(st, 3));
	return o;
}

/* The person as a new object (the caller owns it). */
enum lectern_error
store_person_get(int64_t id, int detail, json_t **out, char *err,
    size_t errlen)
{
	static const struct store_child kids[] = {
		{ "groups", STORE_Q_P_GROUPS, store_text_row },
		{ "enrollments", STORE_Q_P_ENROLLMENTS,
		    store_person_enrollment_row },
	};

	return store_object(STORE_Q_P_GET, id, store_person_json, "person",
	    detail, kids, 2, out, err, errlen);
}

/* The people matching f as a new array (the caller owns it). */
enum lectern_error
store_person_list(const struct store_person_filter *f, json_t **out,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_bind(STORE_Q_P_LIST, err, errlen, "titi",
	    f->organization, (int64_t)f->group_id, f->tag, (int64_t)f->limit))
	    == NULL)
		return LECTERN_E_INTERNAL;
	return store_rows(st, store_person_json, out, err, errlen);
}

/* Groups. */

/* Insert a group; a name in use (any case) is a conflict. */
enum lectern_error
store_group_add(const char *name, int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt		*st;
	enum lectern_error	 code;

	if ((st = store_bind(STORE_Q_G_ADD, err, errlen, "ti", name, now)) ==
	    NULL)
		return LECTERN_E_INTERNAL;
	code = store_run(st, err, errlen);
	if (code == LECTERN_E_CONFLICT)
		snprintf(err, errlen, "name: a group named %s already exists",
		    name);
	return code;
}

/* Delete group id; its people stay. */
enum lectern_error
store_group_remove(int64_t id, char *err, size_t errlen)
{
	sqlite3_stmt		*st;
	enum lectern_error	 code;

	if ((st = store_stmt(STORE_Q_G_REMOVE, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	if ((code = store_run(st, err, errlen)) != LECTERN_OK)
		return code;
	if (sqlite3_changes(store_db) == 0) {
		snprintf(err, errlen, "group %" PRId64 " does not exist", id);
		return LECTERN_E_NOT_FOUND;
	}
	return LECTERN_OK;
}

/* Find a group by name, case-insensitively. */
enum lectern_error
store_group_find(const char *name, int64_t *id, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_bind(STORE_Q_G_FIND, err, errlen, "t", name)) == NULL)
		return LECTERN_E_INTERNAL;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	store_done(st);
	if (rc == SQLITE_ROW)
		return LECTERN_OK;
	if (rc != SQLITE_DONE)
		return store_fail(rc, err, errlen);
	snprintf(err, errlen, "no group is named %s", name);
	return LECTERN_E_NOT_FOUND;
}

static json_t *
store_group_row(sqlite3_stmt *st)
{
	json_t	*o;

	if ((o = json_object()) == NULL)
		log_fatal("store: out of memory");
	store_set(o, "name", store_json_text(st, 0));
	store_set(o, "members", store_json_int(st, 1));
	return o;
}

/* The group as a new object, with its people if asked. */
enum lectern_error
store_group_get(int64_t id, int people, json_t **out, char *err,
    size_t errlen)
{
	static const struct store_child kids[] = {
		{ "people", STORE_Q_G_PEOPLE, store_person_json },
	};

	return store_object(STORE_Q_G_GET, id, store_group_row, "group",
	    people, kids, 1, out, err, errlen);
}

/* Add or remove one member; both are idempotent. */
enum lectern_error
store_group_member(int64_t group_id, int64_t person_id, int add,
    int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt	*st;

	st = store_stmt(add ? STORE_Q_G_MEMBER_ADD : STORE_Q_G_MEMBER_DEL, err,
	    errlen);
	if (st == NULL)
		return LECTERN_E_INTERNAL;
	if (sqlite3_bind_int64(st, 1, group_id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, person_id) != SQLITE_OK ||
	    (add && sqlite3_bind_int64(st, 3, now) != SQLITE_OK))
		return store_bind_failed(st, err, errlen);
	return store_run(st, err, errlen);
}

/* Every group with its member count, as a new array. */
enum lectern_error
store_group_list(json_t **out, char *err, size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_stmt(STORE_Q_G_LIST, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	return store_rows(st, store_group_row, out, err, errlen);
}

/* The member ids of a group; *ids is malloc'd. */
enum lectern_error
store_group_people(int64_t group_id, int64_t **ids, size_t *n, char *err,
    size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_stmt(STORE_Q_G_IDS, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	sqlite3_bind_int64(st, 1, group_id);
	return store_ids(st, ids, n, err, errlen);
}

/* Courses. */

/* LECTERN_OK if course id exists, else not_found. */
enum lectern_error
store_course_exists(int64_t id, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_stmt(STORE_Q_C_EXISTS, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc == SQLITE_ROW)
		return LECTERN_OK;
	if (rc != SQLITE_DONE)
		return store_fail(rc, err, errlen);
	snprintf(err, errlen, "course %" PRId64 " does not exist", id);
	return LECTERN_E_NOT_FOUND;
}

/* The ids of a course's scheduled sessions; *ids is malloc'd. */
enum lectern_error
store_course_sessions(int64_t course_id, int64_t **ids, size_t *n,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_stmt(STORE_Q_C_SESSIONS, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	sqlite3_bind_int64(st, 1, course_id);
	return store_ids(st, ids, n, err, errlen);
}

/* The ids of people enrolled in a course; *ids is malloc'd. */
enum lectern_error
store_course_people(int64_t course_id, int64_t **ids, size_t *n, char *err,
    size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_stmt(STORE_Q_C_PEOPLE, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	sqlite3_bind_int64(st, 1, course_id);
	return store_ids(st, ids, n, err, errlen);
}

/* Sessions. */

static int
store_session_bind(sqlite3_stmt *st, int first, const struct store_session *s)
{
	if (store_bind_text(st, first, s->kind) != SQLITE_OK ||
	    store_bind_text(st, first + 1, s->title) != SQLITE_OK ||
	    store_bind_text(st, first + 2, s->description) != SQLITE_OK ||
	    store_bind_text(st, first + 3, s->location) != SQLITE_OK ||
	    store_bind_text(st, first + 4, s->url) != SQLITE_OK ||
	    sqlite3_bind_int64(st, first + 5, s->start_utc) != SQLITE_OK ||
	    store_bind_text(st, first + 6, s->start_local) != SQLITE_OK ||
	    store_bind_text(st, first + 7, s->tz) != SQLITE_OK ||
	    sqlite3_bind_int64(st, first + 8, s->duration) != SQLITE_OK ||
	    sqlite3_bind_int64(st, first + 9, s->capacity) != SQLITE_OK ||
	    store_bind_text(st, first + 10, s->reminders) != SQLITE_OK ||
	    sqlite3_bind_int64(st, first + 11, s->course_id) != SQLITE_OK ||
	    store_bind_text(st, first + 12, s->rrule) != SQLITE_OK)
		return -1;
	return 0;
}

/* Insert a session with its UID; *id gets the new id. */
enum lectern_error
store_session_add(const struct store_session *s, const char *uid_random,
    const char *domain, int64_t now, int64_t *id, char *err, size_t errlen)
{
	sqlite3_stmt		*st;
	enum lectern_error	 code;

	if ((st = store_stmt(STORE_Q_S_ADD, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	if (store_bind_text(st, 1, uid_random) != SQLITE_OK ||
	    store_bind_text(st, 2, domain) != SQLITE_OK ||
	    store_session_bind(st, 3, s) == -1 ||
	    sqlite3_bind_int64(st, 16, now) != SQLITE_OK)
		return store_bind_failed(st, err, errlen);
	if ((code = store_run(st, err, errlen)) != LECTERN_OK)
		return code;
	*id = sqlite3_last_insert_rowid(store_db);
	return LECTERN_OK;
}

/* Rewrite session id from s, bumping its sequence if asked. */
enum lectern_error
store_session_update(int64_t id, const struct store_session *s, int bump,
    int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt		*st;
	enum lectern_error	 code;

	if ((st = store_stmt(STORE_Q_S_UPDATE, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	if (store_session_bind(st, 1, s) == -1 ||
	    sqlite3_bind_int(st, 14, bump ? 1 : 0) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 15, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 16, id) != SQLITE_OK)
		return store_bind_failed(st, err, errlen);
	if ((code = store_run(st, err, errlen)) != LECTERN_OK)
		return code;
	if (sqlite3_changes(store_db) == 0) {
		snprintf(err, errlen, "session %" PRId64 " does not exist", id);
		return LECTERN_E_NOT_FOUND;
	}
	return LECTERN_OK;
}

/* Cancel a scheduled session; bumps its sequence. */
enum lectern_error
store_session_cancel(int64_t id, const char *reason, int64_t now, char *err,
    size_t errlen)
{
	sqlite3_stmt		*st;
	enum lectern_error	 code;

	if ((st = store_bind(STORE_Q_S_CANCEL, err, errlen, "tii", reason, now,
	    id)) == NULL)
		return LECTERN_E_INTERNAL;
	if ((code = store_run(st, err, errlen)) != LECTERN_OK)
		return code;
	if (sqlite3_changes(store_db) == 0) {
		snprintf(err, errlen, "session %" PRId64 " does not exist or "
		    "is already cancelled", id);
		return LECTERN_E_CONFLICT;
	}
	return LECTERN_OK;
}

/*
 * The columns every enrollment row starts with (session and course alike):
 * person, name, email, organization, state, position.
 */
static json_t *
store_enrollment_head(sqlite3_stmt *st)
{
	json_t	*o;

	if ((o = json_object()) == NULL)
		log_fatal("store: out of memory");
	store_set(o, "person", store_json_int(st, 0));
	store_set(o, "name", store_json_text(st, 1));
	store_set(o, "email", store_json_text(st, 2));
	store_set(o, "organization", store_json_text(st, 3));
	store_set(o, "state", store_json_text(st, 4));
	store_set(o, "position", store_json_int(st, 5));
	return o;
}

static json_t *
store_enrollment_row(sqlite3_stmt *st)
{
	json_t	*o = store_enrollment_head(st);

	store_set(o, "rsvp", store_json_text(st, 6));
	store_set(o, "attendance", store_json_text(st, 7));
	store_set(o, "created", store_json_time(st, 8));
	return o;
}

/* A new revision of session id: its SEQUENCE grows by one. */
enum lectern_error
store_session_bump(int64_t id, int64_t now, char *err, size_t errlen)
{
	return store_runf(STORE_Q_S_BUMP, err, errlen, "ii", now, id);
}

/* The session as a new object, with enrollments if asked. */
enum lectern_error
store_session_get(int64_t id, int enrollments, json_t **out, char *err,
    size_t errlen)
{
	static const struct store_child kids[] = {
		{ "enrollments", STORE_Q_S_ENROLLMENTS, store_enrollment_row },
	};

	return store_object(STORE_Q_S_GET, id, store_session_json, "session",
	    enrollments, kids, 1, out, err, errlen);
}

/* The sessions matching f as a new array. */
enum lectern_error
store_session_list(const struct store_session_filter *f, json_t **out,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_stmt(STORE_Q_S_LIST, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	if ((f->has_from ? sqlite3_bind_int64(st, 1, f->from) :
	    sqlite3_bind_null(st, 1)) != SQLITE_OK ||
	    (f->has_to ? sqlite3_bind_int64(st, 2, f->to) :
	    sqlite3_bind_null(st, 2)) != SQLITE_OK ||
	    store_bind_text(st, 3, f->kind) != SQLITE_OK ||
	    store_bind_text(st, 4, f->status) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, f->course_id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 6, f->limit) != SQLITE_OK ||
	    sqlite3_bind_int(st, 7, f->series) != SQLITE_OK)
		return store_bind_failed(st, err, errlen);
	return store_rows(st, store_session_json, out, err, errlen);
}

/* Enrollments. */

struct store_target {
	int	 cancelled;
	int64_t	 capacity, enrolled, last;	/* last: the waitlist's end */
};

static enum lectern_error
store_target_read(int course, int64_t target, struct store_target *t,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	const char	*status;
	int		 rc;

	st = store_stmt(store_eq(STORE_Q_E_TARGET, course), err, errlen);
	if (st == NULL)
		return LECTERN_E_INTERNAL;
	sqlite3_bind_int64(st, 1, target);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		status = (const char *)sqlite3_column_text(st, 0);
		t->cancelled = status != NULL &&
		    strcmp(status, "cancelled") == 0;
		t->capacity = sqlite3_column_int64(st, 1);
		t->enrolled = sqlite3_column_int64(st, 2);
		t->last = sqlite3_column_int64(st, 3);
	}
	store_done(st);
	if (rc == SQLITE_ROW)
		return LECTERN_OK;
	if (rc != SQLITE_DONE)
		return store_fail(rc, err, errlen);
	snprintf(err, errlen, "%s %" PRId64 " does not exist",
	    course ? "course" : "session", target);
	return LECTERN_E_NOT_FOUND;
}

/* The person's state in target: 0 none, else STORE_ENROLLED/WAITLISTED. */
static enum lectern_error
store_enrollment_find(int course, int64_t target, int64_t person,
    int *state, int64_t *position, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	const char	*s;
	int		 rc;

	st = store_stmt(store_eq(STORE_Q_E_FIND, course), err, errlen);
	if (st == NULL)
		return LECTERN_E_INTERNAL;
	sqlite3_bind_int64(st, 1, target);
	sqlite3_bind_int64(st, 2, person);
	*state = 0;
	*position = 0;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s = (const char *)sqlite3_column_text(st, 0);
		*state = s != NULL && strcmp(s, "waitlisted") == 0 ?
		    STORE_WAITLISTED : STORE_ENROLLED;
		*position = sqlite3_column_int64(st, 1);
	}
	store_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(rc, err, errlen);
	return LECTERN_OK;
}

/* Enroll people in a session or course, waitlisting beyond capacity. */
enum lectern_error
store_enroll(int course, int64_t target, const int64_t *people, size_t n,
    int64_t now, int *outcomes, int64_t *positions, char *err, size_t errlen)
{
	struct store_target	 t;
	sqlite3_stmt		*st;
	enum lectern_error	 code;
	size_t			 i;
	int			 state, wait;

	if ((code = store_target_read(course, target, &t, err, errlen)) !=
	    LECTERN_OK)
		return code;
	if (t.cancelled) {
		snprintf(err, errlen, "%s %" PRId64 " is cancelled",
		    course ? "course" : "session", target);
		return LECTERN_E_CONFLICT;
	}
	for (i = 0; i < n; i++) {
		if ((code = store_enrollment_find(course, target, people[i],
		    &state, &positions[i], err, errlen)) != LECTERN_OK)
			return code;
		if (state != 0) {
			outcomes[i] = STORE_ALREADY;
			continue;
		}
		/* Nobody jumps the queue: with people waiting, newcomers wait. */
		wait = t.capacity > 0 && (t.enrolled >= t.capacity ||
		    t.last > 0);
		st = store_stmt(store_eq(STORE_Q_E_INSERT, course), err,
		    errlen);
		if (st == NULL)
			return LECTERN_E_INTERNAL;
		if (sqlite3_bind_int64(st, 1, target) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, people[i]) != SQLITE_OK ||
		    store_bind_text(st, 3, wait ? "waitlisted" : "enrolled") !=
		    SQLITE_OK ||
		    (wait ? sqlite3_bind_int64(st, 4, t.last + 1) :
		    sqlite3_bind_null(st, 4)) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 5, now) != SQLITE_OK)
			return store_bind_failed(st, err, errlen);
		if ((code = store_run(st, err, errlen)) != LECTERN_OK) {
			if (code == LECTERN_E_CONFLICT)
				snprintf(err, errlen, "person %" PRId64
				    " does not exist", people[i]);
			return code;
		}
		if (wait) {
			outcomes[i] = STORE_WAITLISTED;
			positions[i] = ++t.last;
		} else {
			outcomes[i] = STORE_ENROLLED;
			positions[i] = 0;
			t.enrolled++;
		}
	}
	return LECTERN_OK;
}

/* Remove a person from a session or course, closing the waitlist gap. */
enum lectern_error
store_unenroll(int course, int64_t target, int64_t person, int *removed,
    char *err, size_t errlen)
{
	struct store_target	 t;
	sqlite3_stmt		*st;
	enum lectern_error	 code;
	int64_t			 position;
	int			 state;

	*removed = 0;
	if ((code = store_target_read(course, target, &t, err, errlen)) !=
	    LECTERN_OK)
		return code;
	if ((code = store_enrollment_find(course, target, person, &state,
	    &position, err, errlen)) != LECTERN_OK)
		return code;
	if (state == 0)
		return LECTERN_OK;
	st = store_stmt(store_eq(STORE_Q_E_DELETE, course), err, errlen);
	if (st == NULL)
		return LECTERN_E_INTERNAL;
	sqlite3_bind_int64(st, 1, target);
	sqlite3_bind_int64(st, 2, person);
	if ((code = store_run(st, err, errlen)) != LECTERN_OK)
		return code;
	if (state == STORE_WAITLISTED) {
		st = store_stmt(store_eq(STORE_Q_E_SHIFT, course), err, errlen);
		if (st == NULL)
			return LECTERN_E_INTERNAL;
		sqlite3_bind_int64(st, 1, target);
		sqlite3_bind_int64(st, 2, position);
		if ((code = store_run(st, err, errlen)) != LECTERN_OK)
			return code;
	}
	*removed = state;
	return LECTERN_OK;
}

/* Move people from the head of the waitlist into free seats. */
enum lectern_error
store_promote(int course, int64_t target, int64_t now, json_t *promoted,
    char *err, size_t errlen)
{
	struct store_target	 t;
	sqlite3_stmt		*st;
	enum lectern_error	 code;
	json_t			*ref;
	int64_t			 person;
	int			 rc;

	(void)now;
	if ((code = store_target_read(course, target, &t, err, errlen)) !=
	    LECTERN_OK)
		return code;
	if (t.cancelled)
		return LECTERN_OK;
	while (t.capacity == 0 || t.enrolled < t.capacity) {
		st = store_stmt(store_eq(STORE_Q_E_HEAD, course), err, errlen);
		if (st == NULL)
			return LECTERN_E_INTERNAL;
		sqlite3_bind_int64(st, 1, target);
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			store_done(st);
			if (rc != SQLITE_DONE)
				return store_fail(rc, err, errlen);
			break;
		}
		person = sqlite3_column_int64(st, 0);
		ref = NULL;
		if (promoted != NULL) {
			if ((ref = json_object()) == NULL)
				log_fatal("store: out of memory");
			store_set(ref, "id", json_integer(person));
			store_set(ref, "email", store_json_text(st, 1));
		}
		store_done(st);

		st = store_stmt(store_eq(STORE_Q_E_PROMOTE, course), err,
		    errlen);
		if (st == NULL) {
			json_decref(ref);
			return LECTERN_E_INTERNAL;
		}
		sqlite3_bind_int64(st, 1, target);
		sqlite3_bind_int64(st, 2, person);
		if ((code = store_run(st, err, errlen)) != LECTERN_OK) {
			json_decref(ref);
			return code;
		}
		st = store_stmt(store_eq(STORE_Q_E_SHIFT, course), err, errlen);
		if (st == NULL) {
			json_decref(ref);
			return LECTERN_E_INTERNAL;
		}
		sqlite3_bind_int64(st, 1, target);
		sqlite3_bind_int64(st, 2, 1);
		if ((code = store_run(st, err, errlen)) != LECTERN_OK) {
			json_decref(ref);
			return code;
		}
		if (ref != NULL && json_array_append_new(promoted, ref) != 0)
			log_fatal("store: out of memory");
		t.enrolled++;
	}
	return LECTERN_OK;
}

/* The sessions or courses a person is in; *ids is malloc'd. */
enum lectern_error
store_targets(int course, int64_t person, int64_t **ids, size_t *n,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;

	st = store_stmt(store_eq(STORE_Q_E_TARGETS, course), err, errlen);
	if (st == NULL)
		return LECTERN_E_INTERNAL;
	sqlite3_bind_int64(st, 1, person);
	return store_ids(st, ids, n, err, errlen);
}

/* Outbox. */

static json_t *
store_outbox_row(sqlite3_stmt *st)
{
	json_t	*o;

	if ((o = json_object()) == NULL)
		log_fatal("store: out of memory");
	store_set(o, "id", store_json_int(st, 0));
	store_set(o, "to", store_json_text(st, 1));
	store_set(o, "kind", store_json_text(st, 2));
	store_set(o, "session", store_json_int(st, 3));
	store_set(o, "state", store_json_text(st, 4));
	store_set(o, "attempts", store_json_int(st, 5));
	store_set(o, "next_attempt", store_json_time(st, 6));
	store_set(o, "last_reply", store_json_text(st, 7));
	store_set(o, "message_id", store_json_text(st, 8));
	store_set(o, "created", store_json_time(st, 9));
	store_set(o, "sent_at", store_json_time(st, 10));
	return o;
}

/* Outbox rows, newest first, as a new array. */
enum lectern_error
store_outbox_list(const char *state, int64_t session_id, int64_t limit,
    json_t **out, char *err, size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_bind(STORE_Q_O_LIST, err, errlen, "tii", state,
	    session_id, limit)) == NULL)
		return LECTERN_E_INTERNAL;
	return store_rows(st, store_outbox_row, out, err, errlen);
}

/* The people enrolled (not waitlisted) in a session; *ids is malloc'd. */
enum lectern_error
store_session_people(int64_t session_id, int64_t **ids, size_t *n,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_stmt(STORE_Q_S_PEOPLE, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	sqlite3_bind_int64(st, 1, session_id);
	return store_ids(st, ids, n, err, errlen);
}

/* Queue one rendered message; *id (if not NULL) gets its id. */
enum lectern_error
store_outbox_add(const struct store_outbox_new *m, int64_t now, int64_t *id,
    char *err, size_t errlen)
{
	sqlite3_stmt		*st;
	enum lectern_error	 code;
	int64_t			 rowid;

	if (m->message == NULL || m->len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "the message is missing or too large");
		return LECTERN_E_INVALID_ARGUMENT;
	}
	if ((st = store_stmt(STORE_Q_O_ADD, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	if (sqlite3_bind_int64(st, 1, m->session_id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, m->person_id) != SQLITE_OK ||
	    store_bind_text(st, 3, m->recipient) != SQLITE_OK ||
	    store_bind_text(st, 4, m->kind) != SQLITE_OK ||
	    store_bind_text(st, 5, m->message_id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 6, m->next_attempt) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 7, m->expires) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 8, now) != SQLITE_OK)
		return store_bind_failed(st, err, errlen);
	if ((code = store_run(st, err, errlen)) != LECTERN_OK)
		return code;
	rowid = sqlite3_last_insert_rowid(store_db);
	if ((st = store_stmt(STORE_Q_O_ADD_BODY, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	if (sqlite3_bind_int64(st, 1, rowid) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 2, m->message, (int)m->len,
	    SQLITE_STATIC) != SQLITE_OK)
		return store_bind_failed(st, err, errlen);
	if ((code = store_run(st, err, errlen)) != LECTERN_OK)
		return code;
	if (id != NULL)
		*id = rowid;
	return LECTERN_OK;
}

static int
store_outbox_skipped(int64_t id, const int64_t *skip, size_t nskip)
{
	size_t	 i;

	for (i = 0; i < nskip; i++)
		if (skip[i] == id)
			return 1;
	return 0;
}

/* Release what store_outbox_due returned. */
void
store_outbox_msgs_free(struct store_outbox_msg *msgs, size_t n)
{
	size_t	 i;

	if (msgs == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(msgs[i].recipient);
		free(msgs[i].message_id);
		free(msgs[i].message);
	}
	free(msgs);
}

/* Up to max due queued messages not in skip; *msgs is malloc'd. */
enum lectern_error
store_outbox_due(int64_t now, size_t max, const int64_t *skip, size_t nskip,
    struct store_outbox_msg **msgs, size_t *n, char *err, size_t errlen)
{
	sqlite3_stmt		*st;
	struct store_outbox_msg	*v = NULL, *m;
	const void		*blob;
	const unsigned char	*rcpt;
	size_t			 len = 0;
	int64_t			 id;
	int			 rc = SQLITE_DONE, bytes;

	*msgs = NULL;
	*n = 0;
	if (max == 0)
		return LECTERN_OK;
	if ((st = store_stmt(STORE_Q_O_DUE, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	if ((v = calloc(max, sizeof *v)) == NULL)
		log_fatal("store: out of memory");
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (int64_t)(max + nskip));
	while (len < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		if (store_outbox_skipped(id, skip, nskip))
			continue;
		m = &v[len];
		m->id = id;
		rcpt = sqlite3_column_text(st, 1);
		if ((m->recipient = strdup(rcpt != NULL ?
		    (const char *)rcpt : "")) == NULL)
			log_fatal("store: out of memory");
		blob = sqlite3_column_blob(st, 2);
		bytes = sqlite3_column_bytes(st, 2);
		m->len = bytes > 0 ? (size_t)bytes : 0;
		if ((m->message = malloc(m->len + 1)) == NULL)
			log_fatal("store: out of memory");
		if (m->len > 0)
			memcpy(m->message, blob, m->len);
		m->message[m->len] = '\0';
		m->attempts = sqlite3_column_int64(st, 3);
		m->expires = sqlite3_column_int64(st, 4);
		rcpt = sqlite3_column_text(st, 5);
		if ((m->message_id = strdup(rcpt != NULL ?
		    (const char *)rcpt : "")) == NULL)
			log_fatal("store: out of memory");
		len++;
	}
	if (len == max)
		rc = SQLITE_DONE;
	store_done(st);
	if (rc != SQLITE_DONE) {
		store_outbox_msgs_free(v, len);
		return store_fail(rc, err, errlen);
	}
	if (len == 0) {
		free(v);
		v = NULL;
	}
	*msgs = v;
	*n = len;
	return LECTERN_OK;
}

/*
 * The integer of statement st's one row (with its parameters bound; NULL
 * reads as 0). st NULL, a statement that could not be bound, is an
 * internal error.
 */
static enum lectern_error
store_count_of(sqlite3_stmt *st, int64_t *v, char *err, size_t errlen)
{
	int	 rc;

	*v = 0;
	if (st == NULL)
		return LECTERN_E_INTERNAL;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	store_done(st);
	if (rc != SQLITE_ROW)
		return store_fail(rc, err, errlen);
	return LECTERN_OK;
}

/* *yes: the count of statement st's one row is above 0. */
static enum lectern_error
store_exists(sqlite3_stmt *st, int *yes, char *err, size_t errlen)
{
	enum lectern_error	 code;
	int64_t			 n;

	code = store_count_of(st, &n, err, errlen);
	*yes = n > 0;
	return code;
}

/*
 * The text of statement st's first row, first column into buf (left as
 * it is when there is no row or the column is NULL). st NULL, a
 * statement that could not be bound, is an internal error.
 */
static enum lectern_error
store_text_of(sqlite3_stmt *st, char *buf, size_t len, char *err,
    size_t errlen)
{
	const char	*s;
	int		 rc;

	if (st == NULL)
		return LECTERN_E_INTERNAL;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    (s = (const char *)sqlite3_column_text(st, 0)) != NULL)
		snprintf(buf, len, "%s", s);
	store_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(rc, err, errlen);
	return LECTERN_OK;
}

/* The integer of a one-row, one-column query (NULL reads as 0). */
static enum lectern_error
store_scalar(enum store_q q, int64_t *v, char *err, size_t errlen)
{
	return store_count_of(store_stmt(q, err, errlen), v, err, errlen);
}

/* *yes: some queued message has passed its expiry (an index probe). */
enum lectern_error
store_outbox_expiring(int64_t now, int *yes, char *err, size_t errlen)
{
	return store_exists(store_bind(STORE_Q_O_EXPIRING, err, errlen, "i",
	    now), yes, err, errlen);
}

enum lectern_error
store_outbox_next(int64_t *when, char *err, size_t errlen)
{
	return store_scalar(STORE_Q_O_NEXT, when, err, errlen);
}

/* Run an outcome update; a message that is not (or no longer) queued is not found. */
static enum lectern_error
store_outbox_outcome(sqlite3_stmt *st, int64_t id, char *err, size_t errlen)
{
	enum lectern_error	 code;

	if ((code = store_run(st, err, errlen)) != LECTERN_OK)
		return code;
	if (sqlite3_changes(store_db) == 0) {
		snprintf(err, errlen, "message %" PRId64 " is not queued", id);
		return LECTERN_E_NOT_FOUND;
	}
	return LECTERN_OK;
}

/* The server took message id (250 to the final dot). */
enum lectern_error
store_outbox_sent(int64_t id, int64_t now, const char *reply, char *err,
    size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_stmt(STORE_Q_O_SENT, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, now) != SQLITE_OK ||
	    store_bind_text(st, 3, reply) != SQLITE_OK)
		return store_bind_failed(st, err, errlen);
	return store_outbox_outcome(st, id, err, errlen);
}

/* A temporary failure: try message id again at next_attempt. */
enum lectern_error
store_outbox_defer(int64_t id, int64_t next_attempt, const char *reply,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_bind(STORE_Q_O_DEFER, err, errlen, "iit", id,
	    (int64_t)next_attempt, reply)) == NULL)
		return LECTERN_E_INTERNAL;
	return store_outbox_outcome(st, id, err, errlen);
}

/* A permanent failure for message id. */
enum lectern_error
store_outbox_fail(int64_t id, const char *reply, char *err, size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_bind(STORE_Q_O_FAIL, err, errlen, "it", id, reply)) ==
	    NULL)
		return LECTERN_E_INTERNAL;
	return store_outbox_outcome(st, id, err, errlen);
}

/* Mark queued messages with expires in (0, now] expired. */
enum lectern_error
store_outbox_expire(int64_t now, int64_t *n, char *err, size_t errlen)
{
	sqlite3_stmt		*st;
	enum lectern_error	 code;

	*n = 0;
	if ((st = store_stmt(STORE_Q_O_EXPIRE, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	sqlite3_bind_int64(st, 1, now);
	if ((code = store_run(st, err, errlen)) != LECTERN_OK)
		return code;
	*n = sqlite3_changes(store_db);
	return LECTERN_OK;
}

/* Queue failed or expired messages again (id 0: all of them) for now. */
enum lectern_error
store_outbox_requeue(int64_t id, int64_t now, int64_t *n, char *err,
    size_t errlen)
{
	sqlite3_stmt		*st;
	enum lectern_error	 code;

	*n = 0;
	if ((st = store_stmt(STORE_Q_O_REQUEUE, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	if ((code = store_run(st, err, errlen)) != LECTERN_OK)
		return code;
	*n = sqlite3_changes(store_db);
	return LECTERN_OK;
}

/* Reminders. */

enum lectern_error
store_session_attending(int64_t session_id, int64_t **ids, size_t *n,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_bind(STORE_Q_S_ATTENDING, err, errlen, "i", session_id)) ==
	    NULL)
		return LECTERN_E_INTERNAL;
	return store_ids(st, ids, n, err, errlen);
}

enum lectern_error
store_series_ids(int64_t **ids, size_t *n, char *err, size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_stmt(STORE_Q_S_SERIES, err, errlen)) == NULL)
		return LECTERN_E_INTERNAL;
	return store_ids(st, ids, n, err, errlen);
}

/* Run statement q bound to session_id alone. */
static enum lectern_error
store_remind_session(enum store_q q, int64_t session_id, char *err,
    size_t errlen)
{
	return store_runf(q, err, errlen, "i", session_id);
}

enum lectern_error
store_remind_begin(int64_t session_id, char *err, size_t errlen)
{
	return store_remind_session(STORE_Q_R_UNKEEP, session_id, err, errlen);
}

enum lectern_error
store_remind_end(int64_t session_id, char *err, size_t errlen)
{
	return store_remind_session(STORE_Q_R_SWEEP, session_id, err, errlen);
}

enum lectern_error
store_remind_drop(int64_t session_id, char *err, size_t errlen)
{
	return store_remind_session(STORE_Q_R_DROP, session_id, err, errlen);
}

enum lectern_error
store_remind_put(int64_t session_id, int64_t occurrence, int64_t starts,
    int64_t before, int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	const char	*state;
	char		 old[16] = "";
	int64_t		 id = 0, due = starts - before, old_due = 0;
	int64_t		 done = 0, old_done = 0;
	int		 rc;

	if ((st = store_bind(STORE_Q_R_FIND, err, errlen, "iii", session_id,
	    occurrence, before)) == NULL)
		return LECTERN_E_INTERNAL;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		old_due = sqlite3_column_int64(st, 1);
		snprintf(old, sizeof old, "%s",
		    (const char *)sqlite3_column_text(st, 2));
		old_done = sqlite3_column_int64(st, 3);
	}
	store_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(rc, err, errlen);

	if (id != 0 && strcmp(old, "pending") != 0 &&
	    strcmp(old, "missed") != 0) {
		/* It fired (or expired) for this occurrence: never again. */
		state = strcmp(old, "sent") == 0 ? "sent" : "expired";
		due = old_due;
		done = old_done;
	} else if (due > now)
		state = "pending";
	else if (id != 0 && strcmp(old, "pending") == 0 && due == old_due)
		state = "pending";	/* due now; the timer is on its way */
	else {
		state = "missed";
		done = strcmp(old, "missed") == 0 ? old_done : now;
	}

	/* NULL done: the reminder has not left "pending" (or fired). */
	if (id == 0)
		return done != 0 ? store_runf(STORE_Q_R_INSERT, err, errlen,
		    "iiiiiti", session_id, occurrence, starts, before, due,
		    state, done) : store_runf(STORE_Q_R_INSERT, err, errlen,
		    "iiiiit", session_id, occurrence, starts, before, due,
		    state);
	return done != 0 ? store_runf(STORE_Q_R_UPDATE, err, errlen, "iiiti",
	    id, starts, due, state, done) : store_runf(STORE_Q_R_UPDATE, err,
	    errlen, "iiit", id, starts, due, state);
}

enum lectern_error
store_remind_next(int64_t *when, char *err, size_t errlen)
{
	return store_scalar(STORE_Q_R_NEXT, when, err, errlen);
}

enum lectern_error
store_remind_pending(int64_t *n, char *err, size_t errlen)
{
	return store_scalar(STORE_Q_R_PENDING, n, err, errlen);
}

enum lectern_error
store_remind_due(int64_t now, size_t max, struct store_reminder *out,
    size_t *n, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 rc;

	*n = 0;
	if ((st = store_bind(STORE_Q_R_DUE, err, errlen, "ii", now,
	    (int64_t)max)) == NULL)
		return LECTERN_E_INTERNAL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
		out[*n].id = sqlite3_column_int64(st, 0);
		out[*n].session_id = sqlite3_column_int64(st, 1);
		out[*n].occurrence = sqlite3_column_int64(st, 2);
		out[*n].starts = sqlite3_column_int64(st, 3);
		out[*n].before = sqlite3_column_int64(st, 4);
		out[*n].due = sqlite3_column_int64(st, 5);
		(*n)++;
	}
	store_done(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(rc, err, errlen);
	return LECTERN_OK;
}

enum lectern_error
store_remind_done(int64_t id, const char *state, int64_t now,
    int64_t recipients, char *err, size_t errlen)
{
	return store_runf(STORE_Q_R_DONE, err, errlen, "itii", id, state, now,
	    recipients);
}

static json_t *
store_remind_row(sqlite3_stmt *st)
{
	json_t	*o = json_object();

	if (o == NULL)
		log_fatal("store: out of memory");
	if (sqlite3_column_int64(st, 0) != 0)
		store_set(o, "occurrence", store_json_time(st, 0));
	store_set(o, "starts", store_json_time(st, 1));
	store_set(o, "before", json_integer(sqlite3_column_int64(st, 2) /
	    60));
	store_set(o, "due", store_json_time(st, 3));
	store_set(o, "state", store_json_text(st, 4));
	if (sqlite3_column_type(st, 5) != SQLITE_NULL)
		store_set(o, "done", store_json_time(st, 5));
	if (strcmp((const char *)sqlite3_column_text(st, 4), "sent") == 0)
		store_set(o, "recipients", store_json_int(st, 6));
	return o;
}

enum lectern_error
store_remind_list(int64_t session_id, json_t **out, char *err,
    size_t errlen)
{
	return store_rows_of(STORE_Q_R_LIST, session_id, store_remind_row, out,
	    err, errlen);
}

/* Courses. */

static json_t *
store_course_json(sqlite3_stmt *st)
{
	json_t	*o;

	if ((o = json_object()) == NULL)
		log_fatal("store: out of memory");
	store_set(o, "id", store_json_int(st, 0));
	store_set(o, "uid", store_json_text(st, 1));
	store_set(o, "sequence", store_json_int(st, 2));
	store_set(o, "title", store_json_text(st, 3));
	store_set(o, "description", store_json_text(st, 4));
	store_set(o, "provider", store_json_text(st, 5));
	store_set(o, "hours", store_json_int(st, 6));
	store_set(o, "first_day", store_json_text(st, 7));
	store_set(o, "last_day", store_json_text(st, 8));
	store_set(o, "capacity", store_json_int(st, 9));
	store_set(o, "counts_for_recertification",
	    json_boolean(sqlite3_column_int(st, 10)));
	store_set(o, "status", store_json_text(st, 11));
	store_set(o, "cancel_reason", store_json_text(st, 12));
	store_set(o, "enrolled", store_json_int(st, 13));
	store_set(o, "waitlisted", store_json_int(st, 14));
	store_set(o, "meetings", store_json_int(st, 15));
	store_set(o, "created", store_json_time(st, 16));
	store_set(o, "updated", store_json_time(st, 17));
	return o;
}

static json_t *
store_course_enrollment_row(sqlite3_stmt *st)
{
	json_t	*o = store_enrollment_head(st);

	if (sqlite3_column_type(st, 6) != SQLITE_NULL)
		store_set(o, "completed", store_json_time(st, 6));
	store_set(o, "created", store_json_time(st, 8));
	return o;
}

enum lectern_error
store_course_add(const struct store_course *c, const char *uid_random,
    const char *domain, int64_t now, int64_t *id, char *err, size_t errlen)
{
	enum lectern_error	 code;

	code = store_runf(STORE_Q_C_ADD, err, errlen, "tttttnttiii", uid_random,
	    domain, c->title, c->description, c->provider, c->hours,
	    c->first_day, c->last_day, c->capacity, (int64_t)c->counts, now);
	if (code == LECTERN_OK)
		*id = sqlite3_last_insert_rowid(store_db);
	return code;
}

/* A course statement bound to id that must change one row. */
static enum lectern_error
store_course_changed(int64_t id, char *err, size_t errlen)
{
	if (sqlite3_changes(store_db) == 0) {
		snprintf(err, errlen, "course %" PRId64 " does not exist or "
		    "is cancelled", id);
		return LECTERN_E_CONFLICT;
	}
	return LECTERN_OK;
}

enum lectern_error
store_course_update(int64_t id, const struct store_course *c, int bump,
    int64_t now, char *err, size_t errlen)
{
	enum lectern_error	 code;

	code = store_runf(STORE_Q_C_UPDATE, err, errlen, "itttnttiiii", id,
	    c->title, c->description, c->provider, c->hours, c->first_day,
	    c->last_day, c->capacity, (int64_t)c->counts, (int64_t)(bump ? 1 :
	    0), now);
	if (code != LECTERN_OK)
		return code;
	return store_course_changed(id, err, errlen);
}

enum lectern_error
store_course_cancel(int64_t id, const char *reason, int64_t now, char *err,
    size_t errlen)
{
	enum lectern_error	 code;

	if ((code = store_runf(STORE_Q_C_CANCEL, err, errlen, "iti", id,
	    reason, now)) != LECTERN_OK)
		return code;
	return store_course_changed(id, err, errlen);
}

enum lectern_error
store_course_bump(int64_t id, int64_t now, char *err, size_t errlen)
{
	return store_runf(STORE_Q_C_BUMP, err, errlen, "ii", id, now);
}

enum lectern_error
store_course_get(int64_t id, int detail, json_t **out, char *err,
    size_t errlen)
{
	static const struct store_child kids[] = {
		{ "enrollments", STORE_Q_C_ENROLLMENTS,
		    store_course_enrollment_row },
		{ "sessions", STORE_Q_C_MEETINGS, store_session_json },
	};

	return store_object(STORE_Q_C_GET, id, store_course_json, "course",
	    detail, kids, 2, out, err, errlen);
}

enum lectern_error
store_course_list(const char *from, const char *to, const char *status,
    int64_t limit, json_t **out, char *err, size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_bind(STORE_Q_C_LIST, err, errlen, "ttti", from, to,
	    status, limit)) == NULL)
		return LECTERN_E_INTERNAL;
	return store_rows(st, store_course_json, out, err, errlen);
}

/* Occurrences of a series changed on their own. */

enum lectern_error
store_occurrence_put(int64_t session_id, const struct store_occurrence *o,
    int64_t now, char *err, size_t errlen)
{
	return store_runf(STORE_Q_X_PUT, err, errlen, "iiitittttitti",
	    session_id, o->recurrence_id, o->start_utc, o->start_local,
	    o->duration, o->title, o->description, o->location, o->url,
	    o->sequence, o->cancelled ? "cancelled" : "scheduled",
	    o->cancel_reason, now);
}

static json_t *
store_occurrence_row(sqlite3_stmt *st)
{
	json_t	*o;
	int64_t	 start = sqlite3_column_int64(st, 1);

	if ((o = json_object()) == NULL)
		log_fatal("store: out of memory");
	store_set(o, "occurrence", store_json_time(st, 0));
	store_set(o, "start", store_json_time(st, 1));
	store_set(o, "end", store_json_time_value(start +
	    sqlite3_column_int64(st, 3) * 60));
	store_set(o, "local_start", store_json_text(st, 2));
	store_set(o, "duration", store_json_int(st, 3));
	store_set(o, "title", store_json_text(st, 4));
	store_set(o, "description", store_json_text(st, 5));
	store_set(o, "location", store_json_text(st, 6));
	store_set(o, "url", store_json_text(st, 7));
	store_set(o, "sequence", store_json_int(st, 8));
	store_set(o, "status", store_json_text(st, 9));
	store_set(o, "cancel_reason", store_json_text(st, 10));
	store_set(o, "updated", store_json_time(st, 11));
	return o;
}

enum lectern_error
store_occurrence_list(int64_t session_id, json_t **out, char *err,
    size_t errlen)
{
	return store_rows_of(STORE_Q_X_LIST, session_id, store_occurrence_row,
	    out, err, errlen);
}

enum lectern_error
store_occurrence_clear(int64_t session_id, char *err, size_t errlen)
{
	return store_remind_session(STORE_Q_X_CLEAR, session_id, err, errlen);
}

/* Replies. */

enum lectern_error
store_rsvp(int64_t session_id, int64_t person_id, const char *rsvp,
    struct store_rsvp_result *r, char *err, size_t errlen)
{
	struct store_target	 t;
	sqlite3_stmt		*st;
	enum lectern_error	 code;
	int			 rc;

	memset(r, 0, sizeof *r);
	if ((st = store_bind(STORE_Q_E_RSVP_GET, err, errlen, "ii", session_id,
	    person_id)) == NULL)
		return LECTERN_E_INTERNAL;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r->waitlisted = strcmp((const char *)sqlite3_column_text(st,
		    0), "waitlisted") == 0;
		snprintf(r->old, sizeof r->old, "%s",
		    (const char *)sqlite3_column_text(st, 1));
	}
	store_done(st);
	if (rc == SQLITE_DONE) {
		snprintf(err, errlen, "person %" PRId64 " is not enrolled in "
		    "session %" PRId64, person_id, session_id);
		return LECTERN_E_NOT_FOUND;
	}
	if (rc != SQLITE_ROW)
		return store_fail(rc, err, errlen);
	/* Not invited yet: there is no answer to record (the caller says so). */
	if (r->waitlisted || strcmp(r->old, rsvp) == 0)
		return LECTERN_OK;

	/* Back from a decline with every seat taken: to the waitlist. */
	if (!r->waitlisted && strcmp(r->old, "declined") == 0) {
		if ((code = store_target_read(0, session_id, &t, err,
		    errlen)) != LECTERN_OK)
			return code;
		if (t.capacity > 0 && (t.enrolled >= t.capacity ||
		    t.last > 0)) {
			if ((st = store_bind(STORE_Q_E_REWAIT, err, errlen,
			    "ii", session_id, person_id)) == NULL)
				return LECTERN_E_INTERNAL;
			if ((rc = sqlite3_step(st)) == SQLITE_ROW)
				r->position = sqlite3_column_int64(st, 0);
			store_done(st);
			if (rc != SQLITE_ROW)
				return store_fail(rc, err, errlen);
			r->rewaited = 1;
		}
	}
	r->freed = !r->waitlisted && strcmp(rsvp, "declined") == 0;
	r->changed = 1;
	return store_runf(STORE_Q_E_RSVP_SET, err, errlen, "iit", session_id,
	    person_id, rsvp);
}

enum lectern_error
store_session_by_uid(const char *uid, int64_t *id, int64_t *sequence,
    int *cancelled, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_bind(STORE_Q_S_BY_UID, err, errlen, "t", uid)) == NULL)
		return LECTERN_E_INTERNAL;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*sequence = sqlite3_column_int64(st, 1);
		*cancelled = strcmp((const char *)sqlite3_column_text(st, 2),
		    "cancelled") == 0;
	}
	store_done(st);
	if (rc == SQLITE_DONE) {
		snprintf(err, errlen, "no session has this UID");
		return LECTERN_E_NOT_FOUND;
	}
	if (rc != SQLITE_ROW)
		return store_fail(rc, err, errlen);
	return LECTERN_OK;
}

/*
 * CPD records: attendance, completions and their register, the
 * recertification reports, waitlists by due date, notices and digests
 * (docs/PROTOCOL.md, "CPD records, recertification and reports").
 * Dates are "YYYY-MM-DD" text, hours are tenths of an hour as integers
 * here (REAL in the table, rounded to one decimal on the way in and out).
 *
 * The report functions (store_recert_scan, store_completion_list,
 * store_coverage, store_hours) only read: they may run on a connection
 * of their own.
 */

/* Hours in tenths as a JSON number: an integer when whole (36), else 7.5. */
static json_t *
store_json_tenths(int64_t t)
{
	if (t % 10 == 0)
		return json_integer(t / 10);
	return json_real((double)t / 10.0);
}

/* A person reference {"id","email"} from columns i, i + 1. */
static json_t *
store_json_ref(sqlite3_stmt *st, int i)
{
	json_t	*o;

	if ((o = json_object()) == NULL)
		log_fatal("store: out of memory");
	store_set(o, "id", store_json_int(st, i));
	store_set(o, "email", store_json_text(st, i + 1));
	return o;
}

/* Text column i as a malloc'd string (NULL for NULL). */
static char *
store_dup(sqlite3_stmt *st, int i)
{
	const unsigned char	*s;
	char			*d;

	if (sqlite3_column_type(st, i) == SQLITE_NULL ||
	    (s = sqlite3_column_text(st, i)) == NULL)
		return NULL;
	if ((d = strdup((const char *)s)) == NULL)
		log_fatal("store: out of memory");
	return d;
}

/* Attendance. */

enum lectern_error
store_attendance_put(const struct store_attendance *a, char *err,
    size_t errlen)
{
	enum lectern_error	 code;

	code = store_runf(STORE_Q_A_PUT, err, errlen, "iiitntii",
	    a->session_id, a->occurrence, a->person_id, a->state, a->minutes,
	    a->source, a->entered_by, a->entered_at);
	if (code != LECTERN_OK || a->occurrence != 0)
		return code;
	/* A single session shows it in the enrollment row too. */
	return store_runf(STORE_Q_A_ENROLLMENT, err, errlen, "iit",
	    a->session_id, a->person_id, a->state);
}

static json_t *
store_attendance_row(sqlite3_stmt *st)
{
	json_t	*o;

	if ((o = json_object()) == NULL)
		log_fatal("store: out of memory");
	store_set(o, "person", store_json_ref(st, 0));
	store_set(o, "name", store_json_text(st, 2));
	store_set(o, "organization", store_json_text(st, 3));
	if (sqlite3_column_int64(st, 4) == 0)
		store_set(o, "occurrence", json_null());
	else
		store_set(o, "occurrence", store_json_time(st, 4));
	store_set(o, "state", store_json_text(st, 5));
	store_set(o, "minutes", store_json_int(st, 6));
	store_set(o, "source", store_json_text(st, 7));
	store_set(o, "entered_by", store_json_int(st, 8));
	store_set(o, "entered_at", store_json_time(st, 9));
	return o;
}

enum lectern_error
store_attendance_list(int64_t session_id, int64_t occurrence, json_t **out,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;

	if ((st = store_bind(STORE_Q_A_LIST, err, errlen, "ii", session_id,
	    occurrence)) == NULL)
		return LECTERN_E_INTERNAL;
	return store_rows(st, store_attendance_row, out, err, errlen);
}

enum lectern_error
store_attendance_course(int64_t course_id, int64_t person_id,
    int64_t **sessions, int64_t **occurrences, size_t *n, char *err,
    size_t errlen)
{
	return store_pairs(store_bind(STORE_Q_A_COURSE, err, errlen, "ii",
	    course_id, person_id), sessions, occurrences, n, err, errlen);
}

/* Completions and the register. */

static json_t *
store_completion_row(sqlite3_stmt *st)
{
	json_t	*o;

	if ((o = json_object()) == NULL)
		log_fatal("store: out of memory");
	store_set(o, "id", store_json_int(st, 0));
	store_set(o, "register_no", store_json_text(st, 1));
	store_set(o, "person", store_json_ref(st, 2));
	store_set(o, "name", store_json_text(st, 4));
	store_set(o, "organization", store_json_text(st, 5));
	store_set(o, "course", store_json_int(st, 6));
	store_set(o, "title", store_json_text(st, 7));
	store_set(o, "provider", store_json_text(st, 8));
	store_set(o, "hours", store_json_tenths(sqlite3_column_int64(st, 9)));
	store_set(o, "completed_on", store_json_text(st, 10));
	store_set(o, "counts_for_recertification",
	    json_boolean(sqlite3_column_int(st, 11)));
	store_set(o, "source", store_json_text(st, 12));
	store_set(o, "entered_by", store_json_int(st, 13));
	store_set(o, "entered_at", store_json_time(st, 14));
	return o;
}

/* Record c under the next number of its year ("YYYY-NNNNNN"). */
enum lectern_error
store_completion_add(const struct store_completion *c, int64_t *id,
    char *err, size_t errlen)
{
	sqlite3_stmt		*st;
	enum lectern_error	 code;
	char			 no[32];
	int64_t			 year = 0, n = 0;
	int			 rc, i;

	/* The caller checked the date: "YYYY-MM-DD". */
	for (i = 0; c->completed_on != NULL && i < 4 &&
	    c->completed_on[i] >= '0' && c->completed_on[i] <= '9'; i++)
		year = year * 10 + (c->completed_on[i] - '0');
	if (i != 4 || strlen(c->completed_on) != 10) {
		snprintf(err, errlen, "completed_on: not a date");
		return LECTERN_E_INVALID_ARGUMENT;
	}
	if ((st = store_bind(STORE_Q_K_SEQ, err, errlen, "i", year)) == NULL)
		return LECTERN_E_INTERNAL;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	store_done(st);
	if (rc != SQLITE_ROW)
		return store_fail(rc, err, errlen);
	snprintf(no, sizeof no, "%04" PRId64 "-%06" PRId64, year, n);
	code = store_runf(STORE_Q_K_ADD, err, errlen, "tiittititii", no,
	    c->person_id, c->course_id, c->title, c->provider, c->hours,
	    c->completed_on, (int64_t)(c->counts ? 1 : 0), c->source,
	    c->entered_by, c->entered_at);
	if (code != LECTERN_OK)
		return code;
	*id = sqlite3_last_insert_rowid(store_db);
	/* course.get shows when each person completed the course. */
	if (c->course_id != 0)
		code = store_runf(STORE_Q_K_CE_MARK, err, errlen, "iii",
		    c->course_id, c->person_id, c->entered_at);
	return code;
}

enum lectern_error
store_completion_get(int64_t id, json_t **out, char *err, size_t errlen)
{
	return store_one(STORE_Q_K_GET, id, store_completion_row, "completion",
	    out, err, errlen);
}

/* Remove completion id (a course's also leaves course.get). */
enum lectern_error
store_completion_remove(int64_t id, char *err, size_t errlen)
{
	enum lectern_error	 code;
	json_t			*k = NULL;
	int64_t			 course, person;

	if ((code = store_completion_get(id, &k, err, errlen)) != LECTERN_OK)
		return code;
	course = json_integer_value(json_object_get(k, "course"));
	person = json_integer_value(json_object_get(json_object_get(k,
	    "person"), "id"));
	json_decref(k);
	if ((code = store_runf(STORE_Q_K_REMOVE, err, errlen, "i", id)) !=
	    LECTERN_OK)
		return code;
	if (course != 0)
		code = store_runf(STORE_Q_K_CE_MARK, err, errlen, "iin", course,
		    person, (int64_t)-1);
	return code;
}

enum lectern_error
store_completion_of_course(int64_t course_id, int64_t person_id, int64_t *id,
    char *source, size_t sourcelen, char *register_no, size_t nolen,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	const char	*s;
	int		 rc;

	*id = 0;
	if ((st = store_bind(STORE_Q_K_OF_COURSE, err, errlen, "ii", course_id,
	    person_id)) == NULL)
		return LECTERN_E_INTERNAL;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		s = (const char *)sqlite3_column_text(st, 1);
		if (source != NULL)
			snprintf(source, sourcelen, "%s", s != NULL ? s : "");
		s = (const char *)sqlite3_column_text(st, 2);
		if (register_no != NULL)
			snprintf(register_no, nolen, "%s", s != NULL ? s : "");
	}
	store_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(rc, err, errlen);
	return LECTERN_OK;
}

enum lectern_error
store_completion_same(int64_t person_id, const char *title,
    const char *provider, const char *completed_on, int *yes, char *err,
    size_t errlen)
{
	return store_exists(store_bind(STORE_Q_K_SAME, err, errlen, "ittt",
	    person_id, title, provider, completed_on), yes, err, errlen);
}

enum lectern_error
store_completion_list(const struct store_completion_filter *f, json_t **out,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	enum store_q	 q = STORE_Q_K_LIST;

	if (f->person_id != 0)
		q = STORE_Q_K_LIST_PERSON;
	else if (f->course_id != 0)
		q = STORE_Q_K_LIST_COURSE;
	else if (f->organization != NULL)
		q = STORE_Q_K_LIST_ORG;
	if ((st = store_bind(q, err, errlen, "ttititi", f->from,
	    f->to, f->person_id, f->organization, f->course_id, f->source,
	    f->limit)) == NULL)
		return LECTERN_E_INTERNAL;
	return store_rows(st, store_completion_row, out, err, errlen);
}

/* The recertification cycle. */

enum lectern_error
store_recert_scan(const char *as_of, int64_t min_hours,
    const char *organization, store_recert_fn fn, void *arg, char *err,
    size_t errlen)
{
	struct store_recert_row	 r;
	sqlite3_stmt		*st;
	const char		*last;
	char			 day[11], *end;
	int			 rc;

	if ((st = store_bind(STORE_Q_RC_SCAN, err, errlen, "tit", as_of,
	    min_hours, organization)) == NULL)
		return LECTERN_E_INTERNAL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof r);
		r.person_id = sqlite3_column_int64(st, 0);
		r.name = (const char *)sqlite3_column_text(st, 1);
		r.email = (const char *)sqlite3_column_text(st, 2);
		r.organization = (const char *)sqlite3_column_text(st, 3);
		r.position = (const char *)sqlite3_column_text(st, 4);
		r.lang = (const char *)sqlite3_column_text(st, 5);
		last = (const char *)sqlite3_column_text(st, 6);
		/* "YYYY-MM-DD" followed by the completion's id. */
		if (last != NULL && strlen(last) > 10) {
			memcpy(day, last, 10);
			day[10] = '\0';
			errno = 0;
			r.last_id = strtoll(last + 10, &end, 10);
			if (errno == 0 && *end == '\0')
				r.last_on = day;
		}
		if (fn(&r, arg) == -1)
			break;
	}
	store_done(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(rc, err, errlen);
	return LECTERN_OK;
}

/* Set "last_title" and "last_register_no" of o from completion id. */
enum lectern_error
store_recert_last(int64_t id, json_t *o, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_bind(STORE_Q_RC_LAST, err, errlen, "i", id)) == NULL)
		return LECTERN_E_INTERNAL;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_set(o, "last_title", store_json_text(st, 0));
		store_set(o, "last_register_no", store_json_text(st, 1));
	} else {
		store_set(o, "last_title", json_null());
		store_set(o, "last_register_no", json_null());
	}
	store_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(rc, err, errlen);
	return LECTERN_OK;
}

enum lectern_error
store_recert_person(int64_t person_id, const char *as_of, int64_t min_hours,
    char *last_on, size_t len, char *err, size_t errlen)
{
	last_on[0] = '\0';
	return store_text_of(store_bind(STORE_Q_RC_PERSON, err, errlen, "iti",
	    person_id, as_of, min_hours), last_on, len, err, errlen);
}

void
store_coverage_free(struct store_coverage_row *rows, size_t n)
{
	size_t	 i;

	for (i = 0; rows != NULL && i < n; i++)
		free(rows[i].group);
	free(rows);
}

/* Weakest first: share trained ascending (in tenths of a percent, as
 * reported), then name, the null group last. */
static int
store_coverage_cmp(const void *a, const void *b)
{
	const struct store_coverage_row	*x = a, *y = b;
	int64_t				 px, py;

	px = x->total > 0 ? x->trained * 1000 / x->total : 0;
	py = y->total > 0 ? y->trained * 1000 / y->total : 0;
	if (px != py)
		return px < py ? -1 : 1;
	if ((x->group == NULL) != (y->group == NULL))
		return x->group == NULL ? 1 : -1;
	return x->group == NULL ? 0 : strcmp(x->group, y->group);
}

enum lectern_error
store_coverage(int by, const char *from, const char *to, int64_t min_hours,
    const char *organization, struct store_coverage_row **rows, size_t *n,
    char *err, size_t errlen)
{
	static const enum store_q q[] = { STORE_Q_CV_NONE, STORE_Q_CV_ORG,
	    STORE_Q_CV_POS };
	struct store_coverage_row	*v = NULL, *r;
	sqlite3_stmt			*st;
	size_t				 len = 0, cap = 0;
	int				 rc;

	*rows = NULL;
	*n = 0;
	if (by < 0 || by > 2 || (st = store_bind(q[by], err, errlen, "ttit",
	    from, to, min_hours, organization)) == NULL)
		return LECTERN_E_INTERNAL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = store_grow(v, len, &cap, sizeof *v);
		r = &v[len++];
		r->group = store_dup(st, 0);
		r->total = sqlite3_column_int64(st, 1);
		r->trained = sqlite3_column_int64(st, 2);
		r->hours = sqlite3_column_int64(st, 3);
	}
	store_done(st);
	if (rc != SQLITE_DONE) {
		store_coverage_free(v, len);
		return store_fail(rc, err, errlen);
	}
	if (len > 1)
		qsort(v, len, sizeof *v, store_coverage_cmp);
	*rows = v;
	*n = len;
	return LECTERN_OK;
}

void
store_hours_free(struct store_hours_row *rows, size_t n)
{
	size_t	 i;

	for (i = 0; rows != NULL && i < n; i++) {
		free(rows[i].email);
		free(rows[i].name);
		free(rows[i].organization);
	}
	free(rows);
}

enum lectern_error
store_hours(const char *from, const char *to, int64_t from_utc,
    int64_t to_utc, int64_t person_id, const char *organization,
    struct store_hours_row **rows, size_t *n, char *err, size_t errlen)
{
	struct store_hours_row	*v = NULL, *r;
	sqlite3_stmt		*st;
	enum lectern_error	 code;
	int64_t			*who, *mins, id;
	size_t			 len = 0, cap = 0, ns, k = 0;
	int			 rc;

	*rows = NULL;
	*n = 0;
	/* Session minutes per person, by id, merged into the people below. */
	code = store_pairs(store_bind(STORE_Q_HR_SESSIONS, err, errlen, "iii",
	    from_utc, to_utc, person_id), &who, &mins, &ns, err, errlen);
	if (code != LECTERN_OK)
		return code;
	if ((st = store_bind(STORE_Q_HR_PEOPLE, err, errlen, "ttit", from, to,
	    person_id, organization)) == NULL) {
		free(who);
		free(mins);
		return LECTERN_E_INTERNAL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		while (k < ns && who[k] < id)
			k++;
		v = store_grow(v, len, &cap, sizeof *v);
		r = &v[len++];
		memset(r, 0, sizeof *r);
		r->person_id = id;
		r->email = store_dup(st, 1);
		r->name = store_dup(st, 2);
		r->organization = store_dup(st, 3);
		r->courses = sqlite3_column_int64(st, 4);
		r->external = sqlite3_column_int64(st, 5);
		r->records = sqlite3_column_int64(st, 6);
		if (k < ns && who[k] == id) {
			r->session_minutes = mins[k];
			r->records++;
		}
	}
	store_done(st);
	free(who);
	free(mins);
	if (rc != SQLITE_DONE) {
		store_hours_free(v, len);
		return store_fail(rc, err, errlen);
	}
	*rows = v;
	*n = len;
	return LECTERN_OK;
}

/* Waitlists in order of due date. */

enum lectern_error
store_waitlist(int course, int64_t target, const char *as_of,
    int64_t min_hours, struct store_waiting **w, size_t *n, char *err,
    size_t errlen)
{
	struct store_waiting	*v = NULL;
	sqlite3_stmt		*st;
	const char		*s;
	size_t			 len = 0, cap = 0;
	int			 rc;

	*w = NULL;
	*n = 0;
	if ((st = store_bind(store_eq(STORE_Q_W_LIST, course), err, errlen,
	    "iti", target, as_of, min_hours)) == NULL)
		return LECTERN_E_INTERNAL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = store_grow(v, len, &cap, sizeof *v);
		memset(&v[len], 0, sizeof v[len]);
		v[len].person_id = sqlite3_column_int64(st, 0);
		if ((s = (const char *)sqlite3_column_text(st, 1)) != NULL)
			snprintf(v[len].last_on, sizeof v[len].last_on, "%s",
			    s);
		len++;
	}
	store_done(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_fail(rc, err, errlen);
	}
	*w = v;
	*n = len;
	return LECTERN_OK;
}

enum lectern_error
store_waitlist_set(int course, int64_t target, int64_t person_id,
    int64_t position, char *err, size_t errlen)
{
	return store_runf(store_eq(STORE_Q_W_SETPOS, course), err, errlen,
	    "iii", target, person_id, position);
}

enum lectern_error
store_waitlist_position(int course, int64_t target, int64_t person_id,
    int64_t *position, char *err, size_t errlen)
{
	enum lectern_error	 code;
	int			 state;

	code = store_enrollment_find(course, target, person_id, &state,
	    position, err, errlen);
	if (code == LECTERN_OK && state != STORE_WAITLISTED)
		*position = 0;
	return code;
}

enum lectern_error
store_waiting_for(int64_t person_id, int **course, int64_t **targets,
    size_t *n, char *err, size_t errlen)
{
	enum lectern_error	 code;
	int64_t			*c64;
	int			*c = NULL;
	size_t			 i;

	*course = NULL;
	code = store_pairs(store_bind(STORE_Q_W_OF_PERSON, err, errlen, "i",
	    person_id), &c64, targets, n, err, errlen);
	if (code != LECTERN_OK)
		return code;
	/* The course is a small enum in the table: int on the way out. */
	if (*n > 0 && (c = reallocarray(NULL, *n, sizeof *c)) == NULL)
		log_fatal("store: out of memory");
	for (i = 0; i < *n; i++)
		c[i] = (int)c64[i];
	free(c64);
	*course = c;
	return LECTERN_OK;
}

/* Notices and digests already queued. */

enum lectern_error
store_notice_sent(int64_t person_id, const char *due_on, int *yes,
    char *err, size_t errlen)
{
	return store_exists(store_bind(STORE_Q_N_HAS, err, errlen, "it",
	    person_id, due_on), yes, err, errlen);
}

enum lectern_error
store_notice_add(int64_t person_id, const char *due_on, int64_t outbox_id,
    int64_t now, char *err, size_t errlen)
{
	return store_runf(STORE_Q_N_ADD, err, errlen, "itii", person_id,
	    due_on, outbox_id, now);
}

enum lectern_error
store_notice_count(int64_t *n, char *err, size_t errlen)
{
	return store_scalar(STORE_Q_N_COUNT, n, err, errlen);
}

enum lectern_error
store_digest_sent(const char *period, int *yes, char *err, size_t errlen)
{
	return store_exists(store_bind(STORE_Q_D_HAS, err, errlen, "t",
	    period), yes, err, errlen);
}

enum lectern_error
store_digest_add(const char *period, int64_t outbox_id, int64_t now,
    char *err, size_t errlen)
{
	return store_runf(STORE_Q_D_ADD, err, errlen, "tii", period, outbox_id,
	    now);
}

enum lectern_error
store_digest_last(char *period, size_t len, char *err, size_t errlen)
{
	period[0] = '\0';
	return store_text_of(store_stmt(STORE_Q_D_LAST, err, errlen), period,
	    len, err, errlen);
}
