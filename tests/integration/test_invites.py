"""Invitations as calendar clients see them (/work/shared/INVITES.md).

The real lecternd delivers over SMTP to a real aiosmtpd server on
loopback; every message received is checked by mailcheck.check_messages
with Python's email package, libical (build/tools/icalcheck) and ical.js
(Thunderbird's engine), then for what the scenario requires: SEQUENCE,
METHOD, UID, DTSTART in UTC, recipients, exact text.
"""
import datetime
import json
import re
import time
import unittest
import zoneinfo

from harness import Daemon, SmtpServer, HarnessError, unique
import mailcheck

FROM_NAME = "Lectern Test"
FROM_ADDR = "lectern@lectern.test"
DOMAIN = "lectern.test"
CFG = {"from_addr": FROM_ADDR, "from_name": FROM_NAME, "domain": DOMAIN}

QUIET = 0.7   # how long "nothing more arrives" is watched


def local_to_utc(local, tz):
    """'2027-03-20T15:00' in tz -> '2027-03-20T14:00:00Z' (system tzdata)."""
    dt = datetime.datetime.fromisoformat(local).replace(tzinfo=zoneinfo.ZoneInfo(tz))
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class InviteCase(unittest.TestCase):
    """One SMTP server and one daemon delivering to it, per class."""
    overrides = {}

    @classmethod
    def setUpClass(cls):
        cls.smtp = SmtpServer().start()
        mail = {"url": cls.smtp.url, "from": f"{FROM_NAME} <{FROM_ADDR}>",
                "domain": DOMAIN, "retry_initial": "1s", "retry_max": "2s",
                "max_connections": "2"}
        mail.update(cls.overrides.get("mail", {}))
        ov = dict(cls.overrides)
        ov["mail"] = mail
        cls.daemon = Daemon(overrides=ov)
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
        self.mark = len(self.smtp.received())
        self.people = {}      # email -> person

    # -- helpers ---------------------------------------------------------
    def ok(self, cmd, args=None):
        return self.daemon.ok(cmd, args)

    def person(self, name=None, **kw):
        email = kw.pop("email", None) or f"{unique('t')}@school.example"
        p = self.ok("person.add", dict(name=name or "Anna Smirnova", email=email, **kw))
        self.people[p["email"]] = p
        return p

    def session(self, **kw):
        args = {"kind": "seminar", "title": "Formative assessment in grade 5",
                "start": "2027-03-20T15:00", "tz": "Europe/Berlin", "duration": 90,
                "url": "https://meet.example/abc"}
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

    def check(self, recs, snap, method="REQUEST"):
        """All checks of mailcheck with session snapshot snap."""
        def expect(m):
            addr = m.rcpt[0] if m.rcpt else None
            p = self.people.get(addr)
            return mailcheck.expectation(CFG, addr, to_name=p["name"] if p else None,
                                         session=snap, method=method)
        return mailcheck.check_messages(self, recs, expect)

    def check_by(self, recs, snap_of, method="REQUEST"):
        """Like check, the session snapshot chosen per message."""
        def expect(m):
            for part in m.msg.walk():
                if part.get_content_type() == "text/calendar":
                    m.ics_text = part.get_payload(decode=True).decode("utf-8", "replace")
            addr = m.rcpt[0] if m.rcpt else None
            p = self.people.get(addr)
            return mailcheck.expectation(CFG, addr, to_name=p["name"] if p else None,
                                         session=snap_of(m), method=method)
        return mailcheck.check_messages(self, recs, expect)

    def outbox(self, session):
        return self.ok("outbox.list", {"session": session, "limit": 10000})


