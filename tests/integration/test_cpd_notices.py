"""Recertification notices and the coordinators' digest, sent once (issue 5;
docs/PROTOCOL.md, "Notices and the digest").

build/lecternd-test runs with its clock on chosen Moscow days and delivers
to a real SMTP server on loopback; its clock is stepped to just before the
daily run at 06:00 Moscow and the daemon is restarted (a run at start-up),
and what the SMTP server received is compared with what the specification
says must be sent: a notice to each person whose status is due_soon, once
per due date (also across restarts and later daily runs; a new completion
gives a new due date and its own notice), none to the overdue, the
never-trained or the ok; one digest per month (per ISO week when weekly)
to every digest_to address, with the overdue list capped at 200 names;
nothing with notices = no and digest = off.
"""
import re
import time
import unittest

import cpd_district as cd
from cpd_district import msk_epoch
from harness import Daemon, SmtpServer, shut_down, unique

FROM_ADDR = "lectern@lectern.test"
COORDINATORS = ["methodist@district.example", "head@district.example"]
QUIET = 1.5       # how long "nothing more arrives" is watched


EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]
RU_MONTHS = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
             "сентября", "октября", "ноября", "декабря"]


def date_forms(iso):
    """'2027-03-01' as it may be written: ISO, '1 March 2027', '1 марта 2027'."""
    y, m, d = (int(x) for x in iso.split("-"))
    return [iso, f"{d} {EN_MONTHS[m - 1]} {y}", f"{d} {RU_MONTHS[m - 1]} {y}"]


def pct_re(percent):
    """A regex for a share as a digest may write it: 32.5, or 0 / 0.0."""
    one = f"{percent:.1f}"
    if one.endswith(".0"):
        return rf"{re.escape(one[:-2])}(?:\.0)?"
    return re.escape(one)


def name_of(p):
    """A person's name: a person.add result or a cpd_district.Person."""
    return p["name"] if isinstance(p, dict) else p.name


