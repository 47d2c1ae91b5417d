"""Who may change things: real users and groups, the real daemon running as
root with coordinator_group = ltest-coord, peers identified by SO_PEERCRED
(and their supplementary groups)."""
import fcntl
import grp
import json
import os
import shutil
import signal
import subprocess
import time
import unittest

from harness import Daemon, cli, LECTERN, require_binaries, unique

GROUPS = ["ltest-coord", "ltest-sock", "ltest-c2", "ltest-reader", "ltest-out"]
USERS = {
    # user: (primary group, supplementary groups)
    "ltest-coord1": ("ltest-coord", ["ltest-sock"]),
    "ltest-coord2": ("ltest-c2", ["ltest-coord", "ltest-sock"]),
    "ltest-reader": ("ltest-reader", ["ltest-sock"]),
    "ltest-outsider": ("ltest-out", []),
}

RAW_CLIENT = r"""
import json, socket, sys
reqs = json.load(sys.stdin)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print(json.dumps({"connect_error": e.errno}))
    sys.exit(0)
f = s.makefile("rwb")
greeting = json.loads(f.readline())
out = []
for r in reqs:
    f.write((json.dumps(r, ensure_ascii=False) + "\n").encode())
    f.flush()
    out.append(json.loads(f.readline()))
print(json.dumps({"greeting": greeting, "replies": out}, ensure_ascii=False))
"""


def _run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def remove_accounts():
    for u in USERS:
        _run("userdel", u)
    for g in GROUPS:
        _run("groupdel", g)


@unittest.skipUnless(os.geteuid() == 0, "needs root to create users and groups")
@unittest.skipUnless(shutil.which("setpriv") and shutil.which("useradd"),
                     "needs setpriv and useradd")
