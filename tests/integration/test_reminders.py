"""Reminders as teachers receive them, driven by the daemon's test clock.

build/lecternd-test runs with its clock set to chosen dates (harness
Daemon(test_clock=...)); stepping that clock is seen by the daemon as a
step of the system clock. Reminder e-mails are received by a real SMTP
server on loopback (aiosmtpd) and checked with Python's email package:
the recipient, "Reminder:" in the Subject, the title in the text part,
and when they arrive, in daemon time (time.time() + the clock offset).

Covered: several offsets each arriving once at its due time and not
before; a rescheduled session's reminders; due times across a DST change
(single session and a weekly series); the clock stepped forward past
several due times and back again; a restart between due time and send;
kill -9 in the middle of a 1500-person fan-out; missed reminders, late
enrolment and declined invitations; status next_reminder/next_due; and
no polling while nothing is due.
"""
import calendar
import os
import random
import sqlite3
import time
import unittest

from harness import Daemon, SmtpServer, shut_down, unique, wait_until

FROM_ADDR = "lectern@lectern.test"
LATE = 1.5        # a reminder arrives at most this long after its due time
QUIET = 1.5       # how long "nothing more arrives" is watched


def ep(s):
    """'2027-05-12T10:00:00Z' (or without seconds) -> epoch seconds."""
    s = s.rstrip("Z")
    fmt = "%Y-%m-%dT%H:%M:%S" if s.count(":") == 2 else "%Y-%m-%dT%H:%M"
    return calendar.timegm(time.strptime(s, fmt))


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class ReminderCase(unittest.TestCase):
    """A fresh SMTP server and a fresh test-clock daemon per test."""
    smtp_delivery = True

    def setUp(self):
        self.smtp = SmtpServer().start() if self.smtp_delivery else None
        self.daemon = None
        self.off = 0
        self._parsed = []      # (Received, message) for every message seen

    def tearDown(self):
        shut_down(self.daemon, self.smtp, timeout=15)

    # -- daemon and clock --------------------------------------------------
    def start_daemon(self, at):
        """Start lecternd-test with its clock reading AT (epoch) now."""
        ov = {}
        if self.smtp is not None:
            ov["mail"] = {"url": self.smtp.url, "tls": "none",
                          "from": f"Lectern Test <{FROM_ADDR}>",
                          "domain": "lectern.test", "retry_initial": "1s",
                          "retry_max": "2s"}
        self.off = round(at - time.time())
        self.daemon = Daemon(overrides=ov, test_clock=self.off)
        self.daemon.start()
        return self.daemon

    def at(self, when):
        """Step the daemon's clock so that it reads WHEN (+-0.5 s) now."""
        self.off = round(when - time.time())
        self.daemon.set_clock(self.off)

    def dnow(self):
        """The daemon's time now (fractional)."""
        return time.time() + self.off

    def sleep_until(self, when):
        left = when - self.dnow()
        if left > 0:
            time.sleep(left)

    def ok(self, cmd, args=None):
        return self.daemon.ok(cmd, args)

    # -- data --------------------------------------------------------------
    def person(self):
        email = f"{unique('r')}@school.example"
        return self.ok("person.add", {"name": "Olga Reminderova", "email": email})

    def session(self, start, reminders, title=None, **kw):
        title = title or f"Fractions clinic {unique('s')}"
        args = {"kind": "webinar", "title": title, "start": start,
                "duration": 60, "reminders": reminders,
                "url": "https://meet.example/r"}
        args.update(kw)
        return self.ok("session.add", args)

    def enroll(self, sid, people):
        return self.ok("enroll", {"session": sid, "people": [p["id"] for p in people]})

    def one_enrolled(self, start, reminders, lead):
        """Start the daemon LEAD seconds before START (epoch) with one person
        enrolled in a session at START with REMINDERS, the invitation
        delivered: (daemon, person, session)."""
        d = self.start_daemon(start - lead)
        p = self.person()
        s = self.session(iso(start), reminders)
        self.enroll(s["id"], [p])
        self.wait_delivered()
        return d, p, s

    def schedule(self, sid):
        return self.ok("session.get", {"id": sid})["reminder_schedule"]

    def row(self, sid, before, occurrence=None):
        rows = [r for r in self.schedule(sid) if r["before"] == before and
                (occurrence is None or r.get("occurrence") == occurrence)]
        self.assertEqual(len(rows), 1, f"session {sid}: {self.schedule(sid)}")
        return rows[0]

    def outbox_reminders(self, sid):
        rows = self.ok("outbox.list", {"session": sid, "limit": 10000})
        return [r for r in rows if r["kind"] == "reminder"]

    def outbox_summary(self):
        """What the outbox holds, for failure messages."""
        rows = self.ok("outbox.list", {"limit": 10000})
        counts = {}
        for r in rows:
            k = (r["kind"], r["state"])
            counts[k] = counts.get(k, 0) + 1
        rem = [r for r in rows if r["kind"] == "reminder"][:3]
        return (f"daemon now {iso(self.dnow())}; outbox {counts}; newest reminder rows "
                f"{rem}; status {self.ok('status')}")

    def wait_delivered(self, timeout=10):
        """Until the outbox has nothing queued (the invitations went out)."""
        deadline = time.monotonic() + timeout
        while self.ok("status")["outbox"]["queued"] != 0:
            if time.monotonic() > deadline:
                self.fail(f"the outbox was not delivered within {timeout} s; "
                          + self.outbox_summary())
            time.sleep(0.05)

    # -- mail --------------------------------------------------------------
    def reminders(self, title=None):
        """[(Received, message)] of reminder e-mails received so far."""
        recs = self.smtp.received()
        for rec in recs[len(self._parsed):]:
            self._parsed.append((rec, rec.message()))
        out = [(r, m) for r, m in self._parsed
               if str(m.get("Subject", "")).startswith("Reminder:")]
        if title is not None:
            out = [(r, m) for r, m in out if title in str(m["Subject"])]
        return out

    def wait_reminders(self, n, timeout, title=None):
        deadline = time.monotonic() + timeout
        while True:
            got = self.reminders(title)
            if len(got) >= n or time.monotonic() > deadline:
                return got
            time.sleep(0.02)

    def check_mail(self, rec, msg, email, title):
        self.assertEqual([a.lower() for a in rec.rcpt_tos], [email.lower()])
        self.assertIn(email, str(msg["To"]))
        subject = str(msg["Subject"])
        self.assertTrue(subject.startswith("Reminder:"), subject)
        self.assertIn(title, subject)
        body = msg.get_body(preferencelist=("plain",))
        self.assertIsNotNone(body, "no text/plain part")
        self.assertIn(title, body.get_content())

    def fire(self, due, expect, title=None, lead=2.0):
        """Step the clock to just before DUE; nothing arrives a second
        before it; then exactly EXPECT more reminder e-mails (of TITLE)
        arrive, each no earlier than DUE and at most LATE s after it (in
        daemon time). Returns the new [(Received, message)]."""
        before = len(self.reminders(title))
        self.at(due - lead)
        self.sleep_until(due - 1.0)
        early = self.reminders(title)[before:]
        self.assertEqual(early, [], f"reminder e-mail before its due time {iso(due)}: "
                         + repr([str(m["Subject"]) for _, m in early]))
        got = self.wait_reminders(before + expect, due + LATE + 0.2 - self.dnow(), title)
        new = got[before:]
        self.assertEqual(len(new), expect,
                         f"due {iso(due)}: expected {expect} reminder e-mail(s) within "
                         f"{LATE} s, got {len(new)}; {self.outbox_summary()}")
        for rec, _ in new:
            t = rec.time + self.off
            self.assertGreaterEqual(t, due, f"sent {due - t:.3f} s before due {iso(due)}")
            self.assertLessEqual(t, due + LATE, f"sent {t - due:.3f} s after due {iso(due)}")
        return new

    def assertQuiet(self, title=None, seconds=QUIET, what=""):
        before = len(self.reminders(title))
        time.sleep(seconds)
        extra = self.reminders(title)[before:]
        self.assertEqual(extra, [], f"unexpected reminder {what}: "
                         + repr([(r.rcpt_tos, str(m["Subject"])) for r, m in extra]))


