"""Self-test of the harness's SMTP server (no lecternd involved): it must
record what it accepts and obey its script, or the delivery tests that
rely on it would prove nothing."""
import smtplib
import socket
import time
import unittest

from harness import SmtpServer


MSG = (b"From: a@x.test\r\nTo: b@y.test\r\nSubject: =?utf-8?b?0J/RgNC40LLQtdGC?=\r\n"
       b"Message-ID: <1@x.test>\r\n\r\nhello\r\n.leading dot\r\n")


class SmtpServerSelfTest(unittest.TestCase):
    def setUp(self):
        self.smtp = SmtpServer().start()

    def tearDown(self):
        self.smtp.stop()

    def test_records_envelope_and_raw_message(self):
        with smtplib.SMTP("127.0.0.1", self.smtp.port, timeout=10) as s:
            s.ehlo("client.test")
            refused = s.sendmail("a@x.test", ["b@y.test", "c@y.test"], MSG)
        self.assertEqual(refused, {})
        got = self.smtp.wait_for(1, 5)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].mail_from, "a@x.test")
        self.assertEqual(got[0].rcpt_tos, ["b@y.test", "c@y.test"])
        self.assertEqual(got[0].data.replace(b"\r\n", b"\n"), MSG.replace(b"\r\n", b"\n"))
        self.assertEqual(got[0].message()["Message-ID"], "<1@x.test>")

    def test_refuses_chosen_recipients(self):
        self.smtp.refuse("bad@y.test", "550 5.1.1 no such user")
        self.smtp.refuse("busy@y.test", "451 4.3.0 try again later")
        with smtplib.SMTP("127.0.0.1", self.smtp.port, timeout=10) as s:
            refused = s.sendmail("a@x.test", ["ok@y.test", "bad@y.test", "busy@y.test"], MSG)
        self.assertEqual(refused["bad@y.test"][0], 550)
        self.assertEqual(refused["busy@y.test"][0], 451)
        got = self.smtp.wait_for(1, 5)
        self.assertEqual(got[0].rcpt_tos, ["ok@y.test"])

    def test_data_reply_scripted(self):
        self.smtp.data_reply = "452 4.3.1 insufficient storage"
        with smtplib.SMTP("127.0.0.1", self.smtp.port, timeout=10) as s:
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                s.sendmail("a@x.test", ["b@y.test"], MSG)
        self.assertEqual(cm.exception.smtp_code, 452)
        self.assertEqual(self.smtp.received(), [])

    def test_drop_and_delay(self):
        self.smtp.drop("DATA", 1)
        with self.assertRaises((smtplib.SMTPServerDisconnected, ConnectionError)):
            with smtplib.SMTP("127.0.0.1", self.smtp.port, timeout=10) as s:
                s.sendmail("a@x.test", ["b@y.test"], MSG)
        self.assertEqual(self.smtp.received(), [])
        self.assertEqual(self.smtp.dropped, 1)
        # The next connection is served normally, after the scripted delay.
        self.smtp.delay("MAIL", 1.0)
        t0 = time.monotonic()
        with smtplib.SMTP("127.0.0.1", self.smtp.port, timeout=10) as s:
            s.sendmail("a@x.test", ["b@y.test"], MSG)
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        self.assertEqual(len(self.smtp.wait_for(1, 5)), 1)

    def test_port_is_loopback_and_free(self):
        self.assertGreater(self.smtp.port, 0)
        with socket.create_connection(("127.0.0.1", self.smtp.port), timeout=5) as c:
            self.assertTrue(c.recv(100).startswith(b"220 "))


if __name__ == "__main__":
    unittest.main()
