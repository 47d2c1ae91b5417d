"""libcurl is loaded on first use, and what that saves.

lecternd does not link libcurl: it loads it (dlopen) when the first
message is due over SMTP (daemon/curlsym.c).  A daemon delivering into a
maildir never maps it; one configured with smtp:// maps it only once it
sends.  Resident memory of an idle daemon holding 10,000 people and
10,000 sessions stays below 16 MiB (skipped under AddressSanitizer:
LECTERN_SANITIZED).  A libcurl.so.4 that cannot be loaded pauses delivery
with a clear error, logged once; the daemon keeps serving and the mail
stays queued.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import LECTERND, Daemon, SmtpServer, shut_down, unique, wait_until

FROM = "Lectern Test <lectern@lectern.test>"
RSS_LIMIT_KIB = 16 * 1024
N_PEOPLE = 10000
N_SESSIONS = 10000
DEPTH = 100


def curl_mapped(pid):
    """The libcurl files mapped into pid (an empty list when none)."""
    with open(f"/proc/{pid}/maps") as f:
        return sorted({line.split()[-1] for line in f
                       if "libcurl" in os.path.basename(line.split()[-1])})


def proc_status(pid, *keys):
    """{key: KiB} from /proc/PID/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in keys:
                out[k] = int(v.split()[0])
    return out


class CurlCase(unittest.TestCase):
    def setUp(self):
        self.daemon = None
        self.smtp = None
        self.libdir = None

    def tearDown(self):
        try:
            shut_down(self.daemon, self.smtp, timeout=10)
        finally:
            if self.libdir is not None:
                shutil.rmtree(self.libdir, ignore_errors=True)

    def start(self, mail=None, env=None):
        self.daemon = Daemon(overrides={"mail": mail} if mail else None, env=env)
        self.daemon.start()
        return self.daemon

    def smtp_mail(self, **kw):
        self.smtp = SmtpServer().start()
        m = {"url": self.smtp.url, "from": FROM, "domain": "lectern.test",
             "retry_initial": "1s", "retry_max": "2s"}
        m.update(kw)
        return m

    def ok(self, cmd, args=None):
        return self.daemon.ok(cmd, args)

    def invite_one(self):
        """A session and one person enrolled: one invitation queued."""
        p = self.ok("person.add", {"name": "Anna Smirnova",
                                   "email": f"{unique('m')}@school.example"})
        s = self.ok("session.add", {"kind": "webinar", "title": "Memory drill",
                                    "start": "2031-03-04T15:00", "tz": "Europe/Moscow",
                                    "duration": 60, "url": "https://meet.example/m"})
        self.ok("enroll", {"session": s["id"], "people": [p["id"]]})
        return p

    def populate(self):
        """N_PEOPLE people (one person.import) and N_SESSIONS sessions
        (session.add, pipelined DEPTH deep)."""
        rows = ["name,email,organization,position,lang"]
        for i in range(1, N_PEOPLE + 1):
            name = f"Анна Смирнова {i}" if i % 3 == 0 else f"Mary Johnson {i}"
            rows.append(f"{name},t{i:05d}@school{i % 20 + 1}.example,"
                        f"School No. {i % 20 + 1},teacher,{'ru' if i % 3 == 0 else 'en'}")
        r = self.ok("person.import", {"csv": "\n".join(rows) + "\n"})
        self.assertIsInstance(r, dict)
        with self.daemon.client(timeout=60) as c:
            sent = got = 0
            while got < N_SESSIONS:
                batch = []
                while sent < N_SESSIONS and sent - got < DEPTH:
                    day, hour = sent // 8, 9 + sent % 8
                    batch.append(json.dumps({
                        "id": sent + 1, "cmd": "session.add",
                        "args": {"kind": "webinar", "title": f"Memory session {sent}",
                                 "start": f"{2030 + day // 336 % 10:04d}-"
                                          f"{1 + day // 28 % 12:02d}-{1 + day % 28:02d}"
                                          f"T{hour:02d}:00",
                                 "duration": 90, "tz": "Europe/Moscow",
                                 "url": f"https://meet.example/s{sent}"}}))
                    sent += 1
                if batch:
                    c.send(("\n".join(batch) + "\n").encode())
                reply = c.recv(timeout=60)
                self.assertTrue(reply.get("ok"), reply)
                got += 1
        return self.ok("status")


