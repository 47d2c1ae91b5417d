"""Every command of docs/PROTOCOL.md over the raw socket: result shapes and
values on the happy path, and errors with the right code and field."""
import json
import re
import unittest

from harness import DaemonCase, unique

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
PERSON_KEYS = {"id", "name", "email", "organization", "position", "lang", "tags",
               "created", "updated"}
SESSION_KEYS = {"id", "uid", "sequence", "kind", "title", "description", "location", "url",
                "start", "end", "tz", "local_start", "duration", "capacity", "reminders",
                "course", "rrule", "status", "cancel_reason", "enrolled", "waitlisted",
                "created", "updated"}


def assertOrderedByName(tc, pairs, msg):
    """Names in order; the collation is not specified beyond "by name", so
    code-point order and case-insensitive order are both accepted."""
    if pairs == sorted(pairs):
        return
    tc.assertEqual(pairs, sorted(pairs, key=lambda p: (p[0].casefold(), p[1])), msg)


class CommandsBase(DaemonCase):
    def setUp(self):
        super().setUp()
        self.c = self.client()

    def tearDown(self):
        self.c.close()

    def person(self, name=None, **kw):
        tag = unique("u")
        args = {"name": name or f"Teacher {tag}", "email": f"{tag}@school.example"}
        args.update(kw)
        return self.c.ok("person.add", args)

    def session(self, **kw):
        args = {"kind": "webinar", "title": "Formative assessment " + unique("s"),
                "start": "2026-12-01T15:00", "duration": 90}
        args.update(kw)
        return self.c.ok("session.add", args)

    def ids(self, refs):
        return [r["id"] for r in refs]


class GreetingAndStatus(CommandsBase):
    def test_greeting(self):
        self.assertEqual(self.c.greeting, {"lectern": "0.1.0", "protocol": 1})

    def test_status_shape_and_counts(self):
        st = self.c.ok("status")
        for k in ("version", "protocol", "uptime_s", "people", "groups", "sessions",
                  "courses", "outbox", "next_due", "timezone", "clients"):
            self.assertIn(k, st)
        self.assertEqual(st["version"], "0.1.0")
        self.assertEqual(st["protocol"], 1)
        self.assertIsInstance(st["uptime_s"], int)
        self.assertGreaterEqual(st["uptime_s"], 0)
        self.assertEqual(st["timezone"], "Europe/Moscow")
        self.assertGreaterEqual(st["clients"], 1)
        for k in ("queued", "sent", "failed"):
            self.assertIsInstance(st["outbox"][k], int)
        self.person()
        self.person()
        self.session()
        self.c.ok("group.add", {"name": unique("g")})
        st2 = self.c.ok("status")
        self.assertEqual(st2["people"], st["people"] + 2)
        self.assertEqual(st2["sessions"], st["sessions"] + 1)
        self.assertEqual(st2["groups"], st["groups"] + 1)
        self.assertEqual(st2["courses"], st["courses"])

    def test_status_next_due_after_session(self):
        # an enrolled person and a reminder a day before a future start: a job is due
        s = self.session(start="2027-06-01T10:00", reminders=[1440])
        self.c.ok("enroll", {"session": s["id"], "people": [self.person()["id"]]})
        st = self.c.ok("status")
        self.assertIsNotNone(st["next_due"], "a reminder is due 2027-05-31T07:00:00Z")
        self.assertRegex(st["next_due"], ISO_Z)
        # the earliest job: this reminder or an earlier one of another test
        self.assertLessEqual(st["next_due"], "2027-05-31T07:00:00Z")

    def test_status_rejects_unknown_argument(self):
        self.assertError(self.c.err("status", {"verbose": True}), "invalid_argument")

    def test_unknown_command(self):
        self.assertError(self.c.err("person.explode", {}), "unknown_command")
        self.assertError(self.c.err("", {}), "unknown_command")


class Envelope(CommandsBase):
    def test_ids_echoed_exactly(self):
        for id in (0, -1, 9007199254740993, 9223372036854775807, -9223372036854775808,
                   "", "x" * 200, "я" * 100, "a\"b\\c\n", "\u2028"):
            with self.subTest(id=id):
                r = self.c.request("status", id=id)
                self.assertTrue(r["ok"], r)
                self.assertEqual(r["id"], id)
                self.assertIs(type(r["id"]), type(id))

    def test_args_may_be_omitted_and_crlf_is_whitespace(self):
        self.c.send(b'{"id":1,"cmd":"status"}\n')
        self.assertTrue(self.c.recv()["ok"])
        self.c.send(b'  {"id":2,"cmd":"status","args":{}}\r\n')
        r = self.c.recv()
        self.assertEqual((r["id"], r["ok"]), (2, True), r)

    def test_pipelined_mixed_replies_in_order(self):
        lines = [b'{"id":1,"cmd":"status"}', b'{"id":2,"cmd":"nope"}', b'garbage',
                 b'{"id":4,"cmd":"person.get","args":{"id":987654321}}', b'{"id":5}',
                 b'{"id":"six","cmd":"group.list"}', b'{"id":7,"cmd":"status","args":[]}',
                 b'{"id":8,"cmd":"status"}']
        self.c.send(b"\n".join(lines) + b"\n")
        got = [self.c.recv() for _ in lines]
        self.assertEqual([(r["id"], r["ok"]) for r in got],
                         [(1, True), (2, False), (None, False), (4, False), (5, False),
                          ("six", True), (7, False), (8, True)])
        self.assertEqual([r.get("error", {}).get("code") for r in got],
                         [None, "unknown_command", "bad_request", "not_found", "bad_request",
                          None, "bad_request", None])

    def test_reply_is_one_line_of_utf8(self):
        p = self.person(name="Иван\u00a0Петров «Ёж»")
        self.c.send(json.dumps({"id": 1, "cmd": "person.get", "args": {"id": p["id"]}}) + "\n")
        raw = self.c.recv_line()
        self.assertNotIn(b"\r", raw)
        self.assertEqual(json.loads(raw.decode("utf-8"))["result"]["name"], "Иван\u00a0Петров «Ёж»")


