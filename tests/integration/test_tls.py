"""STARTTLS: invitations reach a server that requires TLS, checked against
the site's own CA ([mail] ca_file); with tls = required, a server that
offers no STARTTLS gets nothing in clear; a certificate from an unknown CA
is refused and delivery is paused, nothing burnt.

A real aiosmtpd server on a free loopback port with a certificate made
here by openssl; the real lecternd and lectern.
"""
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from harness import Daemon, unique

try:
    from aiosmtpd.controller import Controller
    HAVE_AIOSMTPD = True
except ImportError:  # pragma: no cover
    HAVE_AIOSMTPD = False


def make_ca_and_cert(d):
    """A CA and a server certificate for 127.0.0.1 signed by it."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=lectern test CA", "-keyout", "ca.key", "-out", "ca.pem")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "srv.key", "-out", "srv.csr")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "srv.pem")
    return os.path.join(d, "ca.pem"), os.path.join(d, "srv.pem"), os.path.join(d, "srv.key")


class Recorder:
    """aiosmtpd handler: records every command's TLS state and each message."""

    def __init__(self):
        self.lock = threading.Lock()
        self.mails = []          # (rcpts, bytes, tls?)
        self.mail_cmds = []      # tls state when MAIL FROM arrived

    async def handle_MAIL(self, server, session, envelope, address, options):
        with self.lock:
            self.mail_cmds.append(session.ssl is not None)
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.mails.append((list(envelope.rcpt_tos), envelope.original_content,
                               session.ssl is not None))
        return "250 OK: queued"


class TlsCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not HAVE_AIOSMTPD or shutil.which("openssl") is None:
            raise unittest.SkipTest("needs python3-aiosmtpd and openssl")
        cls.tmp = tempfile.mkdtemp(prefix="lectern-tls-")
        cls.ca, cls.cert, cls.key = make_ca_and_cert(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def start_server(self, tls):
        rec = Recorder()
        kw = {}
        if tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(self.cert, self.key)
            kw = {"tls_context": ctx, "require_starttls": True}
        # A socket bound to a free port first (port 0 would confuse the
        # controller's start-up check), then the server on it.
        listen = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listen.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listen.bind(("127.0.0.1", 0))
        port = listen.getsockname()[1]

        class _Controller(Controller):
            def _create_server(ctl):
                return ctl.loop.create_server(ctl._factory_invoker, sock=listen)

            def _trigger_server(ctl):
                # The check connects in clear; with require_starttls that
                # is fine (it only waits for the greeting).
                super()._trigger_server()

        ctl = _Controller(rec, hostname="127.0.0.1", port=port, **kw)
        ctl.start()
        self.addCleanup(listen.close)
        self.addCleanup(ctl.stop)
        return rec, port

    def start_daemon(self, port, **mail):
        conf = {"url": f"smtp://127.0.0.1:{port}", "tls": "required",
                "retry_initial": "1s", "retry_max": "30s"}
        conf.update(mail)
        d = Daemon({"mail": conf})
        d.start()
        self.addCleanup(d.cleanup)
        return d

    def invite(self, d):
        p = d.ok("person.add", {"name": "Анна Смирнова", "email": unique("tls") + "@school.example"})
        s = d.ok("session.add", {"kind": "webinar", "title": "TLS check",
                                 "start": "2031-03-01T15:00", "duration": 60})
        d.ok("enroll", {"session": s["id"], "people": [p["id"]]})
        return p, s

    def wait(self, pred, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred():
                return True
            time.sleep(0.1)
        return False


class TestStartTls(TlsCase):

    def test_delivered_over_starttls_with_site_ca(self):
        rec, port = self.start_server(tls=True)
        d = self.start_daemon(port, ca_file=self.ca)
        p, s = self.invite(d)
        self.assertTrue(self.wait(lambda: rec.mails), "nothing delivered over STARTTLS")
        rcpts, data, over_tls = rec.mails[0]
        self.assertEqual(rcpts, [p["email"]])
        self.assertTrue(over_tls, "the message went in clear")
        self.assertTrue(all(rec.mail_cmds), "MAIL FROM was sent before STARTTLS")
        self.assertIn(b"text/calendar; method=REQUEST", data)
        box = d.ok("outbox.list", {"session": s["id"]})
        self.assertTrue(self.wait(lambda: d.ok("outbox.list", {"session": s["id"]})[0]["state"]
                                  == "sent"), box)

    def test_unknown_ca_refused_and_paused(self):
        rec, port = self.start_server(tls=True)
        d = self.start_daemon(port)            # the system's CAs: ours is unknown
        self.invite(d)
        self.assertTrue(self.wait(lambda: d.ok("status")["delivery"]["paused"]),
                        d.ok("status"))
        time.sleep(1)
        self.assertEqual(rec.mails, [])
        self.assertEqual(rec.mail_cmds, [], "a command went to an unverified server")
        st = d.ok("status")
        self.assertEqual(st["outbox"]["queued"], 1)
        self.assertEqual(st["outbox"]["failed"], 0)

    def test_required_but_not_offered_sends_nothing_in_clear(self):
        rec, port = self.start_server(tls=False)
        d = self.start_daemon(port, ca_file=self.ca)
        self.invite(d)
        self.assertTrue(self.wait(lambda: d.ok("status")["delivery"]["paused"]
                                  or d.ok("outbox.list")[0]["attempts"] > 0),
                        d.ok("status"))
        time.sleep(1)
        self.assertEqual(rec.mail_cmds, [], "MAIL FROM went in clear")
        self.assertEqual(rec.mails, [])
        st = d.ok("status")
        self.assertEqual(st["outbox"]["sent"], 0)
        self.assertEqual(st["outbox"]["failed"], 0)


if __name__ == "__main__":
    unittest.main()