class TestLifecycle(InviteCase):

    def test_invite_update_cancel_across_dst(self):
        """invite (SEQUENCE 0) -> DST-crossing update (1) -> cancel (2);
        one UID for everything and everyone; DTSTART in UTC moves from
        14:00Z to 13:00Z because Berlin changes to summer time between."""
        people = [self.person("Anna Smirnova"), self.person("Boris Ivanov"),
                  self.person("Вера Петрова")]
        s = self.session(title="Inquiry-based science", location="Room 12",
                         description="Bring a lesson plan.")
        self.assertEqual(s["sequence"], 0)
        self.assertEqual(s["start"], "2027-03-20T14:00:00Z")
        self.ok("enroll", {"session": s["id"], "people": [p["id"] for p in people]})
        snap0 = self.get(s["id"])
        invites = self.check(self.new_messages(3), snap0)
        self.assertEqual(sorted(m.rcpt[0] for m in invites), sorted(p["email"] for p in people))
        for m in invites:
            self.assertEqual(m.ical["sequence"], 0)
            self.assertEqual(m.ical["dtstart"], "2027-03-20T14:00:00Z")
            self.assertTrue(m.subject.startswith("Invitation"), m.subject)
        # Berlin in March 20: CET (+0100), the calendar needs the STANDARD rule.
        tz = invites[0].ical["vtimezones"]
        self.assertEqual([z["tzid"] for z in tz], ["Europe/Berlin"])

        upd = self.ok("session.update", {"id": s["id"], "start": "2027-04-03T15:00"})
        self.assertEqual(upd["sequence"], 1)
        self.assertEqual(upd["start"], "2027-04-03T13:00:00Z")
        snap1 = self.get(s["id"])
        updates = self.check(self.new_messages(3), snap1)
        for m in updates:
            self.assertEqual(m.ical["method"], "REQUEST")
            self.assertEqual(m.ical["sequence"], 1)
            self.assertEqual(m.ical["dtstart"], "2027-04-03T13:00:00Z")
            if m.icaljs is not None:
                self.assertEqual(m.icaljs["startDate"], "2027-04-03T13:00:00Z")
            self.assertTrue(m.subject.startswith("Updated"), m.subject)
            z = m.ical["vtimezones"][0]
            self.assertEqual(z["daylight"], 1, "summer date without a DAYLIGHT rule")
            self.assertIn("DTSTART;TZID=Europe/Berlin:20270403T150000", m.lines)
        kinds = [o["kind"] for o in self.outbox(s["id"])]
        self.assertEqual(sorted(kinds), ["invite"] * 3 + ["update"] * 3)

        c = self.ok("session.cancel", {"id": s["id"], "reason": "The lecturer is ill."})
        self.assertEqual(c["status"], "cancelled")
        self.assertEqual(c["sequence"], 2)
        snap2 = self.get(s["id"])
        cancels = self.check(self.new_messages(3), snap2, method="CANCEL")
        for m in cancels:
            self.assertEqual(m.method_param, "CANCEL")
            self.assertEqual(m.ical["method"], "CANCEL")
            self.assertEqual(m.ical["status"], "CANCELLED")
            self.assertEqual(m.ical["sequence"], 2)
            self.assertEqual(m.ical["dtstart"], "2027-04-03T13:00:00Z", "DTSTART not kept")
            self.assertEqual(m.ical["summary"], "Inquiry-based science", "SUMMARY not kept")
            self.assertEqual(m.ical["valarms"], 0)
            self.assertNotIn("BEGIN:VALARM", m.lines)
        allm = invites + updates + cancels
        self.assertEqual(len({m.ical["uid"] for m in allm}), 1, "UID changed")
        self.assertEqual(allm[0].ical["uid"], s["uid"])
        mailcheck.check_unique(self, allm)
        kinds = [o["kind"] for o in self.outbox(s["id"])]
        self.assertEqual(kinds.count("cancel"), 3)

    def test_unenroll_cancels_for_that_person_only(self):
        a, b = self.person("Anna Smirnova"), self.person("Boris Ivanov")
        s = self.session(title="Mentoring new teachers", start="2027-05-12T10:00")
        self.ok("enroll", {"session": s["id"], "people": [a["id"], b["id"]]})
        snap = self.get(s["id"])
        invites = self.check(self.new_messages(2), snap)
        seq_invite = invites[0].ical["sequence"]
        r = self.ok("unenroll", {"session": s["id"], "people": [a["email"]]})
        self.assertEqual([p["email"] for p in r["removed"]], [a["email"]])
        snap2 = self.get(s["id"])
        [cancel] = self.check(self.new_messages(1), snap2, method="CANCEL")
        self.assertEqual(cancel.rcpt, [a["email"]])
        self.assertEqual(cancel.ical["attendees"][0]["address"], a["email"])
        self.assertEqual(cancel.ical["uid"], s["uid"])
        self.assertEqual(cancel.ical["method"], "CANCEL")
        self.assertEqual(cancel.ical["valarms"], 0)
        self.assertGreater(cancel.ical["sequence"], seq_invite,
                           "a CANCEL must carry a higher SEQUENCE than the invitation")
        # The one still enrolled hears nothing, and later messages never go
        # below the CANCEL's SEQUENCE.
        self.ok("session.update", {"id": s["id"], "location": "Room 7"})
        [upd] = self.check(self.new_messages(1), self.get(s["id"]))
        self.assertEqual(upd.rcpt, [b["email"]])
        self.assertGreaterEqual(upd.ical["sequence"], cancel.ical["sequence"],
                                "SEQUENCE decreased after the per-person CANCEL")
        mailcheck.check_unique(self, invites + [cancel, upd])

    def test_same_revision_resent_to_new_person(self):
        a = self.person("Anna Smirnova")
        s = self.session(title="Project method", start="2027-06-01T09:30")
        self.ok("enroll", {"session": s["id"], "people": [a["id"]]})
        [first] = self.check(self.new_messages(1), self.get(s["id"]))
        self.ok("session.update", {"id": s["id"], "duration": 120})
        [upd] = self.check(self.new_messages(1), self.get(s["id"]))
        self.assertEqual(upd.ical["sequence"], 1)
        time.sleep(1.1)   # a new DTSTAMP must be visibly new
        b = self.person("Boris Ivanov")
        self.ok("enroll", {"session": s["id"], "people": [b["id"]]})
        [late] = self.check(self.new_messages(1), self.get(s["id"]))
        self.assertEqual(late.rcpt, [b["email"]])
        self.assertEqual(late.ical["sequence"], 1, "re-sent revision must keep SEQUENCE")
        self.assertEqual(late.ical["uid"], first.ical["uid"])
        self.assertGreater(late.ical["dtstamp"], upd.ical["dtstamp"], "DTSTAMP not new")
        self.assertNotEqual(late.message_id, upd.message_id)
        self.assertEqual(late.ical["dtend"], upd.ical["dtend"])
        mailcheck.check_unique(self, [first, upd, late])
        kinds = {o["to"]: o["kind"] for o in self.outbox(s["id"]) if o["to"] == b["email"]}
        self.assertEqual(kinds, {b["email"]: "invite"})

    def test_invisible_change_sends_nothing(self):
        a = self.person("Anna Smirnova")
        s = self.session(title="Quiet changes", start="2027-06-02T09:30")
        self.ok("enroll", {"session": s["id"], "people": [a["id"]]})
        self.check(self.new_messages(1), self.get(s["id"]))
        r = self.ok("session.update", {"id": s["id"], "capacity": 30})
        self.assertEqual(r["sequence"], 0)
        self.new_messages(0)

    def test_waitlist_promotion_sends_invite(self):
        a, b = self.person("Anna Smirnova"), self.person("Boris Ivanov")
        s = self.session(title="Small workshop", start="2027-06-03T09:30", capacity=1)
        r = self.ok("enroll", {"session": s["id"], "people": [a["id"], b["id"]]})
        self.assertEqual([p["email"] for p in r["waitlisted"]], [b["email"]])
        recs = {m.rcpt_tos[0]: m for m in self.new_messages(2)}
        self.assertEqual(set(recs), {a["email"], b["email"]})
        [inv] = self.check([recs[a["email"]]], self.get(s["id"]))
        self.assertEqual(inv.rcpt, [a["email"]])
        # Boris is told his place, with no calendar part (not invited yet).
        wait = recs[b["email"]].message()
        self.assertTrue(str(wait["Subject"]).startswith("Waiting list: Small workshop"))
        self.assertEqual([p.get_content_type() for p in wait.walk()
                          if p.get_content_type() == "text/calendar"], [])
        body = wait.get_body(("plain",)).get_content()
        self.assertIn("position 1", body)
        r = self.ok("unenroll", {"session": s["id"], "people": [a["id"]]})
        self.assertEqual([p["email"] for p in r["promoted"]], [b["email"]])
        recs = self.new_messages(2)
        snap = self.get(s["id"])
        by = {m.rcpt_tos[0]: m for m in recs}
        self.assertEqual(set(by), {a["email"], b["email"]})
        [cancel] = self.check([by[a["email"]]], snap, method="CANCEL")
        [promo] = self.check([by[b["email"]]], snap)
        self.assertEqual(promo.ical["method"], "REQUEST")
        self.assertEqual(promo.ical["uid"], inv.ical["uid"])
        self.assertGreaterEqual(promo.ical["sequence"], cancel.ical["sequence"],
                                "one SEQUENCE counter per UID: it never decreases")