class People(CommandsBase):
    def test_add_returns_person(self):
        tag = unique("ivan")
        p = self.c.ok("person.add", {"name": "Иван Петров", "email": f"{tag}@School5.example",
                                     "organization": "School No. 5",
                                     "position": "teacher of mathematics", "lang": "ru",
                                     "tags": ["math", "young-teacher"]})
        self.assertTrue(PERSON_KEYS <= set(p), set(p))
        self.assertIsInstance(p["id"], int)
        self.assertEqual(p["name"], "Иван Петров")
        self.assertEqual(p["email"].lower(), f"{tag}@school5.example".lower())
        self.assertEqual(p["organization"], "School No. 5")
        self.assertEqual(p["position"], "teacher of mathematics")
        self.assertEqual(p["lang"], "ru")
        self.assertEqual(p["tags"], ["math", "young-teacher"])
        self.assertRegex(p["created"], ISO_Z)
        self.assertRegex(p["updated"], ISO_Z)

    def test_add_unset_optionals_are_null(self):
        p = self.person()
        self.assertIsNone(p["organization"])
        self.assertIsNone(p["position"])

    def test_duplicate_email_case_insensitive(self):
        p = self.person()
        e = self.c.err("person.add", {"name": "Someone Else", "email": p["email"].upper()})
        self.assertError(e, "conflict", "email")

    def test_add_invalid_arguments(self):
        good = {"name": "Anna", "email": unique("a") + "@x.example"}
        cases = [
            ({"email": "no-at-sign"}, "email"),
            ({"email": "two@@x.example"}, "email"),
            ({"email": "sp ace@x.example"}, "email"),
            ({"email": "a@b.example\r\nBcc: x@y.example"}, "email"),
            ({"email": "semi;colon@x.example"}, "email"),
            ({"email": "<a@x.example>"}, "email"),
            ({"email": "a@-bad.example"}, "email"),
            ({"email": ""}, "email"),
            ({"email": 42}, "email"),
            ({"name": ""}, "name"),
            ({"name": "   "}, "name"),
            ({"name": "x" * 201}, "name"),
            ({"name": ["Anna"]}, "name"),
            ({"lang": "Russian!"}, "lang"),
            ({"tags": "math"}, "tags"),
            ({"tags": ["has space"]}, "tags"),
            ({"tags": ["t%d" % i for i in range(33)]}, "tags"),
            ({"organization": "x" * 501}, "organization"),
            ({"colour": "red"}, "colour"),
        ]
        for change, field in cases:
            with self.subTest(change=str(change)[:80]):
                args = dict(good, **change)
                e = self.c.err("person.add", args)
                self.assertError(e, "invalid_argument")
                if field != "colour":
                    self.assertEqual(e.get("field"), field, e)
        for missing in ("name", "email"):
            args = dict(good)
            del args[missing]
            self.assertError(self.c.err("person.add", args), "invalid_argument", missing)

    def test_get_by_id_and_email(self):
        p = self.person(organization="Lyceum 2")
        by_id = self.c.ok("person.get", {"id": p["id"]})
        by_email = self.c.ok("person.get", {"email": p["email"].upper()})
        for got in (by_id, by_email):
            self.assertEqual(got["id"], p["id"])
            self.assertEqual(got["email"], p["email"])
            self.assertEqual(got["organization"], "Lyceum 2")
            self.assertEqual(got["groups"], [])
            self.assertEqual(got["enrollments"], [])

    def test_get_not_found(self):
        self.assertError(self.c.err("person.get", {"id": 987654321}), "not_found")
        self.assertError(self.c.err("person.get", {"email": "nobody@nowhere.example"}),
                         "not_found")
        self.assertError(self.c.err("person.get", {}), "invalid_argument")
        self.assertError(self.c.err("person.get", {"id": "7"}), "invalid_argument", "id")

    def test_update(self):
        p = self.person(organization="Old School", position="teacher")
        new_email = unique("n") + "@new.example"
        u = self.c.ok("person.update", {"id": p["id"], "name": "Ольга Кузнецова",
                                        "email": new_email, "organization": None})
        self.assertEqual(u["id"], p["id"])
        self.assertEqual(u["name"], "Ольга Кузнецова")
        self.assertEqual(u["email"], new_email)
        self.assertIsNone(u["organization"])
        self.assertEqual(u["position"], "teacher")
        self.assertEqual(self.c.ok("person.get", {"email": new_email})["id"], p["id"])
        self.assertError(self.c.err("person.get", {"email": p["email"]}), "not_found")
        # identified by email
        u2 = self.c.ok("person.update", {"email": new_email.upper(), "lang": "en"})
        self.assertEqual(u2["lang"], "en")

    def test_update_errors(self):
        a = self.person()
        b = self.person()
        self.assertError(self.c.err("person.update", {"id": a["id"], "email": b["email"]}),
                         "conflict", "email")
        self.assertError(self.c.err("person.update", {"id": 987654321, "name": "X"}),
                         "not_found")
        self.assertError(self.c.err("person.update", {"id": a["id"], "email": "bad"}),
                         "invalid_argument", "email")
        self.assertError(self.c.err("person.update", {"id": a["id"], "name": None}),
                         "invalid_argument", "name")
        self.assertError(self.c.err("person.update", {"id": a["id"], "shoe": 42}),
                         "invalid_argument")
        self.assertEqual(self.c.ok("person.get", {"id": a["id"]})["email"], a["email"])

    def test_remove(self):
        p = self.person()
        self.assertEqual(self.c.ok("person.remove", {"email": p["email"]}), {})
        self.assertError(self.c.err("person.get", {"id": p["id"]}), "not_found")
        self.assertError(self.c.err("person.remove", {"id": p["id"]}), "not_found")

    def test_list_filters_and_order(self):
        org = "Gymnasium " + unique("o")
        tag = unique("tag")
        grp = unique("grp")
        b = self.person(name="Борис " + tag, organization=org, tags=[tag])
        a = self.person(name="Алла " + tag, organization=org)
        c = self.person(name="Aaron " + tag, tags=[tag])
        self.c.ok("group.add", {"name": grp})
        self.c.ok("group.members.add", {"group": grp, "people": [c["id"], a["email"]]})
        by_org = self.c.ok("person.list", {"organization": org.upper()})
        self.assertEqual([p["id"] for p in by_org], [a["id"], b["id"]])  # Алла < Борис
        by_tag = self.c.ok("person.list", {"tag": tag})
        self.assertEqual([p["id"] for p in by_tag], [c["id"], b["id"]])  # Latin < Cyrillic
        by_grp = self.c.ok("person.list", {"group": grp})
        self.assertEqual([p["id"] for p in by_grp], [c["id"], a["id"]])
        everyone = self.c.ok("person.list")
        names = [(p["name"], p["id"]) for p in everyone]
        assertOrderedByName(self, names, "person.list is ordered by name then id")
        for p in everyone:
            self.assertTrue(PERSON_KEYS <= set(p))
        self.assertEqual(self.c.ok("person.list", {"organization": "No Such " + tag}), [])