class TestOffsets(ReminderCase):
    def test_each_offset_arrives_once_at_its_time(self):
        start = ep("2027-05-12T10:00Z")
        self.start_daemon(start - 3 * 86400)
        p = self.person()
        s = self.session(iso(start), [2880, 60, 10])
        self.enroll(s["id"], [p])
        dues = {r["before"]: ep(r["due"]) for r in self.schedule(s["id"])}
        self.assertEqual(dues, {2880: start - 2880 * 60, 60: start - 3600,
                                10: start - 600})
        for before in (2880, 60, 10):
            [(rec, msg)] = self.fire(dues[before], 1, s["title"])
            self.check_mail(rec, msg, p["email"], s["title"])
            r = self.row(s["id"], before)
            self.assertEqual(r["state"], "sent", r)
            self.assertEqual(r.get("recipients"), 1, r)
        self.assertQuiet(s["title"], what="after the last offset")
        self.assertEqual(len(self.reminders(s["title"])), 3)
        mids = {m["Message-ID"] for _, m in self.reminders(s["title"])}
        self.assertEqual(len(mids), 3, "reminders share a Message-ID")
        rows = self.outbox_reminders(s["id"])
        self.assertEqual(len(rows), 3, rows)
        self.assertTrue(all(r["state"] == "sent" and r["to"] == p["email"] for r in rows), rows)
        # status counts the fan-outs and how late each reached the outbox
        # (never before its due time).
        st = self.ok("status")["reminders"]
        self.assertEqual(st["fired"], 3, st)
        self.assertEqual(st["handoff_ms"]["n"], 3, st)
        self.assertGreaterEqual(st["handoff_ms"]["p50"], 0, st)
        self.assertLessEqual(st["handoff_ms"]["p50"], st["handoff_ms"]["max"], st)


