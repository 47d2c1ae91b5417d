"""The real lectern against the real lecternd: courses (add, show, ls,
update, cancel, enrolment with a waiting list), repeating sessions
(ls --expand across a DST change, one occurrence moved or cancelled),
the reminder schedule in session show, status, and --json everywhere."""
import datetime
import re
import unittest

from harness import CliCase, cli, unique, LECTERN, require_binaries


class CliCourses(CliCase):
    def add_person(self, name):
        e = unique("crs") + "@school.example"
        return self.c.ok("person.add", {"name": name, "email": e})

    def course_add(self, *extra, title=None):
        title = title or "Inclusive classroom " + unique("c")
        r = self.run_json("course", "add", "--title", title, "--first-day", "2027-02-01",
                          "--last-day", "2027-02-28", *extra)
        self.assertIsInstance(r.get("id"), int, r)
        return r

    # -- courses -------------------------------------------------------
    def test_course_add_values(self):
        c = self.course_add("--hours", "36", "--capacity", "25", "--provider",
                            "District office", "--description", "Two lines\nof text",
                            "--no-recertification")
        raw = self.c.ok("course.get", {"id": c["id"]})
        self.assertEqual((raw["first_day"], raw["last_day"]), ("2027-02-01", "2027-02-28"))
        self.assertEqual(raw["hours"], 36)
        self.assertEqual(raw["capacity"], 25)
        self.assertEqual(raw["provider"], "District office")
        self.assertEqual(raw["description"], "Two lines\nof text")
        self.assertIs(raw["counts_for_recertification"], False)
        # without --no-recertification it counts
        c2 = self.course_add()
        self.assertIs(self.c.ok("course.get", {"id": c2["id"]})["counts_for_recertification"],
                      True)
        # --json prints the daemon's result unchanged
        self.assertEqual(self.run_json("course", "show", str(c["id"])), raw)

    def test_course_plain_output_show_ls(self):
        title = "Инклюзивный класс " + unique("t")
        out = self.run_ok("course", "add", "--title", title, "--first-day", "2031-02-01",
                          "--last-day", "2031-02-28", "--hours", "36",
                          "--provider", "District office")
        m = re.match(r"course (\d+) added: (.*), 2031-02-01 to 2031-02-28\n$", out)
        self.assertTrue(m, out)
        self.assertEqual(m.group(2), title)
        cid = int(m.group(1))
        out = self.run_ok("course", "show", str(cid))
        self.assertRegex(out, rf"(?m)^title: +{re.escape(title)}$")
        self.assertRegex(out, r"(?m)^first day: +2031-02-01$")
        self.assertRegex(out, r"(?m)^last day: +2031-02-28$")
        self.assertRegex(out, r"(?m)^hours: +36$")
        self.assertRegex(out, r"(?m)^recertification: +counts$")
        self.assertRegex(out, r"(?m)^capacity: +unlimited$")
        # ls: courses overlapping the period only
        other = self.course_add()   # February 2027
        out = self.run_ok("course", "ls", "--from", "2031-02-15", "--to", "2031-03-31")
        self.assertRegex(out, rf"(?m)^ *{cid} +2031-02-01 +2031-02-28 +36 +{re.escape(title)}")
        self.assertNotRegex(out, rf"(?m)^ *{other['id']} ")
        self.assertTrue(out.startswith("ID"), out)
        self.assertEqual(self.run_json("course", "ls", "--from", "2031-02-15"),
                         self.c.ok("course.list", {"from": "2031-02-15"}))
        out = self.run_ok("course", "ls", "--from", "2031-03-01", "--to", "2031-03-31")
        self.assertNotIn(title, out)

    def test_course_update_and_clear(self):
        c = self.course_add("--hours", "36", "--provider", "District office",
                            "--no-recertification")
        out = self.run_ok("course", "update", str(c["id"]), "--title", "Renamed course",
                          "--last-day", "2027-03-15", "--recertification", "--clear", "provider")
        self.assertIn(f"course {c['id']} updated: Renamed course, 2027-02-01 to 2027-03-15", out)
        raw = self.c.ok("course.get", {"id": c["id"]})
        self.assertEqual((raw["title"], raw["last_day"]), ("Renamed course", "2027-03-15"))
        self.assertIsNone(raw["provider"])
        self.assertEqual(raw["hours"], 36)
        self.assertIs(raw["counts_for_recertification"], True)
        self.assertEqual(raw["sequence"], c["sequence"] + 1)
        self.run_ok("course", "update", str(c["id"]), "--clear", "hours")
        self.assertIsNone(self.c.ok("course.get", {"id": c["id"]})["hours"])

    def test_course_errors(self):
        before = self.c.ok("course.list", {"limit": 10000})
        # the daemon refuses an impossible date: exit 1, the field named
        for args, field in ((["--first-day", "2027-02-30", "--last-day", "2027-03-01"], "first_day"),
                            (["--first-day", "2027-02-01", "--last-day", "01.03.2027"], "last_day"),
                            (["--first-day", "2027-03-01", "--last-day", "2027-02-01"], "last_day")):
            with self.subTest(args=args):
                rc, out, err = self.daemon.cli("course", "add", "--title", "Bad", *args)
                self.assertEqual(rc, 1, (out, err))
                self.assertEqual(out, "")
                self.assertIn(f"(field: {field})", err)
                self.assertTrue(err.startswith("lectern: course add: "), err)
        self.assertEqual(self.c.ok("course.list", {"limit": 10000}), before,
                         "a refused course.add wrote something")
        # usage errors: exit 2, nothing sent
        for args in (["course", "add", "--first-day", "2027-02-01", "--last-day", "2027-02-02"],
                     ["course", "add", "--title", "T", "--first-day", "2027-02-01"],
                     ["course", "add", "--title", "T", "--first-day", "2027-02-01",
                      "--last-day", "2027-02-02", "--hours", "many"],
                     ["course", "update", "1"],
                     ["course", "update", "1", "--recertification", "--no-recertification"],
                     ["course", "update", "1", "--clear", "title"],
                     ["course", "show"], ["course", "show", "x"], ["course", "cancel"],
                     ["course", "explode"]):
            with self.subTest(args=args):
                rc, out, err = self.daemon.cli(*args)
                self.assertEqual(rc, 2, (out, err))
                self.assertTrue(err.strip())
        rc, out, err = self.daemon.cli("course", "add", "--title", "T", "--first-day",
                                       "2027-02-01")
        self.assertIn("--last-day", err)
        self.assertEqual(self.c.ok("course.list", {"limit": 10000}), before)
        rc, out, err = self.daemon.cli("course", "show", "987654")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("(field: id)", err)

    def test_course_enrolment_waiting_list(self):
        c = self.course_add("--capacity", "1")
        m1 = self.run_json("session", "add", "--kind", "course_meeting", "--title",
                           "Opening meeting", "--course", str(c["id"]), "--start",
                           "2027-02-01 15:00", "--duration", "3h")
        m2 = self.run_json("session", "add", "--kind", "course_meeting", "--title",
                           "Closing meeting", "--course", str(c["id"]), "--start",
                           "2027-02-28 10:00", "--duration", "3h", "--tz", "Asia/Yekaterinburg")
        a, b, d = (self.add_person("Анна Смирнова"), self.add_person("Борис Орлов"),
                   self.add_person("Вера Лебедева"))
        out = self.run_ok("enroll", "--course", str(c["id"]), a["email"], b["email"],
                          str(d["id"]))
        self.assertIn("enrolled 1, waitlisted 2", out)
        self.assertIn(f"waitlisted: {b['email']} (id {b['id']}), position 1", out)
        self.assertIn(f"waitlisted: {d['email']} (id {d['id']}), position 2", out)
        out = self.run_ok("course", "show", str(c["id"]))
        # the meetings with their local times, in order
        self.assertIn("Meetings:", out)
        self.assertRegex(out, rf"(?m)^ *{m1['id']} +2027-02-01 15:00 MSK +Europe/Moscow +3h")
        self.assertRegex(out, rf"(?m)^ *{m2['id']} +2027-02-28 10:00 \+05 +Asia/Yekaterinburg")
        self.assertLess(out.index("Opening meeting"), out.index("Closing meeting"))
        # the people: enrolled first, then the waiting list by position
        people = out[out.index("People:"):]
        self.assertRegex(people, rf"(?m)^ *{a['id']} +Анна Смирнова +{re.escape(a['email'])} +enrolled")
        self.assertRegex(people, rf"(?m)^ *{b['id']} +Борис Орлов .*waiting, position 1")
        self.assertRegex(people, rf"(?m)^ *{d['id']} +Вера Лебедева .*waiting, position 2")
        self.assertLess(people.index("Анна"), people.index("Борис"))
        self.assertLess(people.index("Борис"), people.index("Вера"))
        # columns line up with Cyrillic names
        rows = [l for l in people.splitlines() if "@school.example" in l]
        self.assertEqual(len(rows), 3, people)
        self.assertEqual(len({re.search(r"\S+@school\.example", l).start() for l in rows}), 1,
                         people)
        out = self.run_ok("course", "ls", "--from", "2027-02-01", "--to", "2027-02-28")
        self.assertRegex(out, rf"(?m)^ *{c['id']} .* 1/1 \+2 +2 +scheduled$")
        # a seat freed: the first person waiting is promoted and printed
        out = self.run_ok("unenroll", "--course", str(c["id"]), a["email"])
        self.assertIn("removed 1", out)
        self.assertIn(f"promoted: {b['email']} (id {b['id']})", out)
        raw = self.c.ok("course.get", {"id": c["id"]})
        self.assertEqual([(e["person"], e["state"], e["position"]) for e in raw["enrollments"]],
                         [(b["id"], "enrolled", None), (d["id"], "waitlisted", 1)])
        out = self.run_ok("course", "show", str(c["id"]))
        self.assertRegex(out, rf"(?m)^ *{d['id']} +Вера Лебедева .*waiting, position 1")
        self.assertNotIn("Анна", out)
        # the promoted person is now in the meetings
        s = self.c.ok("session.get", {"id": m1["id"]})
        self.assertIn(b["id"], [e["person"] for e in s["enrollments"] if e["state"] == "enrolled"])
        # unenrolling someone who is not there says so
        out = self.run_ok("unenroll", "--course", str(c["id"]), a["email"])
        self.assertIn(f"not enrolled: {a['email']}", out)

    def test_course_cancel(self):
        c = self.course_add()
        m = self.c.ok("session.add", {"kind": "course_meeting", "title": "Meeting",
                                      "course": c["id"], "start": "2027-02-10T15:00",
                                      "duration": 90})
        out = self.run_ok("course", "cancel", str(c["id"]), "--reason", "Нет финансирования")
        self.assertIn(f"course {c['id']} cancelled:", out)
        self.assertIn("meetings were cancelled too", out)
        raw = self.c.ok("course.get", {"id": c["id"]})
        self.assertEqual((raw["status"], raw["cancel_reason"]), ("cancelled", "Нет финансирования"))
        self.assertEqual(self.c.ok("session.get", {"id": m["id"]})["status"], "cancelled")
        out = self.run_ok("course", "show", str(c["id"]))
        self.assertRegex(out, r"(?m)^status: +cancelled$")
        self.assertRegex(out, r"(?m)^reason: +Нет финансирования$")
        self.assertIn(f"cancelled", out[out.index("Meetings:"):])
        self.assertEqual([x["id"] for x in self.run_json("course", "ls", "--status", "cancelled")
                          if x["id"] == c["id"]], [c["id"]])
        for args in (["course", "cancel", str(c["id"])],
                     ["course", "update", str(c["id"]), "--hours", "3"]):
            rc, out, err = self.daemon.cli(*args)
            self.assertEqual(rc, 1, (args, out, err))
            self.assertIn("cancelled", err)

    # -- repeating sessions ---------------------------------------------
    def series_add(self, *extra, title=None, start="2027-03-10 15:00", repeat="FREQ=WEEKLY;COUNT=6"):
        title = title or "Weekly clinic " + unique("w")
        return self.run_json("session", "add", "--kind", "consultation", "--title", title,
                             "--start", start, "--tz", "Europe/Berlin", "--duration", "1h",
                             "--repeat", repeat, *extra)

    def expand_rows(self, out, sid):
        return [l for l in out.splitlines() if re.match(rf"^ *{sid} ", l)]

    def test_expand_across_dst(self):
        s = self.series_add()
        out = self.run_ok("session", "ls", "--expand", "--from", "2027-03-01T00:00Z",
                          "--to", "2027-04-10T00:00Z")
        rows = self.expand_rows(out, s["id"])
        # 15:00 Berlin time every week, CET before 28 March and CEST after
        self.assertEqual([re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \S+", l).group(0) for l in rows],
                         ["2027-03-10 15:00 CET", "2027-03-17 15:00 CET", "2027-03-24 15:00 CET",
                          "2027-03-31 15:00 CEST", "2027-04-07 15:00 CEST"], out)
        raw = self.c.ok("session.list", {"expand": True, "from": "2027-03-01T00:00Z",
                                         "to": "2027-04-10T00:00Z"})
        mine = [x for x in raw if x["id"] == s["id"]]
        self.assertEqual([x["start"] for x in mine][2:4],
                         ["2027-03-24T14:00:00Z", "2027-03-31T13:00:00Z"])
        self.assertEqual(self.run_json("session", "ls", "--expand", "--from", "2027-03-01T00:00Z",
                                       "--to", "2027-04-10T00:00Z"), raw)
        # [from, to): an occurrence starting exactly at --to is left out
        out = self.run_ok("session", "ls", "--expand", "--from", "2027-03-17 15:00",
                          "--to", "2027-03-31T13:00Z")
        self.assertEqual(len(self.expand_rows(out, s["id"])), 2, out)
        # without --expand the series is one row, by its first start
        out = self.run_ok("session", "ls", "--from", "2027-03-01T00:00Z",
                          "--to", "2027-04-10T00:00Z")
        self.assertEqual(len(self.expand_rows(out, s["id"])), 1, out)
        self.assertNotIn("NOTE", out)

    def test_occurrence_move_and_cancel(self):
        s = self.series_add(title="Methods clinic " + unique("m"))
        sid = str(s["id"])
        out = self.run_ok("session", "update", sid, "--occurrence", "2027-03-24 15:00",
                          "--start", "2027-03-25 16:00", "--title", "Methods clinic (Thursday)")
        self.assertIn(f"session {sid} occurrence 2027-03-24 15:00 CET updated: "
                      "Methods clinic (Thursday), now 2027-03-25 16:00 CET (Europe/Berlin)", out)
        # the occurrence as an absolute time works too (31 March 15:00 CEST)
        out = self.run_ok("session", "cancel", sid, "--occurrence", "2027-03-31T13:00Z",
                          "--reason", "Easter holidays")
        self.assertIn(f"session {sid} occurrence 2027-03-31 15:00 CEST cancelled:", out)
        raw = self.c.ok("session.get", {"id": s["id"]})
        self.assertEqual(raw["status"], "scheduled", "the series goes on")
        occ = {o["occurrence"]: o for o in raw["occurrences"]}
        self.assertEqual(occ["2027-03-24T14:00:00Z"]["start"], "2027-03-25T15:00:00Z")
        self.assertEqual(occ["2027-03-31T13:00:00Z"]["status"], "cancelled")
        # ls --expand: the moved one at its new time with a note, the cancelled one marked
        out = self.run_ok("session", "ls", "--expand", "--from", "2027-03-01T00:00Z",
                          "--to", "2027-04-10T00:00Z")
        rows = self.expand_rows(out, sid)
        self.assertEqual(len(rows), 5, out)
        moved = [l for l in rows if "2027-03-25 16:00 CET" in l]
        self.assertEqual(len(moved), 1, out)
        self.assertIn("Methods clinic (Thursday)", moved[0])
        self.assertIn("moved from 2027-03-24 15:00 CET", moved[0])
        self.assertFalse([l for l in rows if "2027-03-24" in l.split("moved")[0]], out)
        cancelled = [l for l in rows if "2027-03-31 15:00 CEST" in l]
        self.assertEqual(len(cancelled), 1)
        self.assertRegex(cancelled[0], r"\bcancelled\b.*Easter holidays")
        for l in rows:
            if l not in cancelled:
                self.assertIn("scheduled", l)
        # --status filters occurrences
        out = self.run_ok("session", "ls", "--expand", "--status", "cancelled", "--from",
                          "2027-03-01T00:00Z", "--to", "2027-04-10T00:00Z")
        self.assertEqual(len(self.expand_rows(out, sid)), 1, out)
        # show: the changed occurrences
        out = self.run_ok("session", "show", sid)
        part = out[out.index("Changed occurrences:"):]
        self.assertRegex(part, r"(?m)^2027-03-24 15:00 CET +2027-03-25 16:00 CET +1h +"
                         r"Methods clinic \(Thursday\) +scheduled")
        self.assertRegex(part, r"(?m)^2027-03-31 15:00 CEST +2027-03-31 15:00 CEST +1h +"
                         r".* cancelled: Easter holidays")
        # a start that is no occurrence, and a cancelled one: refused
        for args in (["session", "update", sid, "--occurrence", "2027-03-24 16:00", "--title", "X"],
                     ["session", "cancel", sid, "--occurrence", "2027-03-31 15:00"]):
            rc, out, err = self.daemon.cli(*args)
            self.assertEqual(rc, 1, (args, out, err))
            self.assertIn("(field: occurrence)", err)
        # --occurrence alone changes nothing: a usage error
        rc, out, err = self.daemon.cli("session", "update", sid, "--occurrence", "2027-03-17 15:00")
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("nothing to change", err)

    def test_monthly_example_of_the_manual(self):
        s = self.series_add(title="Methods clinic " + unique("mo"), start="2027-01-27 15:00",
                            repeat="FREQ=MONTHLY;BYDAY=-1WE;COUNT=6")
        sid = str(s["id"])
        self.run_ok("session", "update", sid, "--occurrence", "2027-03-31 15:00",
                    "--start", "2027-04-01 15:00")
        self.run_ok("session", "cancel", sid, "--occurrence", "2027-04-28 15:00", "--reason",
                    "holidays")
        out = self.run_ok("session", "ls", "--expand", "--from", "2027-01-01", "--to",
                          "2027-07-01")
        rows = self.expand_rows(out, sid)
        starts = [re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \S+", l).group(0) for l in rows]
        self.assertEqual(starts, ["2027-01-27 15:00 CET", "2027-02-24 15:00 CET",
                                  "2027-04-01 15:00 CEST", "2027-04-28 15:00 CEST",
                                  "2027-05-26 15:00 CEST", "2027-06-30 15:00 CEST"], out)
        self.assertIn("moved from 2027-03-31 15:00 CEST", rows[2])
        self.assertIn("cancelled", rows[3])

    # -- reminders ------------------------------------------------------
    def test_show_reminders_states(self):
        # starts in three hours: the day-before reminder is already late
        start = (datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
                 + datetime.timedelta(hours=3))
        s = self.run_json("session", "add", "--kind", "webinar", "--title", "Soon " + unique(),
                          "--start", start.strftime("%Y-%m-%dT%H:%MZ"), "--duration", "1h",
                          "--remind", "1d,1h")
        out = self.run_ok("session", "show", str(s["id"]))
        part = out[out.index("Reminders:"):]
        due_1h = (start - datetime.timedelta(hours=1)).astimezone(
            datetime.timezone(datetime.timedelta(hours=3)))
        self.assertRegex(part, rf"(?m)^1h before +{due_1h:%Y-%m-%d %H:%M} MSK +pending$")
        self.assertRegex(part, r"(?m)^1d before +\S+ \S+ MSK +not sent: its time had passed "
                         r"when the session was created")
        self.assertNotIn("START", part.splitlines()[1], "no start column for a single session")
        raw = self.c.ok("session.get", {"id": s["id"]})
        self.assertEqual(sorted((r["before"], r["state"]) for r in raw["reminder_schedule"]),
                         [(60, "pending"), (1440, "missed")])
        self.assertEqual(self.run_json("session", "show", str(s["id"])), raw)
        # --remind none clears them
        self.run_ok("session", "update", str(s["id"]), "--remind", "none")
        raw = self.c.ok("session.get", {"id": s["id"]})
        self.assertEqual(raw["reminders"], [])
        self.assertEqual([r for r in raw["reminder_schedule"] if r["state"] == "pending"], [])
        out = self.run_ok("session", "show", str(s["id"]))
        self.assertRegex(out, r"(?m)^reminders: +none$")
        self.assertNotRegex(out, r"(?m)pending$")

    def test_series_reminders_per_occurrence(self):
        s = self.series_add("--remind", "1d", start="2027-03-24 15:00", repeat="FREQ=WEEKLY;COUNT=2")
        out = self.run_ok("session", "show", str(s["id"]))
        part = out[out.index("Reminders:"):]
        self.assertIn("START", part.splitlines()[1])
        self.assertRegex(part, r"(?m)^2027-03-24 15:00 CET +1d before +2027-03-23 15:00 CET +pending$")
        self.assertRegex(part, r"(?m)^2027-03-31 15:00 CEST +1d before +2027-03-30 15:00 CEST "
                         r"+pending$")

    def test_session_waiting_position(self):
        s = self.run_json("session", "add", "--kind", "seminar", "--title", "Small room "
                          + unique(), "--start", "2027-05-05 15:00", "--duration", "1h",
                          "--capacity", "1")
        a, b = self.add_person("Ольга Кузнецова"), self.add_person("Mary Johnson")
        self.run_ok("enroll", str(s["id"]), a["email"], b["email"])
        out = self.run_ok("session", "show", str(s["id"]))
        self.assertRegex(out, rf"(?m)^ *{a['id']} +Ольга Кузнецова .* enrolled ")
        self.assertRegex(out, rf"(?m)^ *{b['id']} +Mary Johnson .* waiting, position 1 ")

    # -- status and help ------------------------------------------------
    def test_status_next_reminder(self):
        self.c.ok("session.add", {"kind": "webinar", "title": "Reminder " + unique(),
                                  "start": "2027-06-01T15:00", "duration": 60,
                                  "reminders": [60]})
        raw = self.c.ok("status")
        self.assertIsNotNone(raw["next_reminder"])
        out = self.run_ok("status")
        m = re.search(r"(?m)^next reminder: +(\S+ \S+ \S+)$", out)
        self.assertTrue(m, out)
        when = datetime.datetime.strptime(raw["next_reminder"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).astimezone(datetime.timezone(datetime.timedelta(hours=3)))
        self.assertEqual(m.group(1), f"{when:%Y-%m-%d %H:%M} MSK")
        st = self.run_json("status")
        self.assertIn("next_reminder", st)

    def test_help(self):
        missing = self.daemon.tmp + "/absent.sock"
        for words, needles in ((["course", "add"], ["--first-day", "--no-recertification"]),
                               (["course", "update"], ["--recertification", "--clear"]),
                               (["course", "cancel"], ["--reason"]),
                               (["course", "show"], []), (["course", "ls"], ["--from"]),
                               (["session", "update"], ["--occurrence"]),
                               (["session", "cancel"], ["--occurrence"]),
                               (["session", "ls"], ["--expand"])):
            with self.subTest(cmd=words):
                rc, out, err = cli(*(words + ["--help"]), sock=missing)
                self.assertEqual(rc, 0, (out, err))
                self.assertIn("usage: lectern " + " ".join(words), out)
                for n in needles:
                    self.assertIn(n, out)
        rc, out, err = cli("--help", sock=missing)
        self.assertIn("course add", out)
        rc, out, err = cli("course", "--help", sock=missing)
        self.assertEqual(rc, 0)
        for verb in ("add", "update", "cancel", "show", "ls"):
            self.assertIn("course " + verb, out)


if __name__ == "__main__":
    unittest.main()
