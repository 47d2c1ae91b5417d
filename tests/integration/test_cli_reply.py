"""`lectern rsvp` and `lectern reply` against the real lecternd: answers
taken by hand, and calendar REPLY e-mails as Gmail, Outlook and Thunderbird
send them back to the organizer (built with Python's email package), bare
.ics files, and hostile input (no calendar part, oversized, deep nesting)."""
import json
import os
import re
import tempfile
import unittest
from email.message import EmailMessage
from email.policy import SMTP

from harness import DaemonCase, unique, LECTERN, require_binaries

MiB = 1024 * 1024
ORGANIZER = "lectern@lectern.test"


def reply_ics(uid, sequence, email, partstat, cn="Teacher", extra_events=()):
    """An iTIP REPLY (RFC 5546 3.2.3) as a calendar client writes it."""
    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:REPLY",
    ]
    for u, seq, em, ps in [(uid, sequence, email, partstat)] + list(extra_events):
        lines += [
            "BEGIN:VEVENT",
            "DTSTART:20300304T120000Z",
            "DTEND:20300304T133000Z",
            "DTSTAMP:20300101T090000Z",
            f"ORGANIZER;CN=Lectern Test:mailto:{ORGANIZER}",
            f"UID:{u}",
            # Gmail's attendee line, folded as RFC 5545 3.1 says.
            f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT={ps};CN=\"{cn}\";X-NUM-GUES\r\n"
            f" TS=0:mailto:{em}",
            f"SEQUENCE:{seq}",
            "SUMMARY:Formative assessment",
            "STATUS:CONFIRMED",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def request_ics(uid):
    """The invitation itself (METHOD:REQUEST), as quoted back by some clients."""
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//lectern//EN\r\nMETHOD:REQUEST\r\n"
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nSEQUENCE:0\r\nDTSTAMP:20300101T090000Z\r\n"
            "DTSTART:20300304T120000Z\r\nSUMMARY:Formative assessment\r\n"
            f"ORGANIZER:mailto:{ORGANIZER}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def headers(m, sender, subject):
    m["From"] = sender
    m["To"] = ORGANIZER
    m["Subject"] = subject
    m["Date"] = "Mon, 04 Mar 2030 10:00:00 +0000"
    m["Message-ID"] = f"<{unique('m')}@mail.example>"


def gmail_mail(ics, sender, cte="base64"):
    """multipart/alternative: text/plain + text/calendar; method=REPLY."""
    m = EmailMessage()
    headers(m, sender, "Declined: Formative assessment")
    m.set_content(f"{sender} has declined this invitation.\n")
    m.add_alternative(ics, subtype="calendar", cte=cte, params={"method": "REPLY"})
    return m.as_bytes(policy=SMTP)


def outlook_mail(ics, sender, quoted_invitation=None):
    """multipart/mixed: [the quoted invitation,] multipart/alternative
    (plain, html, text/calendar base64), and the REPLY again as an
    application/ics attachment."""
    m = EmailMessage()
    headers(m, sender, "Tentative: Formative assessment")
    m.set_content("Tentatively accepted.\n")
    m.add_alternative("<html><body><p>Tentatively accepted.</p></body></html>",
                      subtype="html")
    m.add_alternative(ics, subtype="calendar", cte="base64", params={"method": "REPLY"})
    m.make_mixed()
    if quoted_invitation is not None:
        # The invitation first: a REQUEST is not the answer.
        inv = EmailMessage()
        inv.set_content(quoted_invitation, subtype="calendar", cte="base64",
                        params={"method": "REQUEST"})
        m.attach(inv)
    m.add_attachment(ics.encode("utf-8"), maintype="application", subtype="ics",
                     filename="reply.ics")
    return m.as_bytes(policy=SMTP)


def thunderbird_mail(ics, sender):
    """multipart/mixed: text/plain, text/calendar; method=REPLY in
    quoted-printable, and the same REPLY as an invite.ics attachment."""
    m = EmailMessage()
    headers(m, sender, "Accepted: Formative assessment")
    m.set_content("Accepted.\n")
    m.add_attachment(ics, subtype="calendar", cte="quoted-printable",
                     params={"method": "REPLY"}, disposition="inline")
    m.add_attachment(ics.encode("utf-8"), maintype="application", subtype="ics",
                     filename="invite.ics")
    return m.as_bytes(policy=SMTP)


class CliReply(DaemonCase):
    def setUp(self):
        super().setUp()
        require_binaries(LECTERN)
        self.c = self.client()
        self.tmpdir = tempfile.mkdtemp(prefix="lectern-reply-")

    def tearDown(self):
        self.c.close()
        for name in os.listdir(self.tmpdir):
            os.unlink(os.path.join(self.tmpdir, name))
        os.rmdir(self.tmpdir)

    # -- helpers ---------------------------------------------------------
    def person(self, name="Teacher"):
        e = unique("t") + "@school.example"
        self.c.ok("person.add", {"name": name, "email": e})
        return self.c.ok("person.get", {"email": e})

    def full_session(self):
        """Capacity 1: a holds the seat, b waits; returns (session, a, b)."""
        s = self.c.ok("session.add", {"kind": "webinar", "title": "Formative " + unique("s"),
                                      "start": "2030-03-04 15:00", "duration": 90,
                                      "capacity": 1})
        a, b = self.person("Анна Смирнова"), self.person("Борис Иванов")
        self.c.ok("enroll", {"session": s["id"], "people": [a["id"], b["id"]]})
        return self.c.ok("session.get", {"id": s["id"]}), a, b

    def states(self, sid):
        s = self.c.ok("session.get", {"id": sid})
        return {e["email"]: (e["state"], e["rsvp"]) for e in s["enrollments"]}

    def write(self, data, name="reply.eml"):
        path = os.path.join(self.tmpdir, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        return path

    def run_cli(self, *args, input=None):
        """lectern ARGS with bytes or text on stdin -> (rc, out, err)."""
        import subprocess
        cmd = [LECTERN, "-s", self.daemon.socket] + [str(a) for a in args]
        env = dict(os.environ, LC_ALL="C.UTF-8")
        env.pop("LECTERN_SOCKET", None)
        if isinstance(input, str):
            input = input.encode("utf-8")
        p = subprocess.run(cmd, input=input, capture_output=True, env=env, timeout=30)
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"))

    def run_ok(self, *args, input=None):
        rc, out, err = self.run_cli(*args, input=input)
        self.assertEqual(rc, 0, f"lectern {args} -> {rc}\n{out}\n{err}")
        self.assertEqual(err, "")
        return out

    def reply_lines(self, out):
        lines = [l for l in out.splitlines() if l]
        self.assertTrue(all(l.startswith("REPLY from ") for l in lines), out)
        return lines

    # -- reply: e-mails as calendar clients send them ----------------------
    def test_gmail_base64_decline_promotes_the_waiting_person(self):
        s, a, b = self.full_session()
        self.assertEqual(self.states(s["id"]), {a["email"]: ("enrolled", "needs_action"),
                                                b["email"]: ("waitlisted", "needs_action")})
        mail = gmail_mail(reply_ics(s["uid"], s["sequence"], a["email"], "DECLINED"), a["email"])
        self.assertIn(b"Content-Transfer-Encoding: base64", mail)
        out = self.run_ok("reply", self.write(mail))
        self.assertEqual(self.reply_lines(out), [
            f"REPLY from {a['email']} for session {s['id']}: declined (recorded); "
            f"promoted: {b['email']}"])
        self.assertEqual(self.states(s["id"]), {a["email"]: ("enrolled", "declined"),
                                                b["email"]: ("enrolled", "needs_action")})
        # The promoted person is invited.
        outbox = self.c.ok("outbox.list", {"session": s["id"]})
        self.assertEqual(sum(1 for m in outbox if m["to"] == b["email"]), 2, outbox)

    def test_gmail_quoted_printable_on_stdin(self):
        s, a, b = self.full_session()
        ics = reply_ics(s["uid"], s["sequence"], a["email"], "ACCEPTED", cn="Анна Смирнова")
        mail = gmail_mail(ics, a["email"], cte="quoted-printable")
        self.assertIn(b"Content-Transfer-Encoding: quoted-printable", mail)
        self.assertIn(b"=D0=90", mail)          # the Cyrillic CN, encoded
        out = self.run_ok("reply", input=mail)  # no FILE: standard input
        self.assertEqual(self.reply_lines(out), [
            f"REPLY from {a['email']} for session {s['id']}: accepted (recorded)"])
        self.assertEqual(self.states(s["id"])[a["email"]], ("enrolled", "accepted"))
        # "-" is standard input too; the same answer again changes nothing.
        out = self.run_ok("reply", "-", input=mail)
        self.assertIn("accepted (recorded)", out)
        self.assertEqual(self.states(s["id"])[b["email"]], ("waitlisted", "needs_action"))

    def test_thunderbird_with_identical_ics_attachment_counts_once(self):
        s, a, b = self.full_session()
        ics = reply_ics(s["uid"], s["sequence"], a["email"], "DECLINED")
        mail = thunderbird_mail(ics, a["email"])
        self.assertIn(b"application/ics", mail)
        out = self.run_ok("reply", self.write(mail))
        self.assertEqual(len(self.reply_lines(out)), 1, out)
        self.assertIn(f"promoted: {b['email']}", out)
        self.assertEqual(self.states(s["id"]), {a["email"]: ("enrolled", "declined"),
                                                b["email"]: ("enrolled", "needs_action")})

    def test_outlook_mixed_skips_the_quoted_invitation(self):
        s, a, b = self.full_session()
        ics = reply_ics(s["uid"], s["sequence"], a["email"], "TENTATIVE")
        mail = outlook_mail(ics, a["email"], quoted_invitation=request_ics(s["uid"]))
        self.assertIn(b"multipart/mixed", mail)
        self.assertIn(b"method=\"REQUEST\"", mail)
        out = self.run_ok("reply", self.write(mail))
        self.assertEqual(self.reply_lines(out), [
            f"REPLY from {a['email']} for session {s['id']}: tentative (recorded)"])
        self.assertEqual(self.states(s["id"])[a["email"]], ("enrolled", "tentative"))

    def test_bare_ics_file(self):
        s, a, b = self.full_session()
        path = self.write("\ufeff" + reply_ics(s["uid"], s["sequence"], a["email"], "ACCEPTED"),
                          "reply.ics")
        out = self.run_ok("reply", path)
        self.assertEqual(self.reply_lines(out), [
            f"REPLY from {a['email']} for session {s['id']}: accepted (recorded)"])
        self.assertEqual(self.states(s["id"]), {a["email"]: ("enrolled", "accepted"),
                                                b["email"]: ("waitlisted", "needs_action")})

    # A person on the waiting list was never invited: their answer is
    # reported and nothing is recorded.
    def test_reply_from_the_waiting_list_changes_nothing(self):
        s, a, b = self.full_session()
        path = self.write(reply_ics(s["uid"], s["sequence"], b["email"], "ACCEPTED"),
                          "reply.ics")
        out = self.run_ok("reply", path)
        self.assertEqual(self.reply_lines(out), [
            f"REPLY from {b['email']} for session {s['id']}: accepted (not invited: "
            "the address is not enrolled; nothing changed)"])
        self.assertEqual(self.states(s["id"])[b["email"]], ("waitlisted", "needs_action"))

    def test_mbox_from_line_and_windows_1251(self):
        s, a, b = self.full_session()
        ics = reply_ics(s["uid"], s["sequence"], a["email"], "DECLINED", cn="Анна Смирнова")
        m = EmailMessage()
        headers(m, a["email"], "Отклонено")
        m.set_content("Отклонено.\n")
        m.add_alternative(ics.encode("cp1251"), maintype="text", subtype="calendar",
                          cte="base64", params={"method": "REPLY", "charset": "windows-1251"})
        data = b"From " + a["email"].encode() + b" Mon Mar  4 10:00:00 2030\n" + \
            m.as_bytes(policy=SMTP)
        out = self.run_ok("reply", input=data)
        self.assertIn("declined (recorded)", out)
        self.assertEqual(self.states(s["id"])[b["email"]], ("enrolled", "needs_action"))

    def test_stale_reply_changes_nothing(self):
        s, a, b = self.full_session()
        self.c.ok("session.update", {"id": s["id"], "title": "Moved " + unique("t")})
        now = self.c.ok("session.get", {"id": s["id"]})
        self.assertGreater(now["sequence"], s["sequence"])
        before = self.states(s["id"])
        mail = gmail_mail(reply_ics(s["uid"], s["sequence"], a["email"], "DECLINED"), a["email"])
        out = self.run_ok("reply", self.write(mail))
        self.assertEqual(self.reply_lines(out), [
            f"REPLY from {a['email']} for session {s['id']}: declined (stale: an answer "
            "to an older version; nothing changed)"])
        self.assertEqual(self.states(s["id"]), before)
        # The answer to the current version counts.
        mail = gmail_mail(reply_ics(s["uid"], now["sequence"], a["email"], "DECLINED"),
                          a["email"])
        self.assertIn("declined (recorded)", self.run_ok("reply", self.write(mail)))

    def test_reply_from_an_address_not_enrolled(self):
        s, a, b = self.full_session()
        before = self.states(s["id"])
        stranger = unique("x") + "@elsewhere.example"
        mail = gmail_mail(reply_ics(s["uid"], s["sequence"], stranger, "DECLINED"), stranger)
        out = self.run_ok("reply", self.write(mail))
        self.assertEqual(self.reply_lines(out), [
            f"REPLY from {stranger} for session {s['id']}: declined (not invited: the "
            "address is not enrolled; nothing changed)"])
        other = self.person()                   # a known person, not enrolled
        mail = gmail_mail(reply_ics(s["uid"], s["sequence"], other["email"], "ACCEPTED"),
                          other["email"])
        out = self.run_ok("reply", self.write(mail))
        self.assertIn(f"REPLY from {other['email']}", out)
        self.assertIn("(not invited", out)
        self.assertEqual(self.states(s["id"]), before)

    def test_unknown_event_and_several_events(self):
        s, a, b = self.full_session()
        uid = unique("nosuch") + "@calendar.example"
        ics = reply_ics(uid, 0, a["email"], "ACCEPTED",
                        extra_events=[(s["uid"], s["sequence"], a["email"], "DECLINED")])
        out = self.run_ok("reply", self.write(gmail_mail(ics, a["email"])))
        self.assertEqual(self.reply_lines(out), [
            f"REPLY from {a['email']} for event {uid}: accepted (unknown event: not a "
            "session of lectern; nothing changed)",
            f"REPLY from {a['email']} for session {s['id']}: declined (recorded); "
            f"promoted: {b['email']}"])

    def test_reply_json(self):
        s, a, b = self.full_session()
        mail = gmail_mail(reply_ics(s["uid"], s["sequence"], a["email"], "DECLINED"), a["email"])
        out = self.run_ok("reply", "--json", self.write(mail))
        r = json.loads(out)
        self.assertEqual(len(r["events"]), 1)
        ev = r["events"][0]
        self.assertEqual((ev["uid"], ev["session"], ev["outcome"], ev["rsvp"], ev["previous"]),
                         (s["uid"], s["id"], "recorded", "declined", "needs_action"))
        self.assertEqual(ev["person"], {"id": a["id"], "email": a["email"]})
        self.assertEqual([p["id"] for p in ev["promoted"]], [b["id"]])

    # -- reply: hostile and useless input ------------------------------------
    def test_no_calendar_part(self):
        m = EmailMessage()
        headers(m, "someone@school.example", "Re: Formative assessment")
        m.set_content("I will come, thanks!\n")
        path = self.write(m.as_bytes(policy=SMTP), "plain.eml")
        rc, out, err = self.run_cli("reply", path)
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(out, "")
        self.assertEqual(err, f"lectern: reply: no iCalendar REPLY found in {path}\n")
        rc, out, err = self.run_cli("reply", input=m.as_bytes(policy=SMTP))
        self.assertEqual((rc, err), (1, "lectern: reply: no iCalendar REPLY found in stdin\n"))

    def test_invitation_is_not_a_reply(self):
        s, a, b = self.full_session()
        m = EmailMessage()
        headers(m, ORGANIZER, "Invitation")
        m.set_content("You are invited.\n")
        m.add_alternative(request_ics(s["uid"]), subtype="calendar",
                          params={"method": "REQUEST"})
        rc, out, err = self.run_cli("reply", input=m.as_bytes(policy=SMTP))
        self.assertEqual((rc, err), (1, "lectern: reply: no iCalendar REPLY found in stdin\n"))
        rc, out, err = self.run_cli("reply", input=request_ics(s["uid"]))
        self.assertEqual((rc, err), (1, "lectern: reply: no iCalendar REPLY found in stdin\n"))
        for junk in (b"", b"\x00\xff\xfe garbage \x00", b"\n\n\n"):
            rc, out, err = self.run_cli("reply", input=junk)
            self.assertEqual(rc, 1, (junk, out, err))
            self.assertIn("lectern: reply: ", err)

    def test_oversized_input(self):
        s, a, b = self.full_session()
        before = self.states(s["id"])
        mail = gmail_mail(reply_ics(s["uid"], s["sequence"], a["email"], "DECLINED"), a["email"])
        big = mail + b"X" * (4 * MiB + 1 - len(mail))
        self.assertEqual(len(big), 4 * MiB + 1)
        rc, out, err = self.run_cli("reply", input=big)
        self.assertEqual(rc, 1, err)
        self.assertEqual(err, "lectern: reply: stdin is larger than 4 MiB\n")
        path = self.write(big, "big.eml")
        rc, out, err = self.run_cli("reply", path)
        self.assertEqual((rc, err), (1, f"lectern: reply: {path} is larger than 4 MiB\n"))
        self.assertEqual(self.states(s["id"]), before)
        # Exactly 4 MiB is read (the epilogue of the message is padding).
        rc, out, err = self.run_cli("reply", input=mail + b"\n" * (4 * MiB - len(mail)))
        self.assertEqual(rc, 0, err)
        self.assertIn("declined (recorded)", out)

    def test_deeply_nested_multiparts(self):
        s, a, b = self.full_session()
        depth = 20000
        head = b"From: x@school.example\r\nSubject: nest\r\nMIME-Version: 1.0\r\n"
        body = [head]
        for i in range(depth):
            body.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i))
        data = b"".join(body)
        self.assertLess(len(data), 4 * MiB)
        rc, out, err = self.run_cli("reply", input=data)
        self.assertEqual(rc, 1, err[-500:])
        self.assertIn("no iCalendar REPLY found in stdin", err)

    def test_unreadable_file_and_usage(self):
        rc, out, err = self.run_cli("reply", os.path.join(self.tmpdir, "missing.eml"))
        self.assertEqual(rc, 2)
        self.assertIn("cannot open", err)
        rc, out, err = self.run_cli("reply", "a.eml", "b.eml")
        self.assertEqual(rc, 2)
        self.assertIn('unexpected operand "b.eml"', err)
        out = self.run_ok("reply", "--help")
        self.assertIn("usage: lectern reply [FILE]", out)

    def test_daemon_refusal_is_shown(self):
        s, a, b = self.full_session()
        mail = gmail_mail(reply_ics(s["uid"], s["sequence"], a["email"], "DELEGATED"),
                          a["email"])
        rc, out, err = self.run_cli("reply", self.write(mail))
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        self.assertRegex(err, r"^lectern: reply: .*PARTSTAT.* \(field: ical\)\n$")
        self.assertEqual(self.states(s["id"])[a["email"]], ("enrolled", "needs_action"))

    def test_not_utf8_calendar_part(self):
        s, a, b = self.full_session()
        ics = reply_ics(s["uid"], s["sequence"], a["email"], "DECLINED").encode()
        ics = ics.replace(b"Formative", b"Form\xffative")
        m = EmailMessage()
        headers(m, a["email"], "Declined")
        m.set_content("Declined.\n")
        m.add_alternative(ics, maintype="text", subtype="calendar", cte="base64",
                          params={"method": "REPLY", "charset": "utf-8"})
        rc, out, err = self.run_cli("reply", input=m.as_bytes(policy=SMTP))
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(err, "lectern: reply: the iCalendar REPLY in stdin is not valid "
                              "UTF-8\n")
        self.assertEqual(self.states(s["id"])[a["email"]], ("enrolled", "needs_action"))

    # -- rsvp ----------------------------------------------------------------
    def test_rsvp_round_trip_with_the_waiting_list(self):
        s, a, b = self.full_session()
        sid = str(s["id"])
        out = self.run_ok("rsvp", "--session", sid, "--person", a["email"],
                          "--answer", "declined")
        self.assertEqual(out, f"{a['email']} declined session {sid} (was needs_action); "
                              f"promoted: {b['email']}\n")
        self.assertEqual(self.states(s["id"]), {a["email"]: ("enrolled", "declined"),
                                                b["email"]: ("enrolled", "needs_action")})
        # Taking the decline back when the seat is gone: the waiting list.
        out = self.run_ok("rsvp", "--session", sid, "--person", str(a["id"]),
                          "--answer", "accepted")
        self.assertEqual(out, f"{a['email']} accepted session {sid} (was declined); every "
                              "seat is taken: on the waiting list at position 1\n")
        raw = self.c.ok("session.get", {"id": s["id"]})
        mine = [e for e in raw["enrollments"] if e["person"] == a["id"]][0]
        self.assertEqual((mine["state"], mine["position"]), ("waitlisted", 1))
        # needs-action as iCalendar spells it, and --json.
        r = json.loads(self.run_ok("rsvp", "--json", "--session", sid, "--person", b["email"],
                                   "--answer", "needs-action"))
        self.assertEqual((r["session"], r["person"]["id"], r["rsvp"], r["previous"],
                          r["promoted"]), (s["id"], b["id"], "needs_action", "needs_action", []))
        self.assertNotIn("waitlisted", r)
        out = self.run_ok("rsvp", "--session", sid, "--person", b["email"],
                          "--answer", "tentative")
        self.assertEqual(out, f"{b['email']} tentatively accepted session {sid} "
                              "(was needs_action)\n")
        self.assertEqual(self.states(s["id"])[b["email"]], ("enrolled", "tentative"))

    def test_rsvp_refusals_and_usage(self):
        s, a, b = self.full_session()
        sid = str(s["id"])
        rc, out, err = self.run_cli("rsvp", "--session", sid, "--person", a["email"],
                                    "--answer", "maybe")
        self.assertEqual(rc, 2)
        self.assertIn("--answer must be accepted, declined, tentative or needs-action", err)
        rc, out, err = self.run_cli("rsvp", "--session", sid, "--answer", "accepted")
        self.assertEqual(rc, 2)
        self.assertIn("missing --person", err)
        # Waiting, not invited yet: the daemon refuses (conflict).
        rc, out, err = self.run_cli("rsvp", "--session", sid, "--person", b["email"],
                                    "--answer", "declined")
        self.assertEqual(rc, 1)
        self.assertTrue(err.startswith("lectern: rsvp: "), err)
        self.assertEqual(self.states(s["id"])[b["email"]], ("waitlisted", "needs_action"))
        other = self.person()
        rc, out, err = self.run_cli("rsvp", "--session", sid, "--person", other["email"],
                                    "--answer", "declined")
        self.assertEqual(rc, 1)
        self.assertTrue(err.startswith("lectern: rsvp: "), err)
        out = self.run_ok("rsvp", "--help")
        self.assertIn("--answer ANSWER", out)
        self.assertIn("PERSON is a person's id", out)
        self.assertIn("rsvp", self.run_ok("--help"))


if __name__ == "__main__":
    unittest.main()
