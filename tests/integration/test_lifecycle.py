"""lecternd's life: persistence across restarts, configuration checks,
SIGHUP reload, a second daemon on a live socket, stale socket files,
socket mode, SIGTERM."""
import os
import signal
import socket
import stat
import subprocess
import time
import unittest

from harness import Daemon, Client, LECTERND, require_binaries, render_config


class Lifecycle(unittest.TestCase):
    def setUp(self):
        require_binaries(LECTERND)
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.cleanup()

    def daemon(self, **kw):
        d = Daemon(**kw)
        self.daemons.append(d)
        return d

    def test_persistence_across_restart(self):
        d = self.daemon().start()
        with d.client() as c:
            p = c.ok("person.add", {"name": "Иван Петров", "email": "ivan@school5.example",
                                    "organization": "Школа № 5", "tags": ["math"]})
            c.ok("group.add", {"name": "Школа молодого педагога"})
            c.ok("group.members.add", {"group": "Школа молодого педагога", "people": [p["id"]]})
            s1 = c.ok("session.add", {"kind": "seminar", "title": "Квартальный семинар",
                                      "start": "2026-12-01T15:00", "duration": 90, "capacity": 1})
            s2 = c.ok("session.add", {"kind": "webinar", "title": "Second",
                                      "start": "2026-12-02T15:00", "duration": 60})
            c.ok("session.update", {"id": s2["id"], "title": "Second, moved"})
            c.ok("enroll", {"session": s1["id"], "people": [p["id"]]})
            before = {"people": c.ok("person.list"), "groups": c.ok("group.list"),
                      "s1": c.ok("session.get", {"id": s1["id"]}),
                      "s2": c.ok("session.get", {"id": s2["id"]}),
                      "person": c.ok("person.get", {"id": p["id"]}),
                      "sessions": c.ok("session.list")}
        d.restart()
        with d.client() as c:
            after = {"people": c.ok("person.list"), "groups": c.ok("group.list"),
                     "s1": c.ok("session.get", {"id": s1["id"]}),
                     "s2": c.ok("session.get", {"id": s2["id"]}),
                     "person": c.ok("person.get", {"id": p["id"]}),
                     "sessions": c.ok("session.list")}
            for k in before:
                self.assertEqual(after[k], before[k], k)
            self.assertEqual(after["s1"]["uid"], s1["uid"])
            self.assertEqual(after["s2"]["sequence"], 1)
            # ids continue, the old ones are not reused
            p2 = c.ok("person.add", {"name": "New", "email": "new@school5.example"})
            self.assertGreater(p2["id"], p["id"])
            s3 = c.ok("session.add", {"kind": "webinar", "title": "Third",
                                      "start": "2026-12-03T15:00", "duration": 60})
            self.assertNotIn(s3["uid"], (s1["uid"], s2["uid"]))
        d.stop()
        self.assertTrue(os.path.exists(os.path.join(d.tmp, "state", "lectern.db")),
                        "the database lives in state_dir by default")

    # -- configuration ---------------------------------------------------
    def test_check_good_config(self):
        d = self.daemon()
        rc, out, err = d.run_check()
        self.assertEqual(rc, 0, out + err)
        self.assertNotIn("lectern.conf:", out + err)

    def test_check_bad_configs(self):
        d = self.daemon()
        base = render_config(d.config).splitlines()
        cases = [
            ("[daemon]", "max_line = 12", "max_line"),
            ("[daemon]", "max_line = banana", "max_line"),
            ("[daemon]", "timezone = Mars/Olympus_Mons", "timezone"),
            ("[daemon]", "request_timeout = soon", "request_timeout"),
            ("[daemon]", "idle_timeout = -5s", "idle_timeout"),
            ("[daemon]", "log_level = chatty", "log_level"),
            ("[daemon]", "max_clients = 0", "max_clients"),
            ("[daemon]", "frobnicate = 1", "frobnicate"),
            ("[mail]", "url = gopher://x.example", "url"),
            ("[mail]", "retry_initial = never", "retry_initial"),
            ("[mail]", "tls = sometimes", "tls"),
        ]
        for section, bad, key in cases:
            with self.subTest(bad=bad):
                # the key appears once: the bad value is the only one
                lines = [l for l in base if not l.startswith(key + " =")]
                at = lines.index(section) + 1
                lines.insert(at, bad)
                path = os.path.join(d.tmp, "bad.conf")
                with open(path, "w") as f:
                    f.write("\n".join(lines) + "\n")
                rc, out, err = d.run_check(path)
                self.assertEqual(rc, 1, out + err)
                self.assertIn(f"{path}:{at + 1}:", out + err, f"file:line expected for {bad!r}")
        # an unknown section, and a line that is not INI
        for text, lineno in (("[daemon]\ntimezone = UTC\n[nonsense]\nx = 1\n", 3),
                             ("[daemon]\nthis is not ini\n", 2)):
            path = os.path.join(d.tmp, "bad2.conf")
            with open(path, "w") as f:
                f.write(text)
            rc, out, err = d.run_check(path)
            self.assertEqual(rc, 1, out + err)
            self.assertIn(f"{path}:{lineno}:", out + err)
        rc, out, err = d.run_check(os.path.join(d.tmp, "missing.conf"))
        self.assertEqual(rc, 1, out + err)
        self.assertIn("missing.conf", out + err)

    def test_unknown_key_refused_at_start(self):
        d = self.daemon(overrides={"daemon": {"frobnicate": "yes"}})
        d.start(wait=False)
        try:
            rc = d.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.fail("lecternd started with an unknown key in its config")
        self.assertNotEqual(rc, 0)
        self.assertIn("frobnicate", d.stderr_text())
        self.assertFalse(os.path.exists(d.socket) and _answers(d.socket))

    def test_version_and_help(self):
        p = subprocess.run([LECTERND, "--version"], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn("0.1.0", p.stdout)
        p = subprocess.run([LECTERND, "--help"], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn("-c", p.stdout)
        p = subprocess.run([LECTERND, "--no-such-option"], capture_output=True, text=True,
                           timeout=10)
        self.assertNotEqual(p.returncode, 0)

    # -- SIGHUP ----------------------------------------------------------
    def test_sighup_reload(self):
        d = self.daemon().start()
        keep = d.config
        with d.client() as c:
            self.assertEqual(c.ok("status")["timezone"], "Europe/Moscow")
            idle = d.client()       # a connection open across reloads
            # a broken new config (with a changed zone) is rejected, the old one kept
            broken = dict(keep, daemon=dict(keep["daemon"], timezone="Asia/Tokyo",
                                            max_line="banana"))
            d.write_config(render_config(broken))
            d.signal(signal.SIGHUP)
            time.sleep(1.0)
            self.assertTrue(d.alive(), "SIGHUP with a broken config killed the daemon")
            st = c.ok("status")
            self.assertEqual(st["timezone"], "Europe/Moscow")
            s = c.ok("session.add", {"kind": "webinar", "title": "T",
                                     "start": "2026-12-01T15:00", "duration": 60})
            self.assertEqual(s["start"], "2026-12-01T12:00:00Z")
            self.assertIn("max_line", d.stderr_text(), "the rejected reload is logged")
            # a good new config applies
            good = dict(keep, daemon=dict(keep["daemon"], timezone="Asia/Tokyo"))
            d.write_config(render_config(good))
            d.signal(signal.SIGHUP)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if c.ok("status")["timezone"] == "Asia/Tokyo":
                    break
                time.sleep(0.1)
            self.assertEqual(c.ok("status")["timezone"], "Asia/Tokyo")
            s = c.ok("session.add", {"kind": "webinar", "title": "T",
                                     "start": "2026-12-01T15:00", "duration": 60})
            self.assertEqual(s["start"], "2026-12-01T06:00:00Z")
            self.assertEqual(s["tz"], "Asia/Tokyo")
            self.assertTrue(idle.request("status")["ok"], "reload dropped an open connection")
            idle.close()
        d.stop()

    # -- sockets ---------------------------------------------------------
    def test_second_daemon_on_live_socket(self):
        d1 = self.daemon().start()
        with d1.client() as c:
            c.ok("person.add", {"name": "First", "email": "first@x.example"})
        d2 = self.daemon(overrides={"daemon": {"socket": d1.socket}})
        d2.start(wait=False)
        try:
            rc = d2.proc.wait(10)
        except subprocess.TimeoutExpired:
            d2.kill()
            self.fail("a second daemon started on a live socket")
        self.assertNotEqual(rc, 0)
        self.assertTrue(d2.stderr_text().strip(), "the refusal is explained")
        self.assertTrue(os.path.exists(d1.socket), "the second daemon removed the live socket")
        with d1.client() as c:
            self.assertEqual([p["email"] for p in c.ok("person.list")], ["first@x.example"])
        d1.stop()

    def test_stale_socket_replaced(self):
        d = self.daemon()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(d.socket)           # a socket file nobody listens on
        s.close()
        self.assertTrue(stat.S_ISSOCK(os.stat(d.socket).st_mode))
        d.start()
        with d.client() as c:
            self.assertTrue(c.request("status")["ok"])
        d.stop()

    def test_socket_mode_and_removal(self):
        d = self.daemon().start()
        st = os.stat(d.socket)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660, oct(st.st_mode))
        d.stop()
        self.assertFalse(os.path.exists(d.socket), "socket file left behind after SIGTERM")

    def test_sigterm_prompt_with_clients(self):
        d = self.daemon().start()
        idle = d.client()
        half = d.client()
        half.send(b"{\"id\":1,\"cmd\":\"sta")
        busy = d.client()
        busy.send(b"".join(b"{\"id\":%d,\"cmd\":\"status\"}\n" % i for i in range(200)))
        try:
            took = d.stop()
            self.assertLess(took, 3.0)
        finally:
            for c in (idle, half, busy):
                c.close()
        # and it starts again on the same state
        d.start()
        self.assertTrue(d.ok("status")["people"] == 0)
        d.stop()


def _answers(path):
    try:
        with Client(path, timeout=1):
            return True
    except Exception:
        return False


if __name__ == "__main__":
    unittest.main()
