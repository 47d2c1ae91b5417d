"""CPD records on small, hand-made data (issue 5; docs/PROTOCOL.md, "CPD
records, recertification and reports"): every expected value here is
worked out from the specification, by hand or with cpd_district's
independent functions.

The daemon is build/lecternd-test with its clock on a chosen Moscow day.

Covered: attendance.mark and attendance.list (single sessions, series
occurrences, walk-ins, re-marking, the enrollment row, errors);
attendance.import of a Zoom participants report (columns by name, BOM,
rejoins added up, unknown and duplicate emails, bad rows, min_minutes,
importing twice, missing columns); the completion rule (75 % of the live
meetings, a cancelled occurrence or session not counted, the Moscow day of
the latest attended meeting (also of a moved occurrence), re-marking absent
removes an automatic completion and never a manual one, the configurable
share); report.hours' session hours of changed and moved occurrences;
course.complete,
training.record and training.import (with and without partial, twice,
columns in any order, line numbers, every error naming its field);
register numbers (format, per-year sequence, never reused, across a
restart); the status and the coverage window on and around 29 February
and a clock stepped from day to day (`today` is the Moscow day); priority
waitlists (waitlist_order = due_date, and fifo by default); and a reader
refused every W command while reading every report.
"""
import json
import os
import shutil
import subprocess
import unittest

import cpd_district as cd
from cpd_district import CpdCase, Completion, Date, REGISTER_NO, csv_text
from harness import unique


class Base(CpdCase):
    def teacher(self, name=None, **kw):
        tag = unique("t")
        return self.person(name or f"Teacher {tag}", f"{tag}@school.example", **kw)

    def session(self, start, duration=60, **kw):
        args = {"kind": "webinar", "title": "CPD session " + unique("s"), "start": start,
                "duration": duration, "tz": "Europe/Moscow", "reminders": []}
        args.update(kw)
        return self.c.ok("session.add", args)

    def mark(self, sid, people, state, occurrence=None):
        args = {"session": sid, "people": people, "state": state}
        if occurrence is not None:
            args["occurrence"] = occurrence
        return self.c.ok("attendance.mark", args)

    def register(self, **kw):
        return self.c.ok("completion.list", dict(kw, limit=1000000))


# --------------------------------------------------------------------------
# Attendance
# --------------------------------------------------------------------------