class TestReschedule(ReminderCase):
    def test_pending_follows_sent_does_not_repeat(self):
        start = ep("2027-05-20T12:00Z")
        new_start = start + 86400
        self.start_daemon(start - 3 * 3600)
        p = self.person()
        s = self.session(iso(start), [60, 10])
        self.enroll(s["id"], [p])
        # The 60-minute reminder is sent at the old time.
        self.fire(start - 3600, 1, s["title"])
        sent_row = self.row(s["id"], 60)
        self.assertEqual(sent_row["state"], "sent")
        # Move the session a day later: the sent one stays sent, the
        # pending one moves with it.
        self.ok("session.update", {"id": s["id"], "start": iso(new_start)})
        r60, r10 = self.row(s["id"], 60), self.row(s["id"], 10)
        self.assertEqual(r60["state"], "sent", r60)
        self.assertEqual(ep(r60["due"]), start - 3600, r60)
        self.assertEqual(r10["state"], "pending", r10)
        self.assertEqual(ep(r10["due"]), new_start - 600, r10)
        self.assertEqual(ep(r10["starts"]), new_start, r10)
        # The old due time of the 10-minute reminder passes silently.
        self.at(start - 600 - 1)
        self.assertQuiet(s["title"], seconds=2.5, what="at the old due time")
        self.assertEqual(self.row(s["id"], 10)["state"], "pending")
        # The 60-minute time of the new start: already sent, not again.
        self.at(new_start - 3600 - 1)
        self.assertQuiet(s["title"], seconds=2.5, what="sent reminder re-sent after the move")
        # The new due time fires.
        [(rec, msg)] = self.fire(new_start - 600, 1, s["title"])
        self.check_mail(rec, msg, p["email"], s["title"])
        self.assertEqual(len(self.reminders(s["title"])), 2)
        self.assertEqual(len(self.outbox_reminders(s["id"])), 2)

    def test_moved_earlier_past_due_is_missed(self):
        start = ep("2027-05-25T12:00Z")
        self.start_daemon(start - 5 * 3600)
        p = self.person()
        s = self.session(iso(start), [240, 60])
        self.enroll(s["id"], [p])
        # Now start - 5 h; moved to now + 2 h: the 240-minute reminder's
        # time has passed (missed), the 60-minute one is pending.
        moved = start - 3 * 3600
        self.ok("session.update", {"id": s["id"], "start": iso(moved)})
        r240, r60 = self.row(s["id"], 240), self.row(s["id"], 60)
        self.assertEqual(r240["state"], "missed", r240)
        self.assertEqual(r60["state"], "pending", r60)
        self.assertEqual(ep(r60["due"]), moved - 3600, r60)
        self.assertQuiet(s["title"], seconds=1.0, what="for a missed reminder")
        self.fire(moved - 3600, 1, s["title"])
        self.assertEqual(self.row(s["id"], 240)["state"], "missed")


