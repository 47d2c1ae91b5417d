"""Series, single occurrences, courses and waiting lists as teachers'
calendars see them (/work/shared/INVITES.md, docs/PROTOCOL.md).

The real lecternd delivers over SMTP to a real aiosmtpd server on loopback.
Every message is checked with mailcheck (Python's email package, libical
through build/tools/icalcheck, ical.js through icaljs/check.js) where those
checks apply; recurring events are then expanded by two engines and the
result compared with occurrences computed independently from the system's
tzdata (zoneinfo):
  - libical (Evolution's engine) through its GObject binding ICalGLib
    (icalcomponent_foreach_recurrence on the master, EXDATE honoured);
  - ical.js (Thunderbird's engine) through icaljs/series_expand.js (the
    master with every RECURRENCE-ID VEVENT related as an exception).
Both use the calendar's own VTIMEZONE.

Covered: weekly/monthly series across DST in Berlin and New York and a
series in Moscow; one occurrence moved or cancelled (RECURRENCE-ID in the
master's TZID, own SEQUENCE, no RRULE), a person enrolled afterwards
(master with EXDATE + the moved occurrence in one VCALENDAR), session.list
expand; moving the whole series; course enrolment (all-day course entry +
meeting invitations), a meeting added later, unenroll from a course,
course.cancel; waiting lists of sessions (unenroll, more capacity, decline
by REPLY, stale REPLY) and of courses.
"""
import datetime
import email.utils
import json
import os
import re
import subprocess
import time
import unittest
import zoneinfo

from harness import Daemon, SmtpServer, unique
import mailcheck

try:
    import gi
    gi.require_version("ICalGLib", "3.0")
    from gi.repository import ICalGLib
except (ImportError, ValueError):   # pragma: no cover - Debian has gir1.2-ical-3.0
    ICalGLib = None

FROM_NAME = "Lectern Test"
FROM_ADDR = "lectern@lectern.test"
DOMAIN = "lectern.test"
CFG = {"from_addr": FROM_ADDR, "from_name": FROM_NAME, "domain": DOMAIN}
SERIES_JS = os.path.join(mailcheck.ICALJS_DIR, "series_expand.js")

QUIET = 0.7   # how long "nothing more arrives" is watched


# --------------------------------------------------------------------------
# Independent computations and the two recurrence engines
# --------------------------------------------------------------------------