class Import(CommandsBase):
    def listing(self):
        return self.c.ok("person.list")

    def test_import_all_or_nothing(self):
        t = unique("imp")
        csv = ("name,email,organization,position,lang\n"
               f"Анна Смирнова,{t}a@school5.example,School No. 5,teacher,ru\n"
               f"Bad Row,not-an-email,School No. 5,teacher,en\n"
               f"Mary Johnson,{t}m@lyceum2.example,Lyceum No. 2,teacher,en\n"
               f",{t}x@lyceum2.example,Lyceum No. 2,teacher,en\n")
        before = self.listing()
        reply = self.c.request("person.import", {"csv": csv})
        self.assertFalse(reply["ok"], reply)
        e = reply["error"]
        self.assertError(e, "invalid_argument", "csv")
        self.assertEqual([x["line"] for x in e.get("errors", [])], [3, 5], e)
        self.assertEqual(self.listing(), before, "a failed import wrote something")

    def test_import_partial_with_line_numbers(self):
        t = unique("imp")
        # BOM, CRLF, quoted comma, doubled quotes, and a quoted newline in an
        # invalid row: `line` counts physical lines, so later rows shift.
        csv = ("\ufeffName,Email,Organization,Position,Lang\r\n"
               f"\"Петров, Иван\",{t}p@school5.example,School No. 5,teacher of physics,ru\r\n"
               f"\"Broken\nName\",{t}b@school5.example,School,x,ru\r\n"
               f"Broken,{t}broken,School,x,ru\r\n"
               f"Ольга Кузнецова,{t}o@school5.example,\"School \"\"Five\"\"\",deputy head,ru\r\n"
               f"Dup,{t}O@school5.example,School,x,ru\r\n")
        r = self.c.ok("person.import", {"csv": csv, "partial": True})
        self.assertEqual(r["added"], 2, r)
        self.assertEqual(r["updated"], 0, r)
        self.assertEqual([x["line"] for x in r["errors"]], [3, 5, 7], r)
        for x in r["errors"]:
            self.assertIsInstance(x["message"], str)
        p = self.c.ok("person.get", {"email": f"{t}p@school5.example"})
        self.assertEqual(p["name"], "Петров, Иван")
        self.assertEqual(p["organization"], "School No. 5")
        o = self.c.ok("person.get", {"email": f"{t}o@school5.example"})
        self.assertEqual(o["organization"], 'School "Five"')
        self.assertEqual(o["name"], "Ольга Кузнецова", "the duplicate row must not update")
        self.assertError(self.c.err("person.get", {"email": f"{t}b@school5.example"}), "not_found")

    def test_import_semicolon_and_update(self):
        t = unique("imp")
        existing = self.c.ok("person.add", {"name": "Old Name", "email": f"{t}e@x.example",
                                            "organization": "Keep Org", "position": "Keep Pos"})
        csv = ("name;email;organization;position;lang;tags\n"
               f"Новое Имя;{t}E@X.example;;;ru;\n"
               f"Сергей Иванов;{t}s@x.example;Школа № 7, корпус 2;учитель;ru;math|young-teacher\n"
               f"Пётр Орлов;{t}t@x.example;;;ru;physics  chess\n")
        r = self.c.ok("person.import", {"csv": csv})
        self.assertEqual((r["added"], r["updated"], r["errors"]), (2, 1, []), r)
        e = self.c.ok("person.get", {"id": existing["id"]})
        self.assertEqual(e["name"], "Новое Имя")
        self.assertEqual(e["organization"], "Keep Org", "empty cell must keep the old value")
        self.assertEqual(e["position"], "Keep Pos")
        self.assertEqual(e["lang"], "ru")
        s = self.c.ok("person.get", {"email": f"{t}s@x.example"})
        self.assertEqual(s["organization"], "Школа № 7, корпус 2")
        self.assertEqual(s["tags"], ["math", "young-teacher"])
        self.assertEqual(self.c.ok("person.get", {"email": f"{t}t@x.example"})["tags"],
                         ["physics", "chess"])

    def test_import_bad_header_and_types(self):
        self.assertError(self.c.err("person.import", {"csv": "name,organization\nA,B\n"}),
                         "invalid_argument", "csv")
        self.assertError(self.c.err("person.import", {"csv": 5}), "invalid_argument", "csv")
        self.assertError(self.c.err("person.import", {"csv": "name,email\n", "partial": "yes"}),
                         "invalid_argument", "partial")
        self.assertError(self.c.err("person.import", {}), "invalid_argument", "csv")