class TestDst(ReminderCase):
    def test_berlin_spring_change(self):
        # DST starts in Europe/Berlin on 2027-03-28 at 01:00Z (02:00 CET ->
        # 03:00 CEST). Reminders are minutes of real time before the start.
        self.start_daemon(ep("2027-03-20T09:00Z"))
        p = self.person()
        one = self.session("2027-03-29T10:00", [1440, 2880], tz="Europe/Berlin",
                           title=f"Berlin single {unique('d')}")
        self.assertEqual(one["start"], "2027-03-29T08:00:00Z")
        series = self.session("2027-03-22T15:00", [1440], tz="Europe/Berlin",
                              rrule="FREQ=WEEKLY;COUNT=4",
                              title=f"Berlin weekly {unique('d')}")
        self.enroll(one["id"], [p])
        self.enroll(series["id"], [p])
        start = ep(one["start"])
        self.assertEqual(ep(self.row(one["id"], 1440)["due"]), start - 86400)
        self.assertEqual(ep(self.row(one["id"], 2880)["due"]), start - 2 * 86400)
        self.assertEqual(self.row(one["id"], 2880)["due"], "2027-03-27T08:00:00Z")
        # The series: 15:00 CET (14:00Z), then 15:00 CEST (13:00Z).
        occ = {"2027-03-22T14:00:00Z", "2027-03-29T13:00:00Z",
               "2027-04-05T13:00:00Z", "2027-04-12T13:00:00Z"}
        rows = self.schedule(series["id"])
        self.assertEqual({r.get("occurrence") for r in rows}, occ, rows)
        self.assertEqual(len(rows), 4, rows)
        for r in rows:
            self.assertEqual(r["starts"], r["occurrence"], r)
            self.assertEqual(ep(r["due"]), ep(r["starts"]) - 86400, r)
            self.assertEqual(r["state"], "pending", r)
        # They fire at those times, in order.
        plan = [(ep("2027-03-21T14:00Z"), series["title"]),
                (ep("2027-03-27T08:00Z"), one["title"]),
                (ep("2027-03-28T08:00Z"), one["title"]),
                (ep("2027-03-28T13:00Z"), series["title"])]
        mails = []
        for due, title in plan:
            [(rec, msg)] = self.fire(due, 1, title)
            self.check_mail(rec, msg, p["email"], title)
            mails.append(msg)
        self.assertEqual(self.row(series["id"], 1440, "2027-03-22T14:00:00Z")["state"], "sent")
        self.assertEqual(self.row(series["id"], 1440, "2027-03-29T13:00:00Z")["state"], "sent")
        self.assertEqual(self.row(series["id"], 1440, "2027-04-05T13:00:00Z")["state"], "pending")
        self.assertQuiet(what="after the planned ones")
        self.assertEqual(len(self.reminders()), 4)
        # Each reminder names the date and time of the start it is about:
        # for a series, that occurrence's (15:00 CEST on 29 March for the
        # second one, not the first occurrence's 15:00 CET on 22 March).
        expect = ["22 March 2027, 15:00 CET", "29 March 2027, 10:00 CEST",
                  "29 March 2027, 10:00 CEST", "29 March 2027, 15:00 CEST"]
        for msg, want in zip(mails, expect):
            self.assertIn(want, str(msg["Subject"]),
                          "the reminder names another start than its occurrence's")
            text = msg.get_body(preferencelist=("plain",)).get_content()
            day, hm = want.split(", ")
            self.assertRegex(text, r"When: .*%s, %s" % (day, hm.split()[0]), text)


