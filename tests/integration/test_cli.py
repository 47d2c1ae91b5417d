"""The real lectern binary against the real lecternd: each noun and verb,
its output, --json, --help and the exit statuses 0/1/2/69."""
import os
import re
import socket
import tempfile
import unittest

from harness import CliCase, cli, unique, LECTERN, require_binaries

HELP_COMMANDS = [
    [], ["status"], ["person", "add"], ["person", "update"], ["person", "rm"],
    ["person", "show"], ["person", "ls"], ["person", "import"], ["group", "add"],
    ["group", "rm"], ["group", "show"], ["group", "ls"], ["group", "add-members"],
    ["group", "rm-members"], ["session", "add"], ["session", "update"],
    ["session", "cancel"], ["session", "show"], ["session", "ls"], ["enroll"],
    ["unenroll"], ["outbox", "ls"],
]


class Cli(CliCase):
    def add_person(self, name=None, org=None):
        e = unique("cli") + "@school.example"
        args = ["person", "add", "--name", name or "Teacher " + e, "--email", e]
        if org:
            args += ["--org", org]
        self.run_ok(*args)
        return self.c.ok("person.get", {"email": e})

    # -- people --------------------------------------------------------
    def test_person_add_show_update_rm(self):
        e = unique("ivan") + "@school5.example"
        out = self.run_ok("person", "add", "--name", "Иван Петров", "--email", e, "--org",
                          "Школа № 5", "--position", "учитель математики", "--lang", "ru",
                          "--tag", "math", "--tag", "young-teacher")
        p = self.c.ok("person.get", {"email": e})
        self.assertEqual(p["name"], "Иван Петров")
        self.assertEqual(p["organization"], "Школа № 5")
        self.assertEqual(p["position"], "учитель математики")
        self.assertEqual(p["lang"], "ru")
        self.assertEqual(p["tags"], ["math", "young-teacher"])
        out = self.run_ok("person", "show", e)
        self.assertIn("Иван Петров", out)
        self.assertIn(e, out)
        self.assertIn("Школа № 5", out)
        out = self.run_ok("person", "show", str(p["id"]))
        self.assertIn("Иван Петров", out)
        self.run_ok("person", "update", e, "--org", "Лицей № 2", "--name", "Иван Сидоров")
        p2 = self.c.ok("person.get", {"id": p["id"]})
        self.assertEqual((p2["organization"], p2["name"]), ("Лицей № 2", "Иван Сидоров"))
        self.run_ok("person", "rm", e)
        self.assertEqual(self.c.err("person.get", {"id": p["id"]})["code"], "not_found")

    def test_person_ls_table_and_filters(self):
        org = "Гимназия " + unique("g")
        a = self.add_person("Анна Смирнова", org)
        b = self.add_person("Ольга Кузнецова", org)
        other = self.add_person("Mary Johnson", "Lyceum " + unique("l"))
        out = self.run_ok("person", "ls", "--org", org)
        self.assertIn("Анна Смирнова", out)
        self.assertIn("Ольга Кузнецова", out)
        self.assertIn(a["email"], out)
        self.assertNotIn(other["email"], out)
        self.assertLess(out.index("Анна"), out.index("Ольга"), "ordered by name")
        # a table: every row with a Cyrillic name lines up its email column
        lines = [l for l in out.splitlines() if a["email"] in l or b["email"] in l]
        self.assertEqual(len(lines), 2)
        cols = [l.index(a["email"]) if a["email"] in l else l.index(b["email"]) for l in lines]
        self.assertEqual(cols[0], cols[1], "columns misaligned with Cyrillic names:\n" + out)
        self.assertEqual(self.run_json("person", "ls", "--org", org),
                         self.c.ok("person.list", {"organization": org}))

    def test_person_import_ok_and_bad_line(self):
        t = unique("imp")
        with tempfile.TemporaryDirectory() as d:
            good = os.path.join(d, "teachers.csv")
            with open(good, "w", encoding="utf-8") as f:
                f.write("\ufeffname,email,organization\n"
                        f"\"Петров, Иван\",{t}a@school.example,Школа 1\n"
                        f"Анна Смирнова,{t}b@school.example,Школа 1\n")
            out = self.run_ok("person", "import", good)
            self.assertIn("2", out)
            self.assertEqual(self.c.ok("person.get", {"email": f"{t}a@school.example"})["name"],
                             "Петров, Иван")
            bad = os.path.join(d, "bad.csv")
            with open(bad, "w", encoding="utf-8") as f:
                f.write("name,email\n"
                        f"Ok Person,{t}c@school.example\n"
                        f"Broken Person,{t}-not-an-email\n")
            before = self.c.ok("person.list")
            rc, out, err = self.daemon.cli("person", "import", bad)
            self.assertEqual(rc, 1, (out, err))
            self.assertIn(f"{bad}:3", err, "FILE:LINE of the bad row expected on stderr")
            self.assertEqual(self.c.ok("person.list"), before, "failed import wrote something")
            rc, out, err = self.daemon.cli("person", "import", bad, "--partial")
            self.assertIn(f"{bad}:3", out + err)
            self.c.ok("person.get", {"email": f"{t}c@school.example"})
            rc, out, err = self.daemon.cli("person", "import", os.path.join(d, "missing.csv"))
            self.assertNotEqual(rc, 0)
            self.assertIn("missing.csv", err)

    def test_person_import_from_stdin(self):
        t = unique("stdin")
        csv = f"name,email\nЕлена Соколова,{t}@school.example\n"
        self.run_ok("person", "import", "-", input=csv)
        self.assertEqual(self.c.ok("person.get", {"email": f"{t}@school.example"})["name"],
                         "Елена Соколова")

    # -- groups --------------------------------------------------------
    def test_groups(self):
        g = "Школа молодого педагога " + unique("")
        a, b = self.add_person("Борис Орлов"), self.add_person("Вера Лебедева")
        self.run_ok("group", "add", g)
        self.assertEqual(self.c.ok("group.get", {"name": g})["members"], 0)
        self.run_ok("group", "add-members", g, a["email"], str(b["id"]))
        self.assertEqual(self.c.ok("group.get", {"name": g})["members"], 2)
        out = self.run_ok("group", "show", g)
        self.assertIn("Борис Орлов", out)
        self.assertIn("Вера Лебедева", out)
        out = self.run_ok("group", "ls")
        self.assertIn(g, out)
        self.assertEqual(self.run_json("group", "ls"), self.c.ok("group.list"))
        self.assertEqual(self.run_json("group", "show", g), self.c.ok("group.get", {"name": g}))
        self.run_ok("group", "rm-members", g, b["email"])
        self.assertEqual(self.c.ok("group.get", {"name": g})["members"], 1)
        self.run_ok("group", "rm", g)
        self.assertEqual(self.c.err("group.get", {"name": g})["code"], "not_found")

    # -- sessions ------------------------------------------------------
    def session_add(self, *extra, title=None, duration="90m"):
        title = title or "Формирующее оценивание " + unique("s")
        r = self.run_json("session", "add", "--kind", "webinar", "--title", title,
                          "--start", "2026-12-01 15:00", "--duration", duration, *extra)
        self.assertIsInstance(r.get("id"), int, r)
        return r

    def test_session_add_values(self):
        s = self.session_add("--remind", "7d,1d,1h", "--url", "https://meet.example/abc",
                             "--capacity", "30")
        raw = self.c.ok("session.get", {"id": s["id"]})
        self.assertEqual(raw["start"], "2026-12-01T12:00:00Z")
        self.assertEqual(raw["duration"], 90)
        self.assertEqual(raw["reminders"], [10080, 1440, 60])
        self.assertEqual(raw["capacity"], 30)
        self.assertEqual(raw["tz"], "Europe/Moscow")
        s2 = self.session_add("--tz", "America/New_York", duration="1h30m")
        raw2 = self.c.ok("session.get", {"id": s2["id"]})
        self.assertEqual(raw2["start"], "2026-12-01T20:00:00Z")
        self.assertEqual(raw2["duration"], 90)
        # --json prints the daemon's result unchanged
        self.assertEqual({k: v for k, v in s.items() if k != "enrollments"},
                         {k: v for k, v in raw.items() if k != "enrollments"})

    def test_session_plain_add_output(self):
        title = "Круглый стол " + unique("rt")
        out = self.run_ok("session", "add", "--kind", "round_table", "--title", title,
                          "--start", "2026-12-01 15:00", "--duration", "90")
        sid = [x["id"] for x in self.c.ok("session.list", {"kind": "round_table"})
               if x["title"] == title]
        self.assertEqual(len(sid), 1)
        self.assertRegex(out, rf"\b{sid[0]}\b", "the new session's id is shown")

    def test_session_show_ls_local_time(self):
        title = "Мастер-класс " + unique("mc")
        s = self.session_add(title=title)
        for out in (self.run_ok("session", "show", str(s["id"])),
                    self.run_ok("session", "ls", "--from", "2026-12-01 00:00",
                                "--to", "2026-12-02 00:00")):
            self.assertIn(title, out)
            self.assertIn("15:00", out, "local wall time expected:\n" + out)
            self.assertTrue(re.search(r"MSK|Europe/Moscow|\+03", out),
                            "zone expected with the local time:\n" + out)
        self.assertEqual(self.run_json("session", "show", str(s["id"])),
                         self.c.ok("session.get", {"id": s["id"]}))
        self.assertEqual(self.run_json("session", "ls", "--kind", "webinar", "--from",
                                       "2026-12-01 00:00", "--to", "2026-12-02 00:00"),
                         self.c.ok("session.list", {"kind": "webinar", "from": "2026-12-01T00:00",
                                                    "to": "2026-12-02T00:00"}))

    def test_session_update_cancel(self):
        s = self.session_add()
        self.run_ok("session", "update", str(s["id"]), "--title", "Новое название",
                    "--start", "2026-12-02 10:00")
        raw = self.c.ok("session.get", {"id": s["id"]})
        self.assertEqual(raw["title"], "Новое название")
        self.assertEqual(raw["start"], "2026-12-02T07:00:00Z")
        self.assertEqual(raw["sequence"], 1)
        self.run_ok("session", "update", str(s["id"]), "--capacity", "5")
        self.assertEqual(self.c.ok("session.get", {"id": s["id"]})["sequence"], 1)
        self.run_ok("session", "cancel", str(s["id"]), "--reason", "Болезнь лектора")
        raw = self.c.ok("session.get", {"id": s["id"]})
        self.assertEqual(raw["status"], "cancelled")
        self.assertEqual(raw["cancel_reason"], "Болезнь лектора")
        self.assertEqual(raw["sequence"], 2)
        rc, out, err = self.daemon.cli("session", "cancel", str(s["id"]))
        self.assertEqual(rc, 1)
        self.assertTrue(err.strip())

    # -- enrollment and outbox -----------------------------------------
    def test_enroll_unenroll_outbox(self):
        s = self.session_add("--capacity", "1")
        a, b, c = self.add_person("Анна А"), self.add_person("Борис Б"), self.add_person("Вера В")
        g = unique("grp")
        self.c.ok("group.add", {"name": g})
        self.c.ok("group.members.add", {"group": g, "people": [c["id"]]})
        self.run_ok("enroll", str(s["id"]), a["email"], b["email"])   # first operand: session
        raw = self.c.ok("session.get", {"id": s["id"]})
        self.assertEqual([(e["person"], e["state"]) for e in raw["enrollments"]],
                         [(a["id"], "enrolled"), (b["id"], "waitlisted")])
        self.run_ok("enroll", "--session", str(s["id"]), "--group", g)
        raw = self.c.ok("session.get", {"id": s["id"]})
        self.assertEqual(raw["waitlisted"], 2)
        out = self.run_ok("session", "show", str(s["id"]))
        for name in ("Анна А", "Борис Б", "Вера В"):
            self.assertIn(name, out)
        self.run_ok("unenroll", "--session", str(s["id"]), a["email"])
        raw = self.c.ok("session.get", {"id": s["id"]})
        self.assertEqual([(e["person"], e["state"]) for e in raw["enrollments"]],
                         [(b["id"], "enrolled"), (c["id"], "waitlisted")])
        out = self.run_ok("outbox", "ls", "--session", str(s["id"]))
        self.assertIn(a["email"], out)
        rows = self.run_json("outbox", "ls", "--session", str(s["id"]))
        raw_rows = self.c.ok("outbox.list", {"session": s["id"]})
        self.assertEqual([(r["id"], r["to"], r["kind"]) for r in rows],
                         [(r["id"], r["to"], r["kind"]) for r in raw_rows])
        self.assertIn(a["email"], [r["to"] for r in rows])

    def test_status(self):
        out = self.run_ok("status")
        self.assertIn("0.1.0", out)
        st = self.run_json("status")
        raw = self.c.ok("status")
        for k in ("version", "protocol", "people", "sessions", "groups", "timezone"):
            self.assertEqual(st[k], raw[k], k)

    # -- exit statuses -------------------------------------------------
    def test_exit_refused(self):
        p = self.add_person()
        for args in (["person", "show", "nobody-" + unique() + "@x.example"],
                     ["person", "add", "--name", "Dup", "--email", p["email"].upper()],
                     ["session", "show", "987654"],
                     ["group", "rm", unique("nog")],
                     ["session", "add", "--kind", "webinar", "--title", "Gap", "--start",
                      "2026-03-08 02:30", "--tz", "America/New_York", "--duration", "60"]):
            with self.subTest(args=args):
                rc, out, err = self.daemon.cli(*args)
                self.assertEqual(rc, 1, (out, err))
                self.assertTrue(err.strip(), "the daemon's message goes to stderr")

    def test_exit_usage(self):
        for args in ([], ["frobnicate"], ["person"], ["person", "explode"],
                     ["person", "add", "--email", "x@y.example"],
                     ["person", "add", "--name", "X", "--email", "x@y.example", "--bogus"],
                     ["session", "add", "--kind", "webinar", "--title", "T", "--start",
                      "2026-12-01 15:00", "--duration", "banana"],
                     ["session", "show"], ["session", "show", "1", "2"],
                     ["group", "add-members", "onlygroup"], ["unenroll"]):
            with self.subTest(args=args):
                rc, out, err = self.daemon.cli(*args)
                self.assertEqual(rc, 2, (out, err))
                self.assertTrue(err.strip(), "usage errors explain themselves on stderr")

    def test_exit_unreachable(self):
        missing = os.path.join(self.daemon.tmp, "no-such-dir", "lectern.sock")
        for args in (["status"], ["person", "ls"],
                     ["person", "add", "--name", "X", "--email", "x@y.example"]):
            rc, out, err = cli(*args, sock=missing)
            self.assertEqual(rc, 69, (out, err))
            self.assertIn("is lecternd running?", err)
            self.assertIn(missing, err)
        # a socket file nobody listens on (a daemon that died): refused, also 69
        stale = os.path.join(self.daemon.tmp, "stale.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(stale)
        s.close()
        rc, out, err = cli("status", sock=stale)
        self.assertEqual(rc, 69, (out, err))
        self.assertIn("is lecternd running?", err)
        self.assertIn(stale, err)
        # LECTERN_SOCKET is honoured when -s is absent
        rc, out, err = cli("status", env={"LECTERN_SOCKET": missing})
        self.assertEqual(rc, 69, (out, err))
        rc, out, err = cli("status", env={"LECTERN_SOCKET": self.daemon.socket})
        self.assertEqual(rc, 0, (out, err))

    def test_help_everywhere(self):
        missing = os.path.join(self.daemon.tmp, "absent.sock")
        for words in HELP_COMMANDS:
            with self.subTest(cmd=" ".join(words)):
                rc, out, err = cli(*(words + ["--help"]), sock=missing)
                self.assertEqual(rc, 0, (out, err))
                self.assertIn("usage", (out + err).lower())
                if words:
                    self.assertIn(" ".join(words), out + err)
        rc, out, err = cli("--help", sock=missing)
        for noun in ("person", "group", "session", "enroll", "unenroll", "outbox", "status"):
            self.assertIn(noun, out)


if __name__ == "__main__":
    unittest.main()