class Attendance(Base):
    def test_mark_single_session_and_list(self):
        s = self.session("2026-11-02T15:00")
        a = self.teacher("Anna Alpha", organization="School No. 5")
        b = self.teacher("Boris Beta")
        c = self.teacher("Clara Gamma")
        self.c.ok("enroll", {"session": s["id"], "people": [a["id"], c["id"]]})
        r = self.mark(s["id"], [a["id"], b["email"].upper()], "attended")
        self.assertEqual((r["session"], r["occurrence"], r["state"], r["completions"]),
                         (s["id"], None, "attended", []))
        self.assertEqual(sorted((x["id"], x["email"]) for x in r["marked"]),
                         sorted([(a["id"], a["email"]), (b["id"], b["email"])]))
        self.mark(s["id"], [c["email"]], "absent")
        rows = self.c.ok("attendance.list", {"session": s["id"]})
        self.assertEqual([(x["person"]["email"], x["name"], x["state"]) for x in rows],
                         [(a["email"], "Anna Alpha", "attended"),
                          (b["email"], "Boris Beta", "attended"),
                          (c["email"], "Clara Gamma", "absent")],
                         "ordered by name; a walk-in (Boris) counts")
        self.assertEqual(rows[0]["organization"], "School No. 5")
        for x in rows:
            self.assertEqual(set(x), {"person", "name", "organization", "occurrence", "state",
                                      "minutes", "source", "entered_by", "entered_at"}, x)
            self.assertIsNone(x["occurrence"])
            self.assertNotEqual(x["source"], "import")
            self.assertEnteredNow(x)
        enr = {e["email"]: e["attendance"] for e in
               self.c.ok("session.get", {"id": s["id"]})["enrollments"]}
        self.assertEqual(enr, {a["email"]: "attended", c["email"]: "absent"})
        # re-marking replaces the state: still one row each
        self.mark(s["id"], [a["id"]], "absent")
        rows = self.c.ok("attendance.list", {"session": s["id"]})
        self.assertEqual([(x["person"]["id"], x["state"]) for x in rows],
                         [(a["id"], "absent"), (b["id"], "attended"), (c["id"], "absent")])
        enr = {e["email"]: e["attendance"] for e in
               self.c.ok("session.get", {"id": s["id"]})["enrollments"]}
        self.assertEqual(enr[a["email"]], "absent")

    def test_mark_series_occurrences(self):
        s = self.session("2026-10-05T15:00", rrule="FREQ=WEEKLY;COUNT=3")
        self.c.ok("session.cancel", {"id": s["id"], "occurrence": "2026-10-12T15:00"})
        a, b = self.teacher("Anna Series"), self.teacher("Boris Series")
        self.assertFails("attendance.mark", {"session": s["id"], "people": [a["id"]],
                                             "state": "attended"},
                         "invalid_argument", "occurrence")
        for occ in ("2026-10-06T15:00", "2026-10-26T15:00", "2026-10-12T15:00"):
            with self.subTest(occurrence=occ):
                self.assertFails("attendance.mark", {"session": s["id"], "occurrence": occ,
                                                     "people": [a["id"]], "state": "attended"},
                                 "invalid_argument", "occurrence")
        self.mark(s["id"], [b["id"]], "attended", "2026-10-19T15:00")
        self.mark(s["id"], [a["id"]], "attended", "2026-10-05T12:00Z")   # 15:00 Moscow
        self.mark(s["id"], [a["id"]], "absent", "2026-10-19T15:00")
        rows = self.c.ok("attendance.list", {"session": s["id"]})
        self.assertEqual([(x["person"]["id"], x["state"]) for x in rows],
                         [(a["id"], "attended"), (a["id"], "absent"), (b["id"], "attended")],
                         "ordered by occurrence, then name")
        self.assertNotEqual(rows[0]["occurrence"], rows[1]["occurrence"])
        self.assertEqual(rows[1]["occurrence"], rows[2]["occurrence"])
        one = self.c.ok("attendance.list", {"session": s["id"], "occurrence": "2026-10-19T15:00"})
        self.assertEqual([(x["person"]["id"], x["state"]) for x in one],
                         [(a["id"], "absent"), (b["id"], "attended")])

    def test_mark_errors(self):
        s = self.session("2026-11-03T15:00")
        gone = self.session("2026-11-04T15:00")
        self.c.ok("session.cancel", {"id": gone["id"]})
        a = self.teacher()
        for args, code, field in [
            ({"session": gone["id"], "people": [a["id"]], "state": "attended"},
             "invalid_argument", "session"),
            ({"session": 999999, "people": [a["id"]], "state": "attended"}, "not_found",
             "session"),
            ({"session": s["id"], "people": [a["id"], "ghost@nowhere.example"],
              "state": "attended"}, "not_found", "people"),
            ({"session": s["id"], "people": [a["id"]], "state": "present"}, "invalid_argument",
             "state"),
            ({"session": s["id"], "state": "attended"}, "invalid_argument", "people"),
            ({"session": s["id"], "people": [a["id"]]}, "invalid_argument", "state"),
            ({"people": [a["id"]], "state": "attended"}, "invalid_argument", "session"),
            ({"session": s["id"], "people": [a["id"]], "state": "attended", "minutes": 5},
             "invalid_argument", None),
        ]:
            with self.subTest(args=args):
                self.assertFails("attendance.mark", args, code, field)
        self.assertEqual(self.c.ok("attendance.list", {"session": s["id"]}), [],
                         "a refused mark wrote nothing")
        self.assertFails("attendance.list", {}, "invalid_argument", "session")

    # -- attendance.import -------------------------------------------------------
    ZOOM_HEADER = ["Name (Original Name)", " User Email ", "Join Time", "Leave Time",
                   "Duration (Minutes)", "Guest"]

    def zoom(self, rows):
        """A Zoom participants export (BOM, CRLF) of (name, email, minutes)."""
        out = []
        for name, email, minutes in rows:
            out.append([name, email, "11/10/2026 03:00:05 PM", "11/10/2026 04:00:00 PM",
                        minutes, "No"])
        return csv_text(self.ZOOM_HEADER, out, bom=True)

    def test_import_zoom_participants(self):
        s = self.session("2026-11-10T15:00")
        ppl = {k: self.teacher(n) for k, n in (("anna", "Anna Import"), ("boris", "Boris Import"),
                                               ("clara", "Clara Import"),
                                               ("dmitry", "Dmitry Import"),
                                               ("olga", "Olga Import"), ("eva", "Eva Import"))}
        self.c.ok("enroll", {"session": s["id"], "people": [p["id"] for p in ppl.values()]})
        e = {k: p["email"] for k, p in ppl.items()}
        csv = self.zoom([
            ("Anna Import", e["anna"], "45"),                       # line 2
            ("Boris Import", e["boris"].upper(), "30"),             # 3
            ("Anna Import", e["anna"], "20"),                       # 4: rejoined (65 in all)
            ("Unknown Person", "stranger@elsewhere.example", "50"),  # 5
            ("Phone user", "", "12"),                               # 6: no email
            ("Import, Clara", e["clara"], "39"),                    # 7: just under 40
            ("Olga Import", e["olga"], "abc"),                      # 8: minutes not a number
            ("Boris Import", e["boris"], "15"),                     # 9: 45 in all
            ("Dmitry Import", e["dmitry"], "40"),                   # 10: exactly 40
            ("Second Stranger", "unknown2@elsewhere.example", "5"),  # 11
            ("Bad Address", "not-an-email", "10"),                  # 12
        ])
        args = {"session": s["id"], "csv": csv, "email_column": "USER EMAIL",
                "minutes_column": "duration (minutes)", "min_minutes": 40}
        r = self.c.ok("attendance.import", args)
        self.assertEqual((r["attended"], r["absent"], r["duplicates"]), (3, 1, 2), r)
        self.assertEqual(sorted(r["unknown"]), ["stranger@elsewhere.example",
                                                "unknown2@elsewhere.example"])
        self.assertEqual(sorted(x["line"] for x in r["errors"]), [6, 8, 12], r["errors"])
        for x in r["errors"]:
            self.assertTrue(x["message"], x)
        self.assertEqual(r["completions"], [])
        rows = self.c.ok("attendance.list", {"session": s["id"]})
        got = [(x["person"]["email"], x["state"], x["minutes"], x["source"]) for x in rows]
        want = [(e["anna"], "attended", 65, "import"), (e["boris"], "attended", 45, "import"),
                (e["clara"], "absent", 39, "import"), (e["dmitry"], "attended", 40, "import")]
        self.assertEqual(got, want, "Olga's only row was bad and Eva is not in the report: "
                         "neither is marked; nobody unknown is invented")
        for x in rows:
            self.assertEnteredNow(x)
        self.assertEqual([p for p in self.c.ok("person.list", {"limit": 10000})
                          if "elsewhere.example" in p["email"]], [])
        # the same report again changes nothing (minutes are not added twice)
        r2 = self.c.ok("attendance.import", args)
        self.assertEqual({k: r2[k] for k in ("attended", "absent", "duplicates")},
                         {"attended": 3, "absent": 1, "duplicates": 2})
        self.assertEqual(self.c.ok("attendance.list", {"session": s["id"]}), rows)

    def test_import_columns_and_defaults(self):
        s = self.session("2026-11-11T15:00")
        a, b = self.teacher("Anna Default"), self.teacher("Boris Default")
        before = self.c.ok("attendance.list", {"session": s["id"]})
        zoom = self.zoom([("Anna Default", a["email"], "45")])
        # the default columns (email, duration) are not in a Zoom export
        self.assertFails("attendance.import", {"session": s["id"], "csv": zoom},
                         "invalid_argument", "email_column")
        self.assertFails("attendance.import", {"session": s["id"], "csv": zoom,
                                               "email_column": "user email"},
                         "invalid_argument", "minutes_column")
        self.assertFails("attendance.import", {"session": s["id"], "csv": zoom,
                                               "email_column": "e-mail",
                                               "minutes_column": "duration (minutes)"},
                         "invalid_argument", "email_column")
        self.assertFails("attendance.import", {"session": s["id"], "csv": zoom,
                                               "email_column": "user email",
                                               "minutes_column": "duration (minutes)",
                                               "min_minutes": -1},
                         "invalid_argument", "min_minutes")
        self.assertFails("attendance.import", {"session": 999999, "csv": zoom},
                         "not_found", "session")
        gone = self.session("2026-11-12T15:00")
        self.c.ok("session.cancel", {"id": gone["id"]})
        self.assertFails("attendance.import", {"session": gone["id"],
                                               "csv": f"email,duration\n{a['email']},5\n"},
                         "invalid_argument", "session")
        self.assertEqual(self.c.ok("attendance.list", {"session": s["id"]}), before)
        # default columns "email" and "duration", min_minutes 0: everyone attended
        r = self.c.ok("attendance.import", {"session": s["id"],
                                            "csv": f"Email,Duration\n{a['email']},0\n"
                                                   f"{b['email']},3\n"})
        self.assertEqual((r["attended"], r["absent"], r["unknown"], r["errors"]),
                         (2, 0, [], []))

    def test_import_series_occurrence(self):
        s = self.session("2026-09-07T16:00", rrule="FREQ=WEEKLY;COUNT=2")
        a = self.teacher("Anna Occurrence")
        csv = f"email,duration\n{a['email']},50\n"
        self.assertFails("attendance.import", {"session": s["id"], "csv": csv},
                         "invalid_argument", "occurrence")
        self.assertFails("attendance.import", {"session": s["id"], "csv": csv,
                                               "occurrence": "2026-09-08T16:00"},
                         "invalid_argument", "occurrence")
        r = self.c.ok("attendance.import", {"session": s["id"], "csv": csv,
                                            "occurrence": "2026-09-14T16:00"})
        self.assertEqual(r["attended"], 1)
        rows = self.c.ok("attendance.list", {"session": s["id"]})
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["minutes"], 50)
        self.assertEqual(self.c.ok("attendance.list", {"session": s["id"],
                                                       "occurrence": "2026-09-07T16:00"}), [])


