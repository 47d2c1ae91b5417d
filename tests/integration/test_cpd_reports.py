"""The CPD reports over a generated district (issue 5; docs/PROTOCOL.md,
"CPD records, recertification and reports").

cpd_district.District generates a district (439 people in five schools and
none, 723 completions from attendance, course.complete and training.import
over three and a half years, webinars with attendance) and computes every
expected value from that data in plain Python; the daemon is only told
the data. The daemon runs with its test clock on 2026-11-23 12:00 Moscow
and `[recertification] min_hours = 16`.

Covered: the bulk replies (person.import, attendance.mark completions,
course.complete, training.import); the register (every entry, its number
format, per-year sequence in the order entered) and completion.list's
filters and order; report.recertification today and on other days
(summary, every row, the order), its filters, and the status boundaries
(due exactly today, 29 February, the cycle window's first day, the last
day of due_soon, min_hours); report.coverage (default window, by
organization / position / none, periods, the organization filter, 87 of
267 = 32.5 %, hours, group order); report.hours (sessions / courses /
external, by person and organization, filters); enroll by status,
due_within and organization; and errors naming their field.
"""
import collections
import re
import unittest

import cpd_district as cd
from cpd_district import CpdCase, Date
from harness import unique

D = cd.District


def first_difference(actual, expected):
    """A short description of where two lists of rows first differ."""
    for i, (a, e) in enumerate(zip(actual, expected)):
        if a != e:
            return f"row {i}: got {a}\n        expected {e}"
    return f"lengths differ: got {len(actual)} rows, expected {len(expected)}"