class Auth(unittest.TestCase):
    daemon = None

    lock = None

    @classmethod
    def setUpClass(cls):
        require_binaries()
        # the accounts are machine-wide: one test run at a time uses them
        cls.lock = open("/run/lock/lectern-test-auth.lock", "w")
        fcntl.flock(cls.lock, fcntl.LOCK_EX)
        try:
            cls._setup()
        except BaseException:
            cls.lock.close()
            raise

    @classmethod
    def _setup(cls):
        remove_accounts()           # leftovers of an interrupted run
        for g in GROUPS:
            p = _run("groupadd", g)
            if p.returncode != 0:
                raise RuntimeError(f"groupadd {g}: {p.stderr}")
        for u, (primary, sup) in USERS.items():
            cmd = ["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-g", primary]
            if sup:
                cmd += ["-G", ",".join(sup)]
            p = _run(*(cmd + [u]))
            if p.returncode != 0:
                raise RuntimeError(f"useradd {u}: {p.stderr}")
        cls.daemon = Daemon(overrides={"daemon": {"coordinator_group": "ltest-coord"}})
        d = cls.daemon
        os.chmod(d.tmp, 0o711)
        # the CLI copied where every test user can run it
        bindir = os.path.join(d.tmp, "bin")
        os.makedirs(bindir)
        os.chmod(bindir, 0o755)
        cls.lectern = os.path.join(bindir, "lectern")
        shutil.copy2(LECTERN, cls.lectern)
        os.chmod(cls.lectern, 0o755)
        try:
            d.start()
            os.chown(d.socket, -1, grp.getgrnam("ltest-sock").gr_gid)
            with d.client() as c:
                cls.person = c.ok("person.add", {"name": "Анна Смирнова",
                                                 "email": "anna@school5.example"})
                cls.other = c.ok("person.add", {"name": "Борис Орлов",
                                                "email": "boris@school5.example"})
                cls.group = c.ok("group.add", {"name": "Методобъединение"})["name"]
                c.ok("group.members.add", {"group": cls.group, "people": [cls.other["id"]]})
                cls.session = c.ok("session.add", {"kind": "seminar", "title": "Семинар",
                                                   "start": "2026-12-01T15:00", "duration": 90})
                cls.session2 = c.ok("session.add", {"kind": "webinar", "title": "Вебинар",
                                                    "start": "2026-12-05T15:00", "duration": 60})
                c.ok("enroll", {"session": cls.session["id"], "people": [cls.other["id"]]})
        except BaseException:
            d.cleanup()
            remove_accounts()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.daemon is not None and cls.daemon.alive():
                cls.daemon.stop()
        finally:
            if cls.daemon is not None:
                cls.daemon.cleanup()
            remove_accounts()
            cls.lock.close()

    def setUp(self):
        if not self.daemon.alive():
            self.fail("lecternd is not running; stderr:\n" + self.daemon.stderr_text()[-3000:])

    # -- helpers ---------------------------------------------------------
    def as_user(self, user, *args):
        primary = USERS[user][0]
        return cli(*args, sock=self.daemon.socket, binary=self.lectern,
                   prefix=["setpriv", "--reuid", user, "--regid", primary, "--init-groups"])

    def raw_as(self, user, requests):
        primary = USERS[user][0]
        p = subprocess.run(["setpriv", "--reuid", user, "--regid", primary, "--init-groups",
                            "/usr/bin/python3", "-c", RAW_CLIENT, self.daemon.socket],
                           input=json.dumps(requests), capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def snapshot(self):
        with self.daemon.client() as c:
            return {"people": c.ok("person.list"), "groups": c.ok("group.list"),
                    "sessions": c.ok("session.list"),
                    "s1": c.ok("session.get", {"id": self.session["id"]}),
                    "group": c.ok("group.get", {"name": self.group})}

    # -- tests -----------------------------------------------------------
    def test_coordinator_by_primary_group(self):
        e = unique("c1") + "@x.example"
        rc, out, err = self.as_user("ltest-coord1", "person", "add", "--name", "By Primary",
                                    "--email", e)
        self.assertEqual(rc, 0, (out, err))
        self.assertEqual(self.daemon.ok("person.get", {"email": e})["name"], "By Primary")
        r = self.raw_as("ltest-coord1", [{"id": 1, "cmd": "group.add",
                                          "args": {"name": unique("g1")}}])
        self.assertTrue(r["replies"][0]["ok"], r)

    def test_coordinator_by_supplementary_group(self):
        e = unique("c2") + "@x.example"
        rc, out, err = self.as_user("ltest-coord2", "person", "add", "--name", "By Supplementary",
                                    "--email", e)
        self.assertEqual(rc, 0, (out, err))
        self.daemon.ok("person.get", {"email": e})
        r = self.raw_as("ltest-coord2", [{"id": "x", "cmd": "session.update",
                                          "args": {"id": self.session2["id"], "capacity": 7}}])
        self.assertTrue(r["replies"][0]["ok"], r)

    def test_reader_may_read(self):
        for args in (["status"], ["person", "ls"], ["person", "show", self.person["email"]],
                     ["group", "ls"], ["group", "show", self.group],
                     ["session", "show", str(self.session["id"])], ["session", "ls"],
                     ["outbox", "ls"]):
            with self.subTest(args=args):
                rc, out, err = self.as_user("ltest-reader", *args)
                self.assertEqual(rc, 0, (out, err))
        rc, out, err = self.as_user("ltest-reader", "person", "ls")
        self.assertIn("Анна Смирнова", out)
        reads = [{"id": i, "cmd": cmd, "args": args} for i, (cmd, args) in enumerate([
            ("status", {}), ("person.list", {}), ("person.get", {"id": self.person["id"]}),
            ("group.list", {}), ("group.get", {"name": self.group}),
            ("session.get", {"id": self.session["id"]}), ("session.list", {}),
            ("outbox.list", {})])]
        r = self.raw_as("ltest-reader", reads)
        for req, rep in zip(reads, r["replies"]):
            self.assertTrue(rep["ok"], (req, rep))

    def write_requests(self):
        s1, s2 = self.session["id"], self.session2["id"]
        p, o = self.person, self.other
        return [
            ("person.add", {"name": "Intruder", "email": "intruder@x.example"}),
            ("person.update", {"id": p["id"], "name": "Hacked"}),
            ("person.remove", {"id": p["id"]}),
            ("person.import", {"csv": "name,email\nImported,imported@x.example\n"}),
            ("group.add", {"name": "Intruders"}),
            ("group.remove", {"name": self.group}),
            ("group.members.add", {"group": self.group, "people": [p["id"]]}),
            ("group.members.remove", {"group": self.group, "people": [o["id"]]}),
            ("session.add", {"kind": "webinar", "title": "Spam", "start": "2026-12-01T15:00",
                             "duration": 60}),
            ("session.update", {"id": s2, "title": "Hacked"}),
            ("session.cancel", {"id": s2}),
            ("enroll", {"session": s1, "people": [p["id"]]}),
            ("unenroll", {"session": s1, "people": [o["id"]]}),
        ]

    def test_reader_denied_every_write_raw(self):
        before = self.snapshot()
        reqs = [{"id": f"w{i}", "cmd": cmd, "args": args}
                for i, (cmd, args) in enumerate(self.write_requests())]
        r = self.raw_as("ltest-reader", reqs)
        for req, rep in zip(reqs, r["replies"]):
            with self.subTest(cmd=req["cmd"]):
                self.assertEqual(rep.get("id"), req["id"])
                self.assertFalse(rep.get("ok"), rep)
                self.assertEqual(rep["error"]["code"], "permission_denied", rep)
        self.assertEqual(self.snapshot(), before, "a refused write changed something")

    def test_reader_denied_every_write_cli(self):
        before = self.snapshot()
        s1, s2 = str(self.session["id"]), str(self.session2["id"])
        pe, oe = self.person["email"], self.other["email"]
        csv = os.path.join(self.daemon.tmp, "import.csv")
        with open(csv, "w") as f:
            f.write("name,email\nImported,imported@x.example\n")
        os.chmod(csv, 0o644)
        for args in (["person", "add", "--name", "Intruder", "--email", "intruder@x.example"],
                     ["person", "update", pe, "--name", "Hacked"],
                     ["person", "rm", pe],
                     ["person", "import", csv],
                     ["group", "add", "Intruders"],
                     ["group", "rm", self.group],
                     ["group", "add-members", self.group, pe],
                     ["group", "rm-members", self.group, oe],
                     ["session", "add", "--kind", "webinar", "--title", "Spam", "--start",
                      "2026-12-01 15:00", "--duration", "60"],
                     ["session", "update", s2, "--title", "Hacked"],
                     ["session", "cancel", s2],
                     ["enroll", s1, pe],
                     ["unenroll", "--session", s1, oe]):
            with self.subTest(args=args):
                rc, out, err = self.as_user("ltest-reader", *args)
                self.assertEqual(rc, 1, (out, err))
                self.assertTrue(err.strip(), "the refusal is explained on stderr")
        self.assertEqual(self.snapshot(), before, "a refused write changed something")

    def test_outsider_cannot_connect(self):
        rc, out, err = self.as_user("ltest-outsider", "status")
        self.assertEqual(rc, 69, (out, err))
        self.assertIn(f"cannot connect to {self.daemon.socket}", err)
        r = self.raw_as("ltest-outsider", [{"id": 1, "cmd": "status"}])
        self.assertEqual(r.get("connect_error"), 13, r)     # EACCES

    def test_sighup_changes_coordinator_group(self):
        d = self.daemon
        e1 = unique("h") + "@x.example"
        try:
            d.set_config({"daemon": {"coordinator_group": "ltest-reader"}})
            d.signal(signal.SIGHUP)
            deadline = time.monotonic() + 5
            rc = None
            while time.monotonic() < deadline:
                rc, out, err = self.as_user("ltest-reader", "person", "add", "--name", "Now Coord",
                                            "--email", e1)
                if rc == 0:
                    break
                time.sleep(0.2)
            self.assertEqual(rc, 0, "the reloaded coordinator_group was not applied")
            r = self.raw_as("ltest-coord1", [{"id": 1, "cmd": "group.add",
                                              "args": {"name": unique("no")}}])
            self.assertEqual(r["replies"][0]["error"]["code"], "permission_denied", r)
        finally:
            d.set_config({"daemon": {"coordinator_group": "ltest-coord"}})
            d.signal(signal.SIGHUP)
            time.sleep(0.5)
        rc, out, err = self.as_user("ltest-coord1", "group", "add", unique("yes"))
        self.assertEqual(rc, 0, (out, err))


if __name__ == "__main__":
    unittest.main()