# --------------------------------------------------------------------------
# The completion rule
# --------------------------------------------------------------------------

class CompletionRule(Base):
    """A course with a closing session at 00:30 Moscow on 10 November (the
    9th in UTC) and a weekly series of four from 12 October whose third
    occurrence (26 October) is cancelled: four live meetings."""

    def setUp(self):
        super().setUp()
        self.course = self.c.ok("course.add", {
            "title": "Mentoring new teachers " + unique("c"), "first_day": "2026-10-01",
            "last_day": "2026-11-15", "provider": "District office"})
        cid = self.course["id"]
        self.series = self.session("2026-10-12T15:00", rrule="FREQ=WEEKLY;COUNT=4", course=cid)
        self.closing = self.session("2026-11-10T00:30", course=cid)
        self.c.ok("session.cancel", {"id": self.series["id"], "occurrence": "2026-10-26T15:00"})

    def at(self, people, state, meeting):
        """meeting: '10-12', '10-19', '10-26', '11-02' (the series) or 'closing'."""
        if meeting == "closing":
            return self.mark(self.closing["id"], people, state)
        return self.mark(self.series["id"], people, state, f"2026-{meeting}T15:00")

    def completions_of(self, person):
        return self.register(course=self.course["id"], person=person["id"])

    def test_share_of_live_meetings(self):
        p = self.teacher("Pavel Rule")
        self.assertEqual(self.at([p["id"]], "attended", "11-02")["completions"], [])
        self.assertEqual(self.at([p["id"]], "attended", "10-12")["completions"], [])
        r = self.at([p["id"]], "attended", "closing")
        # 3 of 4 live meetings: 75 % (3 of 5 if the cancelled one counted: 60 %)
        self.assertEqual(len(r["completions"]), 1, "3 of the 4 live meetings is 75 %: " + str(r))
        x = r["completions"][0]
        self.assertCompletionShape(x)
        self.assertEnteredNow(x)
        self.assertEqual((x["person"]["id"], x["course"], x["title"], x["provider"], x["hours"],
                          x["completed_on"], x["counts_for_recertification"], x["source"]),
                         (p["id"], self.course["id"], self.course["title"], "District office", 0,
                          "2026-11-10", True, "attendance"),
                         "dated the Moscow day of the latest attended meeting (not UTC's "
                         "9 November, not today); a course without hours gives 0")
        self.assertEqual(self.completions_of(p), [x])
        # the cancelled meeting cannot be marked
        self.assertFails("attendance.mark", {"session": self.series["id"], "people": [p["id"]],
                                             "state": "attended",
                                             "occurrence": "2026-10-26T15:00"},
                         "invalid_argument", "occurrence")
        # attending a fourth meeting changes nothing
        self.assertEqual(self.at([p["id"]], "attended", "10-19")["completions"], [])
        self.assertEqual(self.completions_of(p), [x])

    def test_two_of_four_is_not_enough(self):
        q = self.teacher("Quentin Rule")
        self.at([q["id"]], "attended", "10-12")
        self.at([q["id"]], "attended", "10-19")
        self.assertEqual(self.at([q["id"]], "absent", "11-02")["completions"], [])
        self.assertEqual(self.at([q["id"]], "absent", "closing")["completions"], [])
        self.assertEqual(self.completions_of(q), [])

    def test_remarking_absent_removes_automatic_completion(self):
        p = self.teacher("Polina Rule")
        for m in ("10-12", "10-19", "11-02"):
            r = self.at([p["id"]], "attended", m)
        [x] = r["completions"]
        self.assertEqual(x["completed_on"], "2026-11-02")
        r = self.at([p["id"]], "absent", "10-19")
        self.assertEqual(r["completions"], [])
        self.assertEqual(self.completions_of(p), [], "below 75 % again: the completion goes")
        # attending again: a new completion with a new register number
        r = self.at([p["id"]], "attended", "closing")
        [y] = r["completions"]
        self.assertEqual(y["completed_on"], "2026-11-10")
        self.assertNotEqual(y["register_no"], x["register_no"])
        self.assertGreater(y["register_no"], x["register_no"])
        self.assertEqual(self.completions_of(p), [y])

    def test_manual_completion_is_never_removed(self):
        r_ = self.teacher("Raisa Rule")
        done = self.c.ok("course.complete", {"course": self.course["id"], "people": [r_["id"]],
                                             "completed_on": "2026-10-20", "hours": 12})
        [m] = done["completed"]
        self.assertEqual((m["source"], m["hours"], m["completed_on"]), ("manual", 12,
                                                                        "2026-10-20"))
        for meeting in ("10-12", "10-19", "11-02"):
            self.at([r_["id"]], "attended", meeting)
        self.assertEqual(self.completions_of(r_), [m], "one completion of a course each")
        self.at([r_["id"]], "absent", "10-19")
        self.at([r_["id"]], "absent", "11-02")
        self.assertEqual(self.completions_of(r_), [m], "a manual completion stays")

    def test_course_complete_reports_already(self):
        p = self.teacher("Pyotr Rule")
        for m in ("closing", "10-12", "10-19"):
            r = self.at([p["id"]], "attended", m)
        [x] = r["completions"]
        q = self.teacher("Quinn Rule")
        done = self.c.ok("course.complete", {"course": self.course["id"],
                                             "people": [p["email"], q["id"]]})
        self.assertEqual(done["already"], [{"id": p["id"], "email": p["email"],
                                            "register_no": x["register_no"]}])
        [y] = done["completed"]
        self.assertEqual((y["person"]["id"], y["completed_on"], y["hours"], y["source"]),
                         (q["id"], "2026-11-23", 0, "manual"),
                         "default date today, default hours the course's (none: 0)")
        self.assertEqual(self.completions_of(p), [x])

    def test_import_creates_completion(self):
        t = self.teacher("Taisia Rule")
        self.at([t["id"]], "attended", "10-12")
        self.at([t["id"]], "attended", "11-02")
        r = self.c.ok("attendance.import", {"session": self.series["id"],
                                            "occurrence": "2026-10-19T15:00",
                                            "csv": f"email,duration\n{t['email']},55\n",
                                            "min_minutes": 45})
        [x] = r["completions"]
        self.assertEqual((x["person"]["id"], x["completed_on"], x["source"]),
                         (t["id"], "2026-11-02", "attendance"))
        # and a report under min_minutes re-marks absent: the completion goes
        r = self.c.ok("attendance.import", {"session": self.series["id"],
                                            "occurrence": "2026-10-19T15:00",
                                            "csv": f"email,duration\n{t['email']},30\n",
                                            "min_minutes": 45})
        self.assertEqual((r["attended"], r["absent"], r["completions"]), (0, 1, []))
        self.assertEqual(self.completions_of(t), [])