class NoticeCase(unittest.TestCase):
    """A fresh SMTP server and a fresh test-clock daemon per test."""
    recert = {"digest_to": ", ".join(COORDINATORS)}

    def setUp(self):
        self.smtp = SmtpServer().start()
        self.daemon = None
        self.seen = 0

    def tearDown(self):
        shut_down(self.daemon, self.smtp, timeout=15)

    # -- daemon and clock ------------------------------------------------------
    def start(self, now, recert=None):
        ov = {"mail": {"url": self.smtp.url, "tls": "none",
                       "from": f"Lectern Test <{FROM_ADDR}>", "domain": "lectern.test",
                       "retry_initial": "1s", "retry_max": "2s"},
              "recertification": dict(self.recert, **(recert or {}))}
        off = round(msk_epoch(now) - time.time())
        self.daemon = Daemon(overrides=ov, test_clock=off)
        self.daemon.start()
        return self.daemon

    def at(self, local):
        """Step the clock so that it reads LOCAL (Moscow) now."""
        self.daemon.set_clock(round(msk_epoch(local) - time.time()))

    def restart(self):
        self.daemon.restart()

    def ok(self, cmd, args=None):
        return self.daemon.ok(cmd, args)

    # -- data --------------------------------------------------------------------
    def teacher(self, name, last=None, lang="en", hours=36):
        p = self.ok("person.add", {"name": name, "email": f"{unique('n')}@school.example",
                                   "lang": lang, "organization": "School No. 12"})
        if last is not None:
            self.ok("training.record", {"person": p["id"], "title": f"Course of {name}",
                                        "hours": hours, "completed_on": last})
        return p

    # -- mail ----------------------------------------------------------------------
    def new_mail(self, n, what, timeout=10):
        """Exactly n more messages arrive (then nothing for QUIET s):
        [(recipients, message)]."""
        deadline = time.monotonic() + timeout
        while len(self.smtp.received()) < self.seen + n and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(QUIET)
        got = self.smtp.received()[self.seen:]
        self.seen += len(got)
        msgs = [(sorted(a.lower() for a in r.rcpt_tos), r.message()) for r in got]
        self.assertEqual(len(got), n, f"{what}: expected {n} messages, got "
                         + repr([(to, str(m['Subject'])) for to, m in msgs])
                         + f"; outbox {self.outbox_kinds()}")
        return msgs

    def outbox_kinds(self):
        out = {}
        for r in self.ok("outbox.list", {"limit": 10000}):
            out[r["kind"]] = out.get(r["kind"], 0) + 1
        return out

    def split(self, msgs):
        """(notices {teacher email: message}, digests [message])."""
        notices, digests = {}, []
        for to, m in msgs:
            if to == sorted(COORDINATORS) or set(to) <= set(COORDINATORS):
                digests.append((to, m))
            else:
                self.assertEqual(len(to), 1, to)
                self.assertNotIn(to[0], notices, f"two notices to {to[0]} at once")
                notices[to[0]] = m
        return notices, digests

    def body(self, m):
        part = m.get_body(preferencelist=("plain",))
        self.assertIsNotNone(part, "no text/plain part")
        return part.get_content()

    def check_notice(self, m, person, due, days_left, last_title, last_on):
        text = self.body(m)
        self.assertIn(person["email"], str(m["To"]))
        self.assertNotRegex(str(m["Subject"]) + text, r"\{[a-z_]+\}", "a placeholder left")
        self.assertIn(last_title, text, "{last_title}")
        for value, what in ((due, "due"), (last_on, "last_completed_on")):
            self.assertTrue(any(form in text for form in date_forms(value)),
                            f"{{{what}}} {value} is not in the notice:\n{text}")
        self.assertRegex(text, rf"\b{days_left}\b", "{days_left}")

    def check_digests(self, digests, overdue, not_overdue, coverage=None):
        """One digest to each coordinator (or one to both), naming every
        overdue person and nobody else of those given; with coverage
        (cpd_district.coverage's (groups, total) by organization) the
        share of the whole and, on each organization's line, its numbers."""
        rcpts = sorted(a for to, _ in digests for a in to)
        self.assertEqual(rcpts, sorted(COORDINATORS), "the digest reaches every digest_to")
        for _, m in digests:
            text = self.body(m)
            self.assertNotRegex(str(m["Subject"]) + text, r"\{[a-z_]+\}", "a placeholder left")
            for p in overdue:
                self.assertIn(name_of(p), text, "an overdue person is in the digest")
            for p in not_overdue:
                self.assertNotIn(name_of(p), text, "only the overdue are listed")
            if coverage is not None:
                groups, total = coverage
                self.assertRegex(text, rf"(?<![\d.]){pct_re(total['percent'])}(?![\d])",
                                 "the share of the whole")
                lines = text.splitlines()
                for g in groups:
                    if g["group"] is None:
                        continue
                    # (the overdue list's lines name people by their addresses)
                    mine = [ln for ln in lines if g["group"] in ln and "@" not in ln]
                    self.assertEqual(len(mine), 1, f"{g['group']} on one line:\n{text}")
                    for v in (str(g["trained"]), str(g["total"]), pct_re(g["percent"])):
                        self.assertRegex(mine[0], rf"(?<![\d.]){v}(?![\d])",
                                         f"{g['group']}: {g}")
        return [self.body(m) for _, m in digests]