class District(CpdCase):
    now = "2026-11-23T12:00"
    overrides = D.CONFIG

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.g = D()
        try:
            cls.ids = cd.load(cls.c, cls.g)
        except BaseException:
            cls.tearDownClass()
            raise
        cls.course_id = cls.ids["courses"]
        cls.key_of_course = {v: k for k, v in cls.course_id.items()}
        cls.pid = {e.lower(): i for e, i in cls.ids["people"].items()}
        cls.register = cls.c.ok("completion.list", {"limit": 1000000})

    # -- helpers ---------------------------------------------------------------
    def ctuple(self, x):
        """A completion from the daemon, comparable with one generated."""
        return (x["person"]["email"].lower(), x["title"], x["provider"],
                round(x["hours"] * 10), x["completed_on"], x["counts_for_recertification"],
                self.key_of_course.get(x["course"], x["course"]), x["source"])

    @staticmethod
    def etuple(c):
        return (c.email.lower(), c.title, c.provider, c.tenths, c.on.isoformat(), c.counts,
                c.course, c.source)

    def register_no_of(self, email, on, title):
        found = [x["register_no"] for x in self.register
                 if x["person"]["email"].lower() == email.lower() and x["completed_on"] == on
                 and x["title"] == title]
        self.assertEqual(len(found), 1, (email, on, title))
        return found[0]

    def recert_rows(self, result):
        return [{"email": r["email"], "name": r["name"], "organization": r["organization"],
                 "position": r["position"], "status": r["status"],
                 "last_completed_on": r["last_completed_on"], "last_title": r["last_title"],
                 "due": r["due"], "days_left": r["days_left"]} for r in result["people"]]

    def check_recert(self, args, as_of, **kw):
        r = self.c.ok("report.recertification", args)
        summary, rows = self.g.recertification(as_of, **kw)
        self.assertEqual(r["as_of"], as_of.isoformat())
        self.assertEqual(r["cycle"], "3y")
        self.assertEqual(r["due_soon_days"], 180)
        self.assertEqual(r["summary"], summary, f"report.recertification {args}")
        got = self.recert_rows(r)
        self.assertTrue(got == rows, f"report.recertification {args}: "
                        + first_difference(got, rows))
        for row in r["people"]:
            self.assertEqual(row["id"], self.pid[row["email"].lower()])
            if row["status"] == "never":
                self.assertIsNone(row["last_register_no"], row)
            else:
                self.assertEqual(row["last_register_no"],
                                 self.register_no_of(row["email"], row["last_completed_on"],
                                                     row["last_title"]), row)
        return r

    # -- what loading said -------------------------------------------------------
    def test_load_replies(self):
        rep = self.ids["replies"]
        self.assertEqual(rep["person.import"]["added"], len(self.g.people))
        self.assertEqual(rep["person.import"]["errors"], [])
        ti = rep["training.import"]
        self.assertEqual((ti["recorded"], ti["duplicates"], ti["errors"]),
                         (len(self.g.external_rows), 0, []), ti)
        # course.complete: the course's hours, or those given; the date given
        for co in self.g.courses:
            for (emails, on, hrs), r in zip(co.manual, rep[f"complete-{co.key}"]):
                self.assertEqual(r["already"], [])
                got = sorted(self.ctuple(x) for x in r["completed"])
                tenths = 10 * (hrs if hrs is not None else (co.hours or 0))
                want = sorted((e.lower(), co.title, co.provider, tenths, on.isoformat(),
                               co.counts, co.key, "manual") for e in emails)
                self.assertEqual(got, want, f"course.complete of {co.key}")
                for x in r["completed"]:
                    self.assertCompletionShape(x)
        # attendance.mark: the completions the rule created, over all marks
        c1 = self.g.course_by_key["c1"]
        made = [x for r in rep["marks-c1"] for x in r["completions"]]
        want = sorted(self.etuple(c) for c in self.g._attendance_completions(c1))
        self.assertGreater(len(want), 10)
        self.assertEqual(sorted(self.ctuple(x) for x in made), want,
                         "completions created by attendance.mark (75 % of four live meetings, "
                         "dated the latest attended meeting's Moscow day)")
        # the kick-off at 00:30 Moscow on 1 October is 30 September in UTC
        kick = [c for c in self.g._attendance_completions(c1)
                if c.on == Date(2024, 10, 1)]
        self.assertEqual(kick, [], "no one's latest meeting is the kick-off")

    # -- the register ------------------------------------------------------------
    def test_register_holds_every_completion(self):
        got = sorted(self.ctuple(x) for x in self.register)
        want = sorted(self.etuple(c) for c in self.g.completions)
        self.assertEqual(len(got), len(want))
        self.assertEqual(got, want)
        people = {p.email.lower(): p for p in self.g.people}
        for x in self.register:
            self.assertCompletionShape(x)
            p = people[x["person"]["email"].lower()]
            self.assertEqual((x["name"], x["organization"]), (p.name, p.organization), x)
            self.assertEqual(x["person"]["id"], self.pid[p.email.lower()])
        order = [(x["completed_on"], x["register_no"]) for x in self.register]
        self.assertEqual(order, sorted(order), "ordered by completed_on, then register_no")

    def test_register_numbers_per_year_in_entry_order(self):
        by_year = collections.defaultdict(list)
        for x in self.register:
            y, n = re.match(cd.REGISTER_NO, x["register_no"]).groups()
            self.assertEqual(y, x["completed_on"][:4], x)
            by_year[y].append((int(n), x))
        for y, entries in by_year.items():
            nums = sorted(n for n, _ in entries)
            self.assertEqual(nums, list(range(1, len(nums) + 1)),
                             f"{y}: numbers 1..{len(nums)}, each once")
        # completions are numbered in the order entered: the courses' before
        # the import's (loaded later), the import's in the file's row order
        for y, entries in by_year.items():
            course_max = max((n for n, x in entries if x["course"] is not None), default=0)
            imported = [(n, x) for n, x in entries if x["source"] == "import"]
            self.assertTrue(all(n > course_max for n, _ in imported), y)
        seq = {}
        for c, _ in self.g.external_rows:
            no = self.register_no_of(c.email, c.on.isoformat(), c.title)
            seq.setdefault(no[:4], []).append(int(no[5:]))
        for y, nums in seq.items():
            self.assertEqual(nums, sorted(nums), f"{y}: import rows numbered in file order")

    def test_completion_list_filters(self):
        g = self.g
        p5 = next(p for p in g.people if p.organization == "School No. 5" and
                  len(cd.completions(g.completions, g.people, person=p.email)) >= 2)
        cases = [
            ({}, {}),
            ({"from": "2024-02-29", "to": "2024-02-29"}, {"frm": Date(2024, 2, 29),
                                                          "to": Date(2024, 2, 29)}),
            ({"from": "2025-01-01"}, {"frm": Date(2025, 1, 1)}),
            ({"to": "2023-11-23"}, {"to": Date(2023, 11, 23)}),
            ({"from": "2023-11-24", "to": "2026-11-23"}, {"frm": Date(2023, 11, 24),
                                                          "to": Date(2026, 11, 23)}),
            ({"person": p5.email}, {"person": p5.email}),
            ({"person": self.pid[p5.email]}, {"person": p5.email}),
            ({"person": p5.email.upper()}, {"person": p5.email}),
            ({"organization": "Лицей № 2"}, {"organization": "Лицей № 2"}),
            ({"organization": "Evening School", "from": "2024-01-01", "to": "2024-12-31"},
             {"organization": "Evening School", "frm": Date(2024, 1, 1),
              "to": Date(2024, 12, 31)}),
            ({"course": self.course_id["c1"]}, {"course": "c1"}),
            ({"course": self.course_id["c3"], "organization": "School No. 5"},
             {"course": "c3", "organization": "School No. 5"}),
            ({"source": "attendance"}, {"source": "attendance"}),
            ({"source": "manual"}, {"source": "manual"}),
            ({"source": "import", "from": "2026-01-01"}, {"source": "import",
                                                          "frm": Date(2026, 1, 1)}),
        ]
        for args, kw in cases:
            with self.subTest(args=args):
                got = self.c.ok("completion.list", dict(args, limit=1000000))
                want = sorted(self.etuple(c) for c in cd.completions(g.completions, g.people, **kw))
                self.assertEqual(sorted(self.ctuple(x) for x in got), want)
                self.assertGreater(len(got), 0, "a filter that selects something")
                order = [(x["completed_on"], x["register_no"]) for x in got]
                self.assertEqual(order, sorted(order))
        # limit: the first N of the order; the default is 1000 (more than the 722 here)
        full = self.c.ok("completion.list", {"limit": 1000000})
        self.assertEqual(self.c.ok("completion.list", {"limit": 7}), full[:7])
        self.assertEqual(self.c.ok("completion.list"), full[:1000])
        self.assertEqual(self.c.ok("completion.list", {"organization": "No Such School"}), [])

    # -- report.recertification ----------------------------------------------------
    def test_recertification_today(self):
        r = self.check_recert({}, D.TODAY)
        s = r["summary"]
        self.assertEqual(s["total"], len(self.g.people))
        self.assertTrue(all(s[k] > 5 for k in ("ok", "due_soon", "overdue", "never")), s)

    def test_recertification_other_days(self):
        for as_of in ("2024-02-29", "2025-01-01", "2025-11-23", "2026-05-27", "2026-11-22",
                      "2026-11-24", "2027-02-28", "2027-03-01", "2028-02-29"):
            with self.subTest(as_of=as_of):
                self.check_recert({"as_of": as_of}, Date.fromisoformat(as_of))

    def test_recertification_filters(self):
        t = D.TODAY
        self.check_recert({"organization": "Лицей № 2"}, t, organization="Лицей № 2")
        self.check_recert({"status": "overdue"}, t, status="overdue")
        self.check_recert({"status": ["never", "due_soon"]}, t, status=["never", "due_soon"])
        self.check_recert({"status": "due_soon", "organization": "Evening School",
                           "as_of": "2027-02-28"}, Date(2027, 2, 28), status="due_soon",
                          organization="Evening School")
        r = self.c.ok("report.recertification", {"limit": 5})
        full = self.c.ok("report.recertification", {})
        self.assertEqual(r["people"], full["people"][:5])
        self.assertEqual(r["summary"], full["summary"], "summary counts before limits")
        r = self.c.ok("report.recertification", {"organization": "No Such School"})
        self.assertEqual(r["summary"], {"total": 0, "ok": 0, "due_soon": 0, "overdue": 0,
                                        "never": 0})
        self.assertEqual(r["people"], [])

    def test_status_boundaries(self):
        """The boundary people, with values worked out by hand from the spec."""
        sp = self.g.special

        def row(label, as_of):
            r = self.c.ok("report.recertification", {"as_of": as_of,
                                                     "organization": "Evening School"})
            [x] = [x for x in r["people"] if x["email"] == sp[label]]
            return (x["status"], x["last_completed_on"], x["due"], x["days_left"])

        cases = [
            ("due_today", "2026-11-23", ("due_soon", "2023-11-23", "2026-11-23", 0)),
            ("due_today", "2026-11-24", ("overdue", "2023-11-23", "2026-11-23", -1)),
            ("window_first_day", "2026-11-23", ("due_soon", "2023-11-24", "2026-11-24", 1)),
            ("overdue_by_one", "2026-11-23", ("overdue", "2023-11-22", "2026-11-22", -1)),
            ("overdue_by_one", "2026-11-22", ("due_soon", "2023-11-22", "2026-11-22", 0)),
            ("leap_day", "2026-11-23", ("due_soon", "2024-02-29", "2027-02-28", 97)),
            ("leap_day", "2027-02-28", ("due_soon", "2024-02-29", "2027-02-28", 0)),
            ("leap_day", "2027-03-01", ("overdue", "2024-02-29", "2027-02-28", -1)),
            ("leap_day", "2024-02-29", ("ok", "2024-02-29", "2027-02-28", 1095)),
            ("leap_day", "2024-02-28", ("never", None, None, None)),
            ("leap_day_prior", "2027-02-28", ("due_soon", "2024-02-28", "2027-02-28", 0)),
            ("due_soon_last", "2026-11-23", ("due_soon", "2024-05-22", "2027-05-22", 180)),
            ("ok_first", "2026-11-23", ("ok", "2024-05-23", "2027-05-23", 181)),
            ("ok_first", "2026-11-24", ("due_soon", "2024-05-23", "2027-05-23", 180)),
            ("min_hours_exact", "2026-11-23", ("ok", "2026-01-10", "2029-01-10", 779)),
            ("min_hours_under", "2026-11-23", ("never", None, None, None)),
            ("not_counting", "2026-11-23", ("never", None, None, None)),
            ("completed_today", "2026-11-23", ("ok", "2026-11-23", "2029-11-23", 1096)),
            ("completed_today", "2026-11-22", ("overdue", "2022-03-01", "2025-03-01", -631)),
            ("leap_year_end", "2028-02-29", ("overdue", "2025-02-28", "2028-02-28", -1)),
            ("leap_year_end", "2028-02-28", ("due_soon", "2025-02-28", "2028-02-28", 0)),
            ("renewed_on_due_day", "2023-11-24", ("due_soon", "2020-11-25", "2023-11-25", 1)),
            ("renewed_on_due_day", "2023-11-25", ("ok", "2023-11-25", "2026-11-25", 1096)),
            ("renewed_on_due_day", "2026-11-23", ("due_soon", "2023-11-25", "2026-11-25", 2)),
        ]
        for label, as_of, want in cases:
            with self.subTest(person=label, as_of=as_of):
                self.assertEqual(row(label, as_of), want)

    # -- report.coverage ------------------------------------------------------------
    def check_coverage(self, args, frm, to, by=None, organization=None):
        r = self.c.ok("report.coverage", args)
        groups, total = self.g.coverage(frm, to, by, organization)
        self.assertEqual((r["from"], r["to"]), (frm.isoformat(), to.isoformat()))
        self.assertEqual(r.get("by"), by)
        what = f"report.coverage {args}"

        def norm(x):
            self.assertHours(x["hours"], round(x["hours"] * 10), what)
            self.assertIsInstance(x["percent"], (int, float))
            return (x["group"], x["total"], x["trained"], round(x["percent"] * 10),
                    round(x["hours"] * 10))

        def enorm(x):
            return (x["group"], x["total"], x["trained"], round(x["percent"] * 10), x["tenths"])

        self.assertEqual(norm(r["total"]), enorm(total), what + ": total")
        if by is None:
            # "omitted for one row": the total, alone or repeated as the one group
            self.assertIn(len(r["groups"]), (0, 1), what)
            if r["groups"]:
                self.assertEqual(norm(r["groups"][0]), enorm(total), what)
            return r
        self.assertEqual(sorted(map(norm, r["groups"]), key=repr),
                         sorted(map(enorm, groups), key=repr), what)
        # order: percent ascending, then name (the null group's place among
        # equal percents is not specified)
        pairs = [(x["percent"], x["group"]) for x in r["groups"]]
        self.assertEqual([p for p, _ in pairs], sorted(p for p, _ in pairs), what + ": order")
        for (p1, n1), (p2, n2) in zip(pairs, pairs[1:]):
            if p1 == p2 and n1 is not None and n2 is not None:
                self.assertLess(n1, n2, what + ": equal percents by name")
        return r

    def test_coverage_default_window(self):
        frm, to = Date(2023, 11, 23), Date(2026, 11, 23)
        self.check_coverage({}, frm, to)
        r = self.check_coverage({"by": "organization"}, frm, to, "organization")
        [g5] = [x for x in r["groups"] if x["group"] == "School No. 5"]
        self.assertEqual((g5["total"], g5["trained"], g5["percent"]), (267, 87, 32.5))
        self.assertEqual(r["groups"][0]["group"], "School No. 5", "the weakest school first")
        self.assertIn(None, [x["group"] for x in r["groups"]], "people without a school")
        self.check_coverage({"by": "position"}, frm, to, "position")

    def test_coverage_periods_and_filters(self):
        cases = [
            ({"from": "2024-01-01", "to": "2024-12-31", "by": "organization"},
             Date(2024, 1, 1), Date(2024, 12, 31), "organization", None),
            ({"from": "2024-02-29", "to": "2024-02-29"}, Date(2024, 2, 29), Date(2024, 2, 29),
             None, None),
            ({"from": "2022-01-01", "to": "2026-11-23", "by": "position"},
             Date(2022, 1, 1), Date(2026, 11, 23), "position", None),
            ({"organization": "School No. 5", "by": "position"},
             Date(2023, 11, 23), Date(2026, 11, 23), "position", "School No. 5"),
            ({"organization": "Лицей № 2", "by": "organization", "from": "2025-01-01"},
             Date(2025, 1, 1), Date(2026, 11, 23), "organization", "Лицей № 2"),
            ({"from": "2023-11-23", "to": "2023-11-24", "by": "organization"},
             Date(2023, 11, 23), Date(2023, 11, 24), "organization", None),
            # a period with no completions at all: everyone 0 %
            ({"from": "2019-01-01", "to": "2019-12-31", "by": "organization"},
             Date(2019, 1, 1), Date(2019, 12, 31), "organization", None),
        ]
        for args, frm, to, by, org in cases:
            with self.subTest(args=args):
                self.check_coverage(args, frm, to, by, org)

    def test_coverage_percent_rounds_down(self):
        for trained, total, want in ((87, 267, 32.5), (2, 3, 66.6), (1, 3, 33.3),
                                     (199, 200, 99.5), (1, 7, 14.2), (0, 5, 0), (5, 5, 100)):
            self.assertEqual(cd.percent_down(trained, total), want)
        # and every group of the district as the daemon computed it
        r = self.c.ok("report.coverage", {"by": "position"})
        for x in r["groups"] + [r["total"]]:
            self.assertEqual(round(x["percent"] * 10), x["trained"] * 1000 // x["total"], x)

    # -- report.hours -----------------------------------------------------------------
    def check_hours(self, args, frm, to, by="person", person=None, organization=None):
        r = self.c.ok("report.hours", args)
        want = self.g.hours(frm, to, by=by, person=person, organization=organization)
        self.assertEqual((r["from"], r["to"], r["by"]), (frm.isoformat(), to.isoformat(), by))
        what = f"report.hours {args}"
        got = {}
        for row in r["rows"]:
            for k in ("sessions", "courses", "external", "total"):
                self.assertHours(row[k], round(row[k] * 10), what)
            t = tuple(round(row[k] * 10) for k in ("sessions", "courses", "external", "total"))
            if by == "person":
                self.assertEqual(row["person"]["id"], self.pid[row["person"]["email"].lower()])
                key = row["person"]["email"]
            else:
                key = row["organization"]
            self.assertNotIn(key, got, what + ": one row each")
            got[key] = (t, row)
        # rows with no hours may be listed or left out (not specified)
        nonzero = {k: v[0] for k, v in got.items() if v[0][3] != 0}
        expect = {k: (v["sessions"], v["courses"], v["external"], v["total"])
                  for k, v in want.items() if v["total"] != 0}
        self.assertEqual(nonzero, expect, what)
        self.assertGreater(len(expect), 0)
        if by == "organization":
            sizes = collections.Counter(p.organization for p in self.g.people)
            for k, (t, row) in got.items():
                if k in want:
                    self.assertIn(row["people"], (want[k]["people"], sizes[k]), row)
        else:
            people = {p.email: p for p in self.g.people}
            for k, (t, row) in got.items():
                self.assertEqual((row["name"], row["organization"]),
                                 (people[k].name, people[k].organization))
        # order: total descending, then name
        name = "name" if by == "person" else "organization"
        keys = [(-round(x["total"] * 10), x[name] or "") for x in r["rows"]]
        self.assertEqual(keys, sorted(keys), what + ": order")
        return r

    def test_hours_by_person(self):
        frm, to = Date(2023, 11, 23), Date(2026, 11, 23)
        r = self.check_hours({}, frm, to)
        self.assertTrue(any(x["sessions"] > 0 and x["courses"] > 0 for x in r["rows"]),
                        "some row has session and course hours")
        self.check_hours({"from": "2022-01-01", "to": "2026-11-23"}, Date(2022, 1, 1), to)
        self.check_hours({"from": "2026-02-04", "to": "2026-02-11", "by": "person"},
                         Date(2026, 2, 4), Date(2026, 2, 11))
        self.check_hours({"organization": "Лицей № 2"}, frm, to, organization="Лицей № 2")
        busy = max(self.g.people, key=lambda p: self.g.hours(Date(2022, 1, 1), to)
                   .get(p.email, {"total": 0})["total"])
        r = self.check_hours({"person": busy.email, "from": "2022-01-01"}, Date(2022, 1, 1),
                             to, person=busy.email)
        self.assertEqual(len(r["rows"]), 1)

    def test_hours_by_organization(self):
        frm, to = Date(2023, 11, 23), Date(2026, 11, 23)
        self.check_hours({"by": "organization"}, frm, to, by="organization")
        self.check_hours({"by": "organization", "from": "2023-01-01", "to": "2023-12-31"},
                         Date(2023, 1, 1), Date(2023, 12, 31), by="organization")
        self.check_hours({"by": "organization", "organization": "Evening School"}, frm, to,
                         by="organization", organization="Evening School")

    # -- enroll by recertification status ---------------------------------------------------
    def future_session(self, **kw):
        args = {"kind": "webinar", "title": "Recertification course " + unique("s"),
                "start": "2026-12-15T15:00", "duration": 90, "reminders": []}
        args.update(kw)
        return self.c.ok("session.add", args)

    def test_enroll_by_status(self):
        g = self.g
        cases = [
            ({"status": "overdue"}, {"status": "overdue"}),
            ({"status": ["never", "due_soon"]}, {"status": ["never", "due_soon"]}),
            ({"due_within": 0}, {"due_within": 0}),
            ({"due_within": 180}, {"due_within": 180}),
            ({"due_within": 97}, {"due_within": 97}),       # the leap-day person's due
            ({"due_within": 60, "organization": "Лицей № 2"},
             {"due_within": 60, "organization": "Лицей № 2"}),
            ({"status": "never", "organization": "Evening School"},
             {"status": "never", "organization": "Evening School"}),
        ]
        for args, kw in cases:
            with self.subTest(args=args):
                s = self.future_session()
                want = g.select(**kw)
                self.assertGreater(len(want), 0, "the case selects someone")
                r = self.c.ok("enroll", dict(args, session=s["id"]))
                self.assertEqual(r["selected"], len(want))
                self.assertEqual({x["email"].lower() for x in r["enrolled"]},
                                 {e.lower() for e in want})
                self.assertEqual(r["waitlisted"], [])
                self.assertEqual(r["already"], [])
                got = self.c.ok("session.get", {"id": s["id"]})["enrollments"]
                self.assertEqual({x["email"].lower() for x in got}, {e.lower() for e in want})
                # the same selection again: everyone already there
                r = self.c.ok("enroll", dict(args, session=s["id"]))
                self.assertEqual((r["selected"], r["enrolled"]), (len(want), []))
                self.assertEqual({x["email"].lower() for x in r["already"]},
                                 {e.lower() for e in want})
        # due_within 97 includes the leap-day person (due 2027-02-28), 96 does not
        self.assertIn(g.special["leap_day"], g.select(due_within=97))
        self.assertNotIn(g.special["leap_day"], g.select(due_within=96))

    def test_enroll_by_status_with_people_and_course(self):
        g = self.g
        s = self.future_session()
        extra = g.special["ok_first"]                 # status ok: not selected by "overdue"
        want = g.select(status="overdue", organization="School No. 12")
        r = self.c.ok("enroll", {"session": s["id"], "status": "overdue",
                                 "organization": "School No. 12", "people": [extra]})
        self.assertEqual(r["selected"], len(want))
        self.assertEqual({x["email"].lower() for x in r["enrolled"]},
                         {e.lower() for e in want | {extra}})
        # nobody selected is not an error
        r = self.c.ok("enroll", {"session": s["id"], "status": "due_soon",
                                 "organization": "No Such School"})
        self.assertEqual((r["selected"], r["enrolled"]), (0, []))
        # a course: its enrolments
        co = self.c.ok("course.add", {"title": "Recertification intensive", "first_day":
                                      "2027-01-11", "last_day": "2027-01-29", "hours": 36})
        want = g.select(due_within=30)
        r = self.c.ok("enroll", {"course": co["id"], "due_within": 30})
        self.assertEqual(r["selected"], len(want))
        got = self.c.ok("course.get", {"id": co["id"]})["enrollments"]
        self.assertEqual({x["email"].lower() for x in got}, {e.lower() for e in want})

    # -- errors name their field ------------------------------------------------------------
    def test_report_errors(self):
        s = self.future_session()
        for cmd, args, code, fld in [
            ("report.recertification", {"as_of": "2026-02-30"}, "invalid_argument", "as_of"),
            ("report.recertification", {"as_of": "23.11.2026"}, "invalid_argument", "as_of"),
            ("report.recertification", {"status": "late"}, "invalid_argument", "status"),
            ("report.recertification", {"status": ["ok", "soonish"]}, "invalid_argument",
             "status"),
            ("report.recertification", {"limit": -1}, "invalid_argument", "limit"),
            ("report.recertification", {"asof": "2026-01-01"}, "invalid_argument", None),
            ("report.coverage", {"from": "2026-13-01"}, "invalid_argument", "from"),
            ("report.coverage", {"to": "2025-02-29"}, "invalid_argument", "to"),
            ("report.coverage", {"by": "school"}, "invalid_argument", "by"),
            ("report.coverage", {"from": 20260101}, "invalid_argument", "from"),
            ("report.hours", {"by": "position"}, "invalid_argument", "by"),
            ("report.hours", {"from": "yesterday"}, "invalid_argument", "from"),
            ("report.hours", {"person": "nobody@nowhere.example"}, "not_found", "person"),
            ("completion.list", {"source": "rumour"}, "invalid_argument", "source"),
            ("completion.list", {"from": "2026-02-31"}, "invalid_argument", "from"),
            ("completion.list", {"person": "nobody@nowhere.example"}, "not_found", "person"),
            ("completion.list", {"course": 999999}, "not_found", "course"),
            ("completion.list", {"limit": 1000001}, "invalid_argument", "limit"),
            ("enroll", {"session": s["id"], "due_within": -1}, "invalid_argument",
             "due_within"),
            ("enroll", {"session": s["id"], "due_within": "30"}, "invalid_argument",
             "due_within"),
            ("enroll", {"session": s["id"], "status": "expired"}, "invalid_argument", "status"),
        ]:
            with self.subTest(cmd=cmd, args=args):
                self.assertFails(cmd, args, code, fld)
        self.assertEqual(self.c.ok("session.get", {"id": s["id"]})["enrollments"], [])


if __name__ == "__main__":
    unittest.main()