class CompletionMeetings(Base):
    """Which meetings count, and on which day a moved one took place."""

    def test_cancelled_session_not_counted(self):
        co = self.c.ok("course.add", {"title": "Five sessions " + unique("c"),
                                      "first_day": "2026-09-01", "last_day": "2026-09-30",
                                      "hours": 20})
        ss = [self.session(f"2026-09-{d:02d}T15:00", course=co["id"]) for d in (1, 8, 15, 22, 29)]
        self.c.ok("session.cancel", {"id": ss[4]["id"], "reason": "the trainer is ill"})
        p = self.teacher()
        for s in ss[:2]:
            self.assertEqual(self.mark(s["id"], [p["id"]], "attended")["completions"], [])
        [x] = self.mark(ss[2]["id"], [p["id"]], "attended")["completions"]
        self.assertEqual((x["completed_on"], x["hours"]), ("2026-09-15", 20),
                         "3 of the 4 live sessions (the cancelled fifth does not count)")

    def test_moved_occurrence(self):
        co = self.c.ok("course.add", {"title": "Moved meeting " + unique("c"),
                                      "first_day": "2026-10-01", "last_day": "2026-10-31"})
        s = self.session("2026-10-05T15:00", rrule="FREQ=WEEKLY;COUNT=3", course=co["id"])
        self.c.ok("session.update", {"id": s["id"], "occurrence": "2026-10-19T15:00",
                                     "start": "2026-10-22T15:00"})
        p = self.teacher()
        # the occurrence is named by its original start
        self.assertFails("attendance.mark", {"session": s["id"], "people": [p["id"]],
                                             "state": "attended",
                                             "occurrence": "2026-10-22T15:00"},
                         "invalid_argument", "occurrence")
        self.mark(s["id"], [p["id"]], "attended", "2026-10-05T15:00")
        self.mark(s["id"], [p["id"]], "attended", "2026-10-12T15:00")
        [x] = self.mark(s["id"], [p["id"]], "attended", "2026-10-19T15:00")["completions"]
        self.assertEqual(x["completed_on"], "2026-10-22",
                         "the latest attended meeting took place on 22 October")

    def test_session_hours_of_changed_occurrences(self):
        """report.hours' sessions: each attended occurrence with its own
        duration and on its own day; absent and course meetings not."""
        org = "Hours School " + unique("o")
        p = self.teacher(organization=org)
        s = self.session("2026-10-05T15:00", duration=60, rrule="FREQ=WEEKLY;COUNT=3")
        self.c.ok("session.update", {"id": s["id"], "occurrence": "2026-10-12T15:00",
                                     "duration": 90})
        self.c.ok("session.update", {"id": s["id"], "occurrence": "2026-10-19T15:00",
                                     "start": "2026-11-02T15:00"})
        one = self.session("2026-10-07T10:00", duration=48)
        co = self.c.ok("course.add", {"title": "Not session hours " + unique("c"),
                                      "first_day": "2026-10-01", "last_day": "2026-10-31"})
        meeting = self.session("2026-10-08T10:00", duration=120, course=co["id"])
        for occ in ("2026-10-05T15:00", "2026-10-12T15:00", "2026-10-19T15:00"):
            self.mark(s["id"], [p["id"]], "attended", occ)
        self.mark(one["id"], [p["id"]], "absent")
        self.mark(meeting["id"], [p["id"]], "attended")     # completes the course: 0 hours
        x = self.c.ok("training.record", {"person": p["id"], "title": "Elsewhere", "hours": 2.5,
                                          "completed_on": "2026-10-20"})
        self.assertEqual(x["hours"], 2.5)

        def row(frm, to):
            r = self.c.ok("report.hours", {"from": frm, "to": to, "person": p["id"]})
            self.assertLessEqual(len(r["rows"]), 1)
            if not r["rows"]:
                return None
            x = r["rows"][0]
            return (x["sessions"], x["courses"], x["external"], x["total"])

        self.assertEqual(row("2026-10-01", "2026-11-30"), (3.5, 0, 2.5, 6))
        self.assertEqual(row("2026-10-01", "2026-10-31"), (2.5, 0, 2.5, 5),
                         "the moved occurrence took place in November")
        self.assertEqual(row("2026-11-01", "2026-11-30"), (1, 0, 0, 1))
        r = self.c.ok("report.hours", {"from": "2026-10-01", "to": "2026-11-30",
                                       "by": "organization", "organization": org})
        self.assertEqual([(x["organization"], x["sessions"], x["total"]) for x in r["rows"]],
                         [(org, 3.5, 6)])


class CompletionShare(Base):
    """[recertification] completion_attendance = 50%."""
    overrides = {"recertification": {"completion_attendance": "50%"}}

    def test_configured_share(self):
        co = self.c.ok("course.add", {"title": "Half is enough", "first_day": "2026-09-01",
                                      "last_day": "2026-09-30", "hours": 8,
                                      "counts_for_recertification": False})
        s = self.session("2026-09-01T15:00", rrule="FREQ=WEEKLY;COUNT=4", course=co["id"])
        p = self.teacher()
        r = self.mark(s["id"], [p["id"]], "attended", "2026-09-08T15:00")
        self.assertEqual(r["completions"], [], "1 of 4 is 25 %")
        r = self.mark(s["id"], [p["id"]], "attended", "2026-09-01T15:00")
        [x] = r["completions"]
        self.assertEqual((x["completed_on"], x["hours"], x["counts_for_recertification"]),
                         ("2026-09-08", 8, False), "2 of 4 is 50 %; the course's flag and hours")


# --------------------------------------------------------------------------
# course.complete, training.record, training.import
# --------------------------------------------------------------------------

