"""Delivery when the SMTP server misbehaves (retry_initial=1s,
retry_max=2s, max_connections=2 unless said otherwise).

A temporary refusal is retried until it succeeds, exactly once; a
permanent one fails that message only; a refusal of MAIL FROM pauses
delivery without burning anything; a server that is down loses nothing;
kill -9 of the daemon in the middle of a large send loses nothing and
duplicates at most what was in flight.  Every message received is checked
with mailcheck (email, libical, ical.js).
"""
import json
import os
import random
import signal
import socket
import subprocess
import time
import unittest

from harness import Daemon, SmtpServer, _Handler, shut_down, unique, wait_until
import mailcheck

FROM_ADDR = "lectern@lectern.test"
CFG = {"from_addr": FROM_ADDR, "from_name": "Lectern Test", "domain": "lectern.test"}


class _FaultHandler(_Handler):
    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.o.lock:
            reply = self.o.mail_reply
            self.o.mail_attempts += 1
        if reply:
            await self._script("MAIL", server, address)
            return reply
        return await super().handle_MAIL(server, session, envelope, address, mail_options)


class FaultSmtp(SmtpServer):
    """SmtpServer that can refuse MAIL FROM (mail_reply) and listen on a
    given port (to come back on the same port after stop())."""

    def __init__(self, port=0):
        from aiosmtpd.controller import Controller
        import threading
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.messages, self.commands, self.rcpt_attempts = [], [], []
        self.rcpt_replies, self.drops, self.delays = {}, {}, {}
        self.data_reply = None
        self.mail_reply = None
        self.mail_attempts = 0
        self.dropped = 0
        self._listen = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listen.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listen.bind(("127.0.0.1", port))
        self.port = self._listen.getsockname()[1]
        listen = self._listen

        class _Controller(Controller):
            def _create_server(ctl):
                return ctl.loop.create_server(ctl._factory_invoker, sock=listen)

        self.controller = _Controller(_FaultHandler(self), hostname="127.0.0.1",
                                      port=self.port, enable_SMTPUTF8=True,
                                      decode_data=False, data_size_limit=64 * 1024 * 1024,
                                      ident="lectern-test-smtp")


class FaultCase(unittest.TestCase):
    mail = {"retry_initial": "1s", "retry_max": "2s", "max_connections": "2"}

    def setUp(self):
        mailcheck.require_icalcheck(self)
        self.smtp = FaultSmtp().start()
        self.daemon = None
        self.start_daemon()
        self.people = {}

    def start_daemon(self, mail=None):
        m = {"url": self.smtp.url, "from": f"Lectern Test <{FROM_ADDR}>",
             "domain": "lectern.test"}
        m.update(self.mail)
        m.update(mail or {})
        self.daemon = Daemon(overrides={"mail": m})
        self.daemon.start()

    def tearDown(self):
        try:
            shut_down(self.daemon, timeout=15)
        finally:
            try:
                self.smtp.stop()
            except Exception:
                pass

    def ok(self, cmd, args=None):
        return self.daemon.ok(cmd, args)

    def session_with(self, n, title="Fault drill", start="2027-10-05T16:00"):
        """A session and n enrolled people (one invite each)."""
        people = []
        if n:
            csv = "name,email\n" + "".join(
                f"Teacher {i} Учитель,{unique('f')}@school{i % 7}.example\n" for i in range(n))
            self.ok("person.import", {"csv": csv})
            people = self.ok("person.list", {"limit": 10000})
        for p in people:
            self.people[p["email"]] = p
        s = self.ok("session.add", {"kind": "training", "title": title, "start": start,
                                    "tz": "Europe/Moscow", "duration": 45,
                                    "url": "https://meet.example/drill"})
        if people:
            self.ok("enroll", {"session": s["id"], "people": [p["id"] for p in people]})
        return s, people

    def outbox(self, **kw):
        kw.setdefault("limit", 10000)
        return self.ok("outbox.list", kw)

    def status(self):
        return self.ok("status")

    def check_all(self, recs, snap):
        def expect(m):
            p = self.people.get(m.rcpt[0])
            return mailcheck.expectation(CFG, m.rcpt[0], to_name=p["name"] if p else None,
                                         session=snap)
        return mailcheck.check_messages(self, recs, expect)

    def delivered_once(self, recs, expected_addrs):
        got = sorted(r.rcpt_tos[0] for r in recs)
        self.assertEqual(got, sorted(expected_addrs), "not each delivered exactly once")
        mids = [r.message().get("Message-ID") for r in recs]
        self.assertEqual(len(mids), len(set(mids)))