class TestZones(InviteCase):

    def one(self, tz, local, standard, daylight):
        p = self.person("Anna Smirnova")
        s = self.session(title=f"Session in {tz}", tz=tz, start=local)
        self.assertEqual(s["start"], local_to_utc(local, tz), "session start vs system tzdata")
        self.ok("enroll", {"session": s["id"], "people": [p["id"]]})
        [m] = self.check(self.new_messages(1), self.get(s["id"]))
        self.assertEqual(m.ical["dtstart"], local_to_utc(local, tz))
        self.assertEqual(m.ical["tzid"], tz)
        [z] = m.ical["vtimezones"]
        self.assertEqual(z["tzid"], tz)
        self.assertEqual((z["standard"], z["daylight"]), (standard, daylight), z)
        if m.icaljs is not None:
            self.assertEqual(m.icaljs["startDate"], local_to_utc(local, tz))
            self.assertEqual(m.icaljs["tzid"], tz)
        # The VTIMEZONE agrees with the system's tzdata at the start.
        zi = zoneinfo.ZoneInfo(tz)
        off = int(datetime.datetime.fromisoformat(local).replace(tzinfo=zi)
                  .utcoffset().total_seconds())
        self.assertIn(off, [c["offset_to"] for c in z["components"]])
        return m

    def test_moscow(self):
        m = self.one("Europe/Moscow", "2027-01-15T10:00", 1, 0)
        self.assertEqual(m.ical["vtimezones"][0]["components"][0]["offset_to"], 3 * 3600)

    def test_new_york(self):
        # The day summer time ends (2 am): 09:00 is EST.
        self.one("America/New_York", "2027-11-07T09:00", 1, 1)

    def test_sydney(self):
        # Southern hemisphere: summer time ends on the first Sunday of April.
        self.one("Australia/Sydney", "2027-04-04T10:00", 1, 1)
        self.one("Australia/Sydney", "2027-01-10T10:00", 1, 1)

    def test_berlin_summer(self):
        self.one("Europe/Berlin", "2027-07-01T08:15", 1, 1)