class Records(Base):
    def test_course_complete(self):
        co = self.c.ok("course.add", {"title": "Inclusive classroom " + unique("c"),
                                      "first_day": "2026-02-01", "last_day": "2026-02-28",
                                      "hours": 24, "counts_for_recertification": False})
        a, b, c = self.teacher(), self.teacher(), self.teacher()
        r = self.c.ok("course.complete", {"course": co["id"], "people": [a["id"]]})
        [x] = r["completed"]
        self.assertCompletionShape(x)
        self.assertEnteredNow(x)
        self.assertEqual((x["completed_on"], x["hours"], x["counts_for_recertification"],
                          x["course"], x["title"], x["source"], x["register_no"][:4]),
                         ("2026-11-23", 24, False, co["id"], co["title"], "manual", "2026"))
        r = self.c.ok("course.complete", {"course": co["id"], "people": [b["email"]],
                                          "completed_on": "2026-02-28", "hours": 7.5})
        self.assertEqual((r["completed"][0]["completed_on"], r["completed"][0]["hours"]),
                         ("2026-02-28", 7.5))
        for args, code, field in [
            ({"course": co["id"], "people": [c["id"]], "completed_on": "2026-11-24"},
             "invalid_argument", "completed_on"),
            ({"course": co["id"], "people": [c["id"]], "completed_on": "2026-02-29"},
             "invalid_argument", "completed_on"),
            ({"course": co["id"], "people": [c["id"]], "completed_on": "2026/02/01"},
             "invalid_argument", "completed_on"),
            ({"course": co["id"], "people": [c["id"]], "hours": -1}, "invalid_argument",
             "hours"),
            ({"course": co["id"], "people": [c["id"]], "hours": "24"}, "invalid_argument",
             "hours"),
            ({"course": 999999, "people": [c["id"]]}, "not_found", "course"),
            ({"course": co["id"], "people": [c["id"], "ghost@nowhere.example"]}, "not_found",
             "people"),
            ({"course": co["id"], "people": [c["id"], 999999]}, "not_found", "people"),
            ({"course": co["id"]}, "invalid_argument", "people"),
            ({"people": [c["id"]]}, "invalid_argument", "course"),
        ]:
            with self.subTest(args=args):
                self.assertFails("course.complete", args, code, field)
        self.assertEqual(self.register(person=c["id"]), [], "a failed command writes nothing")

    def test_training_record(self):
        a = self.teacher(organization="Gymnasium No. 1")
        x = self.c.ok("training.record", {"person": a["email"].upper(),
                                          "title": "Teaching gifted children",
                                          "hours": 16.5, "completed_on": "2025-04-30"})
        self.assertCompletionShape(x)
        self.assertEnteredNow(x)
        self.assertEqual((x["person"], x["name"], x["organization"], x["course"], x["provider"],
                          x["hours"], x["completed_on"], x["counts_for_recertification"],
                          x["source"]),
                         ({"id": a["id"], "email": a["email"]}, a["name"], "Gymnasium No. 1",
                          None, None, 16.5, "2025-04-30", True, "manual"))
        y = self.c.ok("training.record", {"person": a["id"], "title": "Safeguarding",
                                          "provider": "Red Cross", "hours": 0,
                                          "completed_on": "2026-11-23",
                                          "counts_for_recertification": False})
        self.assertEqual((y["provider"], y["hours"], y["counts_for_recertification"]),
                         ("Red Cross", 0, False))
        # at most one decimal is kept (how 16.25 rounds is not specified)
        z = self.c.ok("training.record", {"person": a["id"], "title": "Quarter hours",
                                          "hours": 16.25, "completed_on": "2025-05-05"})
        self.assertIn(round(z["hours"] * 100), (1620, 1630), z)
        self.assertEqual([x["hours"] for x in self.register(person=a["id"])
                          if x["title"] == "Quarter hours"], [z["hours"]])
        good = {"person": a["id"], "title": "T", "hours": 8, "completed_on": "2025-01-01"}
        for change, code, field in [
            ({"completed_on": "2026-11-24"}, "invalid_argument", "completed_on"),
            ({"completed_on": "2025-02-29"}, "invalid_argument", "completed_on"),
            ({"completed_on": "2025-1-1"}, "invalid_argument", "completed_on"),
            ({"completed_on": None}, "invalid_argument", "completed_on"),
            ({"hours": None}, "invalid_argument", "hours"),
            ({"hours": -0.5}, "invalid_argument", "hours"),
            ({"hours": "8"}, "invalid_argument", "hours"),
            ({"title": None}, "invalid_argument", "title"),
            ({"title": ""}, "invalid_argument", "title"),
            ({"person": "ghost@nowhere.example"}, "not_found", "person"),
            ({"person": 999999}, "not_found", "person"),
            ({"person": None}, "invalid_argument", "person"),
            ({"counts_for_recertification": "yes"}, "invalid_argument",
             "counts_for_recertification"),
            ({"course": 1}, "invalid_argument", None),
        ]:
            args = {k: v for k, v in dict(good, **change).items() if v is not None}
            with self.subTest(args=args):
                self.assertFails("training.record", args, code, field)
        self.assertEqual(len(self.register(person=a["id"])), 3)

    # -- training.import ----------------------------------------------------------
    def import_file(self):
        g1, g2, g3 = self.teacher("Galina Import"), self.teacher("Gleb Import"), \
            self.teacher("Grigory Import")
        rows = [
            [g1["email"].upper(), "Assessment literacy", "RIED", "36", "2025-03-01", "yes"],  # 2
            ["ghost@nowhere.example", "X", "P", "10", "2025-03-01", "1"],                     # 3
            [g2["email"], "", "P", "10", "2025-03-01", "1"],                                  # 4
            [g2["email"], "Y", "P", "ten", "2025-03-01", ""],                                 # 5
            [g2["email"], "Z", "P", "10", "2025-02-29", "no"],                                # 6
            [g2["email"], "W", "P", "10", "2026-11-24", "true"],                              # 7
            [g3["email"], "V", "P", "10", "2024-01-15", "maybe"],                             # 8
            [g3["email"], "U", "", "8.5", "2024-01-15", "0"],                                 # 9
            [g2["email"], "H", "P", "-2", "2024-01-15", "1"],                                 # 10
        ]
        header = ["email", "title", "provider", "hours", "completed_on",
                  "counts_for_recertification"]
        bad = {3: "email", 4: "title", 5: "hours", 6: "completed_on", 7: "completed_on",
               8: "counts_for_recertification", 10: "hours"}
        return (g1, g2, g3), csv_text(header, rows), bad

    def test_training_import_all_or_nothing(self):
        (g1, g2, g3), text, bad = self.import_file()
        before = self.register()
        e = self.assertFails("training.import", {"csv": text}, "invalid_argument", "csv")
        self.assertEqual({x["line"]: x["field"] for x in e["errors"]}, bad, e)
        for x in e["errors"]:
            self.assertTrue(x["message"], x)
        self.assertEqual(self.register(), before, "nothing written on a bad row")
        # partial: the good rows are written, the bad ones reported
        r = self.c.ok("training.import", {"csv": text, "partial": True})
        self.assertEqual((r["recorded"], r["duplicates"]), (2, 0), r)
        self.assertEqual({x["line"]: x["field"] for x in r["errors"]}, bad)
        got = sorted((x["person"]["id"], x["title"], x["provider"], x["hours"], x["completed_on"],
                      x["counts_for_recertification"], x["source"], x["course"])
                     for x in self.register(source="import")
                     if x["person"]["id"] in (g1["id"], g2["id"], g3["id"]))
        self.assertEqual(got, sorted([
            (g1["id"], "Assessment literacy", "RIED", 36, "2025-03-01", True, "import", None),
            (g3["id"], "U", None, 8.5, "2024-01-15", False, "import", None)]))
        # again: both good rows are duplicates, nothing new
        after = self.register()
        r = self.c.ok("training.import", {"csv": text, "partial": True})
        self.assertEqual((r["recorded"], r["duplicates"]), (0, 2), r)
        self.assertEqual(self.register(), after)

    def test_training_import_twice_changes_nothing(self):
        a, b = self.teacher("Alla Twice"), self.teacher("Bogdan Twice")
        # columns in another order, names in other cases, no provider and no
        # counts column: provider null, counts yes
        text = ("Hours,COMPLETED_ON,Title,Email\n"
                f"36,2024-09-01,Project-based learning,{a['email']}\n"
                f"18.5,2025-10-10,\"Functional literacy, part 2\",{b['email']}\n"
                f"18.5,2025-10-11,\"Functional literacy, part 2\",{b['email']}\n")
        r = self.c.ok("training.import", {"csv": text})
        self.assertEqual((r["recorded"], r["duplicates"], r["errors"]), (3, 0, []))
        mine = lambda: [x for x in self.register() if x["person"]["id"] in (a["id"], b["id"])]
        first = mine()
        self.assertEqual(sorted((x["title"], x["provider"], x["hours"], x["completed_on"],
                                 x["counts_for_recertification"]) for x in first),
                         [("Functional literacy, part 2", None, 18.5, "2025-10-10", True),
                          ("Functional literacy, part 2", None, 18.5, "2025-10-11", True),
                          ("Project-based learning", None, 36, "2024-09-01", True)])
        r = self.c.ok("training.import", {"csv": text})
        self.assertEqual((r["recorded"], r["duplicates"], r["errors"]), (0, 3, []))
        self.assertEqual(mine(), first)
        # the same training from another provider is another completion
        r = self.c.ok("training.import", {"csv": "email,title,provider,hours,completed_on\n"
                                                 f"{a['email']},Project-based learning,"
                                                 "Academy,36,2024-09-01\n"})
        self.assertEqual((r["recorded"], r["duplicates"]), (1, 0))

    def test_training_import_counts_values(self):
        a = self.teacher()
        values = {"1": True, "0": False, "yes": True, "no": False, "true": True,
                  "false": False, "": True, "YES": True, "False": False}
        rows = [[a["email"], f"Course {i}", "P", "10", f"2025-06-{i + 1:02d}", v]
                for i, v in enumerate(values)]
        r = self.c.ok("training.import", {"csv": csv_text(
            ["email", "title", "provider", "hours", "completed_on",
             "counts_for_recertification"], rows)})
        self.assertEqual(r["recorded"], len(values))
        got = {x["title"]: x["counts_for_recertification"] for x in self.register(person=a["id"])}
        self.assertEqual(got, {f"Course {i}": want for i, want in enumerate(values.values())})

    def test_training_import_line_numbers_and_columns(self):
        a = self.teacher()
        # a quoted title spanning two lines (a title may not hold a newline):
        # the next record starts on line 4
        text = ("email,title,hours,completed_on\r\n"
                f"{a['email']},\"Two-line\r\ntitle\",10,2025-01-01\r\n"
                f"{a['email']},Bad date,10,2025-13-01\r\n")
        e = self.assertFails("training.import", {"csv": text}, "invalid_argument", "csv")
        self.assertEqual(sorted((x["line"], x["field"]) for x in e["errors"]),
                         [(2, "title"), (4, "completed_on")])
        for header, missing in (("email,title,provider,completed_on", "hours"),
                                ("title,hours,completed_on", "email"),
                                ("email,hours,completed_on", "title"),
                                ("email,title,hours", "completed_on")):
            with self.subTest(missing=missing):
                e = self.assertFails("training.import", {"csv": header + "\n"}, "invalid_argument",
                                     "csv")
                self.assertIn(missing, e["message"])
        self.assertFails("training.import", {"csv": text, "partial": "yes"}, "invalid_argument",
                         "partial")
        self.assertFails("training.import", {}, "invalid_argument", "csv")
        self.assertEqual(self.register(person=a["id"]), [])


