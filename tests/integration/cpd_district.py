"""A generated school district for the CPD tests (issue 5), and the values
its reports must show, computed here in plain Python from the generated
data alone (docs/PROTOCOL.md, "CPD records, recertification and reports").
Nothing here asks the daemon for an expected value: the daemon is only
told the data (load()) and the ids it assigns are used to name things.

District(seed) builds: schools of 267, 61, 48, 30 and 13 people plus a few
without an organization (exactly 87 of School No. 5's 267 trained in the
cycle window, the issue's example), positions (some unset), three and a
half years of external training (one training.import), lectern courses
completed by attendance (the 75 % rule, one meeting cancelled) and by
course.complete, webinars outside courses with attendance, and people
placed on the status boundaries (due exactly today, a completion on 29
February, on the window's first day, due_soon's last day, min_hours).

The expected-value functions take the generated records and follow the
specification's words: recertification() (last/due/status/days_left and
the order of people), coverage() (trained, percent rounded down, hours,
groups and their order), hours() (sessions/courses/external), and
completions() (the register's filters and order).
"""
import calendar
import csv
import datetime
import io
import os
import random
import re
import time
import unittest
from dataclasses import dataclass, field

from harness import Daemon, shut_down

Date = datetime.date
ONE_DAY = datetime.timedelta(days=1)
TZ = "Europe/Moscow"                      # the harness's [daemon] timezone
MSK = datetime.timezone(datetime.timedelta(hours=3))   # Moscow: UTC+3, no DST since 2014


def day(s):
    return s if isinstance(s, Date) else Date.fromisoformat(s)


# --------------------------------------------------------------------------
# The cycle arithmetic, as PROTOCOL.md words it
# --------------------------------------------------------------------------

def parse_cycle(text):
    """'3y' -> (3, 'y'); '18m' -> (18, 'm'); '1095d' -> (1095, 'd')."""
    text = text.strip()
    n, unit = int(text[:-1]), text[-1]
    assert unit in "ymd", text
    return n, unit


def add_cycle(d, cycle, sign=1):
    """d plus (sign=-1: minus) the cycle: years and months on the calendar
    date, a day that the target month lacks (29 February in a common year)
    becoming the month's last day; days as days."""
    n, unit = parse_cycle(cycle)
    n *= sign
    if unit == "d":
        return d + datetime.timedelta(days=n)
    months = n * 12 if unit == "y" else n
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return Date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def cycle_window(today, cycle):
    """The default report period: from the first day whose completion is
    not overdue today (due on or after today) to today."""
    x = add_cycle(today, cycle, -1)
    while add_cycle(x - ONE_DAY, cycle, 1) >= today:
        x -= ONE_DAY
    while add_cycle(x, cycle, 1) < today:
        x += ONE_DAY
    return x, today


# --------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------

@dataclass
class Person:
    name: str
    email: str
    organization: object = None       # str or None
    position: object = None
    lang: str = "en"


@dataclass
class Completion:
    email: str
    title: str
    provider: object                  # str or None
    tenths: int                       # hours * 10 (hours keep one decimal)
    on: Date
    counts: bool
    course: object = None             # course key (lectern course) or None
    source: str = "import"            # import / manual / attendance

    @property
    def hours(self):
        return self.tenths / 10


@dataclass
class Meeting:
    """One meeting of a course or one standalone webinar occurrence."""
    session: str                      # session key
    local_start: datetime.datetime    # wall time in Moscow
    minutes: int
    occurrence: object = None         # 'YYYY-MM-DDTHH:MM' for a series occurrence
    cancelled: bool = False
    attended: list = field(default_factory=list)   # emails
    absent: list = field(default_factory=list)

    @property
    def local_day(self):
        return self.local_start.date()


@dataclass
class Course:
    key: str
    title: str
    provider: object
    hours: object                     # int or None
    counts: bool
    first_day: Date
    last_day: Date
    sessions: list = field(default_factory=list)   # [(key, session.add args)]
    meetings: list = field(default_factory=list)   # [Meeting], every live and cancelled one
    manual: list = field(default_factory=list)     # [(emails, completed_on, hours or None)]


def qualifies(c, min_tenths):
    return c.counts and c.tenths >= min_tenths