def z(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_to_utc(local, tz):
    """'2027-03-20T15:00' in tz -> '2027-03-20T14:00:00Z' (system tzdata)."""
    return z(datetime.datetime.fromisoformat(local).replace(tzinfo=zoneinfo.ZoneInfo(tz)))


def plus_minutes(utc, minutes):
    t = mailcheck.utc_z(utc) + datetime.timedelta(minutes=minutes)
    return z(t)


def iso_t(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def libical_view(text):
    """Each VEVENT as libical sees it: uid, sequence, dtstart (UTC, with the
    calendar's VTIMEZONE), recurrence_id (UTC), exdates (UTC), attendees,
    and for the one with RRULE its occurrences [(start, end)] in UTC
    (icalcomponent_foreach_recurrence, EXDATE honoured)."""
    cal = ICalGLib.Component.new_from_string(text)
    assert cal is not None, "libical cannot parse the calendar"

    def utc_of(prop, t):
        par = prop.get_first_parameter(ICalGLib.ParameterKind.TZID_PARAMETER)
        if par is not None:
            zone = cal.get_timezone(par.get_tzid())
            assert zone is not None, f"no VTIMEZONE for {par.get_tzid()}"
            return iso_t(t.as_timet_with_zone(zone))
        if t.is_date():
            return t.as_ical_string()
        assert t.is_utc(), f"floating time {t.as_ical_string()}"
        return iso_t(t.as_timet())

    def all_props(ev, kind):
        out = []
        p = ev.get_first_property(kind)
        while p is not None:
            out.append(p)
            p = ev.get_next_property(kind)
        return out

    K = ICalGLib.PropertyKind
    out = []
    ev = cal.get_first_component(ICalGLib.ComponentKind.VEVENT_COMPONENT)
    while ev is not None:
        d = {"uid": ev.get_uid(), "sequence": ev.get_sequence()}
        d["attendees"] = [p.get_attendee() for p in all_props(ev, K.ATTENDEE_PROPERTY)]
        d["organizers"] = [p.get_organizer() for p in all_props(ev, K.ORGANIZER_PROPERTY)]
        d["exdates"] = [utc_of(p, p.get_exdate()) for p in all_props(ev, K.EXDATE_PROPERTY)]
        rid = all_props(ev, K.RECURRENCEID_PROPERTY)
        d["recurrence_id"] = utc_of(rid[0], rid[0].get_recurrenceid()) if rid else None
        ds = all_props(ev, K.DTSTART_PROPERTY)
        d["dtstart"] = utc_of(ds[0], ds[0].get_dtstart()) if ds else None
        d["rrule"] = len(all_props(ev, K.RRULE_PROPERTY))
        occ = []
        if d["rrule"]:
            ev.foreach_recurrence(
                ICalGLib.Time.new_from_string("19700101T000000Z"),
                ICalGLib.Time.new_from_string("21000101T000000Z"),
                lambda c, span, data: occ.append((iso_t(span.get_start()),
                                                  iso_t(span.get_end()))), None)
        d["occurrences"] = occ
        out.append(d)
        ev = cal.get_next_component(ICalGLib.ComponentKind.VEVENT_COMPONENT)
    return out


def icaljs_expand(texts):
    """ical.js's expansion of each calendar text (series_expand.js)."""
    if not texts:
        return []
    p = subprocess.run(["node", SERIES_JS], input=json.dumps(texts).encode("utf-8"),
                       capture_output=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"series_expand.js failed (rc {p.returncode}): {p.stderr[-2000:]!r}")
    return json.loads(p.stdout.decode("utf-8"))


def reply_ics(uid, seq, addr, partstat, recurrence_id=None):
    """An iTIP REPLY as a calendar client sends it back."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Example Corp//Calendar 1.0//EN",
             "METHOD:REPLY", "BEGIN:VEVENT", f"UID:{uid}",
             "DTSTAMP:" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())]
    if recurrence_id:
        lines.append(f"RECURRENCE-ID:{recurrence_id}")
    lines += [f"SEQUENCE:{seq}", f"ORGANIZER;CN=\"{FROM_NAME}\":mailto:{FROM_ADDR}",
              f"ATTENDEE;PARTSTAT={partstat};CN=\"Someone\":mailto:{addr}",
              "END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines)


def cal_part_text(rec):
    for part in rec.message().walk():
        if part.get_content_type() == "text/calendar":
            return part.get_payload(decode=True).decode("utf-8", "replace")
    return None


def occ_snapshot(s, occ):
    """A session snapshot (for mailcheck's expectation) of one occurrence
    from session.get's "occurrences"."""
    snap = dict(s)
    for k in ("start", "end", "local_start"):
        snap[k] = occ[k]
    for k in ("title", "description", "location", "url"):
        if occ.get(k) is not None:
            snap[k] = occ[k]
    return snap


# --------------------------------------------------------------------------

class SeriesCourseCase(unittest.TestCase):
    """One SMTP server and one daemon delivering to it, per class."""

    @classmethod
    def setUpClass(cls):
        cls.smtp = SmtpServer().start()
        mail = {"url": cls.smtp.url, "from": f"{FROM_NAME} <{FROM_ADDR}>",
                "domain": DOMAIN, "retry_initial": "1s", "retry_max": "2s",
                "max_connections": "2"}
        cls.daemon = Daemon(overrides={"mail": mail})
        try:
            cls.daemon.start()
        except BaseException:
            cls.daemon.cleanup()
            cls.smtp.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.daemon.alive():
                cls.daemon.stop()
        finally:
            cls.daemon.cleanup()
            cls.smtp.stop()

    def setUp(self):
        if not self.daemon.alive():
            self.fail("lecternd died earlier; stderr:\n" + self.daemon.stderr_text()[-3000:])
        mailcheck.require_icalcheck(self)
        mailcheck.require_icaljs(self)
        if ICalGLib is None:
            self.skipTest("ICalGLib (gir1.2-ical-3.0, python3-gi) is not installed")
        self.mark = len(self.smtp.received())
        self.people = {}
        self.sent_seq = {}     # UID -> every SEQUENCE sent for it

    # -- helpers ---------------------------------------------------------
    def ok(self, cmd, args=None):
        return self.daemon.ok(cmd, args)

    def err(self, cmd, args):
        with self.daemon.client() as c:
            return c.err(cmd, args)

    def person(self, name):
        p = self.ok("person.add", {"name": name, "email": f"{unique('t')}@school.example"})
        self.people[p["email"]] = p
        return p

    def session(self, **kw):
        args = {"kind": "seminar", "title": "Formative assessment", "duration": 60,
                "url": "https://meet.example/abc", "reminders": [60]}
        args.update(kw)
        return self.ok("session.add", args)

    def get(self, sid):
        return self.ok("session.get", {"id": sid})

    def new_messages(self, n, timeout=15.0):
        """Exactly n more messages than at the mark (watched QUIET s more)."""
        msgs = self.smtp.wait_for(self.mark + n, timeout=timeout)
        if len(msgs) < self.mark + n:
            self.fail(f"{len(msgs) - self.mark} of {n} messages arrived within {timeout} s; "
                      f"outbox: {json.dumps(self.ok('outbox.list'), ensure_ascii=False)[:1500]}")
        time.sleep(QUIET)
        msgs = self.smtp.received()
        self.assertEqual(len(msgs) - self.mark, n, "more messages than expected: " + repr(
            [(m.rcpt_tos, str(m.message()["Subject"])) for m in msgs[self.mark + n:]]))
        new = msgs[self.mark:]
        self.mark = len(msgs)
        return new

    def by_rcpt(self, recs):
        out = {}
        for r in recs:
            self.assertEqual(len(r.rcpt_tos), 1)
            out.setdefault(r.rcpt_tos[0], []).append(r)
        return out

    def expect(self, snap, method):
        def f(m):
            addr = m.rcpt[0] if m.rcpt else None
            p = self.people.get(addr)
            return mailcheck.expectation(CFG, addr, to_name=p["name"] if p else None,
                                         session=snap(m) if callable(snap) else snap,
                                         method=method)
        return f

    def check(self, recs, snap, method="REQUEST"):
        """Every mailcheck check of a one-VEVENT timed message (snap: a
        session snapshot, or a function of the Mail giving one)."""
        mails = mailcheck.check_messages(self, recs, self.expect(snap, method))
        for m in mails:
            self.sent_seq.setdefault(m.ical["uid"], []).append(m.ical["sequence"])
        return mails

    def check_partial(self, rec, method, title=None):
        """The mailcheck checks that hold for every calendar message (raw
        bytes, defects, headers, MIME structure, calendar text, libical
        parses it) -- for messages the one-VEVENT timed checks do not fit
        (an all-day course entry, a series with its exceptions)."""
        m = mailcheck.Mail(rec)
        exp = mailcheck.expectation(CFG, rec.rcpt_tos[0],
                                    to_name=self.people.get(rec.rcpt_tos[0], {}).get("name"),
                                    method=method, title=title)
        with mailcheck._context(m):
            mailcheck._check_raw(self, m)
            mailcheck._check_defects(self, m)
            mailcheck._check_headers(self, m, exp)
            mailcheck._check_structure(self, m, exp)
            mailcheck._check_ics_text(self, m, exp)
            m.ical, _ = mailcheck.run_icalcheck(m.ics)
            self.assertEqual(m.ical["vcalendars"], 1)
            self.assertEqual(m.ical["method"], method)
            self.assertEqual(m.method_param, method)
            date = email.utils.parsedate_to_datetime(str(m.msg["Date"]))
            self.assertLessEqual(abs((mailcheck.utc_z(m.ical["dtstamp"]) - date)
                                     .total_seconds()), 2, "DTSTAMP")
            # Each VEVENT: exactly one ATTENDEE, the recipient; the organizer.
            view = libical_view(m.ics_text)
            for ev in view:
                self.assertEqual(ev["attendees"], ["mailto:" + m.rcpt[0]],
                                 "a VEVENT whose only ATTENDEE is not the recipient")
                self.assertEqual(ev["organizers"], ["mailto:" + FROM_ADDR])
            self.assertEqual(len(view), m.ical["vevents"])
            m.view = view
            for ev_lines in self.vevent_blocks(m):
                for prop in ("UID", "DTSTAMP", "DTSTART", "SUMMARY", "SEQUENCE", "STATUS"):
                    self.assertEqual(sum(1 for l in ev_lines if re.match(prop + "[;:]", l)), 1,
                                     f"{prop} not exactly once in a VEVENT")
                self.assertTrue(any(re.match("(DTEND|DURATION)[;:]", l) for l in ev_lines))
                self.assertEqual(sum(1 for l in ev_lines if l.startswith("ATTENDEE")), 1)
                self.assertNotIn("METHOD:" + method, ev_lines)
                if method == "CANCEL":
                    self.assertIn("STATUS:CANCELLED", ev_lines)
                    self.assertNotIn("BEGIN:VALARM", ev_lines)
                else:
                    self.assertIn("STATUS:CONFIRMED", ev_lines)
        for ev in m.view:
            self.sent_seq.setdefault(ev["uid"], []).append(ev["sequence"])
        return m

    @staticmethod
    def vevent_blocks(m):
        blocks, cur = [], None
        for line in m.lines:
            if line == "BEGIN:VEVENT":
                cur = []
            elif line == "END:VEVENT":
                blocks.append(cur)
                cur = None
            elif cur is not None:
                cur.append(line)
        return blocks

    def check_waitlist(self, rec, title, position, subject_prefix="Waiting list: "):
        """A waiting-list notice: a well-formed message without any calendar
        part, its Subject and text naming the title and the position."""
        m = mailcheck.Mail(rec)
        exp = mailcheck.expectation(CFG, rec.rcpt_tos[0],
                                    to_name=self.people.get(rec.rcpt_tos[0], {}).get("name"),
                                    title=title)
        with mailcheck._context(m):
            mailcheck._check_raw(self, m)
            mailcheck._check_defects(self, m)
            mailcheck._check_headers(self, m, exp)
            types = [p.get_content_type() for p in m.msg.walk()]
            self.assertNotIn("text/calendar", types, "a waiting-list notice has a calendar")
            self.assertNotIn("application/ics", types)
            self.assertIn("text/plain", types)
            self.assertTrue(m.subject.startswith(subject_prefix + title), m.subject)
            body = m.msg.get_body(("plain",)).get_content()
            self.assertIn(title, body)
            self.assertIn(f"position {position}", body)
        return m

    def check_course_entry(self, rec, course, method="REQUEST"):
        """The course's own all-day calendar entry."""
        m = self.check_partial(rec, method, title=course["title"])
        first = datetime.date.fromisoformat(course["first_day"])
        after = datetime.date.fromisoformat(course["last_day"]) + datetime.timedelta(days=1)
        with mailcheck._context(m):
            # icalcheck treats a DATE as a floating time: that is all it may say.
            errs = [e for e in m.ical["errors"] if not re.match(r"floating time: dt(start|end)$", e)]
            self.assertEqual(errs, [], "libical errors")
            self.assertEqual(m.ical["vevents"], 1)
            self.assertEqual(m.ical["uid"], course["uid"])
            self.assertTrue(m.ical["uid"].endswith(f"-course-{course['id']}@{DOMAIN}"),
                            m.ical["uid"])
            self.assertEqual(m.ical["vtimezones"], [], "an all-day entry needs no VTIMEZONE")
            lines = self.vevent_blocks(m)[0]
            self.assertIn("DTSTART;VALUE=DATE:" + first.strftime("%Y%m%d"), lines)
            self.assertIn("DTEND;VALUE=DATE:" + after.strftime("%Y%m%d"), lines,
                          "DTEND is not the day after the last day")
            self.assertIn("TRANSP:TRANSPARENT", lines)
            self.assertEqual(m.ical["summary"], course["title"])
            self.assertEqual(m.ical["status"], "CANCELLED" if method == "CANCEL" else "CONFIRMED")
            if method == "REQUEST":
                a = m.ical["attendees"][0]
                self.assertEqual((a["rsvp"], a["partstat"], a["role"], a["cutype"]),
                                 ("TRUE", "NEEDS-ACTION", "REQ-PARTICIPANT", "INDIVIDUAL"))
            else:
                self.assertEqual(m.ical["valarms"], 0)
            [j] = icaljs_expand([m.ics_text])
            self.assertNotIn("error", j, j.get("error"))
            self.assertTrue(j["isDate"], "ical.js does not see an all-day event")
            self.assertEqual((j["dtstart"], j["dtend"]), (first.isoformat(), after.isoformat()))
            self.assertEqual(j["transp"], "TRANSPARENT")
            self.assertEqual(j["attendees"], [m.rcpt[0]])
            self.assertEqual(j["uid"], course["uid"])
            if method == "REQUEST":
                fmt = lambda d: f"{d.day} {d.strftime('%B %Y')}"
                last = datetime.date.fromisoformat(course["last_day"])
                self.assertEqual(m.subject, f"Course: {course['title']} ({fmt(first)} - {fmt(last)})")
        return m

    def assertExpansion(self, ics_text, expected, duration, what):
        """libical and ical.js expand the calendar to exactly `expected`
        (UTC starts, each lasting duration minutes)."""
        ends = [plus_minutes(s, duration) for s in expected]
        master = [ev for ev in libical_view(ics_text) if ev["rrule"]]
        self.assertEqual(len(master), 1, f"{what}: not one VEVENT with RRULE")
        self.assertEqual([o[0] for o in master[0]["occurrences"]], expected,
                         f"{what}: libical's occurrences != system tzdata")
        self.assertEqual([o[1] for o in master[0]["occurrences"]], ends, f"{what}: libical ends")
        [j] = icaljs_expand([ics_text])
        self.assertNotIn("error", j, j.get("error"))
        self.assertEqual([o["start"] for o in j["occurrences"]], expected,
                         f"{what}: ical.js's occurrences != system tzdata")
        self.assertEqual([o["end"] for o in j["occurrences"]], ends, f"{what}: ical.js ends")
        return j

    def expanded(self, sid, frm, to):
        return [o for o in self.ok("session.list", {"expand": True, "from": frm, "to": to,
                                                     "limit": 1000})
                if o["id"] == sid]


# --------------------------------------------------------------------------

class TestSeries(SeriesCourseCase):

    def series_case(self, tz, local_dates, at, rrule, title, duration=60, people=1):
        """A series; the invitation expands (libical, ical.js) to the
        occurrences at local time `at` on `local_dates` in tz, converted to
        UTC with the system's tzdata; session.list expand agrees."""
        ps = [self.person(f"Teacher {i} of {title}") for i in range(people)]
        first = f"{local_dates[0]}T{at}"
        s = self.session(title=title, tz=tz, start=first, duration=duration, rrule=rrule)
        self.assertEqual(s["rrule"], rrule)
        expected = [local_to_utc(f"{d}T{at}", tz) for d in local_dates]
        self.assertEqual(s["start"], expected[0])
        self.ok("enroll", {"session": s["id"], "people": [p["id"] for p in ps]})
        snap = self.get(s["id"])
        mails = self.check(self.new_messages(people), snap)
        self.assertEqual(sorted(m.rcpt[0] for m in mails), sorted(p["email"] for p in ps))
        for m in mails:
            self.assertEqual(m.ical["uid"], s["uid"])
            self.assertEqual(m.ical["tzid"], tz)
            [rr] = m.prop_lines("RRULE")
            self.assertIn("FREQ=", rr)
            self.assertEqual(m.prop_lines("RECURRENCE-ID"), [])
            self.assertIn(f"DTSTART;TZID={tz}:{local_dates[0].replace('-', '')}T"
                          f"{at.replace(':', '')}00", m.lines, "DTSTART is not TZID-local")
            self.assertExpansion(m.ics_text, expected, duration, f"{title} to {m.rcpt[0]}")
        # The daemon's own expansion says the same.
        last = mailcheck.utc_z(expected[-1]) + datetime.timedelta(days=1)
        occ = self.expanded(s["id"], expected[0], z(last))
        self.assertEqual([o["start"] for o in occ], expected, "session.list expand")
        self.assertEqual([o["occurrence"] for o in occ], expected)
        self.assertEqual([o["local_start"][11:16] for o in occ], [at] * len(expected))
        return s, mails

    def test_weekly_berlin_across_march_dst(self):
        s, mails = self.series_case(
            "Europe/Berlin", ["2027-03-10", "2027-03-17", "2027-03-24", "2027-03-31",
                              "2027-04-07"],
            "15:00", "FREQ=WEEKLY;COUNT=5", "Weekly reading circle", duration=90, people=2)
        # Independently: CET before 28 March 2027, CEST after.
        j = icaljs_expand([mails[0].ics_text])[0]
        self.assertEqual([o["start"][11:16] for o in j["occurrences"]],
                         ["14:00", "14:00", "14:00", "13:00", "13:00"])
        [zone] = mails[0].ical["vtimezones"]
        self.assertEqual((zone["standard"], zone["daylight"]), (1, 1),
                         "a series across DST needs both rules")

    def test_weekly_berlin_until_across_october_dst(self):
        # UNTIL as a date: the last occurrence is 3 November (summer time
        # ends on 31 October 2027).
        self.series_case("Europe/Berlin", ["2027-10-20", "2027-10-27", "2027-11-03"],
                         "09:30", "FREQ=WEEKLY;UNTIL=20271104", "Autumn mentoring")

    def test_monthly_new_york_across_november(self):
        s, mails = self.series_case(
            "America/New_York", ["2027-09-15", "2027-10-15", "2027-11-15", "2027-12-15"],
            "18:00", "FREQ=MONTHLY;COUNT=4", "Monthly district meeting")
        j = icaljs_expand([mails[0].ics_text])[0]
        self.assertEqual([o["start"][11:16] for o in j["occurrences"]],
                         ["22:00", "22:00", "23:00", "23:00"])

    def test_moscow_no_dst(self):
        s, mails = self.series_case(
            "Europe/Moscow", ["2027-03-22", "2027-03-25", "2027-03-29", "2027-04-01"],
            "15:00", "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=4", "Moscow methodology club")
        j = icaljs_expand([mails[0].ics_text])[0]
        self.assertEqual({o["start"][11:16] for o in j["occurrences"]}, {"12:00"})
        [zone] = mails[0].ical["vtimezones"]
        self.assertEqual((zone["standard"], zone["daylight"]), (1, 0))

    def test_occurrence_moved_and_cancelled_then_late_enrolment(self):
        tz = "Europe/Berlin"
        a, b = self.person("Anna Smirnova"), self.person("Boris Ivanov")
        dates = ["2027-03-17", "2027-03-24", "2027-03-31", "2027-04-07", "2027-04-14"]
        orig = [local_to_utc(f"{d}T15:00", tz) for d in dates]
        s = self.session(title="Weekly lesson study", tz=tz, start="2027-03-17T15:00",
                         rrule="FREQ=WEEKLY;COUNT=5", location="Room 4")
        self.ok("enroll", {"session": s["id"], "people": [a["id"], b["id"]]})
        invites = self.check(self.new_messages(2), self.get(s["id"]))
        master_seq = invites[0].ical["sequence"]
        self.assertEqual(master_seq, s["sequence"])

        # -- one occurrence moved (and retitled) --------------------------
        r = self.ok("session.update", {"id": s["id"], "occurrence": "2027-03-24T15:00",
                                       "start": "2027-03-25T17:30", "title": "Lesson study: open lesson"})
        # One SEQUENCE counter per UID: the series keeps the occurrence's
        # value, so that a later REQUEST for the whole series is above it.
        self.assertEqual(r["sequence"], master_seq + 1, "the series' SEQUENCE")
        self.assertEqual(r["start"], orig[0], "the series moved")
        snap = self.get(s["id"])
        [moved] = [o for o in snap["occurrences"] if o["occurrence"] == orig[1]]
        self.assertEqual(moved["start"], local_to_utc("2027-03-25T17:30", tz))
        self.assertEqual(moved["status"], "scheduled")
        self.assertGreater(moved["sequence"], master_seq)
        upd = self.check(self.new_messages(2), occ_snapshot(snap, moved))
        self.assertEqual(sorted(m.rcpt[0] for m in upd), sorted([a["email"], b["email"]]))
        for m in upd:
            self.assertEqual(m.ical["method"], "REQUEST")
            self.assertEqual(m.ical["uid"], s["uid"])
            self.assertEqual(m.ical["dtstart"], "2027-03-25T16:30:00Z")
            self.assertEqual(m.ical["summary"], "Lesson study: open lesson")
            self.assertEqual(m.ical["location"], "Room 4", "the series' location is lost")
            self.assertGreater(m.ical["sequence"], master_seq)
            self.assertEqual(m.ical["sequence"], moved["sequence"])
            self.assertEqual(m.prop_lines("RECURRENCE-ID"),
                             ["RECURRENCE-ID;TZID=Europe/Berlin:20270324T150000"])
            self.assertIn("DTSTART;TZID=Europe/Berlin:20270325T173000", m.lines)
            self.assertEqual(m.prop_lines("RRULE"), [])
            self.assertEqual(m.prop_lines("EXDATE"), [])
            [ev] = libical_view(m.ics_text)
            self.assertEqual(ev["recurrence_id"], orig[1], "libical RECURRENCE-ID")
            self.assertEqual(ev["dtstart"], "2027-03-25T16:30:00Z")
            [j] = icaljs_expand([m.ics_text])
            self.assertNotIn("error", j)
            self.assertEqual([(o["recurrenceId"], o["start"]) for o in j["occurrences"]],
                             [(orig[1], "2027-03-25T16:30:00Z")], "ical.js")
            self.assertTrue(m.subject.startswith("Updated: Lesson study: open lesson"), m.subject)
            self.assertIn("25 March 2027", m.plain)

        # -- another cancelled (named by its absolute original start) -----
        r = self.ok("session.cancel", {"id": s["id"], "occurrence": orig[3],
                                       "reason": "Spring holiday"})
        self.assertEqual(r["status"], "scheduled", "the whole series was cancelled")
        snap = self.get(s["id"])
        [gone] = [o for o in snap["occurrences"] if o["occurrence"] == orig[3]]
        self.assertEqual(gone["status"], "cancelled")
        self.assertEqual(gone["cancel_reason"], "Spring holiday")
        cancels = self.check(self.new_messages(2), occ_snapshot(snap, gone), method="CANCEL")
        for m in cancels:
            self.assertEqual(m.method_param, "CANCEL")
            self.assertEqual(m.ical["status"], "CANCELLED")
            self.assertEqual(m.ical["uid"], s["uid"])
            self.assertGreater(m.ical["sequence"], master_seq)
            self.assertEqual(m.ical["dtstart"], orig[3])
            self.assertEqual(m.prop_lines("RECURRENCE-ID"),
                             ["RECURRENCE-ID;TZID=Europe/Berlin:20270407T150000"])
            self.assertEqual(m.prop_lines("RRULE"), [])
            [ev] = libical_view(m.ics_text)
            self.assertEqual(ev["recurrence_id"], orig[3])
            self.assertIn("Spring holiday", m.plain)
        # Its reminders are dropped; the moved one's follow it.
        sched = snap["reminder_schedule"]
        self.assertEqual([x for x in sched if x["occurrence"] == orig[3]], [],
                         "reminders of the cancelled occurrence remain")
        self.assertEqual({x["starts"] for x in sched if x["occurrence"] == orig[1]},
                         {"2027-03-25T16:30:00Z"})
        # Refusals.
        self.assertEqual(self.err("session.update", {"id": s["id"], "occurrence": orig[3],
                                                     "start": "2027-04-08T15:00"})["code"],
                         "conflict")
        self.assertEqual(self.err("session.update", {"id": s["id"], "occurrence": "2027-04-08T15:00",
                                                     "title": "x"})["code"], "not_found")
        self.assertEqual(self.err("session.update", {"id": s["id"], "occurrence": orig[2],
                                                     "capacity": 3})["code"], "invalid_argument")
        self.new_messages(0)

        # -- a person enrolled afterwards: one message, master + exception
        c = self.person("Clara Weber")
        self.ok("enroll", {"session": s["id"], "people": [c["id"]]})
        [rec] = self.new_messages(1)
        self.assertEqual(rec.rcpt_tos, [c["email"]])
        m = self.check_partial(rec, "REQUEST", title="Weekly lesson study")
        self.assertEqual(m.ical["errors"], [], "libical errors")
        mailcheck._check_vtimezones(self, m, m.ical)
        self.assertEqual(m.ical["vevents"], 2, "not master + one moved occurrence")
        self.assertEqual(m.msg.get_content_type(), "multipart/mixed")
        mev, xev = m.view
        self.assertEqual(mev["uid"], s["uid"])
        self.assertEqual(xev["uid"], s["uid"], "the moved occurrence has another UID")
        self.assertEqual(mev["rrule"], 1)
        self.assertIsNone(mev["recurrence_id"])
        # The master carries the UID's counter: above or at every change.
        self.assertEqual(mev["sequence"], self.get(s["id"])["sequence"])
        self.assertGreaterEqual(mev["sequence"], moved["sequence"])
        self.assertEqual(mev["exdates"], [orig[3]], "EXDATE for the cancelled occurrence")
        self.assertIn("EXDATE;TZID=Europe/Berlin:20270407T150000", self.vevent_blocks(m)[0])
        self.assertEqual(xev["rrule"], 0)
        self.assertEqual(xev["recurrence_id"], orig[1])
        self.assertEqual(xev["dtstart"], "2027-03-25T16:30:00Z")
        self.assertEqual(xev["sequence"], moved["sequence"])
        self.assertIn("RECURRENCE-ID;TZID=Europe/Berlin:20270324T150000", self.vevent_blocks(m)[1])
        # libical: the master's expansion has no 7 April.
        self.assertEqual([o[0] for o in mev["occurrences"]],
                         [orig[0], orig[1], orig[2], orig[4]])
        # ical.js with the exception related: 24 March is at its new time.
        [j] = icaljs_expand([m.ics_text])
        self.assertNotIn("error", j, j.get("error"))
        want = [orig[0], "2027-03-25T16:30:00Z", orig[2], orig[4]]
        self.assertEqual([o["start"] for o in j["occurrences"]], want)
        self.assertEqual([o["recurrenceId"] for o in j["occurrences"]],
                         [orig[0], orig[1], orig[2], orig[4]])
        self.assertEqual([o["summary"] for o in j["occurrences"]],
                         ["Weekly lesson study", "Lesson study: open lesson",
                          "Weekly lesson study", "Weekly lesson study"])
        # session.list expand agrees.
        occ = self.expanded(s["id"], "2027-03-01T00:00Z", "2027-05-01T00:00Z")
        self.assertEqual([o["occurrence"] for o in occ], orig)
        self.assertEqual([o["status"] for o in occ],
                         ["scheduled", "scheduled", "scheduled", "cancelled", "scheduled"])
        self.assertEqual([o["start"] for o in occ if o["status"] == "scheduled"], want)
        self.assertEqual(occ[1]["title"], "Lesson study: open lesson")
        self.assertEqual(occ[1]["local_start"], "2027-03-25T17:30:00")

    def test_series_move_forgets_occurrences(self):
        """Moving the whole series replaces it everywhere: one VEVENT, no
        EXDATE, and a SEQUENCE above every one sent for that UID (one
        counter per UID that never decreases), so that no client keeps an
        old exception that looks newer than the new series."""
        tz = "Europe/Berlin"
        a = self.person("Anna Smirnova")
        s = self.session(title="Series to move", tz=tz, start="2027-05-05T10:00",
                         rrule="FREQ=WEEKLY;COUNT=4")
        self.ok("enroll", {"session": s["id"], "people": [a["id"]]})
        self.check(self.new_messages(1), self.get(s["id"]))
        self.ok("session.update", {"id": s["id"], "occurrence": "2027-05-12T10:00",
                                   "start": "2027-05-12T12:00"})
        snap = self.get(s["id"])
        self.check(self.new_messages(1), lambda m: occ_snapshot(snap, snap["occurrences"][0]))
        self.ok("session.update", {"id": s["id"], "occurrence": "2027-05-12T10:00",
                                   "duration": 90})
        snap = self.get(s["id"])
        self.check(self.new_messages(1), lambda m: occ_snapshot(snap, snap["occurrences"][0]))
        self.ok("session.cancel", {"id": s["id"], "occurrence": "2027-05-19T10:00"})
        snap = self.get(s["id"])
        [gone] = [o for o in snap["occurrences"] if o["status"] == "cancelled"]
        self.check(self.new_messages(1), occ_snapshot(snap, gone), method="CANCEL")
        before = max(self.sent_seq[s["uid"]])

        r = self.ok("session.update", {"id": s["id"], "start": "2027-05-06T16:00"})
        self.assertEqual(self.get(s["id"])["occurrences"], [], "occurrence changes not forgotten")
        [m] = self.check(self.new_messages(1), self.get(s["id"]))
        self.assertEqual(m.ical["vevents"], 1)
        self.assertEqual(m.prop_lines("EXDATE"), [])
        self.assertEqual(m.prop_lines("RECURRENCE-ID"), [])
        self.assertExpansion(m.ics_text, [local_to_utc(f"2027-05-{d:02d}T16:00", tz)
                                          for d in (6, 13, 20, 27)], 60, "moved series")
        occ = self.expanded(s["id"], "2027-05-01T00:00Z", "2027-06-01T00:00Z")
        self.assertEqual([o["status"] for o in occ], ["scheduled"] * 4)
        self.assertGreater(m.ical["sequence"], before,
                           f"the moved series has SEQUENCE {m.ical['sequence']}, but SEQUENCE "
                           f"{before} was already sent for UID {s['uid']} (an occurrence)")
        self.assertEqual(r["sequence"], m.ical["sequence"])


# --------------------------------------------------------------------------

class TestCourses(SeriesCourseCase):

    def course(self, **kw):
        args = {"title": "Inclusive classroom", "first_day": "2027-02-01",
                "last_day": "2027-02-28", "hours": 36, "provider": "District office"}
        args.update(kw)
        return self.ok("course.add", args)

    def split(self, recs, course):
        """{email: {"course": rec, uid: rec, ...}} by the calendar's UID."""
        out = {}
        for r in recs:
            text = cal_part_text(r)
            self.assertIsNotNone(text, f"no calendar in {r.message()['Subject']}")
            uid = re.search(r"\r\nUID:([^\r]+)\r\n", text).group(1)
            key = "course" if uid == course["uid"] else uid
            d = out.setdefault(r.rcpt_tos[0], {})
            self.assertNotIn(key, d, f"two messages about {key} to {r.rcpt_tos[0]}")
            d[key] = r
        return out

    def test_enrol_add_meeting_unenrol_cancel(self):
        c = self.course(title="Inclusive classroom")
        self.assertEqual(c["sequence"], 0)
        m1 = self.session(title="Kick-off", start="2027-02-01T15:00", tz="Europe/Moscow",
                          course=c["id"])
        m2 = self.session(title="Weekly practice", start="2027-02-08T16:00", tz="Europe/Berlin",
                          rrule="FREQ=WEEKLY;COUNT=3", course=c["id"])
        self.assertEqual(m1["course"], c["id"])
        a, b = self.person("Anna Smirnova"), self.person("Борис Иванов")
        r = self.ok("enroll", {"course": c["id"], "people": [a["id"], b["email"]]})
        self.assertEqual(sorted(p["email"] for p in r["enrolled"]), sorted([a["email"], b["email"]]))
        recs = self.split(self.new_messages(6), c)
        self.assertEqual(set(recs), {a["email"], b["email"]})
        snaps = {m1["uid"]: self.get(m1["id"]), m2["uid"]: self.get(m2["id"])}
        for addr, got in recs.items():
            self.assertEqual(set(got), {"course", m1["uid"], m2["uid"]})
            self.check_course_entry(got["course"], c)
            for uid in (m1["uid"], m2["uid"]):
                [inv] = self.check([got[uid]], snaps[uid])
                self.assertEqual(inv.ical["sequence"], 0)
        [inv2] = self.check([recs[a["email"]][m2["uid"]]], snaps[m2["uid"]])
        self.assertExpansion(inv2.ics_text, [local_to_utc(f"2027-02-{d:02d}T16:00", "Europe/Berlin")
                                             for d in (8, 15, 22)], 60, "course series")
        cg = self.ok("course.get", {"id": c["id"]})
        self.assertEqual(sorted(e["email"] for e in cg["enrollments"] if e["state"] == "enrolled"),
                         sorted([a["email"], b["email"]]))
        self.assertEqual(sorted(x["id"] for x in cg["sessions"]), sorted([m1["id"], m2["id"]]))

        # A meeting added later invites everyone enrolled in the course.
        m3 = self.session(title="Final presentations", start="2027-02-26T11:00",
                          tz="Europe/Moscow", course=c["id"])
        late = self.check(self.new_messages(2), self.get(m3["id"]))
        self.assertEqual(sorted(m.rcpt[0] for m in late), sorted([a["email"], b["email"]]))
        for m in late:
            self.assertEqual(m.ical["uid"], m3["uid"])
        self.assertEqual(self.get(m3["id"])["enrolled"], 2)

        # Unenrol Anna from the course: CANCEL for each meeting and the entry.
        r = self.ok("unenroll", {"course": c["id"], "people": [a["id"]]})
        self.assertEqual([p["email"] for p in r["removed"]], [a["email"]])
        recs = self.split(self.new_messages(4), c)
        self.assertEqual(set(recs), {a["email"]}, "someone else heard of Anna's unenrolment")
        got = recs[a["email"]]
        self.assertEqual(set(got), {"course", m1["uid"], m2["uid"], m3["uid"]})
        ce = self.check_course_entry(got["course"], c, method="CANCEL")
        self.assertGreater(ce.ical["sequence"], 0)
        for sid, uid in ((m1["id"], m1["uid"]), (m2["id"], m2["uid"]), (m3["id"], m3["uid"])):
            snap = self.get(sid)
            [cm] = self.check([got[uid]], snap, method="CANCEL")
            self.assertGreater(cm.ical["sequence"], 0)
            self.assertNotIn(a["email"], [e["email"] for e in snap["enrollments"]])
            self.assertIn(b["email"], [e["email"] for e in snap["enrollments"]])

        # course.cancel: Boris gets a CANCEL for every meeting and the entry.
        r = self.ok("course.cancel", {"id": c["id"], "reason": "Too few participants"})
        self.assertEqual(r["status"], "cancelled")
        recs = self.split(self.new_messages(4), c)
        self.assertEqual(set(recs), {b["email"]}, "Anna was told again")
        got = recs[b["email"]]
        self.assertEqual(set(got), {"course", m1["uid"], m2["uid"], m3["uid"]})
        ce = self.check_course_entry(got["course"], c, method="CANCEL")
        self.assertGreater(ce.ical["sequence"], 0)
        for sid, uid in ((m1["id"], m1["uid"]), (m2["id"], m2["uid"]), (m3["id"], m3["uid"])):
            snap = self.get(sid)
            self.assertEqual(snap["status"], "cancelled")
            [cm] = self.check([got[uid]], snap, method="CANCEL")
            self.assertEqual(cm.ical["status"], "CANCELLED")
            self.assertEqual(cm.ical["sequence"], snap["sequence"])
        self.assertEqual(self.ok("course.get", {"id": c["id"]})["status"], "cancelled")

    def test_course_entry_dtend_across_year(self):
        c = self.course(title="Winter school", first_day="2027-12-27", last_day="2027-12-31")
        a = self.person("Anna Smirnova")
        self.ok("enroll", {"course": c["id"], "people": [a["id"]]})
        [rec] = self.new_messages(1)
        m = self.check_course_entry(rec, c)
        self.assertIn("DTEND;VALUE=DATE:20280101", self.vevent_blocks(m)[0])


# --------------------------------------------------------------------------

class TestWaitlist(SeriesCourseCase):

    def positions(self, sid):
        g = self.get(sid)
        # Holding a seat: enrolled and not declined.
        return ([e["email"] for e in g["enrollments"]
                 if e["state"] == "enrolled" and e["rsvp"] != "declined"],
                [(e["email"], e["position"]) for e in g["enrollments"] if e["state"] == "waitlisted"])

    def test_session_waitlist(self):
        tz = "Europe/Moscow"
        ps = [self.person(n) for n in ("Anna", "Boris", "Clara", "Dmitri", "Elena", "Fyodor")]
        A, B, C, D, E, F = (p["email"] for p in ps)
        s = self.session(title="Small workshop", start="2027-06-03T09:30", tz=tz, capacity=2)
        r = self.ok("enroll", {"session": s["id"], "people": [A, B, C, D]})
        self.assertEqual([p["email"] for p in r["enrolled"]], [A, B])
        self.assertEqual([(p["email"], p["position"]) for p in r["waitlisted"]], [(C, 1), (D, 2)])
        recs = self.by_rcpt(self.new_messages(4))
        self.assertEqual(set(recs), {A, B, C, D})
        self.check(recs[A] + recs[B], self.get(s["id"]))
        self.check_waitlist(recs[C][0], "Small workshop", 1)
        w = self.check_waitlist(recs[D][0], "Small workshop", 2)
        self.assertIn("09:30", w.subject)
        self.assertIn("MSK", w.subject)
        self.assertEqual(self.positions(s["id"]), ([A, B], [(C, 1), (D, 2)]))

        # Unenrol Anna: Clara is invited, Dmitri moves up.
        r = self.ok("unenroll", {"session": s["id"], "people": [A]})
        self.assertEqual([p["email"] for p in r["promoted"]], [C])
        recs = self.by_rcpt(self.new_messages(2))
        self.assertEqual(set(recs), {A, C})
        snap = self.get(s["id"])
        self.check(recs[A], snap, method="CANCEL")
        [inv] = self.check(recs[C], snap)
        self.assertEqual(inv.ical["method"], "REQUEST")
        self.assertEqual(self.positions(s["id"]), ([B, C], [(D, 1)]))

        # More capacity: Dmitri is invited; nobody else hears anything.
        seq = self.get(s["id"])["sequence"]
        r = self.ok("session.update", {"id": s["id"], "capacity": 3})
        self.assertEqual(r["sequence"], seq, "capacity bumped SEQUENCE")
        recs = self.by_rcpt(self.new_messages(1))
        self.assertEqual(set(recs), {D})
        self.check(recs[D], self.get(s["id"]))
        self.assertEqual(self.positions(s["id"]), ([B, C, D], []))

        # Two more wait; a visible change goes only to those enrolled.
        r = self.ok("enroll", {"session": s["id"], "people": [E, F]})
        self.assertEqual([(p["email"], p["position"]) for p in r["waitlisted"]], [(E, 1), (F, 2)])
        recs = self.by_rcpt(self.new_messages(2))
        self.check_waitlist(recs[E][0], "Small workshop", 1)
        self.check_waitlist(recs[F][0], "Small workshop", 2)
        u = self.ok("session.update", {"id": s["id"], "location": "Room 9"})
        self.assertEqual(u["sequence"], seq + 1)
        recs = self.by_rcpt(self.new_messages(3))
        self.assertEqual(set(recs), {B, C, D}, "an update went to people on the waiting list")
        self.check(sum(recs.values(), []), self.get(s["id"]))
        seq = u["sequence"]

        # A stale REPLY (lower SEQUENCE) declining: nothing changes.
        r = self.ok("reply", {"ical": reply_ics(s["uid"], seq - 1, B, "DECLINED")})
        [ev] = r["events"]
        self.assertEqual(ev["outcome"], "stale")
        self.new_messages(0)
        self.assertEqual(self.positions(s["id"]), ([B, C, D], [(E, 1), (F, 2)]))
        self.assertEqual([e["rsvp"] for e in self.get(s["id"])["enrollments"] if e["email"] == B],
                         ["needs_action"])

        # The current SEQUENCE, the address in other case: Elena is invited.
        r = self.ok("reply", {"ical": reply_ics(s["uid"], seq, B.upper(), "DECLINED")})
        [ev] = r["events"]
        self.assertEqual(ev["outcome"], "recorded")
        self.assertEqual(ev["uid"], s["uid"])
        recs = self.by_rcpt(self.new_messages(1))
        self.assertEqual(set(recs), {E}, "the decline did not promote the first waiting")
        [inv] = self.check(recs[E], self.get(s["id"]))
        self.assertEqual(inv.ical["sequence"], seq)
        self.assertEqual(inv.ical["location"], "Room 9")
        g = self.get(s["id"])
        self.assertEqual([e["rsvp"] for e in g["enrollments"] if e["email"] == B], ["declined"])
        self.assertEqual([(e["email"], e["position"]) for e in g["enrollments"]
                          if e["state"] == "waitlisted"], [(F, 1)])
        self.assertIn(E, [e["email"] for e in g["enrollments"] if e["state"] == "enrolled"])

        # A decline taken by phone (rsvp) promotes Fyodor.
        r = self.ok("rsvp", {"session": s["id"], "person": C, "rsvp": "declined"})
        self.assertEqual([p["email"] for p in r["promoted"]], [F])
        recs = self.by_rcpt(self.new_messages(1))
        self.assertEqual(set(recs), {F})
        self.check(recs[F], self.get(s["id"]))
        self.assertEqual(self.positions(s["id"]), ([D, E, F], []))

        # Clara takes her decline back with every seat taken: she waits.
        r = self.ok("rsvp", {"session": s["id"], "person": C, "rsvp": "accepted"})
        self.assertEqual(r.get("waitlisted"), 1)
        recs = self.by_rcpt(self.new_messages(1))
        self.assertEqual(set(recs), {C})
        self.check_waitlist(recs[C][0], "Small workshop", 1)
        self.assertEqual(self.positions(s["id"]), ([D, E, F], [(C, 1)]))

        # Removing a person altogether frees the seat too.
        self.ok("person.remove", {"email": D})
        recs = self.by_rcpt(self.new_messages(2))
        self.assertEqual(set(recs), {C, D})
        snap = self.get(s["id"])
        self.check(recs[D], snap, method="CANCEL")
        self.check(recs[C], snap)
        self.assertEqual(self.positions(s["id"]), ([E, F, C], []))

    def test_unenrol_waitlisted_sends_no_cancel(self):
        """People on a waiting list never got a calendar entry: taking them
        off the list sends them no iTIP CANCEL (an event they never had)
        and does not raise the SEQUENCE everyone else's calendar holds."""
        a, b = self.person("Anna"), self.person("Boris")
        s = self.session(title="One seat", start="2027-06-04T09:30", tz="Europe/Moscow",
                         capacity=1)
        self.ok("enroll", {"session": s["id"], "people": [a["id"], b["id"]]})
        recs = self.by_rcpt(self.new_messages(2))
        self.check_waitlist(recs[b["email"]][0], "One seat", 1)
        seq = self.get(s["id"])["sequence"]
        r = self.ok("unenroll", {"session": s["id"], "people": [b["id"]]})
        self.assertEqual([p["email"] for p in r["removed"]], [b["email"]])
        self.assertEqual(r["promoted"], [])
        time.sleep(QUIET + 1.0)
        later = self.smtp.received()[self.mark:]
        self.mark += len(later)
        cals = [(m.rcpt_tos, str(m.message()["Subject"])) for m in later if cal_part_text(m)]
        self.assertEqual(cals, [], "a calendar message about a session the person never had")
        self.assertEqual(self.get(s["id"])["sequence"], seq,
                         "SEQUENCE raised for a person who was only waiting")

        c = self.ok("course.add", {"title": "One-seat course", "first_day": "2027-10-01",
                                   "last_day": "2027-10-10", "capacity": 1})
        self.ok("enroll", {"course": c["id"], "people": [a["id"], b["id"]]})
        recs = self.by_rcpt(self.new_messages(2))
        self.check_waitlist(recs[b["email"]][0], "One-seat course", 1)
        self.ok("unenroll", {"course": c["id"], "people": [b["id"]]})
        time.sleep(QUIET + 1.0)
        later = self.smtp.received()[self.mark:]
        self.mark += len(later)
        cals = [(m.rcpt_tos, str(m.message()["Subject"])) for m in later if cal_part_text(m)]
        self.assertEqual(cals, [], "a course CANCEL to a person who was only waiting")
        self.assertEqual(self.ok("course.get", {"id": c["id"]})["sequence"], c["sequence"])

    def test_series_occurrence_reply_is_ignored(self):
        a = self.person("Anna")
        s = self.session(title="Series with seats", start="2027-06-07T10:00", tz="Europe/Moscow",
                         rrule="FREQ=WEEKLY;COUNT=3", capacity=1)
        self.ok("enroll", {"session": s["id"], "people": [a["id"]]})
        self.check(self.new_messages(1), self.get(s["id"]))
        r = self.ok("reply", {"ical": reply_ics(s["uid"], s["sequence"], a["email"], "DECLINED",
                                                recurrence_id="20270614T070000Z")})
        self.assertEqual([e["outcome"] for e in r["events"]], ["ignored"])
        self.new_messages(0)
        self.assertEqual([e["rsvp"] for e in self.get(s["id"])["enrollments"]], ["needs_action"])

    def test_course_waitlist(self):
        c = self.ok("course.add", {"title": "Digital tools", "first_day": "2027-09-01",
                                   "last_day": "2027-09-30", "capacity": 1, "hours": 12})
        m1 = self.session(title="Digital tools: session 1", start="2027-09-02T15:00",
                          tz="Europe/Moscow", course=c["id"])
        m2 = self.session(title="Digital tools: session 2", start="2027-09-09T15:00",
                          tz="Europe/Moscow", course=c["id"])
        a, b, d = self.person("Anna"), self.person("Boris"), self.person("Dmitri")
        r = self.ok("enroll", {"course": c["id"], "people": [a["id"], b["id"], d["id"]]})
        self.assertEqual([p["email"] for p in r["enrolled"]], [a["email"]])
        self.assertEqual([(p["email"], p["position"]) for p in r["waitlisted"]],
                         [(b["email"], 1), (d["email"], 2)])
        recs = self.by_rcpt(self.new_messages(5))
        self.assertEqual(len(recs[a["email"]]), 3)
        self.check_waitlist(recs[b["email"]][0], "Digital tools", 1)
        self.check_waitlist(recs[d["email"]][0], "Digital tools", 2)
        for sid in (m1["id"], m2["id"]):
            g = self.get(sid)
            self.assertEqual([e["email"] for e in g["enrollments"]], [a["email"]],
                             "a person waiting for the course is in a meeting")
        cg = self.ok("course.get", {"id": c["id"]})
        self.assertEqual([(e["email"], e["state"], e["position"]) for e in cg["enrollments"]],
                         [(a["email"], "enrolled", None), (b["email"], "waitlisted", 1),
                          (d["email"], "waitlisted", 2)])

        # Anna leaves: Boris gets the course entry and both meetings.
        r = self.ok("unenroll", {"course": c["id"], "people": [a["id"]]})
        self.assertEqual([p["email"] for p in r["promoted"]], [b["email"]])
        recs = self.by_rcpt(self.new_messages(6))
        self.assertEqual(set(recs), {a["email"], b["email"]})
        self.assertEqual(len(recs[a["email"]]), 3)
        got = {}
        for rec in recs[b["email"]]:
            uid = re.search(r"\r\nUID:([^\r]+)\r\n", cal_part_text(rec) or "\r\nUID:none\r\n").group(1)
            got[uid] = rec
        self.assertEqual(set(got), {c["uid"], m1["uid"], m2["uid"]})
        self.check_course_entry(got[c["uid"]], c)
        for s in (m1, m2):
            self.check([got[s["uid"]]], self.get(s["id"]))
        cg = self.ok("course.get", {"id": c["id"]})
        self.assertEqual([(e["email"], e["state"], e["position"]) for e in cg["enrollments"]],
                         [(b["email"], "enrolled", None), (d["email"], "waitlisted", 1)])

        # More seats: Dmitri is promoted the same way.
        self.ok("course.update", {"id": c["id"], "capacity": 2})
        recs = self.by_rcpt(self.new_messages(3))
        self.assertEqual(set(recs), {d["email"]})
        self.assertEqual(len(recs[d["email"]]), 3)
        self.assertEqual(self.get(m2["id"])["enrolled"], 2)


if __name__ == "__main__":
    unittest.main()