# --------------------------------------------------------------------------
# Register numbers
# --------------------------------------------------------------------------

class RegisterNumbers(Base):
    """A fresh daemon: the numbers start at 1 in each year."""

    def test_numbers(self):
        a, b, c = self.teacher(), self.teacher(), self.teacher()

        def rec(on, person=a):
            return self.c.ok("training.record", {"person": person["id"], "title": "T " + unique("x"),
                                                 "hours": 10, "completed_on": on})["register_no"]

        self.assertEqual(rec("2025-03-01"), "2025-000001")
        self.assertEqual(rec("2026-01-10"), "2026-000001")
        self.assertEqual(rec("2025-12-31"), "2025-000002", "numbered by completed_on's year")
        co = self.c.ok("course.add", {"title": "Numbered", "first_day": "2025-06-01",
                                      "last_day": "2025-06-01", "hours": 4})
        r = self.c.ok("course.complete", {"course": co["id"], "people": [b["id"], c["id"]],
                                          "completed_on": "2025-06-01"})
        nos = sorted(x["register_no"] for x in r["completed"])
        self.assertEqual(nos, ["2025-000003", "2025-000004"])
        last = max(r["completed"], key=lambda x: x["register_no"])
        removed = self.c.ok("completion.remove", {"id": last["id"]})["removed"]
        self.assertEqual(removed["register_no"], "2025-000004")
        self.assertEqual(removed["id"], last["id"])
        self.assertFails("completion.remove", {"id": last["id"]}, "not_found", "id")
        self.assertFails("completion.remove", {}, "invalid_argument", "id")
        self.assertEqual(rec("2025-01-01"), "2025-000005", "the removed last number is not reused")
        r = self.c.ok("training.import", {"csv": "email,title,hours,completed_on\n"
                                                 f"{a['email']},First row,5,2025-08-01\n"
                                                 f"{b['email']},Second row,5,2025-02-01\n"})
        self.assertEqual(r["recorded"], 2)
        got = {x["title"]: x for x in self.register(source="import")}
        self.assertEqual((got["First row"]["register_no"], got["Second row"]["register_no"]),
                         ("2025-000006", "2025-000007"), "in the file's order")
        self.c.ok("completion.remove", {"id": got["Second row"]["id"]})
        self.c.close()
        self.daemon.restart()
        self.__class__.c = self.daemon.client(timeout=60)
        self.assertEqual(rec("2025-07-07"), "2025-000008", "not reused after a restart either")
        # a completion by the rule, removed by re-marking, then made again
        co2 = self.c.ok("course.add", {"title": "One meeting", "first_day": "2026-11-02",
                                       "last_day": "2026-11-02"})
        s = self.session("2026-11-02T10:00", course=co2["id"])
        [x] = self.mark(s["id"], [c["id"]], "attended")["completions"]
        self.assertEqual(x["register_no"], "2026-000002")
        self.mark(s["id"], [c["id"]], "absent")
        [y] = self.mark(s["id"], [c["id"]], "attended")["completions"]
        self.assertEqual(y["register_no"], "2026-000003")
        nos = sorted(x["register_no"] for x in self.register())
        self.assertEqual(nos, ["2025-000001", "2025-000002", "2025-000003", "2025-000005",
                               "2025-000006", "2025-000008", "2026-000001", "2026-000003"])
        for n in nos:
            self.assertRegex(n, REGISTER_NO)


# --------------------------------------------------------------------------
# Status boundaries with the clock
# --------------------------------------------------------------------------