class TestOutboxExpiry(ReminderCase):
    def test_undelivered_reminder_expires_at_start(self):
        S = ep("2027-06-21T12:00Z")
        _, _, s = self.one_enrolled(S, [10], 3600)
        # The server defers every message from now on.
        self.smtp.data_reply = "451 4.3.0 try again later"
        self.at(S - 600 + 1)
        wait_until(lambda: self.outbox_reminders(s["id"]), 3, "the reminder queued")
        wait_until(lambda: self.outbox_reminders(s["id"])[0]["attempts"] >= 1, 5,
                   "a first (deferred) attempt")
        self.assertEqual(self.row(s["id"], 10)["state"], "sent")
        # The session starts before the server takes mail again.
        self.at(S + 5)
        self.smtp.data_reply = None
        try:
            wait_until(lambda: self.outbox_reminders(s["id"])[0]["state"] != "queued", 8,
                       "the reminder to leave the queue")
        except AssertionError as e:
            self.fail(f"{e}; {self.outbox_summary()}")
        [r] = self.outbox_reminders(s["id"])
        self.assertEqual(r["state"], "expired", r)
        self.assertEqual(self.reminders(s["title"]), [])

    def test_undelivered_reminder_expires_over_restart(self):
        S = ep("2027-06-22T12:00Z")
        d, _, s = self.one_enrolled(S, [10], 3600)
        self.smtp.data_reply = "451 4.3.0 try again later"
        self.at(S - 600 + 1)
        wait_until(lambda: any(r["attempts"] >= 1 for r in self.outbox_reminders(s["id"])),
                   5, "a first (deferred) attempt")
        # Down over the start; the server is fine again when it returns.
        d.stop()
        self.at(S + 30)
        self.smtp.data_reply = None
        d.start()
        time.sleep(2.5)
        [r] = self.outbox_reminders(s["id"])
        self.assertEqual([str(m["Subject"]) for _, m in self.reminders(s["title"])], [],
                         f"reminder delivered after its session started: {r}")
        self.assertEqual(r["state"], "expired", r)