TORTURE_NAME = "Петров, Иван: учитель"
TORTURE_TITLE = 'Урок; «мастер-класс», a,b;c: "quoted" \\back\\slash\\ 100%'
TORTURE_DESC = ('Строка 1; запятая, двоеточие: "кавычки" \\ обратная\n'
                'line 2\n\nline 4 after an empty line\\n (a literal backslash-n)')
TORTURE_LOC = 'Школа № 5, каб. 12; корпус "Б": вход \\ со двора'


def long_text(n, seed):
    base = f"{seed} Длинный текст, с запятыми; точками с запятой: и \"кавычками\" \\ ёЁ "
    out = (base * (n // len(base) + 1))[:n]
    return out


class TestTextTorture(InviteCase):

    def send(self, person_name, **session):
        p = self.person(person_name)
        s = self.session(**session)
        self.ok("enroll", {"session": s["id"], "people": [p["id"]]})
        snap = self.get(s["id"])
        for key in ("title", "description", "location"):
            if key in session:
                self.assertEqual(snap[key], session[key], f"{key} not stored as given")
        [m] = self.check(self.new_messages(1), snap)
        for key, ical_key in (("title", "summary"), ("description", "description"),
                              ("location", "location")):
            if key in session:
                self.assertEqual(m.ical[ical_key], session[key], f"libical {ical_key}")
                if m.icaljs is not None:
                    self.assertEqual(m.icaljs[ical_key], session[key], f"ical.js {ical_key}")
        self.assertIn(session["title"], m.subject, "decoded Subject")
        self.assertEqual(mailcheck.to_display_name(m.msg), person_name)
        self.assertIn(m.ical["attendees"][0]["cn"], mailcheck.cn_forms(person_name), "libical CN")
        if m.icaljs is not None:
            self.assertIn(m.icaljs["attendees"][0]["cn"], mailcheck.cn_forms(person_name),
                          "ical.js CN")
            self.assertEqual(m.icaljs["attendees"][0]["address"], p["email"])
        self.assertEqual(m.ical["attendees"][0]["address"], p["email"],
                         "the CN corrupted the address")
        return m

    def test_special_characters(self):
        self.send(TORTURE_NAME, title=TORTURE_TITLE, description=TORTURE_DESC,
                  location=TORTURE_LOC)

    def test_500_characters_everywhere(self):
        # Names are limited to 200 characters (docs/PROTOCOL.md): the
        # longest allowed name, and 500 in the other texts.
        name = long_text(200, "Петров, Иван: учитель")
        m = self.send(name, title=long_text(500, "T"), description=long_text(500, "D"),
                      location=long_text(500, "L"))
        self.assertEqual(len(m.ical["summary"]), 500)
        err = self.daemon.request("person.add", {"name": long_text(201, "x"),
                                                 "email": "toolong@school.example"})
        self.assertEqual(err["error"]["code"], "invalid_argument")
        self.assertEqual(err["error"]["field"], "name")

    def test_ascii_quotes_in_name(self):
        """A DQUOTE cannot appear inside a quoted CN; lectern turns it into
        an apostrophe (RFC 6868's ^' would keep it: libical 3.0 and ical.js
        both decode it).  The To header keeps it exactly."""
        name = 'O\'Brien, "Pat" ; Jr.: teacher'
        p = self.person(name)
        s = self.session(title="Quotes: 'single' and \"double\"")
        self.ok("enroll", {"session": s["id"], "people": [p["id"]]})
        [m] = self.check(self.new_messages(1), self.get(s["id"]))
        self.assertEqual(mailcheck.to_display_name(m.msg), name)
        self.assertEqual(m.ical["summary"], "Quotes: 'single' and \"double\"")
        self.assertIn(m.ical["attendees"][0]["cn"], mailcheck.cn_forms(name))
        self.assertEqual(m.ical["attendees"][0]["address"], p["email"])

    def test_description_newlines(self):
        m = self.send("Anna Smirnova", title="Newlines", description="a\nb\n\nc\\nd")
        self.assertIn("a\\nb\\n\\nc\\\\nd", "".join(m.prop_lines("DESCRIPTION")))
        # CRLF is normalised to LF; a bare CR is refused.
        p = self.person("Anna Smirnova")
        s = self.session(title="CRLF", description="x\r\ny")
        self.assertEqual(self.get(s["id"])["description"], "x\ny")
        self.ok("enroll", {"session": s["id"], "people": [p["id"]]})
        [m] = self.check(self.new_messages(1), self.get(s["id"]))
        self.assertEqual(m.ical["description"], "x\ny")
        r = self.daemon.request("session.add", {"kind": "seminar", "title": "CR",
                                                "start": "2027-03-20T15:00", "duration": 60,
                                                "description": "x\ry"})
        self.assertEqual(r["error"]["code"], "invalid_argument")
        self.assertEqual(r["error"]["field"], "description")


# --------------------------------------------------------------------------
# Injection
# --------------------------------------------------------------------------

EVIL = "evil@x.example"
INJECTIONS = [
    "\r",
    "\n",
    "\r\n",
    "\r\n.\r\n",
    "\n.\n",
    "\r\nBcc: " + EVIL,
    "\nBcc: " + EVIL,
    "\rBcc: " + EVIL,
    "=?UTF-8?B?QmNjOiBldmlsQHguZXhhbXBsZQ==?=",
    "=?UTF-8?Q?=0D=0ABcc:_evil@x.example?=",
    "END:VEVENT\r\nBEGIN:VEVENT",
    "\nATTENDEE:mailto:" + EVIL,
    "\r\nATTENDEE;CN=x:mailto:" + EVIL,
    "x\";RSVP=FALSE:mailto:" + EVIL + ";CN=\"",
    "\u2028after line separator",
    "\u2029after paragraph separator",
    "\u0085next line",
    "\u202eevil\u202c bidi \u2066isolate\u2069 \u200f",
        "\u0007\u0008\u000b\u000c\u001b[31m controls",
    "\t tab",
    "x" * 10000,
    ("ж" * 5000),
    "\r\n\r\nbody injected\r\n--=_lectern_0_000--\r\n",
    "Subject: injected",
    "<" + EVIL + ">, " + EVIL,
    "\ud7ff\ue000\uffff",
    "\U0001F600 emoji \U0001F469\u200D\U0001F3EB",
    " leading and trailing ",
    "a\\nb\\,c\\;d",
]

SESSION_FIELDS = ("title", "description", "location", "url")
PERSON_FIELDS = ("name", "organization", "position")


class TestInjection(InviteCase):
    """Each value of INJECTIONS in each text field: refused with
    invalid_argument naming the field, or delivered with exactly the
    baseline's headers and calendar properties, one recipient, and the
    stored text given back by every parser."""

    def base_session(self, **kw):
        args = {"kind": "seminar", "title": "Baseline", "start": "2027-09-01T10:00",
                "tz": "Europe/Berlin", "duration": 60, "description": "Baseline description",
                "location": "Room 1", "url": "https://meet.example/base"}
        args.update(kw)
        return args

    def baseline(self):
        p = self.person("Anna Smirnova")
        s = self.ok("session.add", self.base_session())
        self.ok("enroll", {"session": s["id"], "people": [p["id"]]})
        [m] = self.check(self.new_messages(1), self.get(s["id"]))
        return m

    def verdict(self, reply, field, what):
        """The result if accepted; None if refused as it should be."""
        self.assertIn("ok", reply, what)
        if reply.get("ok"):
            return reply["result"]
        err = reply["error"]
        self.assertEqual(err.get("code"), "invalid_argument", f"{what}: {err}")
        self.assertEqual(err.get("field"), field, f"{what}: {err}")
        return None

    def assert_clean(self, m, base):
        names = sorted(k.lower() for k in m.msg.keys())
        self.assertEqual(names, sorted(k.lower() for k in base.msg.keys()), "extra/missing headers")
        self.assertEqual(len(m.rcpt), 1)
        self.assertNotIn(EVIL, " ".join(m.rcpt).lower())
        self.assertEqual(m.ical["properties"], base.ical["properties"],
                         "calendar properties differ from the baseline")
        self.assertEqual(len(m.ical["attendees"]), 1)
        self.assertEqual(m.ical["vevents"], 1)
        self.assertEqual(len(m.ical["vtimezones"]), 1)
        if m.icaljs is not None:
            self.assertEqual(m.icaljs["properties"], base.ical["properties"])
            self.assertEqual(len(m.icaljs["attendees"]), 1)
            self.assertEqual(m.icaljs["vevents"], 1)

    def assert_no_evil(self):
        with self.smtp.lock:
            tried = [a.lower() for a in self.smtp.rcpt_attempts]
        self.assertFalse([a for a in tried if "evil" in a], "a smuggled recipient was tried")

    def test_session_fields(self):
        base = self.baseline()
        p = self.person("Anna Smirnova")
        cases = {}     # uid -> (field, value)
        refused = 0
        for field in SESSION_FIELDS:
            for i, inj in enumerate(INJECTIONS):
                value = ("https://meet.example/x" + inj) if field == "url" else f"v{i} {inj} end"
                what = f"session.add {field}={value[:60]!r}"
                s = self.verdict(self.daemon.request("session.add",
                                                     self.base_session(**{field: value})),
                                 field, what)
                if s is None:
                    refused += 1
                    continue
                self.ok("enroll", {"session": s["id"], "people": [p["id"]]})
                cases[s["uid"]] = (field, value, self.get(s["id"]))
        recs = self.new_messages(len(cases), timeout=30)

        def snap(m):
            uid = re.search(r"^UID:(.*)$", m.ics_text, re.M).group(1).strip()
            return cases[uid][2]
        mails = self.check_by(recs, snap)
        for m in mails:
            field, value, sn = cases[m.ical["uid"]]
            with self.subTest(field=field, value=value[:60]):
                self.assert_clean(m, base)
                key = "summary" if field == "title" else field
                self.assertEqual(m.ical[key], sn[field], "libical")
                if m.icaljs is not None:
                    self.assertEqual(m.icaljs[key], sn[field], "ical.js")
                if field == "title":
                    self.assertIn(sn["title"], m.subject)
                # description: CRLF is normalised to LF (docs/PROTOCOL.md).
                given = value.replace("\r\n", "\n") if field == "description" else value
                if sn[field] != given:
                    self.fail(f"{field} stored as {sn[field][:80]!r}, given {value[:80]!r}")
        mailcheck.check_unique(self, mails)
        self.assert_no_evil()
        print(f"[{len(cases)} accepted, {refused} refused]", end=" ", flush=True)

    def test_person_fields(self):
        base = self.baseline()
        s = self.ok("session.add", self.base_session(title="Person injection"))
        cases = {}     # email -> (field, value, person)
        refused = 0
        for field in PERSON_FIELDS:
            for i, inj in enumerate(INJECTIONS):
                value = f"v{i} {inj} end"
                args = {"name": "Anna Smirnova", "email": f"{unique('inj')}@school.example"}
                args[field] = value
                p = self.verdict(self.daemon.request("person.add", args), field,
                                 f"person.add {field}={value[:60]!r}")
                if p is None:
                    refused += 1
                    continue
                self.people[p["email"]] = p
                self.ok("enroll", {"session": s["id"], "people": [p["id"]]})
                cases[p["email"]] = (field, value, p)
        recs = self.new_messages(len(cases), timeout=30)
        mails = self.check(recs, self.get(s["id"]))
        for m in mails:
            field, value, p = cases[m.rcpt[0]]
            with self.subTest(field=field, value=value[:60]):
                self.assert_clean(m, base)
                self.assertEqual(p[field], value, f"{field} not stored as given")
                if field == "name":
                    self.assertEqual(mailcheck.to_display_name(m.msg), value)
                    self.assertIn(m.ical["attendees"][0]["cn"], mailcheck.cn_forms(value))
        mailcheck.check_unique(self, mails)
        self.assert_no_evil()
        print(f"[{len(cases)} accepted, {refused} refused]", end=" ", flush=True)

    def test_email_field(self):
        """An address with an injection is refused, or delivered to exactly
        that address and nobody else."""
        s = self.ok("session.add", self.base_session(title="Email injection"))
        n = 0
        for i, inj in enumerate(INJECTIONS):
            value = f"inj{i}{inj}@school.example"
            p = self.verdict(self.daemon.request("person.add", {"name": "Anna", "email": value}),
                             "email", f"email={value[:60]!r}")
            if p is None:
                continue
            self.people[p["email"]] = p
            self.ok("enroll", {"session": s["id"], "people": [p["id"]]})
            n += 1
        mails = self.check(self.new_messages(n), self.get(s["id"]))
        for m in mails:
            self.assertEqual(len(m.rcpt), 1)
        self.assert_no_evil()

    def test_nul_byte_refused(self):
        """A \\u0000 anywhere in a request is refused as bad_request
        (docs/PROTOCOL.md, framing): nothing is written, nothing is sent."""
        before = len(self.smtp.received())
        for cmd, args in (
                ("person.add", {"name": "nul\u0000byte", "email": "nul@school.example"}),
                ("session.add", self.base_session(title="nul\u0000byte"))):
            with self.daemon.client() as c:
                c.send({"id": 77, "cmd": cmd, "args": args})
                reply = c.recv()
            with self.subTest(cmd=cmd):
                self.assertFalse(reply.get("ok"), reply)
                self.assertEqual(reply.get("error", {}).get("code"), "bad_request", reply)
        self.assertEqual(self.daemon.request("person.get", {"email": "nul@school.example"})
                         .get("error", {}).get("code"), "not_found")
        self.assertEqual(len(self.smtp.received()), before)

    def test_other_session_fields_refused(self):
        """kind, tz, start, rrule with an injection appended are refused
        naming the field."""
        for field, good in (("kind", "seminar"), ("tz", "Europe/Berlin"),
                            ("start", "2027-09-01T10:00"), ("rrule", "FREQ=WEEKLY;COUNT=3")):
            for i, inj in enumerate(INJECTIONS):
                with self.subTest(field=field, i=i, value=(good + inj)[:60]):
                    reply = self.daemon.request("session.add",
                                                self.base_session(**{field: good + inj}))
                    self.assertFalse(reply.get("ok"), f"{field}={good + inj!r} accepted: "
                                     f"{json.dumps(reply, ensure_ascii=False)[:400]}")
                    self.verdict(reply, field, field)
        self.new_messages(0)


if __name__ == "__main__":
    unittest.main()