class Boundaries(Base):
    """A daemon whose clock starts on 28 February 2027 and is stepped to
    1 March 2027 and to 29 February 2028 (default configuration: cycle 3y,
    due_soon 180d, min_hours 0)."""
    now = "2027-02-28T12:00"

    def status_of(self, people, as_of=None):
        args = {} if as_of is None else {"as_of": as_of}
        r = self.c.ok("report.recertification", args)
        by = {x["id"]: x for x in r["people"]}
        return r["as_of"], [(by[p["id"]]["status"], by[p["id"]]["due"], by[p["id"]]["days_left"])
                            for p in people]

    def coverage(self, org):
        r = self.c.ok("report.coverage", {"organization": org})
        t = r["total"]
        return (r["from"], r["to"], t["total"], t["trained"], t["percent"])

    def test_leap_day_cycle(self):
        self.set_now(self.daemon, "2027-02-28T12:00")
        self.wait_today("2027-02-28")
        org = "Leap School " + unique("o")
        L = self.teacher("Leap Day", organization=org)
        M = self.teacher("Day Before Leap", organization=org)
        N = self.teacher("Day After Leap", organization=org)
        comps = []
        for p, on in ((L, "2024-02-29"), (M, "2024-02-28"), (N, "2024-03-01")):
            self.c.ok("training.record", {"person": p["id"], "title": "Cycle", "hours": 36,
                                          "completed_on": on})
            comps.append(Completion(p["email"], "Cycle", None, 360, Date.fromisoformat(on), True))
        people = [L, M, N]

        # 28 February 2027: 2024-02-29 + 3y = 2027-02-28, due exactly today
        self.assertEqual(self.status_of(people),
                         ("2027-02-28", [("due_soon", "2027-02-28", 0),
                                         ("due_soon", "2027-02-28", 0),
                                         ("due_soon", "2027-03-01", 1)]))
        # the window starts on the first day not overdue today: 2024-02-28
        # (due 2027-02-28), so everyone due_soon counts as trained
        self.assertEqual(self.coverage(org), ("2024-02-28", "2027-02-28", 3, 3, 100))

        # 1 March 2027
        self.set_now(self.daemon, "2027-03-01T12:00")
        self.wait_today("2027-03-01")
        self.assertEqual(self.status_of(people)[1], [("overdue", "2027-02-28", -1),
                                                     ("overdue", "2027-02-28", -1),
                                                     ("due_soon", "2027-03-01", 0)])
        # only N (due today) is not overdue: 1 of 3 trained
        self.assertEqual(self.coverage(org), ("2024-03-01", "2027-03-01", 3, 1, 33.3))
        self.assertFails("training.record", {"person": N["id"], "title": "Tomorrow", "hours": 1,
                                             "completed_on": "2027-03-02"},
                         "invalid_argument", "completed_on")
        self.c.ok("training.record", {"person": N["id"], "title": "Renewal", "hours": 36,
                                      "completed_on": "2027-03-01"})
        comps.append(Completion(N["email"], "Renewal", None, 360, Date(2027, 3, 1), True))
        self.assertEqual(self.status_of(people)[1][2], ("ok", "2030-03-01", 1096))

        # 29 February 2028
        self.set_now(self.daemon, "2028-02-29T12:00")
        self.wait_today("2028-02-29")
        O = self.teacher("Old Year End", organization=org)
        P = self.teacher("New Spring", organization=org)
        Q = self.teacher("Leap Today", organization=org)
        for p, on in ((O, "2025-02-28"), (P, "2025-03-01"), (Q, "2028-02-29")):
            self.c.ok("training.record", {"person": p["id"], "title": "Cycle", "hours": 36,
                                          "completed_on": on})
            comps.append(Completion(p["email"], "Cycle", None, 360, Date.fromisoformat(on), True))
        self.assertEqual(self.status_of([O, P, Q]),
                         ("2028-02-29", [("overdue", "2028-02-28", -1),
                                         ("due_soon", "2028-03-01", 1),
                                         ("ok", "2031-02-28", 1095)]))
        # the window: 2028-02-29 minus 3y is 2025-02-28, plus a day: 1 March
        everyone = [cd.Person(p["name"], p["email"]) for p in (L, M, N, O, P, Q)]
        _, tot = cd.coverage(everyone, comps, Date(2025, 3, 1), Date(2028, 2, 29))
        self.assertEqual(self.coverage(org), ("2025-03-01", "2028-02-29", 6, tot["trained"],
                                              tot["percent"]))
        self.assertEqual(tot["trained"], 3)     # N's renewal, P and Q; not O

    def test_today_is_the_moscow_day(self):
        a = self.teacher("Night Owl")
        # 00:30 in Moscow on 1 March is still 28 February in UTC
        self.set_now(self.daemon, "2027-03-01T00:30")
        self.wait_today("2027-03-01")
        x = self.c.ok("training.record", {"person": a["id"], "title": "Midnight", "hours": 2,
                                          "completed_on": "2027-03-01"})
        self.assertEqual(x["completed_on"], "2027-03-01")
        self.assertFails("training.record", {"person": a["id"], "title": "Too early", "hours": 2,
                                             "completed_on": "2027-03-02"},
                         "invalid_argument", "completed_on")
        co = self.c.ok("course.add", {"title": "Night course", "first_day": "2027-02-01",
                                      "last_day": "2027-02-28", "hours": 3})
        r = self.c.ok("course.complete", {"course": co["id"], "people": [a["id"]]})
        self.assertEqual(r["completed"][0]["completed_on"], "2027-03-01")
        self.assertEqual(self.c.ok("report.coverage", {})["to"], "2027-03-01")
        # 23:00 in Moscow on 28 February is 20:00 UTC: 1 March is the future
        self.set_now(self.daemon, "2027-02-28T23:00")
        self.wait_today("2027-02-28")
        self.assertFails("training.record", {"person": a["id"], "title": "Not yet", "hours": 2,
                                             "completed_on": "2027-03-01"},
                         "invalid_argument", "completed_on")


# --------------------------------------------------------------------------
# Priority waitlists
# --------------------------------------------------------------------------

class WaitlistPeople(Base):
    """X holds the only seat; A due 2027-05-01, B never, C due 2027-03-01,
    D due 2027-05-01 (joins after A), E overdue since 2026-01-10. Names are
    chosen so that no ordering by name gives the expected order."""

    def setUp(self):
        super().setUp()
        self.p = {}
        for k, name, on in (("X", "Xenia Seat", "2025-09-01"), ("A", "Alla May", "2024-05-01"),
                            ("B", "Bella Never", None), ("C", "Cyril March", "2024-03-01"),
                            ("D", "Daria May", "2024-05-01"), ("E", "Egor Overdue", "2023-01-10")):
            self.p[k] = self.teacher(f"{name} {unique('w')}")
            if on:
                self.c.ok("training.record", {"person": self.p[k]["id"], "title": "Cycle",
                                              "hours": 36, "completed_on": on})

    def positions(self, result):
        inv = {v["id"]: k for k, v in self.p.items()}
        return {inv[x["id"]]: x["position"] for x in result}

    def waitlist(self, got):
        inv = {v["id"]: k for k, v in self.p.items()}
        rows = [e for e in got["enrollments"] if e["state"] == "waitlisted"]
        self.assertEqual([e["position"] for e in rows], list(range(1, len(rows) + 1)))
        return "".join(inv[e["person"]] for e in rows)

    def enrolled(self, got):
        inv = {v["id"]: k for k, v in self.p.items()}
        return "".join(sorted(inv[e["person"]] for e in got["enrollments"]
                              if e["state"] == "enrolled"))

    def ids(self, keys):
        return [self.p[k]["id"] for k in keys]