class TestClockSteps(ReminderCase):
    def test_step_forward_then_back(self):
        S = ep("2027-06-14T12:00Z")
        self.start_daemon(S - 3 * 3600)
        p = self.person()
        a = self.session(iso(S), [120, 60, 30], title=f"Step A {unique('a')}")
        b = self.session(iso(S - 50 * 60), [70], title=f"Step B {unique('b')}")
        c = self.session(iso(S + 3600), [100], title=f"Step C {unique('c')}")
        for s in (a, b, c):
            self.enroll(s["id"], [p])
        d30 = S - 1800
        x = d30 - 6
        # One step over A's 120 and 60, B's 70 (B has started by then) and
        # C's 100: all due at once.
        before = len(self.reminders())
        self.at(x)
        t_step = time.time()
        got = self.wait_reminders(before + 3, 5.0)[before:]
        self.assertEqual(len(got), 3, f"{[str(m['Subject']) for _, m in got]}; "
                         + self.outbox_summary())
        for rec, msg in got:
            self.assertLessEqual(rec.time - t_step, LATE,
                                 "reminder late after the clock step")
        titles = sorted(str(m["Subject"]).split(" - ")[0] for _, m in got)
        self.assertEqual(titles, sorted(["Reminder: " + a["title"]] * 2 +
                                        ["Reminder: " + c["title"]]))
        for rec, msg in got:
            self.assertEqual(rec.rcpt_tos, [p["email"]])
        self.assertEqual(self.row(a["id"], 120)["state"], "sent")
        self.assertEqual(self.row(a["id"], 60)["state"], "sent")
        self.assertEqual(self.row(a["id"], 30)["state"], "pending")
        self.assertEqual(self.row(c["id"], 100)["state"], "sent")
        rb = self.row(b["id"], 70)
        self.assertEqual(rb["state"], "expired", rb)
        self.assertEqual(self.outbox_reminders(b["id"]), [])
        # Back three seconds before the step: the reminders already sent
        # are due "again" by the clock, and must not be sent again; A's
        # 30-minute one still fires at its time.
        self.at(x - 3)
        self.sleep_until(d30 - 1.0)
        self.assertEqual(len(self.reminders()), before + 3,
                         "something was sent again after the clock went back")
        got = self.wait_reminders(before + 4, d30 + LATE + 0.2 - self.dnow())[before + 3:]
        self.assertEqual(len(got), 1, "A's 30-minute reminder did not fire at its time")
        rec, msg = got[0]
        self.check_mail(rec, msg, p["email"], a["title"])
        t = rec.time + self.off
        self.assertGreaterEqual(t, d30)
        self.assertLessEqual(t, d30 + LATE)
        # Far back: nothing again.
        self.at(S - 3 * 3600)
        self.assertQuiet(what="after stepping the clock back 2.5 hours")
        self.assertEqual(len(self.reminders()), before + 4)
        self.assertEqual(self.outbox_reminders(b["id"]), [])
        self.assertEqual(len(self.outbox_reminders(a["id"])), 3)


class TestRestart(ReminderCase):
    def test_due_while_stopped_sent_at_startup_once(self):
        S = ep("2027-07-01T10:00Z")
        d, p, s = self.one_enrolled(S, [60], 2 * 3600)
        d.stop()
        self.at(S - 1800)          # past the due time, before the start
        t0 = time.time()
        d.start()
        got = self.wait_reminders(1, 5.0, s["title"])
        self.assertEqual(len(got), 1, "the reminder due while stopped was not sent")
        rec, msg = got[0]
        self.check_mail(rec, msg, p["email"], s["title"])
        self.assertLessEqual(rec.time - t0, LATE + 1.0, "sent late after start-up")
        self.assertQuiet(s["title"], what="duplicate after start-up")
        r = self.row(s["id"], 60)
        self.assertEqual(r["state"], "sent", r)
        d.restart()
        self.assertQuiet(s["title"], what="after a second restart")
        self.assertEqual(len(self.reminders(s["title"])), 1)
        self.assertEqual(len(self.outbox_reminders(s["id"])), 1)

    def test_start_passed_while_stopped_expires(self):
        S = ep("2027-07-02T10:00Z")
        d, _, s = self.one_enrolled(S, [60], 2 * 3600)
        d.stop()
        self.at(S + 60)            # past the start
        d.start()
        wait_until(lambda: self.row(s["id"], 60)["state"] != "pending", 5,
                   "the reminder to be settled")
        r = self.row(s["id"], 60)
        self.assertEqual(r["state"], "expired", r)
        self.assertQuiet(s["title"], what="for a session that has started")
        self.assertEqual(self.reminders(s["title"]), [])
        self.assertEqual(self.outbox_reminders(s["id"]), [])
        self.assertIsNone(self.ok("status")["next_reminder"])