class Groups(CommandsBase):
    def test_group_lifecycle(self):
        g = unique("School No. ")
        r = self.c.ok("group.add", {"name": g})
        self.assertEqual((r["name"], r["members"]), (g, 0))
        self.assertError(self.c.err("group.add", {"name": g}), "conflict")
        a, b = self.person(), self.person()
        r = self.c.ok("group.members.add", {"group": g, "people": [a["id"], b["email"].upper()]})
        self.assertEqual((r["group"], r["members"]), (g, 2))
        r = self.c.ok("group.members.add", {"group": g, "people": [a["id"]]})
        self.assertEqual(r["members"], 2, "re-adding a member is not an error and adds nobody")
        got = self.c.ok("group.get", {"name": g})
        self.assertEqual(got["name"], g)
        self.assertEqual(got["members"], 2)
        self.assertEqual(sorted(p["id"] for p in got["people"]), sorted([a["id"], b["id"]]))
        self.assertIn(g, self.c.ok("person.get", {"id": a["id"]})["groups"])
        lst = self.c.ok("group.list")
        self.assertIn((g, 2), [(x["name"], x["members"]) for x in lst])
        assertOrderedByName(self, [(x["name"], 0) for x in lst], "group.list is ordered by name")
        r = self.c.ok("group.members.remove", {"group": g, "people": [a["email"]]})
        self.assertEqual((r["group"], r["members"]), (g, 1))
        r = self.c.ok("group.members.remove", {"group": g, "people": [a["email"]]})
        self.assertEqual(r["members"], 1, "removing a non-member is not an error")
        self.assertEqual(self.c.ok("group.remove", {"name": g}), {})
        self.assertError(self.c.err("group.get", {"name": g}), "not_found")
        self.assertError(self.c.err("group.remove", {"name": g}), "not_found")
        self.c.ok("person.get", {"id": b["id"]})  # people are left alone

    def test_group_errors_write_nothing(self):
        g = unique("grp")
        self.c.ok("group.add", {"name": g})
        a = self.person()
        e = self.c.err("group.members.add", {"group": g, "people": [a["id"], "ghost@none.example"]})
        self.assertError(e, "not_found")
        self.assertEqual(self.c.ok("group.get", {"name": g})["members"], 0,
                         "a failing members.add must add nobody")
        self.assertError(self.c.err("group.members.add", {"group": unique("nog"),
                                                          "people": [a["id"]]}), "not_found")
        self.assertError(self.c.err("group.members.add", {"group": g, "people": a["id"]}),
                         "invalid_argument", "people")
        self.assertError(self.c.err("group.add", {"name": ""}), "invalid_argument", "name")
        self.assertError(self.c.err("group.add", {"name": 5}), "invalid_argument", "name")