class WaitlistByDueDate(WaitlistPeople):
    overrides = {"recertification": {"waitlist_order": "due_date"}}

    def test_session_waitlist(self):
        s = self.session("2026-12-10T15:00", capacity=1)
        self.c.ok("enroll", {"session": s["id"], "people": self.ids("X")})
        r = self.c.ok("enroll", {"session": s["id"], "people": self.ids("ABC")})
        self.assertEqual(self.positions(r["waitlisted"]), {"B": 1, "C": 2, "A": 3})
        r = self.c.ok("enroll", {"session": s["id"], "people": self.ids("DE")})
        self.assertEqual(self.positions(r["waitlisted"]), {"E": 2, "D": 5})
        got = self.c.ok("session.get", {"id": s["id"]})
        self.assertEqual(self.waitlist(got), "BECAD",
                         "never first, then the earliest due, ties in the order they joined")
        r = self.c.ok("unenroll", {"session": s["id"], "people": self.ids("X")})
        self.assertEqual([x["id"] for x in r["promoted"]], self.ids("B"))
        got = self.c.ok("session.get", {"id": s["id"]})
        self.assertEqual((self.enrolled(got), self.waitlist(got)), ("B", "ECAD"))
        r = self.c.ok("rsvp", {"session": s["id"], "person": self.p["B"]["id"],
                               "rsvp": "declined"})
        self.assertEqual([x["id"] for x in r["promoted"]], self.ids("E"))

    def test_course_waitlist(self):
        co = self.c.ok("course.add", {"title": "Priority course " + unique("c"),
                                      "first_day": "2027-01-11", "last_day": "2027-01-29",
                                      "capacity": 1})
        self.c.ok("enroll", {"course": co["id"], "people": self.ids("X")})
        r = self.c.ok("enroll", {"course": co["id"], "people": self.ids("ABCDE")})
        self.assertEqual(self.positions(r["waitlisted"]),
                         {"B": 1, "E": 2, "C": 3, "A": 4, "D": 5})
        got = self.c.ok("course.get", {"id": co["id"]})
        self.assertEqual(self.waitlist(got), "BECAD")
        r = self.c.ok("unenroll", {"course": co["id"], "people": self.ids("X")})
        self.assertEqual([x["id"] for x in r["promoted"]], self.ids("B"))


class WaitlistFifo(WaitlistPeople):
    """The default order: first come, first served."""

    def test_session_waitlist(self):
        s = self.session("2026-12-10T15:00", capacity=1)
        self.c.ok("enroll", {"session": s["id"], "people": self.ids("X")})
        self.c.ok("enroll", {"session": s["id"], "people": self.ids("ABC")})
        r = self.c.ok("enroll", {"session": s["id"], "people": self.ids("DE")})
        self.assertEqual(self.positions(r["waitlisted"]), {"D": 4, "E": 5})
        self.assertEqual(self.waitlist(self.c.ok("session.get", {"id": s["id"]})), "ABCDE")
        r = self.c.ok("unenroll", {"session": s["id"], "people": self.ids("X")})
        self.assertEqual([x["id"] for x in r["promoted"]], self.ids("A"))


# --------------------------------------------------------------------------
# Who may write
# --------------------------------------------------------------------------

RAW_CLIENT = r"""
import json, socket, sys
reqs = json.load(sys.stdin)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(sys.argv[1])
f = s.makefile("rwb")
json.loads(f.readline())
out = []
for r in reqs:
    f.write((json.dumps(r, ensure_ascii=False) + "\n").encode())
    f.flush()
    out.append(json.loads(f.readline()))
print(json.dumps(out, ensure_ascii=False))
"""


@unittest.skipUnless(os.geteuid() == 0, "needs root to run a client as nobody")
@unittest.skipUnless(shutil.which("setpriv"), "needs setpriv")
class Readers(Base):
    """A client running as nobody:nogroup (not in the coordinator group,
    which by default does not exist here) may read every CPD report and
    may run none of the CPD W commands."""

    def as_nobody(self, requests):
        os.chmod(self.daemon.tmp, 0o711)
        os.chown(self.daemon.socket, -1, 65534)
        p = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                            "/usr/bin/python3", "-c", RAW_CLIENT, self.daemon.socket],
                           input=json.dumps(requests), capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def snapshot(self, sid):
        return {"register": self.register(),
                "attendance": self.c.ok("attendance.list", {"session": sid}),
                "session": self.c.ok("session.get", {"id": sid}),
                "recert": self.c.ok("report.recertification", {})}

    def test_reader(self):
        a = self.teacher("Reader Target")
        co = self.c.ok("course.add", {"title": "Guarded course", "first_day": "2026-11-02",
                                      "last_day": "2026-11-02"})
        s = self.session("2026-11-02T10:00", course=co["id"])
        x = self.c.ok("training.record", {"person": a["id"], "title": "Guarded", "hours": 4,
                                          "completed_on": "2024-01-01"})
        self.mark(s["id"], [a["id"]], "absent")
        before = self.snapshot(s["id"])
        reads = [("report.recertification", {}), ("report.coverage", {"by": "organization"}),
                 ("report.hours", {}), ("completion.list", {}),
                 ("attendance.list", {"session": s["id"]})]
        writes = [
            ("attendance.mark", {"session": s["id"], "people": [a["id"]], "state": "attended"}),
            ("attendance.import", {"session": s["id"], "csv": f"email,duration\n{a['email']},60\n"}),
            ("course.complete", {"course": co["id"], "people": [a["id"]]}),
            ("completion.remove", {"id": x["id"]}),
            ("training.record", {"person": a["id"], "title": "Forged", "hours": 99,
                                 "completed_on": "2026-01-01"}),
            ("training.import", {"csv": f"email,title,hours,completed_on\n{a['email']},Forged,"
                                        "99,2026-01-01\n"}),
            ("enroll", {"session": s["id"], "status": "overdue"}),
        ]
        reqs = [{"id": i, "cmd": cmd, "args": args} for i, (cmd, args) in enumerate(reads + writes)]
        replies = self.as_nobody(reqs)
        for req, rep in zip(reqs, replies):
            with self.subTest(cmd=req["cmd"]):
                self.assertEqual(rep["id"], req["id"])
                if req["id"] < len(reads):
                    self.assertTrue(rep["ok"], rep)
                    self.assertEqual(rep["result"], self.c.ok(req["cmd"], req["args"]))
                else:
                    self.assertFalse(rep["ok"], rep)
                    self.assertEqual(rep["error"]["code"], "permission_denied", rep)
        self.assertEqual(self.snapshot(s["id"]), before, "a refused write changed something")


if __name__ == "__main__":
    unittest.main()