def percent_down(trained, total):
    """trained/total in percent, rounded down to one decimal (0 when empty)."""
    return (trained * 1000 // total) / 10 if total else 0


def completion_met(attended, meetings, share=75):
    """The completion rule: at least share % of the live meetings."""
    return meetings > 0 and attended * 100 >= share * meetings


# --------------------------------------------------------------------------
# Expected values
# --------------------------------------------------------------------------

STATUS_ORDER = ("never", "overdue", "due_soon", "ok")


def person_status(comps, as_of, cycle="3y", due_soon_days=180, min_tenths=0):
    """{status, last (Completion or None), due, days_left} of one person's
    completions as of as_of."""
    q = [c for c in comps if qualifies(c, min_tenths) and c.on <= as_of]
    if not q:
        return {"status": "never", "last": None, "due": None, "days_left": None}
    last = max(q, key=lambda c: c.on)
    due = add_cycle(last.on, cycle)
    left = (due - as_of).days
    if as_of > due:
        status = "overdue"
    elif left <= due_soon_days:
        status = "due_soon"
    else:
        status = "ok"
    return {"status": status, "last": last, "due": due, "days_left": left}


def by_email(completions):
    out = {}
    for c in completions:
        out.setdefault(c.email.lower(), []).append(c)
    return out


def recertification(people, completions, as_of, cycle="3y", due_soon_days=180,
                    min_tenths=0, organization=None, status=None):
    """The expected report.recertification: (summary, [rows in order]); each
    row {email, name, organization, position, status, last_completed_on,
    last_title, due, days_left}."""
    comps = by_email(completions)
    rows = []
    summary = {"total": 0, "ok": 0, "due_soon": 0, "overdue": 0, "never": 0}
    wanted = None if status is None else ({status} if isinstance(status, str) else set(status))
    for p in people:
        if organization is not None and p.organization != organization:
            continue
        st = person_status(comps.get(p.email.lower(), []), as_of, cycle, due_soon_days,
                           min_tenths)
        summary["total"] += 1
        summary[st["status"]] += 1
        if wanted is not None and st["status"] not in wanted:
            continue
        last = st["last"]
        rows.append({"email": p.email, "name": p.name, "organization": p.organization,
                     "position": p.position, "status": st["status"],
                     "last_completed_on": last.on.isoformat() if last else None,
                     "last_title": last.title if last else None,
                     "due": st["due"].isoformat() if st["due"] else None,
                     "days_left": st["days_left"]})
    rows.sort(key=lambda r: (r["status"] != "never", r["due"] or "", r["name"]))
    return summary, rows


def select_for_enroll(people, completions, today, status=None, due_within=None,
                      organization=None, cycle="3y", due_soon_days=180, min_tenths=0):
    """The emails `enroll` selects by status / due_within (union of the two)."""
    comps = by_email(completions)
    wanted = None if status is None else ({status} if isinstance(status, str) else set(status))
    out = set()
    for p in people:
        if organization is not None and p.organization != organization:
            continue
        st = person_status(comps.get(p.email.lower(), []), today, cycle, due_soon_days,
                           min_tenths)
        if wanted is not None and st["status"] in wanted:
            out.add(p.email)
        if due_within is not None and st["due"] is not None and \
                (st["due"] - today).days <= due_within:
            out.add(p.email)
    return out


def coverage(people, completions, frm, to, by=None, min_tenths=0, organization=None):
    """The expected report.coverage: (groups, total); each a dict
    {group, total, trained, percent, tenths} (tenths: hours * 10). groups
    in the report's order: percent ascending, then name (None last among
    equals is not asserted: see sort_key)."""
    comps = by_email(completions)
    acc = {}
    tot = {"group": None, "total": 0, "trained": 0, "tenths": 0}
    for p in people:
        if organization is not None and p.organization != organization:
            continue
        key = None if by is None else getattr(p, by)
        g = acc.setdefault(key, {"group": key, "total": 0, "trained": 0, "tenths": 0})
        mine = [c for c in comps.get(p.email.lower(), []) if frm <= c.on <= to]
        trained = any(qualifies(c, min_tenths) for c in mine)
        tenths = sum(c.tenths for c in mine)
        for r in (g, tot):
            r["total"] += 1
            r["trained"] += trained
            r["tenths"] += tenths
    for r in list(acc.values()) + [tot]:
        r["percent"] = percent_down(r["trained"], r["total"])
    groups = sorted(acc.values(), key=lambda r: (r["percent"], r["group"] is None,
                                                 r["group"] or ""))
    return groups, tot


def hours(people, completions, attendance, frm, to, by="person", person=None,
          organization=None):
    """The expected report.hours rows (tenths): by person {email: {sessions,
    courses, external, total}} or by organization {org: {..., people}}
    (people: how many of the organization's people have any hours).
    attendance: [(email, local_day, minutes)] of attended meetings that
    belong to no course."""
    emails = {p.email.lower(): p for p in people}
    rows = {}

    def row(p):
        key = p.email if by == "person" else p.organization
        return rows.setdefault(key, {"sessions": 0, "courses": 0, "external": 0, "who": set()})

    def wanted(p):
        if person is not None and p.email.lower() != person.lower():
            return False
        return organization is None or p.organization == organization

    for c in completions:
        p = emails[c.email.lower()]
        if wanted(p) and frm <= c.on <= to:
            r = row(p)
            r["courses" if c.course is not None else "external"] += c.tenths
            r["who"].add(p.email)
    for email, d, minutes in attendance:
        p = emails[email.lower()]
        if wanted(p) and frm <= d <= to:
            assert minutes % 6 == 0, "durations are whole tenths of an hour"
            r = row(p)
            r["sessions"] += minutes // 6
            r["who"].add(p.email)
    for r in rows.values():
        r["total"] = r["sessions"] + r["courses"] + r["external"]
        r["people"] = len(r.pop("who"))
    return rows


def completions(all_completions, people, frm=None, to=None, person=None,
                organization=None, course=None, source=None):
    """The register entries (Completion objects) completion.list returns
    for those filters, unordered (the order is by completed_on, then
    register_no: the number is the daemon's)."""
    orgs = {p.email.lower(): p.organization for p in people}
    out = []
    for c in all_completions:
        if frm is not None and c.on < frm:
            continue
        if to is not None and c.on > to:
            continue
        if person is not None and c.email.lower() != person.lower():
            continue
        if organization is not None and orgs[c.email.lower()] != organization:
            continue
        if course is not None and c.course != course:
            continue
        if source is not None and c.source != source:
            continue
        out.append(c)
    return out


# --------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------

def csv_text(header, rows, bom=False, crlf=True):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    return ("\ufeff" if bom else "") + buf.getvalue()


def yes_no(rng, counts):
    return rng.choice(["1", "yes", "true", "YES", "True", ""] if counts
                      else ["0", "no", "false", "No", "FALSE"])


def fmt_hours(tenths):
    return str(tenths // 10) if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}"


# --------------------------------------------------------------------------
# The district
# --------------------------------------------------------------------------

SCHOOLS = [("School No. 5", 267, "school5.example"),
           ("Gymnasium No. 1", 61, "gym1.example"),
           ("Лицей № 2", 48, "lyceum2.example"),
           ("School No. 12", 30, "school12.example"),
           ("Evening School", 13, "evening.example"),
           (None, 7, "freelance.example")]
POSITIONS = ["teacher of mathematics", "teacher of Russian", "primary teacher",
             "teacher of physics", "deputy head", "учитель истории", None]
SURNAMES = ["Ivanova", "Petrov", "Smirnova", "Kuznetsov", "Popova", "Sokolov", "Lebedeva",
            "Kozlov", "Novikova", "Morozov", "Volkova", "Solovyov", "Vasilieva", "Zaitsev",
            "Pavlova", "Semenov", "Golubeva", "Vinogradov", "Bogdanova", "Vorobyov",
            "Fedorova", "Mikhailov", "Belyaeva", "Tarasov", "Belova", "Komarov",
            "Orlova", "Kiselev", "Makarova", "Andreev",
            "Иванова", "Петров", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева",
            "Козлов", "Новикова", "Морозов", "Волкова", "Зайцев"]
FIRST = ["Anna", "Boris", "Elena", "Dmitry", "Olga", "Sergey", "Maria", "Pavel", "Irina",
         "Nikolai", "Tatiana", "Alexei", "Natalia", "Viktor", "Yulia", "Анна", "Борис",
         "Елена", "Дмитрий", "Ольга", "Сергей", "Мария"]
EXTERNAL = [("Assessment literacy", "Regional Institute of Education Development"),
            ("Project-based learning", "Regional Institute of Education Development"),
            ("Teaching gifted children", "Moscow City Pedagogical University"),
            ("Functional literacy", "Academy of Education"),
            ("Safeguarding", None),
            ("Digital classroom", "Regional Institute of Education Development"),
            ("Классное руководство", "Институт развития образования"),
            ("First aid for teachers", "Red Cross")]
HOURS = [160, 180, 240, 360, 720, 80, 45, 0, 155, 160, 240, 360]   # tenths


class District:
    """The generated data: people, completions (every source), courses,
    webinars and their attendance; and the plan of requests (load)."""

    TODAY = Date(2026, 11, 23)
    CYCLE = "3y"
    DUE_SOON = 180
    MIN_TENTHS = 160                      # [recertification] min_hours = 16
    CONFIG = {"recertification": {"min_hours": "16"}}

    def __init__(self, seed=20261123):
        self.rng = rng = random.Random(seed)
        self.window = cycle_window(self.TODAY, self.CYCLE)
        assert self.window == (Date(2023, 11, 23), Date(2026, 11, 23))
        self.people = []
        self.completions = []       # every completion, in the order they are entered
        self.external_rows = []     # (Completion, counts text) in file order
        self.courses = []
        self.webinars = []          # [(key, session.add args, [Meeting])]
        self.special = {}           # label -> email
        self._make_people()
        self.trained5 = set(rng.sample([p.email for p in self.people
                                        if p.organization == "School No. 5"], 87))
        self._make_courses()
        self._make_special()
        self._make_external()
        self._make_webinars()
        self._check()

    # -- people --------------------------------------------------------------
    def _make_people(self):
        rng = self.rng
        names = rng.sample([f"{s} {f}" for s in SURNAMES for f in FIRST],
                           sum(n for _, n, _ in SCHOOLS) + 20)
        i = 0
        for org, n, domain in SCHOOLS:
            for _ in range(n):
                name = names[i]
                i += 1
                pos = rng.choice(POSITIONS)
                lang = "ru" if any("\u0400" <= ch <= "\u04ff" for ch in name) else "en"
                self.people.append(Person(name, f"t{i:04d}@{domain}", org, pos, lang))
        self.spare_names = names[i:]

    def org_of(self, email):
        return next(p.organization for p in self.people if p.email == email)

    def may_train(self, email):
        """Whether a qualifying completion in the window is allowed (School
        No. 5 keeps exactly its 87)."""
        return self.org_of(email) != "School No. 5" or email in self.trained5

    # -- lectern courses -----------------------------------------------------
    def _make_courses(self):
        rng = self.rng
        everyone = [p.email for p in self.people]
        allowed = [e for e in everyone if self.may_train(e)]

        # C1: completed by attendance. Four live meetings and one cancelled:
        # a single kick-off (at 00:30 Moscow: the previous day in UTC) and a
        # weekly series of four of which the third is cancelled.
        c1 = Course("c1", "Formative assessment", "District methodology service", 36, True,
                    Date(2024, 10, 1), Date(2024, 10, 31))
        c1.sessions = [
            ("c1-kickoff", {"title": "Formative assessment: kick-off",
                            "start": "2024-10-01T00:30", "duration": 90, "tz": TZ}),
            ("c1-weekly", {"title": "Formative assessment: practice",
                           "start": "2024-10-08T15:00", "duration": 60, "tz": TZ,
                           "rrule": "FREQ=WEEKLY;COUNT=4"}),
        ]
        c1.meetings = [Meeting("c1-kickoff", datetime.datetime(2024, 10, 1, 0, 30), 90)]
        for k, dd in enumerate((8, 15, 22, 29)):
            st = datetime.datetime(2024, 10, dd, 15, 0)
            c1.meetings.append(Meeting("c1-weekly", st, 60, occurrence=st.strftime("%Y-%m-%dT%H:%M"),
                                       cancelled=(k == 2)))
        live = [m for m in c1.meetings if not m.cancelled]
        group = rng.sample(allowed, 60)
        for email in group:
            # how many of the four live meetings: 4, 3 (complete), 2, 1 (not)
            n = rng.choice([4, 3, 3, 2, 1])
            chosen = set(rng.sample(range(len(live)), n))
            for k, m in enumerate(live):
                if k in chosen:
                    m.attended.append(email)
                elif rng.random() < 0.6:
                    m.absent.append(email)
        self.c1_group = group

        # C2: recorded by course.complete with the course's hours.
        c2 = Course("c2", "Inclusive classroom", "District office", 24, True,
                    Date(2025, 2, 1), Date(2025, 2, 28))
        c2.manual = [(rng.sample(allowed, 40), Date(2025, 2, 28), None)]
        # C3: does not count for recertification (but its hours do count).
        c3 = Course("c3", "School choir leadership", None, 40, False,
                    Date(2025, 5, 5), Date(2025, 5, 16))
        c3.manual = [(rng.sample(everyone, 25), Date(2025, 5, 16), None)]
        # C4: before the window (these people are overdue unless trained since).
        c4 = Course("c4", "Digital tools", "District office", 72, True,
                    Date(2023, 10, 2), Date(2023, 10, 27))
        c4.manual = [(rng.sample(everyone, 30), Date(2023, 10, 27), None)]
        # C5: no hours on the course: one batch given hours, one not (0 hours,
        # which is under min_hours: it does not qualify).
        c5 = Course("c5", "Reading literacy", "District methodology service", None, True,
                    Date(2026, 3, 2), Date(2026, 3, 27))
        batch = rng.sample(allowed, 30)
        c5.manual = [(batch[:20], Date(2026, 3, 27), 18), (batch[20:], Date(2026, 3, 20), None)]
        self.courses = [c1, c2, c3, c4, c5]
        self.course_by_key = {c.key: c for c in self.courses}

        # The completions these produce, in the order load() enters them.
        for c in self.courses:
            if c.meetings:
                self.completions += self._attendance_completions(c)
            for emails, on, hrs in c.manual:
                tenths = 10 * (hrs if hrs is not None else (c.hours or 0))
                for e in emails:
                    self.completions.append(Completion(e, c.title, c.provider, tenths, on,
                                                       c.counts, c.key, "manual"))

    def mark_order(self, course):
        """The order load() marks a course's live meetings: latest first, so
        that the meeting on which a person reaches the share is never later
        than the latest one they attended (the completion's date is then
        the latest attended meeting's day whatever the implementation)."""
        return sorted([m for m in course.meetings if not m.cancelled],
                      key=lambda m: m.local_start, reverse=True)

    def _attendance_completions(self, course):
        live = [m for m in course.meetings if not m.cancelled]
        seen = {}
        for m in live:
            for e in m.attended:
                seen.setdefault(e, []).append(m)
        out = []
        for e, ms in seen.items():
            if completion_met(len(ms), len(live)):
                on = max(m.local_day for m in ms)
                out.append(Completion(e, course.title, course.provider,
                                      10 * (course.hours or 0), on, course.counts,
                                      course.key, "attendance"))
        return out

    # -- the boundary people --------------------------------------------------
    def _make_special(self):
        t = self.TODAY
        specs = [
            # label: qualifying completion dates (and hours, counts)
            ("due_today", [(Date(2023, 11, 23), 360, True)]),      # due 2026-11-23
            ("window_first_day", [(Date(2023, 11, 24), 360, True)]),
            ("overdue_by_one", [(Date(2023, 11, 22), 360, True)]),
            ("leap_day", [(Date(2024, 2, 29), 240, True)]),         # due 2027-02-28
            ("due_soon_last", [(Date(2024, 5, 22), 160, True)]),    # due today + 180
            ("ok_first", [(Date(2024, 5, 23), 160, True)]),         # due today + 181
            ("min_hours_exact", [(Date(2026, 1, 10), 160, True)]),
            ("min_hours_under", [(Date(2026, 1, 10), 159, True)]),
            ("not_counting", [(Date(2026, 2, 2), 400, False)]),
            ("completed_today", [(t, 240, True), (Date(2022, 3, 1), 200, True)]),
            ("leap_day_prior", [(Date(2024, 2, 28), 240, True)]),
            ("leap_year_end", [(Date(2025, 2, 28), 240, True), (Date(2021, 5, 5), 500, True)]),
            # renewed on the last day of the previous cycle (its due day)
            ("renewed_on_due_day", [(Date(2020, 11, 25), 240, True),
                                    (Date(2023, 11, 25), 240, True)]),
        ]
        assert (Date(2027, 5, 22) - t).days == 180
        for label, comps in specs:
            name = self.spare_names.pop()
            email = f"{label.replace('_', '.')}@evening.example"
            self.people.append(Person(name, email, "Evening School", "teacher of physics"))
            self.special[label] = email
            for on, tenths, counts in comps:
                c = Completion(email, f"Boundary course {label}", "Regional Institute", tenths,
                               on, counts)
                self.external_rows.append((c, yes_no(self.rng, counts)))

    # -- external training ---------------------------------------------------
    def _make_external(self):
        rng = self.rng
        t = self.TODAY
        start = Date(2022, 6, 1)
        special = set(self.special.values())
        taken = {(c.email, c.on) for c in self.completions}
        taken |= {(c.email, c.on) for c, _ in self.external_rows}
        span = (t - start).days
        for p in self.people:
            if p.email in special:
                continue
            n = rng.choice([0, 0, 1, 1, 1, 2, 2, 3])
            for _ in range(n):
                for _try in range(50):
                    on = start + datetime.timedelta(days=rng.randrange(span + 1))
                    title, provider = rng.choice(EXTERNAL)
                    tenths = rng.choice(HOURS)
                    counts = rng.random() < 0.85
                    c = Completion(p.email, title, provider, tenths, on, counts)
                    in_window = self.window[0] <= on <= self.window[1]
                    if (p.email, on) in taken:
                        continue
                    if in_window and qualifies(c, self.MIN_TENTHS) and not self.may_train(p.email):
                        continue
                    break
                else:
                    continue
                taken.add((p.email, on))
                self.external_rows.append((c, yes_no(rng, counts)))
        # School No. 5's 87: each gets a qualifying completion in the window
        # if the courses and the draw above gave them none.
        have = {c.email for c in self.completions + [c for c, _ in self.external_rows]
                if qualifies(c, self.MIN_TENTHS) and self.window[0] <= c.on <= self.window[1]}
        for e in sorted(self.trained5 - have):
            while True:
                on = self.window[0] + datetime.timedelta(days=rng.randrange(
                    (self.window[1] - self.window[0]).days + 1))
                if (e, on) not in taken:
                    break
            taken.add((e, on))
            c = Completion(e, "Assessment literacy", "Regional Institute of Education Development",
                           240, on, True)
            self.external_rows.append((c, yes_no(rng, True)))
        rng.shuffle(self.external_rows)
        self.completions += [c for c, _ in self.external_rows]

    def training_csv(self):
        """The training.import file (columns in an unusual order)."""
        header = ["Completed_On", "email", "TITLE", "hours", "provider",
                  "counts_for_recertification"]
        rows = [[c.on.isoformat(), c.email, c.title, fmt_hours(c.tenths), c.provider or "",
                 counts] for c, counts in self.external_rows]
        return csv_text(header, rows, bom=True)

    # -- webinars outside courses ---------------------------------------------
    def _make_webinars(self):
        rng = self.rng
        everyone = [p.email for p in self.people]
        plans = [
            ("w-1", {"kind": "webinar", "title": "Grading without tears",
                     "start": "2025-03-12T15:00", "duration": 90, "tz": TZ},
             [(datetime.datetime(2025, 3, 12, 15, 0), None)], 90),
            ("w-2", {"kind": "seminar", "title": "Old seminar (before the window)",
                     "start": "2023-06-01T10:00", "duration": 60, "tz": TZ},
             [(datetime.datetime(2023, 6, 1, 10, 0), None)], 60),
            ("w-3", {"kind": "webinar", "title": "Monthly methodology hour",
                     "start": "2026-02-04T16:00", "duration": 48, "tz": TZ,
                     "rrule": "FREQ=WEEKLY;COUNT=3"},
             [(datetime.datetime(2026, 2, d, 16, 0), f"2026-02-{d:02d}T16:00") for d in (4, 11, 18)],
             48),
        ]
        for key, args, occs, minutes in plans:
            meetings = []
            for st, occ in occs:
                m = Meeting(key, st, minutes, occurrence=occ)
                pool = rng.sample(everyone, 70)
                m.attended = pool[:50]
                m.absent = pool[50:]
                meetings.append(m)
            self.webinars.append((key, args, meetings))

    def session_attendance(self):
        """[(email, local_day, minutes)] of attended webinar meetings."""
        return [(e, m.local_day, m.minutes) for _, _, ms in self.webinars for m in ms
                for e in m.attended]

    # -- sanity of the generator itself ----------------------------------------
    def _check(self):
        emails = [p.email for p in self.people]
        assert len(set(emails)) == len(emails)
        assert len({p.name for p in self.people}) == len(self.people)
        # no person has two qualifying completions on one day (the "last"
        # completion is then always one completion)
        seen = set()
        for c in self.completions:
            if qualifies(c, self.MIN_TENTHS):
                assert (c.email, c.on) not in seen, (c.email, c.on)
                seen.add((c.email, c.on))
        # no completion identical to another (training.import's duplicates)
        keys = [(c.email, c.title, c.provider, c.on) for c, _ in self.external_rows]
        assert len(set(keys)) == len(keys)
        assert all(c.on <= self.TODAY for c in self.completions)
        groups, _ = coverage(self.people, self.completions, *self.window, by="organization",
                             min_tenths=self.MIN_TENTHS)
        g5 = next(g for g in groups if g["group"] == "School No. 5")
        assert (g5["trained"], g5["total"], g5["percent"]) == (87, 267, 32.5), g5

    # -- expected values with the district's configuration ---------------------
    def recertification(self, as_of=None, **kw):
        return recertification(self.people, self.completions, as_of or self.TODAY, self.CYCLE,
                               self.DUE_SOON, self.MIN_TENTHS, **kw)

    def coverage(self, frm=None, to=None, by=None, organization=None):
        frm = frm or self.window[0]
        to = to or self.window[1]
        return coverage(self.people, self.completions, frm, to, by, self.MIN_TENTHS,
                        organization)

    def hours(self, frm=None, to=None, **kw):
        return hours(self.people, self.completions, self.session_attendance(),
                     frm or self.window[0], to or self.window[1], **kw)

    def select(self, **kw):
        return select_for_enroll(self.people, self.completions, self.TODAY, cycle=self.CYCLE,
                                 due_soon_days=self.DUE_SOON, min_tenths=self.MIN_TENTHS, **kw)


# --------------------------------------------------------------------------
# Loading the district into a daemon
# --------------------------------------------------------------------------

def people_csv(people):
    return csv_text(["name", "email", "organization", "position", "lang"],
                    [[p.name, p.email, p.organization or "", p.position or "", p.lang]
                     for p in people])


def load(c, district):
    """Tell the daemon (harness Client c) the district. Returns
    {"people": {email: id}, "courses": {key: id}, "sessions": {key: id},
    "replies": {...}} with the replies of the bulk commands, which the tests
    check against the plan."""
    ids = {"people": {}, "courses": {}, "sessions": {}, "replies": {}}
    r = c.ok("person.import", {"csv": people_csv(district.people)})
    ids["replies"]["person.import"] = r
    for p in c.ok("person.list", {"limit": 10000}):
        ids["people"][p["email"]] = p["id"]
    for co in district.courses:
        args = {"title": co.title, "first_day": co.first_day.isoformat(),
                "last_day": co.last_day.isoformat(),
                "counts_for_recertification": co.counts}
        if co.provider is not None:
            args["provider"] = co.provider
        if co.hours is not None:
            args["hours"] = co.hours
        cid = c.ok("course.add", args)["id"]
        ids["courses"][co.key] = cid
        for key, sargs in co.sessions:
            ids["sessions"][key] = c.ok("session.add", dict(sargs, course=cid,
                                                             reminders=[]))["id"]
        for m in co.meetings:
            if m.cancelled:
                c.ok("session.cancel", {"id": ids["sessions"][m.session],
                                        "occurrence": m.occurrence})
        marks = []
        for m in district.mark_order(co):
            for state, who in (("attended", m.attended), ("absent", m.absent)):
                if not who:
                    continue
                args = {"session": ids["sessions"][m.session], "people": who, "state": state}
                if m.occurrence:
                    args["occurrence"] = m.occurrence
                marks.append(c.ok("attendance.mark", args))
        ids["replies"][f"marks-{co.key}"] = marks
        done = []
        for emails, on, hrs in co.manual:
            args = {"course": cid, "people": emails, "completed_on": on.isoformat()}
            if hrs is not None:
                args["hours"] = hrs
            done.append(c.ok("course.complete", args))
        ids["replies"][f"complete-{co.key}"] = done
    ids["replies"]["training.import"] = c.ok("training.import",
                                             {"csv": district.training_csv()})
    for key, args, meetings in district.webinars:
        sid = c.ok("session.add", dict(args, reminders=[]))["id"]
        ids["sessions"][key] = sid
        for m in meetings:
            for state, who in (("attended", m.attended), ("absent", m.absent)):
                a = {"session": sid, "people": who, "state": state}
                if m.occurrence:
                    a["occurrence"] = m.occurrence
                c.ok("attendance.mark", a)
    return ids


if __name__ == "__main__":     # a summary of the generated district
    d = District()
    print(len(d.people), "people,", len(d.completions), "completions,",
          len(d.external_rows), "external rows")
    s, rows = d.recertification()
    print("today", d.TODAY, s)
    for g in d.coverage(by="organization")[0]:
        print(g)


# --------------------------------------------------------------------------
# Daemons on a chosen day
# --------------------------------------------------------------------------

def msk_epoch(local):
    """'2026-11-23T12:00[:SS]' Moscow wall time -> epoch seconds."""
    return datetime.datetime.fromisoformat(local).replace(tzinfo=MSK).timestamp()


ISO_Z = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"
REGISTER_NO = r"^(\d{4})-(\d{6})$"
COMPLETION_KEYS = {"id", "register_no", "person", "name", "organization", "course", "title",
                   "provider", "hours", "completed_on", "counts_for_recertification",
                   "source", "entered_by", "entered_at"}


class CpdCase(unittest.TestCase):
    """One lecternd-test per class whose clock reads `now` (Moscow wall
    time) when it starts; self.c is a client of it."""
    now = "2026-11-23T12:00"
    overrides = None

    @classmethod
    def start_daemon(cls, now=None, overrides=None):
        off = round(msk_epoch(now or cls.now) - time.time())
        d = Daemon(overrides=overrides, test_clock=off)
        d.offset = off
        try:
            d.start()
        except BaseException:
            d.cleanup()
            raise
        return d

    @classmethod
    def setUpClass(cls):
        cls.daemon = cls.start_daemon(cls.now, cls.overrides)
        cls.c = cls.daemon.client(timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        shut_down(cls.daemon)

    def setUp(self):
        if not self.daemon.alive():
            self.fail("lecternd is not running (died during an earlier test); stderr:\n"
                      + self.daemon.stderr_text()[-3000:])

    def assertError(self, err, code, field=None, msg=None):
        self.assertEqual(err.get("code"), code, msg or err)
        self.assertIsInstance(err.get("message"), str, err)
        self.assertTrue(err["message"], err)
        if field is not None:
            self.assertEqual(err.get("field"), field, msg or err)

    def assertFails(self, cmd, args, code, field=None):
        """cmd must fail with code (and field); the error is returned."""
        e = self.c.err(cmd, args)
        self.assertError(e, code, field, f"{cmd} {args}: {e}")
        return e

    def assertHours(self, value, tenths, msg=None):
        """A number of hours with one decimal, equal to tenths / 10."""
        self.assertIsInstance(value, (int, float), msg)
        self.assertAlmostEqual(value * 10, round(value * 10), places=6,
                               msg=f"{value} has more than one decimal; {msg or ''}")
        self.assertEqual(round(value * 10), tenths, msg)

    def assertCompletionShape(self, x):
        self.assertEqual(set(x), COMPLETION_KEYS, x)
        self.assertRegex(x["register_no"], REGISTER_NO)
        self.assertEqual(x["register_no"][:4], x["completed_on"][:4], x)
        self.assertEqual(set(x["person"]), {"id", "email"}, x)
        self.assertRegex(x["entered_at"], ISO_Z)
        self.assertEqual(x["entered_by"], os.getuid(), x)
        self.assertIn(x["source"], ("attendance", "manual", "import"), x)
        self.assertIsInstance(x["counts_for_recertification"], bool, x)
        return re.match(REGISTER_NO, x["register_no"])

    def person(self, name, email, **kw):
        return self.c.ok("person.add", dict(kw, name=name, email=email))

    @staticmethod
    def set_now(daemon, local):
        """Step the daemon's clock to read LOCAL (Moscow) now."""
        daemon.offset = round(msk_epoch(local) - time.time())
        daemon.set_clock(daemon.offset)

    def wait_today(self, day, client=None):
        """Until the daemon's `today` (report.recertification's as_of) is DAY."""
        c = client or self.c
        deadline = time.monotonic() + 10
        while True:
            got = c.ok("report.recertification", {"limit": 1})["as_of"]
            if got == day:
                return
            if time.monotonic() > deadline:
                self.fail(f"the daemon's today is {got}, not {day}, 10 s after the clock step")
            time.sleep(0.05)

    def assertEnteredNow(self, x, daemon=None):
        """entered_by is our uid, entered_at the daemon's time now (give or take)."""
        d = daemon or self.daemon
        self.assertEqual(x["entered_by"], os.getuid(), x)
        self.assertRegex(x["entered_at"], ISO_Z)
        t = datetime.datetime.strptime(x["entered_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        now = time.time() + d.offset
        self.assertLess(abs(t - now), 300, f"entered_at {x['entered_at']} is not the daemon's now")
