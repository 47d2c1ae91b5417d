"""What the daemon's log must never hold: the SMTP password and message
bodies, even at log_level = debug, through a real authenticated SMTP
exchange (aiosmtpd with AUTH PLAIN/LOGIN on a free loopback port)."""
import os
import socket
import threading
import time
import unittest

from harness import Daemon, unique

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
    HAVE_AIOSMTPD = True
except ImportError:  # pragma: no cover
    HAVE_AIOSMTPD = False

PASSWORD = "Sekret-" + "x7Q9pL2w"
BODY_MARK = "Uniquebodytext4471"


class Handler:
    def __init__(self):
        self.lock = threading.Lock()
        self.mails = []

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.mails.append((session.authenticated, envelope.original_content))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (getattr(auth_data, "login", None) == b"teacher-svc" and
          getattr(auth_data, "password", None) == PASSWORD.encode())
    return AuthResult(success=ok)


@unittest.skipUnless(HAVE_AIOSMTPD, "needs python3-aiosmtpd")
class TestNoSecretsInLog(unittest.TestCase):

    def test_password_and_bodies_never_logged(self):
        listen = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listen.bind(("127.0.0.1", 0))
        port = listen.getsockname()[1]
        self.addCleanup(listen.close)

        class _Controller(Controller):
            def _create_server(ctl):
                return ctl.loop.create_server(ctl._factory_invoker, sock=listen)

        h = Handler()
        ctl = _Controller(h, hostname="127.0.0.1", port=port, authenticator=authenticator,
                          auth_require_tls=False)
        ctl.start()
        self.addCleanup(ctl.stop)

        d = Daemon()
        self.addCleanup(d.cleanup)
        pw = os.path.join(d.tmp, "smtp-password")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(pw, 0o600)
        d.set_config({"daemon": {"log_level": "debug"},
                      "mail": {"url": f"smtp://127.0.0.1:{port}", "tls": "none",
                               "username": "teacher-svc", "password_file": pw}})
        d.start()
        p = d.ok("person.add", {"name": "Log Check", "email": unique("log") + "@school.example"})
        s = d.ok("session.add", {"kind": "seminar", "title": "Logging " + BODY_MARK,
                                 "description": "Secret agenda " + BODY_MARK,
                                 "start": "2031-04-01T10:00", "duration": 45})
        d.ok("enroll", {"session": s["id"], "people": [p["id"]]})
        end = time.monotonic() + 15
        while not h.mails and time.monotonic() < end:
            time.sleep(0.1)
        self.assertTrue(h.mails, "nothing delivered")
        self.assertTrue(h.mails[0][0], "delivered without AUTH")
        d.stop()
        log = d.stderr_text()
        self.assertIn("debug", log, "the test needs debug logging to mean something")
        self.assertNotIn(PASSWORD, log)
        self.assertNotIn(BODY_MARK, log)
        # Nor in the encodings a careless log line would carry.
        import base64
        self.assertNotIn(base64.b64encode(PASSWORD.encode()).decode(), log)
        self.assertNotIn(base64.b64encode(b"\0teacher-svc\0" + PASSWORD.encode()).decode(), log)


if __name__ == "__main__":
    unittest.main()