class TestLazyLibcurl(CurlCase):

    def test_maildir_never_maps_libcurl(self):
        d = self.start()
        self.assertEqual(curl_mapped(d.pid), [])
        self.invite_one()
        new = os.path.join(d.maildir, "new")
        wait_until(lambda: os.path.isdir(new) and os.listdir(new), 10,
                   "the invitation in the maildir")
        wait_until(lambda: self.ok("status")["outbox"]["queued"] == 0, 10,
                   "an empty queue")
        self.assertEqual(curl_mapped(d.pid), [], "maildir delivery loaded libcurl")
        self.assertNotIn("libcurl", d.stderr_text())

    def test_smtp_maps_libcurl_at_first_message(self):
        d = self.start(self.smtp_mail())
        self.assertEqual(curl_mapped(d.pid), [], "libcurl mapped at start")
        # Commands that queue nothing do not load it either.
        self.ok("status")
        self.ok("person.add", {"name": "Idle Person", "email": f"{unique('i')}@school.example"})
        time.sleep(0.3)
        self.assertEqual(curl_mapped(d.pid), [])
        p = self.invite_one()
        [m] = self.smtp.wait_for(1, timeout=15)
        self.assertEqual(m.rcpt_tos, [p["email"]])
        self.assertIn(b"Memory drill", m.data)
        self.assertNotEqual(curl_mapped(d.pid), [], "sent without libcurl mapped?")
        wait_until(lambda: self.ok("status")["outbox"]["sent"] == 1, 10,
                   "the message marked sent")
        self.assertIn("libcurl/", d.stderr_text())
        # A reload with the worker running, and a clean stop.
        d.signal(1)
        time.sleep(0.3)
        self.assertTrue(self.ok("status"))

    def test_check_and_version_without_libcurl(self):
        d = Daemon(overrides={"mail": {"url": "smtp://127.0.0.1:25", "from": FROM}})
        self.daemon = d
        rc, out, err = d.run_check()
        self.assertEqual(rc, 0, out + err)
        p = subprocess.run([LECTERND, "--version"], capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("lecternd", p.stdout)


class TestBrokenLibcurl(CurlCase):
    """LD_LIBRARY_PATH names a directory whose libcurl.so.4 is broken."""

    def fake_lib(self, kind):
        self.libdir = tempfile.mkdtemp(prefix="lectern-fakecurl-")
        path = os.path.join(self.libdir, "libcurl.so.4")
        if kind == "garbage":
            with open(path, "w") as f:
                f.write("not a shared object\n")
            return True
        cc = shutil.which("cc") or shutil.which("gcc")
        if cc is None:
            return False
        p = subprocess.run([cc, "-shared", "-fPIC", "-o", path, "-x", "c", "-"],
                           input="int lectern_fake_curl;\n", capture_output=True,
                           text=True, timeout=60)
        return p.returncode == 0

    def check_paused(self, want):
        d = self.start(self.smtp_mail(), env={"LD_LIBRARY_PATH": self.libdir})
        self.invite_one()
        st = wait_until(lambda: (lambda s: s if s["delivery"]["paused"] else None)(
            self.ok("status")), 10, "delivery paused")
        reason = st["delivery"]["paused_reason"]
        self.assertIn("cannot load libcurl.so.4", reason)
        self.assertIn(want, reason)
        self.assertIn("libcurl4", reason)
        # Retried after retry_max (2 s), still failing: logged once only.
        time.sleep(4.5)
        self.assertTrue(d.alive())
        st = self.ok("status")
        self.assertTrue(st["delivery"]["paused"])
        self.assertEqual(st["outbox"]["queued"], 1)
        self.assertEqual(st["outbox"].get("sent", 0), 0)
        box = self.ok("outbox.list", {"limit": 100})
        self.assertEqual([(o["state"], o["attempts"]) for o in box], [("queued", 0)])
        self.assertEqual(self.smtp.received(), [])
        errors = [l for l in d.stderr_text().splitlines()
                  if "cannot load libcurl.so.4" in l and ": error: " in l]
        self.assertEqual(len(errors), 1, "\n".join(errors))
        # A reload tries again and says so again.
        d.signal(1)
        wait_until(lambda: len([l for l in d.stderr_text().splitlines()
                                if "cannot load libcurl.so.4" in l and ": error: " in l]) == 2,
                   10, "the error logged again after the reload")
        self.assertTrue(self.ok("status"))

    def test_library_without_symbols(self):
        if not self.fake_lib("empty"):
            self.skipTest("no C compiler for the fake library")
        self.check_paused("undefined symbol")

    def test_library_not_an_elf_file(self):
        self.fake_lib("garbage")
        self.check_paused(self.libdir)


class TestResidentMemory(CurlCase):

    def test_idle_smtp_daemon_below_16_mib(self):
        d = self.start(self.smtp_mail())
        st = self.populate()
        self.assertEqual(st["people"], N_PEOPLE)
        self.assertEqual(st["sessions"], N_SESSIONS)
        time.sleep(0.5)
        self.assertEqual(curl_mapped(d.pid), [], "libcurl mapped with nothing sent")
        mem = proc_status(d.pid, "VmRSS", "RssAnon", "RssFile", "VmHWM")
        print(f"\n    lecternd at {N_PEOPLE} people + {N_SESSIONS} sessions, smtp://, "
              f"nothing sent: {mem} KiB", flush=True)
        if os.environ.get("LECTERN_SANITIZED"):
            self.skipTest(f"sanitizer build: VmRSS {mem['VmRSS']} KiB not asserted")
        self.assertLess(mem["VmRSS"], RSS_LIMIT_KIB, mem)


if __name__ == "__main__":
    unittest.main()