class TestTemporaryAndPermanent(FaultCase):

    def test_4xx_on_rcpt_retried_until_accepted(self):
        s, people = self.session_with(0)
        a = self.ok("person.add", {"name": "Busy Mailbox", "email": "busy@school.example"})
        b = self.ok("person.add", {"name": "Fine Mailbox", "email": "fine@school.example"})
        self.people.update({a["email"]: a, b["email"]: b})
        self.smtp.refuse(a["email"], "450 4.2.0 Mailbox busy, try later")
        self.ok("enroll", {"session": s["id"], "people": [a["id"], b["id"]]})
        wait_until(lambda: [o for o in self.outbox(session=s["id"])
                            if o["to"] == a["email"] and o["attempts"] >= 2],
                   15, "two refused attempts for busy@")
        [o] = [o for o in self.outbox(session=s["id"]) if o["to"] == a["email"]]
        self.assertEqual(o["state"], "queued")
        self.assertIn("450", o["last_reply"] or "")
        self.assertIn("Mailbox busy", o["last_reply"] or "")
        self.assertEqual([r.rcpt_tos for r in self.smtp.received()], [[b["email"]]])
        self.smtp.accept(a["email"])
        self.smtp.wait_for(2, timeout=10)
        time.sleep(3)   # longer than retry_max: a second copy would show
        recs = self.smtp.received()
        self.delivered_once(recs, [a["email"], b["email"]])
        [o] = [o for o in self.outbox(session=s["id"]) if o["to"] == a["email"]]
        self.assertEqual(o["state"], "sent")
        self.assertGreaterEqual(o["attempts"], 3)
        self.check_all(recs, self.ok("session.get", {"id": s["id"]}))

    def test_550_fails_only_that_recipient(self):
        s, _ = self.session_with(0)
        ids = []
        for name, addr in (("Gone", "gone@school.example"), ("Here One", "one@school.example"),
                           ("Here Two", "two@school.example")):
            p = self.ok("person.add", {"name": name, "email": addr})
            self.people[addr] = p
            ids.append(p["id"])
        self.smtp.refuse("gone@school.example", "550 5.1.1 <gone@school.example>: no such user")
        self.ok("enroll", {"session": s["id"], "people": ids})
        recs = self.smtp.wait_for(2, timeout=10)
        wait_until(lambda: [o for o in self.outbox(session=s["id"]) if o["state"] == "failed"],
                   10, "the failed message")
        time.sleep(3)
        box = {o["to"]: o for o in self.outbox(session=s["id"])}
        self.assertEqual(box["gone@school.example"]["state"], "failed")
        self.assertIn("550 5.1.1 <gone@school.example>: no such user",
                      box["gone@school.example"]["last_reply"])
        self.assertEqual(box["one@school.example"]["state"], "sent")
        self.assertEqual(box["two@school.example"]["state"], "sent")
        self.assertEqual(self.smtp.rcpt_attempts.count("gone@school.example"), 1,
                         "a permanent failure was retried")
        recs = self.smtp.received()
        self.delivered_once(recs, ["one@school.example", "two@school.example"])
        self.assertEqual(self.status()["outbox"]["failed"], 1)
        self.check_all(recs, self.ok("session.get", {"id": s["id"]}))


class TestPause(FaultCase):
    # A long retry_max so that only the SIGHUP can end the pause in time.
    mail = {"retry_initial": "1s", "retry_max": "60s", "max_connections": "2"}

    def test_mail_from_refused_pauses_then_sighup_resumes(self):
        self.smtp.mail_reply = "550 5.7.1 Sender address rejected: not authorised"
        s, people = self.session_with(5)
        st = wait_until(lambda: (lambda d: d if d["delivery"]["paused"] else None)(self.status()),
                        10, "status.delivery.paused")
        self.assertIn("550", st["delivery"]["paused_reason"] or "")
        time.sleep(2)
        box = self.outbox(session=s["id"])
        self.assertEqual(len(box), 5)
        self.assertEqual({o["state"] for o in box}, {"queued"}, box)
        self.assertEqual(self.status()["outbox"]["failed"], 0)
        self.assertTrue(all(o["attempts"] == 0 for o in box), "a paused attempt was counted")
        self.assertEqual(self.smtp.received(), [])
        tried = self.smtp.mail_attempts
        self.assertGreaterEqual(tried, 1)
        # Fix the server; nothing happens until the reload.
        self.smtp.mail_reply = None
        time.sleep(1.5)
        self.assertEqual(self.smtp.received(), [], "paused delivery went on before the reload")
        self.daemon.signal(signal.SIGHUP)
        recs = self.smtp.wait_for(5, timeout=10)
        time.sleep(1)
        recs = self.smtp.received()
        self.delivered_once(recs, [o["to"] for o in box])
        self.assertFalse(self.status()["delivery"]["paused"])
        self.assertEqual({o["state"] for o in self.outbox(session=s["id"])}, {"sent"})
        self.check_all(recs, self.ok("session.get", {"id": s["id"]}))