class Sessions(CommandsBase):
    def test_add_moscow(self):
        s = self.session(title="Formative assessment in grade 5", url="https://meet.example/abc",
                         start="2026-12-01T15:00")
        self.assertTrue(SESSION_KEYS <= set(s), SESSION_KEYS - set(s))
        self.assertEqual(s["start"], "2026-12-01T12:00:00Z")
        self.assertEqual(s["end"], "2026-12-01T13:30:00Z")
        self.assertEqual(s["tz"], "Europe/Moscow")
        self.assertEqual(s["local_start"], "2026-12-01T15:00:00")
        self.assertEqual(s["duration"], 90)
        self.assertEqual(s["sequence"], 0)
        self.assertEqual(s["status"], "scheduled")
        self.assertEqual(s["kind"], "webinar")
        self.assertEqual(s["url"], "https://meet.example/abc")
        self.assertEqual(s["capacity"], 0)
        self.assertEqual(s["reminders"], [1440, 60], "default from [reminders] default = 1d, 1h")
        self.assertEqual((s["enrolled"], s["waitlisted"]), (0, 0))
        self.assertIsNone(s["description"])
        self.assertIsNone(s["cancel_reason"])
        self.assertRegex(s["uid"], r"^[\x21-\x7e]+@lectern\.test$")
        s2 = self.session()
        self.assertNotEqual(s["uid"], s2["uid"])
        self.assertNotEqual(s["id"], s2["id"])

    def test_start_forms(self):
        for start, tz, utc, local in [
            ("2026-12-01 15:00", None, "2026-12-01T12:00:00Z", "2026-12-01T15:00:00"),
            ("2026-12-01T15:00:30", None, "2026-12-01T12:00:30Z", "2026-12-01T15:00:30"),
            ("2026-12-01T12:00Z", None, "2026-12-01T12:00:00Z", "2026-12-01T15:00:00"),
            ("2026-12-01T15:00+03:00", None, "2026-12-01T12:00:00Z", "2026-12-01T15:00:00"),
            ("2026-12-01T10:00", "America/New_York", "2026-12-01T15:00:00Z", "2026-12-01T10:00:00"),
            ("2026-07-01T10:00", "America/New_York", "2026-07-01T14:00:00Z", "2026-07-01T10:00:00"),
            # DST overlap: 01:30 happens twice; the earlier instant (EDT) wins
            ("2026-11-01T01:30", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-01T01:30:00"),
            ("2026-10-25T02:30", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-25T02:30:00"),
        ]:
            with self.subTest(start=start, tz=tz):
                args = {"start": start}
                if tz:
                    args["tz"] = tz
                s = self.session(**args)
                self.assertEqual(s["start"], utc)
                self.assertEqual(s["local_start"], local)
                self.assertEqual(s["tz"], tz or "Europe/Moscow")

    def test_dst_gap_refused(self):
        for start, tz in [("2026-03-08T02:30", "America/New_York"),
                          ("2026-03-29T02:30", "Europe/Berlin")]:
            with self.subTest(tz=tz):
                e = self.c.err("session.add", {"kind": "seminar", "title": "Gap", "start": start,
                                               "tz": tz, "duration": 60})
                self.assertError(e, "invalid_argument", "start")
                self.assertIn(tz, e["message"])

    def test_add_invalid_arguments(self):
        good = {"kind": "seminar", "title": "T", "start": "2026-12-01T15:00", "duration": 60}
        cases = [
            ({"kind": "party"}, "kind"),
            ({"kind": "Webinar"}, "kind"),
            ({"kind": 1}, "kind"),
            ({"title": ""}, "title"),
            ({"title": "x" * 501}, "title"),
            ({"start": "tomorrow"}, "start"),
            ({"start": "2026-13-01T15:00"}, "start"),
            ({"start": "2026-02-30T15:00"}, "start"),
            ({"start": "2026-12-01T25:00"}, "start"),
            ({"start": 1764590400}, "start"),
            ({"duration": 0}, "duration"),
            ({"duration": -5}, "duration"),
            ({"duration": 43201}, "duration"),
            ({"duration": "90"}, "duration"),
            ({"duration": "90m"}, "duration"),
            ({"duration": 1.5}, "duration"),
            ({"capacity": -1}, "capacity"),
            ({"capacity": "10"}, "capacity"),
            ({"capacity": 2.5}, "capacity"),
            ({"tz": "Mars/Olympus_Mons"}, "tz"),
            ({"tz": ""}, "tz"),
            ({"tz": "../../etc/passwd"}, "tz"),
            ({"url": "ftp://files.example/x"}, "url"),
            ({"url": "javascript:alert(1)"}, "url"),
            ({"url": "https://"}, "url"),
            ({"url": "https://a.example/ x"}, "url"),
            ({"reminders": [0]}, "reminders"),
            ({"reminders": [525601]}, "reminders"),
            ({"reminders": list(range(1, 18))}, "reminders"),
            ({"reminders": "1d"}, "reminders"),
            ({"description": "x" * 10001}, "description"),
            ({"location": "line1\nline2"}, "location"),
            ({"course": 987654}, "course"),
            ({"colour": "red"}, "colour"),
        ]
        for change, field in cases:
            with self.subTest(change=str(change)[:80]):
                e = self.c.err("session.add", dict(good, **change))
                code = "not_found" if field == "course" else "invalid_argument"
                self.assertEqual(e.get("code"), code, e)
                if field != "colour":
                    self.assertEqual(e.get("field"), field, e)
        for missing in ("kind", "title", "start", "duration"):
            args = dict(good)
            del args[missing]
            self.assertError(self.c.err("session.add", args), "invalid_argument", missing)

    def test_all_kinds_accepted(self):
        for kind in ("webinar", "seminar", "workshop", "round_table", "master_class",
                     "consultation", "lecture", "course_meeting", "training", "business_game",
                     "open_lesson", "conference", "pedagogical_council", "mentoring", "other"):
            self.assertEqual(self.session(kind=kind)["kind"], kind)

    def test_rrule(self):
        s = self.session(rrule="FREQ=WEEKLY;COUNT=4")
        self.assertEqual(s["rrule"], "FREQ=WEEKLY;COUNT=4")
        for bad in ("FREQ=SOMETIMES", "not a rule", "FREQ=DAILY\r\nATTENDEE:x", 5):
            with self.subTest(rrule=bad):
                self.assertError(self.c.err("session.add", {"kind": "seminar", "title": "R",
                                                            "start": "2026-12-01T15:00",
                                                            "duration": 60, "rrule": bad}),
                                 "invalid_argument", "rrule")
        u = self.c.ok("session.update", {"id": s["id"], "rrule": "FREQ=WEEKLY;COUNT=6"})
        self.assertEqual(u["sequence"], 1, "an rrule change is seen by teachers")

    def test_list_limits(self):
        self.assertError(self.c.err("person.list", {"limit": 10001}), "invalid_argument", "limit")
        self.assertError(self.c.err("person.list", {"limit": 0}), "invalid_argument", "limit")
        self.person()
        self.person()
        self.assertEqual(len(self.c.ok("person.list", {"limit": 1})), 1)
        self.session()
        self.session()
        self.assertEqual(len(self.c.ok("session.list", {"limit": 1})), 1)

    def test_description_newlines_normalised(self):
        s = self.session(description="Line 1\r\nLine 2\nЛиния 3")
        self.assertEqual(s["description"], "Line 1\nLine 2\nЛиния 3")

    def test_update_sequence(self):
        s = self.session(capacity=10)
        sid = s["id"]
        u = self.c.ok("session.update", {"id": sid, "capacity": 20})
        self.assertEqual(u["capacity"], 20)
        self.assertEqual(u["sequence"], 0, "capacity-only change must not bump sequence")
        u = self.c.ok("session.update", {"id": sid, "reminders": [60]})
        self.assertEqual(u["reminders"], [60])
        self.assertEqual(u["sequence"], 0, "reminders-only change must not bump sequence")
        u = self.c.ok("session.update", {"id": sid, "title": s["title"]})
        self.assertEqual(u["sequence"], 0, "a no-op update must not bump")
        u = self.c.ok("session.update", {"id": sid, "title": "New title"})
        self.assertEqual((u["title"], u["sequence"]), ("New title", 1))
        u = self.c.ok("session.update", {"id": sid, "start": "2026-12-02T16:30"})
        self.assertEqual(u["sequence"], 2)
        self.assertEqual(u["start"], "2026-12-02T13:30:00Z")
        self.assertEqual(u["end"], "2026-12-02T15:00:00Z")
        self.assertEqual(u["uid"], s["uid"])
        # tz without start: the wall time stays, the instant moves
        u = self.c.ok("session.update", {"id": sid, "tz": "Europe/Berlin"})
        self.assertEqual(u["sequence"], 3)
        self.assertEqual(u["local_start"], "2026-12-02T16:30:00")
        self.assertEqual(u["start"], "2026-12-02T15:30:00Z")
        # start without tz: read in the session's zone (now Berlin)
        u = self.c.ok("session.update", {"id": sid, "start": "2026-12-03T09:00"})
        self.assertEqual(u["start"], "2026-12-03T08:00:00Z")
        self.assertEqual(u["sequence"], 4)
        u = self.c.ok("session.update", {"id": sid, "duration": 45, "url": "https://m.example/x"})
        self.assertEqual(u["sequence"], 5)
        self.assertEqual(u["end"], "2026-12-03T08:45:00Z")
        u = self.c.ok("session.update", {"id": sid, "url": None})
        self.assertIsNone(u["url"])
        self.assertEqual(u["sequence"], 6)
        self.assertEqual(self.c.ok("session.get", {"id": sid})["sequence"], 6)

    def test_update_errors(self):
        s = self.session()
        self.assertError(self.c.err("session.update", {"id": 987654, "title": "x"}), "not_found")
        self.assertError(self.c.err("session.update", {"id": s["id"], "duration": 0}),
                         "invalid_argument", "duration")
        self.assertError(self.c.err("session.update", {"id": s["id"], "kind": "rave"}),
                         "invalid_argument", "kind")
        self.assertError(self.c.err("session.update", {"id": s["id"], "start": "2026-03-29T02:30",
                                                       "tz": "Europe/Berlin"}),
                         "invalid_argument", "start")
        self.assertError(self.c.err("session.update", {"title": "no id"}),
                         "invalid_argument", "id")
        got = self.c.ok("session.get", {"id": s["id"]})
        self.assertEqual((got["sequence"], got["duration"], got["start"]),
                         (0, s["duration"], s["start"]))

    def test_cancel(self):
        s = self.session()
        c = self.c.ok("session.cancel", {"id": s["id"], "reason": "Teacher ill"})
        self.assertEqual(c["status"], "cancelled")
        self.assertEqual(c["sequence"], s["sequence"] + 1)
        self.assertEqual(c["cancel_reason"], "Teacher ill")
        self.assertError(self.c.err("session.cancel", {"id": s["id"]}), "conflict")
        self.assertError(self.c.err("session.update", {"id": s["id"], "title": "x"}), "conflict")
        p = self.person()
        self.assertError(self.c.err("enroll", {"session": s["id"], "people": [p["id"]]}),
                         "conflict")
        self.assertError(self.c.err("session.cancel", {"id": 987654}), "not_found")
        self.assertEqual(self.c.ok("session.get", {"id": s["id"]})["sequence"], 1)

    def test_get_and_list(self):
        kind = "pedagogical_council"
        a = self.session(kind=kind, start="2031-02-01T10:00")
        b = self.session(kind=kind, start="2031-01-15T10:00")
        c = self.session(kind="lecture", start="2031-01-20T10:00")
        d = self.session(kind=kind, start="2031-03-01T10:00")
        self.c.ok("session.cancel", {"id": d["id"]})
        g = self.c.ok("session.get", {"id": a["id"]})
        self.assertEqual(g["id"], a["id"])
        self.assertEqual(g["enrollments"], [])
        self.assertError(self.c.err("session.get", {"id": 987654}), "not_found")
        lst = self.c.ok("session.list", {"from": "2031-01-01T00:00", "to": "2031-04-01T00:00"})
        self.assertEqual([x["id"] for x in lst], [b["id"], c["id"], a["id"], d["id"]])
        lst = self.c.ok("session.list", {"from": "2031-01-01T00:00", "to": "2031-04-01T00:00",
                                         "kind": kind, "status": "scheduled"})
        self.assertEqual([x["id"] for x in lst], [b["id"], a["id"]])
        lst = self.c.ok("session.list", {"from": "2031-01-01T00:00", "to": "2031-04-01T00:00",
                                         "status": "cancelled"})
        self.assertEqual([x["id"] for x in lst], [d["id"]])
        # [from, to): a session starting exactly at `to` is excluded
        lst = self.c.ok("session.list", {"from": "2031-01-15T10:00", "to": "2031-02-01T10:00"})
        self.assertEqual([x["id"] for x in lst], [b["id"], c["id"]])
        # from/to in the daemon's zone (Moscow, UTC+3): 10:00 MSK == 07:00Z
        lst = self.c.ok("session.list", {"from": "2031-01-15T07:00Z", "to": "2031-01-15T07:01Z"})
        self.assertEqual([x["id"] for x in lst], [b["id"]])
        self.assertError(self.c.err("session.list", {"kind": "party"}), "invalid_argument", "kind")
        self.assertError(self.c.err("session.list", {"status": "maybe"}),
                         "invalid_argument", "status")


class Enrollment(CommandsBase):
    def test_capacity_waitlist_promotion(self):
        s = self.session(capacity=2)
        ps = [self.person() for _ in range(4)]
        r = self.c.ok("enroll", {"session": s["id"], "people": [p["id"] for p in ps]})
        self.assertEqual(self.ids(r["enrolled"]), [ps[0]["id"], ps[1]["id"]])
        self.assertEqual(self.ids(r["waitlisted"]), [ps[2]["id"], ps[3]["id"]])
        self.assertEqual([w["position"] for w in r["waitlisted"]], [1, 2])
        self.assertEqual(r["enrolled"][0]["email"], ps[0]["email"])
        self.assertEqual(r["already"], [])
        r = self.c.ok("enroll", {"session": s["id"], "people": [ps[0]["email"].upper(), ps[3]["id"]]})
        self.assertEqual(sorted(self.ids(r["already"])), sorted([ps[0]["id"], ps[3]["id"]]))
        self.assertEqual((r["enrolled"], r["waitlisted"]), ([], []))
        g = self.c.ok("session.get", {"id": s["id"]})
        self.assertEqual((g["enrolled"], g["waitlisted"]), (2, 2))
        en = g["enrollments"]
        self.assertEqual([e["person"] for e in en], [p["id"] for p in ps])
        self.assertEqual([e["state"] for e in en], ["enrolled", "enrolled", "waitlisted", "waitlisted"])
        self.assertEqual([e["position"] for e in en], [None, None, 1, 2])
        self.assertEqual(en[0]["rsvp"], "needs_action")
        self.assertIsNone(en[0]["attendance"])
        self.assertEqual(en[0]["email"], ps[0]["email"])
        r = self.c.ok("unenroll", {"session": s["id"], "people": [ps[1]["id"]]})
        self.assertEqual(self.ids(r["removed"]), [ps[1]["id"]])
        self.assertEqual(self.ids(r["promoted"]), [ps[2]["id"]])
        g = self.c.ok("session.get", {"id": s["id"]})
        states = {e["person"]: (e["state"], e["position"]) for e in g["enrollments"]}
        self.assertEqual(states, {ps[0]["id"]: ("enrolled", None), ps[2]["id"]: ("enrolled", None),
                                  ps[3]["id"]: ("waitlisted", 1)})
        r = self.c.ok("unenroll", {"session": s["id"], "people": [ps[1]["email"]]})
        self.assertEqual(self.ids(r["not_enrolled"]), [ps[1]["id"]])
        self.assertEqual(r["removed"], [])
        # removing an enrolled person frees a seat: ps[3] is promoted
        self.c.ok("person.remove", {"id": ps[0]["id"]})
        g = self.c.ok("session.get", {"id": s["id"]})
        states = {e["person"]: e["state"] for e in g["enrollments"]}
        self.assertEqual(states, {ps[2]["id"]: "enrolled", ps[3]["id"]: "enrolled"})
        self.assertEqual((g["enrolled"], g["waitlisted"]), (2, 0))

    def test_waitlist_positions_close_up(self):
        s = self.session(capacity=1)
        a, b, c, d, e = (self.person() for _ in range(5))
        r = self.c.ok("enroll", {"session": s["id"], "people": [x["id"] for x in (a, b, c, d, e)]})
        self.assertEqual([(w["id"], w["position"]) for w in r["waitlisted"]],
                         [(b["id"], 1), (c["id"], 2), (d["id"], 3), (e["id"], 4)])
        # a waitlisted person leaves: those behind move up, nobody is promoted
        r = self.c.ok("unenroll", {"session": s["id"], "people": [c["email"]]})
        self.assertEqual(self.ids(r["removed"]), [c["id"]])
        self.assertEqual(r["promoted"], [])
        # a waitlisted person is removed altogether: the same
        self.c.ok("person.remove", {"id": b["id"]})
        g = self.c.ok("session.get", {"id": s["id"]})
        self.assertEqual([(x["person"], x["state"], x["position"]) for x in g["enrollments"]],
                         [(a["id"], "enrolled", None), (d["id"], "waitlisted", 1),
                          (e["id"], "waitlisted", 2)])
        self.assertEqual((g["enrolled"], g["waitlisted"]), (1, 2))
        # the enrolled one leaves: the first waiting is promoted, the rest move up
        r = self.c.ok("unenroll", {"session": s["id"], "people": [a["id"]]})
        self.assertEqual(self.ids(r["promoted"]), [d["id"]])
        g = self.c.ok("session.get", {"id": s["id"]})
        self.assertEqual([(x["person"], x["state"], x["position"]) for x in g["enrollments"]],
                         [(d["id"], "enrolled", None), (e["id"], "waitlisted", 1)])

    def test_capacity_raise_keeps_sequence(self):
        s = self.session(capacity=1)
        a, b = self.person(), self.person()
        self.c.ok("enroll", {"session": s["id"], "people": [a["id"], b["id"]]})
        u = self.c.ok("session.update", {"id": s["id"], "capacity": 0})
        self.assertEqual(u["sequence"], 0)

    def test_enroll_groups(self):
        s = self.session()
        g = unique("grp")
        self.c.ok("group.add", {"name": g})
        a, b, c = self.person(), self.person(), self.person()
        self.c.ok("group.members.add", {"group": g, "people": [a["id"], b["id"]]})
        r = self.c.ok("enroll", {"session": s["id"], "groups": [g], "people": [c["email"], a["id"]]})
        got = sorted(self.ids(r["enrolled"]))
        self.assertEqual(got, sorted([a["id"], b["id"], c["id"]]), r)
        self.assertEqual(self.c.ok("session.get", {"id": s["id"]})["enrolled"], 3)
        pg = self.c.ok("person.get", {"id": c["id"]})
        self.assertEqual([e["session"] for e in pg["enrollments"]], [s["id"]])
        self.assertEqual(pg["enrollments"][0]["state"], "enrolled")
        self.assertEqual(pg["enrollments"][0]["title"], s["title"])
        self.assertEqual(pg["enrollments"][0]["start"], s["start"])

    def test_enroll_failure_writes_nothing(self):
        s = self.session()
        a = self.person()
        before = self.c.ok("session.get", {"id": s["id"]})
        for args, code, field in [
            ({"session": s["id"], "people": [a["id"], "ghost@none.example"]}, "not_found", "people"),
            ({"session": s["id"], "people": [a["id"], 987654321]}, "not_found", "people"),
            ({"session": s["id"], "people": [a["id"]], "groups": [unique("nog")]}, "not_found", "groups"),
            ({"session": 987654, "people": [a["id"]]}, "not_found", "session"),
            ({"session": s["id"], "people": []}, "invalid_argument", None),
            ({"session": s["id"]}, "invalid_argument", None),
            ({"people": [a["id"]]}, "invalid_argument", None),
            ({"session": s["id"], "course": 1, "people": [a["id"]]}, "invalid_argument", None),
            ({"session": str(s["id"]), "people": [a["id"]]}, "invalid_argument", "session"),
            ({"session": s["id"], "people": a["id"]}, "invalid_argument", "people"),
            ({"session": s["id"], "people": [a["id"]], "bogus": 1}, "invalid_argument", None),
        ]:
            with self.subTest(args=args):
                self.assertError(self.c.err("enroll", args), code, field)
        after = self.c.ok("session.get", {"id": s["id"]})
        self.assertEqual(after["enrollments"], before["enrollments"])
        self.assertEqual(after["enrolled"], 0)

    def test_outbox_after_enroll(self):
        s = self.session(start="2027-05-01T10:00")
        a, b = self.person(), self.person()
        self.c.ok("enroll", {"session": s["id"], "people": [a["id"], b["id"]]})
        rows = self.c.ok("outbox.list", {"session": s["id"]})
        self.assertIsInstance(rows, list)
        invites = [r for r in rows if r["kind"] == "invite"]
        self.assertEqual(sorted(r["to"] for r in invites), sorted([a["email"], b["email"]]), rows)
        for r in rows:
            for k in ("id", "to", "kind", "session", "state", "attempts", "next_attempt",
                      "last_reply", "message_id", "created", "sent_at"):
                self.assertIn(k, r)
            self.assertEqual(r["session"], s["id"])
            self.assertIn(r["state"], ("queued", "sent", "failed", "expired"))
        ids = [r["id"] for r in self.c.ok("outbox.list", {"limit": 1})]
        self.assertEqual(len(ids), 1)
        self.assertError(self.c.err("outbox.list", {"state": "lost"}), "invalid_argument", "state")
        self.assertError(self.c.err("outbox.list", {"limit": 10001}), "invalid_argument", "limit")


class FailingCommandsWriteNothing(CommandsBase):
    def test_person_list_unchanged_after_failures(self):
        p = self.person()
        before = self.c.ok("person.list")
        failing = [
            ("person.add", {"name": "X", "email": p["email"].upper()}),
            ("person.add", {"name": "X\u0007", "email": unique("z") + "@x.example"}),
            ("person.update", {"id": p["id"], "name": "Changed", "lang": "!!"}),
            ("person.update", {"id": p["id"], "name": "Changed", "tags": ["ok", "not ok"]}),
            ("person.remove", {"id": 987654321}),
            ("person.import", {"csv": f"name,email\nGood,{unique('g')}@x.example\nBad,bad\n"}),
            ("group.members.add", {"group": unique("nog"), "people": [p["id"]]}),
        ]
        for cmd, args in failing:
            with self.subTest(cmd=cmd):
                self.c.err(cmd, args)
        self.assertEqual(self.c.ok("person.list"), before)


if __name__ == "__main__":
    unittest.main()