class TestCrash(ReminderCase):
    smtp_delivery = False      # maildir: 1500 messages per round
    N = 1500
    ROUNDS = 4

    def test_kill9_during_fanout(self):
        base = ep("2027-09-06T08:00Z")
        d = self.start_daemon(base)
        csv = "name,email\n" + "".join(
            f"Teacher {i},{unique('k')}@crash{i % 13}.example\n" for i in range(self.N))
        self.assertEqual(self.ok("person.import", {"csv": csv})["added"], self.N)
        people = self.ok("person.list", {"limit": 10000})
        self.assertEqual(len(people), self.N)
        ids = sorted(p["id"] for p in people)
        emails = sorted(p["email"] for p in people)
        db = os.path.join(d.tmp, "state", "lectern.db")
        rng = random.Random(os.getpid())
        # The fan-out of 1500 takes some tens of ms here: most kills land
        # inside it, the last one in the delivery that follows.
        windows = [(0.0, 0.12)] * (self.ROUNDS - 1) + [(0.12, 0.4)]
        for k in range(self.ROUNDS):
            t = base + k * 86400
            self.at(t)
            S = t + 7200
            s = self.session(iso(S), [60], title=f"Crash drill {k}")
            r = self.ok("enroll", {"session": s["id"], "people": ids})
            self.assertEqual(len(r["enrolled"]), self.N)
            delay = rng.uniform(*windows[k])
            self.at(S - 3600 + 1)      # due: the fan-out starts at once
            time.sleep(delay)
            d.proc.kill()
            d.proc.wait()
            d.proc = None
            self.integrity(db, f"round {k}, kill after {delay * 1000:.0f} ms")
            d.start()
            wait_until(lambda: self.row(s["id"], 60)["state"] == "sent", 30,
                       f"round {k}: the reminder sent after the restart")
            rows = self.outbox_reminders(s["id"])
            got = sorted(row["to"] for row in rows)
            self.assertEqual(len(got), self.N,
                             f"round {k} (kill after {delay * 1000:.0f} ms): "
                             f"{len(got)} reminder rows for {self.N} people")
            self.assertEqual(got, emails, f"round {k}: not one reminder per person")
            self.assertEqual(self.row(s["id"], 60).get("recipients"), self.N)
        d.stop()
        self.integrity(db, "at the end")

    def integrity(self, path, what):
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            res = con.execute("PRAGMA integrity_check").fetchall()
        finally:
            con.close()
        self.assertEqual(res, [("ok",)], f"integrity_check {what}")


class TestWhoGetsIt(ReminderCase):
    def test_missed_late_enrolment_and_declined(self):
        S = ep("2027-08-02T09:00Z")
        self.start_daemon(S - 2 * 3600)
        p1, p2, p3, p4 = (self.person() for _ in range(4))
        s = self.session(iso(S), [2880, 60])
        r2880 = self.row(s["id"], 2880)
        self.assertEqual(r2880["state"], "missed", r2880)
        self.assertEqual(self.row(s["id"], 60)["state"], "pending")
        self.enroll(s["id"], [p1, p2, p3])
        r = self.ok("rsvp", {"session": s["id"], "person": p3["id"], "rsvp": "declined"})
        self.assertEqual(r["rsvp"], "declined", r)
        self.assertQuiet(s["title"], seconds=1.0, what="for a missed reminder")
        got = self.fire(S - 3600, 2, s["title"])
        self.assertEqual(sorted(rec.rcpt_tos[0] for rec, _ in got),
                         sorted([p1["email"], p2["email"]]))
        for rec, msg in got:
            self.check_mail(rec, msg, rec.rcpt_tos[0], s["title"])
        self.assertEqual(self.row(s["id"], 60).get("recipients"), 2)
        # Enrolled after the reminder was sent: an invitation, no reminder.
        self.enroll(s["id"], [p4])
        self.assertQuiet(s["title"], what="to someone enrolled after it was sent")
        self.daemon.restart()
        self.assertQuiet(s["title"], what="after a restart")
        self.assertEqual(sorted(r["to"] for r in self.outbox_reminders(s["id"])),
                         sorted([p1["email"], p2["email"]]))
        r2880 = self.row(s["id"], 2880)
        self.assertEqual(r2880["state"], "missed", r2880)
        self.assertFalse(r2880.get("recipients"), r2880)
        self.assertEqual(len(self.reminders(s["title"])), 2)