class Notices(NoticeCase):
    def test_notice_once_per_due_date(self):
        self.start("2027-01-10T12:00")
        # the start-up run with an empty database: January's digest
        _, digests = self.split(self.new_mail(len(COORDINATORS), "January's digest at start-up"))
        self.check_digests(digests, [], [])
        st = self.ok("status")["recertification"]
        self.assertEqual(st["next_run"], "2027-01-11T03:00:00Z", "06:00 Moscow tomorrow")
        self.assertIsNotNone(st["last_digest"])
        # as of 2027-01-10, due_soon means due by 2027-07-09
        A = self.teacher("Anna Soon", "2024-03-01")                  # due 2027-03-01
        B = self.teacher("Boris Skoro", "2024-06-30", lang="ru")      # due 2027-06-30
        C = self.teacher("Clara Later", "2024-08-01")                # due 2027-08-01: ok
        D = self.teacher("Dmitry Overdue", "2023-05-01")             # due 2026-05-01
        E = self.teacher("Eva Never")
        F = self.teacher("Fyodor Few Hours", "2024-03-01", hours=0)  # qualifies (min_hours 0)
        self.new_mail(0, "no run until 06:00 or a restart")

        self.restart()
        notices, digests = self.split(self.new_mail(3, "notices at start-up"))
        self.assertEqual(digests, [], "one digest per month")
        self.assertEqual(set(notices), {A["email"], B["email"], F["email"]})
        self.check_notice(notices[A["email"]], A, "2027-03-01", 50, "Course of Anna Soon",
                          "2024-03-01")
        self.check_notice(notices[B["email"]], B, "2027-06-30", 171, "Course of Boris Skoro",
                          "2024-06-30")
        self.assertRegex(self.body(notices[B["email"]]), "[а-яА-Я]",
                         "B's notice is in B's language (ru)")
        self.assertNotRegex(self.body(notices[A["email"]]), "[а-яА-Я]")
        kinds = self.outbox_kinds()
        self.assertEqual((kinds.get("notice"), kinds.get("digest")), (3, len(COORDINATORS)))

        self.restart()
        self.new_mail(0, "a second restart sends nothing again")
        self.at("2027-01-11T05:59:57")
        time.sleep(3)
        self.new_mail(0, "the daily run on 11 January sends nothing again")
        self.assertEqual(self.ok("status")["recertification"]["next_run"], "2027-01-12T03:00:00Z")

        # A new completion moves A's due date: its own notice at the next run
        self.ok("training.record", {"person": A["id"], "title": "Refresher", "hours": 18,
                                    "completed_on": "2024-04-15"})
        self.at("2027-01-12T05:59:57")
        notices, digests = self.split(self.new_mail(1, "A's new due date", timeout=8))
        self.assertEqual((list(notices), digests), ([A["email"]], []))
        self.check_notice(notices[A["email"]], A, "2027-04-15", 93, "Refresher", "2024-04-15")

        # February: the digest, and no notice for C until 2 February
        self.at("2027-02-01T05:59:57")
        notices, digests = self.split(self.new_mail(len(COORDINATORS), "February's digest",
                                                    timeout=8))
        self.assertEqual(notices, {})
        people = [cd.Person(p["name"], p["email"], "School No. 12") for p in (A, B, C, D, E, F)]
        comps = [cd.Completion(p["email"], "x", None, 10 * h, cd.Date.fromisoformat(on), True)
                 for p, on, h in ((A, "2024-03-01", 36), (A, "2024-04-15", 18),
                                  (B, "2024-06-30", 36), (C, "2024-08-01", 36),
                                  (D, "2023-05-01", 36), (F, "2024-03-01", 0))]
        cov = cd.coverage(people, comps, *cd.cycle_window(cd.Date(2027, 2, 1), "3y"),
                          by="organization")
        self.assertEqual(cov[1]["trained"], 4)
        self.check_digests(digests, [D], [A, B, C, E, F], cov)
        self.at("2027-02-02T05:59:57")
        notices, digests = self.split(self.new_mail(1, "C becomes due_soon on 2 February",
                                                    timeout=8))
        self.assertEqual((list(notices), digests), ([C["email"]], []))
        self.check_notice(notices[C["email"]], C, "2027-08-01", 180, "Course of Clara Later",
                          "2024-08-01")
        kinds = self.outbox_kinds()
        self.assertEqual((kinds.get("notice"), kinds.get("digest")), (5, 2 * len(COORDINATORS)))
        # and one more restart the same day: nothing
        self.restart()
        self.new_mail(0, "restart after February's run")

    def test_digest_caps_overdue_list(self):
        self.start("2027-01-31T12:00")
        self.new_mail(len(COORDINATORS), "January's digest at start-up")
        people = [cd.Person(f"Overdue Teacher {i:03d}", f"late{i:03d}@school.example",
                            "Gymnasium No. 1") for i in range(205)]
        people += [cd.Person("Never Trained One", "never1@school.example", "Gymnasium No. 1"),
                   cd.Person("Fresh Trained One", "fresh1@school.example", "Лицей № 2")]
        self.ok("person.import", {"csv": cd.people_csv(people)})
        rows = [[p.email, "Old course", "10", f"2020-{10 + i % 3}-{10 + i % 18}"]
                for i, p in enumerate(people[:205])]
        rows.append(["fresh1@school.example", "New course", "10", "2026-12-01"])
        r = self.ok("training.import", {"csv": cd.csv_text(["email", "title", "hours",
                                                            "completed_on"], rows)})
        self.assertEqual(r["recorded"], 206)
        self.at("2027-02-01T05:59:57")
        _, digests = self.split(self.new_mail(len(COORDINATORS), "February's digest", timeout=8))
        comps = [cd.Completion(r[0], r[1], None, 100, cd.Date.fromisoformat(r[3]), True)
                 for r in rows]
        cov = cd.coverage(people, comps, *cd.cycle_window(cd.Date(2027, 2, 1), "3y"),
                          by="organization")
        for text in self.check_digests(digests, [], [people[205], people[206]], cov):
            named = [p for p in people[:205] if p.name in text]
            self.assertEqual(len(named), 200, "at most 200 names")
            self.assertRegex(text, r"\b5\b", "a count of the 5 not named")
            # the coverage summary: 1 of 207 trained in the window (0.4 %)
            self.assertIn("207", text)
            self.assertIn("0.4", text)

    def test_kill9_during_notice_run(self):
        """The run at start-up killed at once, again and again: in the end
        one notice (one outbox row) per person, and every one delivered."""
        self.start("2027-01-10T12:00")
        self.new_mail(len(COORDINATORS), "January's digest at start-up")
        n = 300
        people = [cd.Person(f"Soon Teacher {i:03d}", f"soon{i:03d}@school.example",
                            "School No. 12") for i in range(n)]
        self.ok("person.import", {"csv": cd.people_csv(people)})
        rows = [[p.email, "Old course", "10", f"2024-{3 + i % 4:02d}-{1 + i % 28:02d}"]
                for i, p in enumerate(people)]          # due March to June 2027: due_soon
        self.assertEqual(self.ok("training.import", {"csv": cd.csv_text(
            ["email", "title", "hours", "completed_on"], rows)})["recorded"], n)
        d = self.daemon
        for delay in (0.0, 0.01, 0.03, 0.06, 0.1):
            d.stop()
            d.start(wait=False)
            time.sleep(delay)
            d.kill()
        d.start()

        def notices():
            return [r for r in self.ok("outbox.list", {"limit": 10000}) if r["kind"] == "notice"]

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (len(notices()) < n or
                                               self.ok("status")["outbox"]["queued"]):
            time.sleep(0.1)
        time.sleep(QUIET)
        got = sorted(r["to"] for r in notices())
        self.assertEqual(got, sorted(p.email for p in people), "one notice row per person")
        self.assertEqual(self.ok("status")["outbox"]["queued"], 0)
        received = {a.lower() for r in self.smtp.received() for a in r.rcpt_tos}
        self.assertTrue({p.email for p in people} <= received, "every notice delivered")
        kinds = self.outbox_kinds()
        self.assertEqual(kinds.get("digest"), len(COORDINATORS), "January's digest only once")

    def test_weekly_digest(self):
        self.start("2027-01-13T12:00", {"digest": "weekly"})     # a Wednesday
        self.new_mail(len(COORDINATORS), "this week's digest at start-up")
        self.restart()
        self.new_mail(0, "one digest per week")
        self.at("2027-01-17T05:59:57")                            # Sunday
        time.sleep(3)
        self.new_mail(0, "Sunday is the same ISO week")
        self.at("2027-01-18T05:59:57")                            # Monday
        notices, _ = self.split(self.new_mail(len(COORDINATORS), "next week's digest",
                                              timeout=8))
        self.assertEqual(notices, {})

    def test_off(self):
        self.start("2027-01-10T12:00", {"notices": "no", "digest": "off"})
        self.teacher("Anna Quiet", "2024-03-01")                  # due_soon
        self.teacher("Dmitry Quiet", "2023-05-01")                # overdue
        self.restart()
        self.at("2027-02-01T05:59:57")
        time.sleep(3)
        self.new_mail(0, "notices = no, digest = off")
        kinds = self.outbox_kinds()
        self.assertEqual((kinds.get("notice"), kinds.get("digest")), (None, None))


if __name__ == "__main__":
    unittest.main()