class TestServerDown(FaultCase):

    def test_server_down_then_back_on_same_port(self):
        port = self.smtp.port
        self.smtp.stop()
        s, people = self.session_with(20)
        # The case: the mail server is down for a minute.
        time.sleep(float(os.environ.get("LECTERN_OUTAGE", "60")))
        box = self.outbox(session=s["id"])
        self.assertEqual(len(box), 20)
        self.assertEqual({o["state"] for o in box}, {"queued"})
        self.assertTrue(all(o["attempts"] >= 1 for o in box), "not even tried while down")
        self.smtp = FaultSmtp(port).start()
        self.smtp.wait_for(20, timeout=20)
        time.sleep(3)
        recs = self.smtp.received()
        self.delivered_once(recs, [o["to"] for o in box])
        self.assertEqual({o["state"] for o in self.outbox(session=s["id"])}, {"sent"})
        self.check_all(recs, self.ok("session.get", {"id": s["id"]}))


class TestKill9(FaultCase):
    mail = {"retry_initial": "1s", "retry_max": "2s", "max_connections": "4"}
    N = 500
    KILLS = 5
    # At most max_connections being sent plus max_connections sent whose
    # outcome waited for its group commit (docs/ARCHITECTURE.md).
    IN_FLIGHT = 8

    def test_kill9_during_large_send(self):
        seed = int(os.environ.get("LECTERN_SEED", random.randrange(1 << 30)))
        rnd = random.Random(seed)
        # Slow the server a little so that each kill lands mid-send.
        self.smtp.delay("DATA", 0.01)
        # Queue everything while the server refuses connections politely
        # (421 at MAIL is a 4xx: deferred), then open the gate.
        self.smtp.mail_reply = "421 4.3.2 Not yet"
        s, people = self.session_with(self.N, title="Large send")
        expected = sorted(o["to"] for o in self.outbox(session=s["id"]))
        self.assertEqual(len(expected), self.N)
        self.smtp.mail_reply = None
        marks = sorted(rnd.sample(range(20, self.N - 40), self.KILLS))
        db = os.path.join(self.daemon.config["daemon"]["state_dir"])
        for k, mark in enumerate(marks):
            wait_until(lambda: len(self.smtp.received()) >= mark, 60,
                       f"{mark} messages before kill {k + 1} (seed {seed})", poll=0.005)
            self.daemon.proc.send_signal(signal.SIGKILL)
            self.daemon.proc.wait()
            self.daemon.proc = None
            self.daemon.start()
        recs = wait_until(lambda: (lambda r: r if len({x.data for x in r}) >= self.N else None)(
            self.smtp.received()), 90, f"all {self.N} messages (seed {seed})", poll=0.2)
        time.sleep(3)
        recs = self.smtp.received()
        by_mid = {}
        for r in recs:
            by_mid.setdefault(r.message()["Message-ID"], []).append(r)
        self.assertEqual(len(by_mid), self.N, f"seed {seed}")
        self.assertEqual(sorted(v[0].rcpt_tos[0] for v in by_mid.values()), expected,
                         f"not every recipient got their message (seed {seed})")
        dups = sum(len(v) - 1 for v in by_mid.values())
        self.assertLessEqual(dups, self.KILLS * self.IN_FLIGHT,
                             f"{dups} duplicates after {self.KILLS} kills (seed {seed})")
        for mid, v in by_mid.items():
            self.assertLessEqual(len(v) - 1, self.KILLS, mid)
            for r in v[1:]:
                self.assertEqual(r.data, v[0].data, f"duplicate {mid} differs")
        box = self.outbox(session=s["id"])
        self.assertEqual({o["state"] for o in box}, {"sent"}, f"seed {seed}")
        self.daemon.stop(timeout=15)
        dbs = [os.path.join(db, f) for f in os.listdir(db) if f.endswith((".db", ".sqlite"))]
        self.assertTrue(dbs, os.listdir(db))
        for path in dbs:
            out = subprocess.run(["sqlite3", path, "PRAGMA integrity_check"],
                                 capture_output=True, text=True, timeout=30).stdout.strip()
            self.assertEqual(out, "ok", path)
        self.daemon.start()
        print(f"[seed {seed}: {dups} duplicates]", end=" ", flush=True)
        self.check_all([v[0] for v in by_mid.values()], self.ok("session.get", {"id": s["id"]}))


if __name__ == "__main__":
    unittest.main()