class TestStatus(ReminderCase):
    def pending_dues(self, sids):
        return sorted(ep(r["due"]) for sid in sids for r in self.schedule(sid)
                      if r["state"] == "pending")

    def check_status(self, sids):
        st = self.ok("status")
        dues = self.pending_dues(sids)
        want = iso(dues[0]) if dues else None
        self.assertEqual(st["next_reminder"], want, st)
        # Nothing in the outbox: the next job is the next reminder.
        self.assertEqual(st["next_due"], want, st)
        return st

    def test_next_reminder_is_earliest_pending(self):
        T = ep("2027-10-04T06:00Z")
        self.start_daemon(T)
        st = self.ok("status")
        self.assertIsNone(st["next_reminder"], st)
        self.assertIsNone(st["next_due"], st)
        x = self.session(iso(T + 5 * 3600), [60, 240])
        y = self.session(iso(T + 2 * 3600), [90])
        z = self.session(iso(T + 3 * 3600), None)
        sids = [x["id"], y["id"], z["id"]]
        st = self.check_status(sids)
        self.assertEqual(st["next_reminder"], iso(T + 30 * 60))
        # Cancelling Y drops its reminder.
        self.ok("session.cancel", {"id": y["id"]})
        st = self.check_status(sids)
        self.assertEqual(st["next_reminder"], iso(T + 3600))
        # X's 240-minute one fires (nobody enrolled: 0 recipients).
        self.at(T + 3600 + 1)
        wait_until(lambda: self.row(x["id"], 240)["state"] == "sent", 3, "X's 240 fired")
        st = self.check_status(sids)
        self.assertEqual(st["next_reminder"], iso(T + 4 * 3600))
        # A new session with an earlier reminder becomes the next one.
        w = self.session(iso(T + 2 * 3600), [10])
        sids.append(w["id"])
        st = self.check_status(sids)
        self.assertEqual(st["next_reminder"], iso(T + 2 * 3600 - 600))
        # No reminders left: null.
        self.ok("session.update", {"id": x["id"], "reminders": None})
        self.ok("session.update", {"id": w["id"], "reminders": []})
        st = self.check_status(sids)
        self.assertIsNone(st["next_reminder"])


class TestNoPolling(unittest.TestCase):
    """The production daemon (no test hooks), idle with reminders pending."""

    def test_idle_daemon_does_not_wake(self):
        d = Daemon()
        try:
            d.start()
            far = time.time() + 400 * 86400
            for i in range(5):
                d.ok("session.add", {"kind": "webinar", "title": f"Far {i}",
                                     "start": iso(far + i * 3600), "duration": 60,
                                     "reminders": [10080, 1440, 60]})
            self.assertIsNotNone(d.ok("status")["next_reminder"])
            time.sleep(0.5)     # let the last client's close settle

            def switches():
                total = 0
                for tid in os.listdir(f"/proc/{d.pid}/task"):
                    with open(f"/proc/{d.pid}/task/{tid}/status") as f:
                        for line in f:
                            if line.startswith(("voluntary_ctxt_switches",
                                                "nonvoluntary_ctxt_switches")):
                                total += int(line.split()[1])
                return total
            a = switches()
            time.sleep(3.0)
            b = switches()
            self.assertLessEqual(b - a, 5, f"{b - a} context switches in 3 s while idle")
            self.assertTrue(d.alive())
            d.stop()
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
