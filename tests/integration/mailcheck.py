"""Checks of the invitations lectern sends (tests/integration).

Every received message is taken apart three ways:
  - Python's email package (policy=default): no defect on any part or
    header, the MIME structure of /work/shared/INVITES.md, the headers;
  - libical, through build/tools/icalcheck (Evolution's parser): no
    X-LIC-ERROR anywhere, icalrestriction_check passes, DTSTART/DTEND
    converted to UTC with the calendar's own VTIMEZONE;
  - Mozilla's ical.js through tests/integration/icaljs/check.js
    (Thunderbird's engine), when it is installed (`make deps`).

check_messages(tc, received, expect) runs all of it and returns one Mail
per message; the test then asserts what is particular to it (SEQUENCE,
METHOD, ...).  Raw-text rules (CRLF, folding, quoting) are checked on the
bytes, never on a re-serialisation.
"""
import base64
import datetime
import email
import email.header
import email.policy
import email.utils
import json
import os
import re
import shutil
import subprocess
import unittest
import zoneinfo

from harness import BUILD, TOP

ICALCHECK = os.path.join(BUILD, "tools", "icalcheck")
ICALJS_DIR = os.path.join(TOP, "tests", "integration", "icaljs")
ICALJS_CHECK = os.path.join(ICALJS_DIR, "check.js")

REQUIRED_HEADERS = ("Date", "From", "To", "Subject", "Message-ID", "MIME-Version",
                    "Auto-Submitted")
# The header names a lectern invitation may carry; anything else (Bcc, Cc,
# a name smuggled in by an injection) is an extra header.
ALLOWED_HEADERS = set(h.lower() for h in REQUIRED_HEADERS + (
    "Content-Type", "Content-Transfer-Encoding", "Reply-To", "Content-Language",
    "X-Auto-Response-Suppress", "Precedence", "Sender"))
REQUEST_PROPS = {"UID", "DTSTAMP", "DTSTART", "SUMMARY", "ORGANIZER", "SEQUENCE",
                 "STATUS", "ATTENDEE"}
# What a VEVENT of lectern's may contain at all.
KNOWN_PROPS = REQUEST_PROPS | {"DTEND", "DURATION", "DESCRIPTION", "LOCATION", "URL",
                               "TRANSP", "RRULE", "RECURRENCE-ID", "EXDATE", "CLASS",
                               "CREATED", "LAST-MODIFIED", "PRIORITY", "X-MICROSOFT-CDO-BUSYSTATUS",
                               "X-MICROSOFT-CDO-INTENDEDSTATUS", "COMMENT", "CATEGORIES"}


def icaljs_available():
    """(True, "") or (False, why ical.js cannot be used)."""
    if shutil.which("node") is None:
        return False, "node is not installed (ical.js checks need it)"
    if not os.path.exists(os.path.join(ICALJS_DIR, "node_modules", "ical.js", "package.json")):
        return False, ("ical.js is not installed: run `make deps` or "
                       "`npm install --prefix tests/integration/icaljs`")
    return True, ""


def require_icaljs(tc):
    ok, why = icaljs_available()
    if not ok:
        tc.skipTest(why)


def require_icalcheck(tc):
    if not os.access(ICALCHECK, os.X_OK):
        tc.fail(f"{ICALCHECK} is not built (run make -j2 all unit)")


def run_icalcheck(ics_bytes):
    """libical's view of one calendar: (summary dict, rc)."""
    p = subprocess.run([ICALCHECK], input=ics_bytes, capture_output=True, timeout=30)
    try:
        out = json.loads(p.stdout.decode("utf-8"))
    except ValueError:
        raise AssertionError(f"icalcheck printed no JSON (rc {p.returncode}): "
                             f"{p.stdout[:500]!r} {p.stderr[:500]!r}")
    return out, p.returncode


def run_icaljs(texts):
    """ical.js's view of each calendar text (list of str) -> list of dicts."""
    if not texts:
        return []
    p = subprocess.run(["node", ICALJS_CHECK, "--batch"],
                       input=json.dumps(texts).encode("utf-8"),
                       capture_output=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"check.js failed (rc {p.returncode}): {p.stderr[-2000:]!r}")
    return json.loads(p.stdout.decode("utf-8"))


def unfold(ics_text):
    """Physical CRLF lines -> logical lines (RFC 5545 3.1)."""
    return re.sub(r"\r\n[ \t]", "", ics_text).split("\r\n")


def raw_header(msg, name):
    """The header's raw value, unfolded (CRLF before WSP removed)."""
    for k, v in msg.raw_items():
        if k.lower() == name.lower():
            return re.sub(r"\r?\n(?=[ \t])", "", str(v))
    return None


def decode_phrase(phrase):
    """An RFC 5322 display name as a reader shows it: a quoted-string
    unquoted, or encoded-words decoded per RFC 2047 (white space between
    adjacent encoded-words dropped; Python's policy.default address parser
    keeps it and collapses runs of spaces, so it is not used for this)."""
    phrase = phrase.strip()
    if phrase.startswith('"') and phrase.endswith('"') and len(phrase) >= 2:
        return re.sub(r"\\(.)", r"\1", phrase[1:-1], flags=re.S)
    out = []
    for chunk, cs in email.header.decode_header(phrase):
        out.append(chunk.decode(cs or "ascii") if isinstance(chunk, bytes) else chunk)
    return "".join(out)


def to_display_name(msg):
    raw = raw_header(msg, "To")
    m = re.match(r"^(.*?)\s*<([^<>]*)>\s*$", raw, re.S)
    if m is None:
        return ""
    return decode_phrase(m.group(1))


def icaljs_param(value):
    """What ical.js makes of a quoted parameter value: it also applies TEXT
    unescaping (\\n \\, \\; \\\\) that RFC 5545 does not define for
    parameters; libical keeps the backslashes."""
    return re.sub(r"\\([\\;,nN])", lambda x: "\n" if x.group(1) in "nN" else x.group(1), value)


def utc_z(s):
    """'2027-03-20T14:00:00Z' -> datetime (aware)."""
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


class Mail:
    """One received message, taken apart."""

    def __init__(self, rec):
        self.rec = rec
        self.raw = rec.data
        self.msg = rec.message()
        self.rcpt = rec.rcpt_tos
        self.ics = None           # bytes of the inline text/calendar part
        self.ics_text = None
        self.ical = None          # icalcheck's summary
        self.icaljs = None        # ical.js's summary (None when unavailable)
        self.plain = None
        self.html = None
        self.method_param = None
        self.attachment = None

    @property
    def message_id(self):
        return self.msg["Message-ID"]

    @property
    def to_addr(self):
        return self.msg["To"].addresses[0].addr_spec

    @property
    def subject(self):
        return str(self.msg["Subject"])

    @property
    def lines(self):
        return unfold(self.ics_text)

    def vevent_lines(self):
        out, inside = [], False
        for line in self.lines:
            if line == "BEGIN:VEVENT":
                inside = True
            elif line == "END:VEVENT":
                inside = False
            elif inside:
                out.append(line)
        return out

    def prop_lines(self, name):
        """Logical VEVENT lines of property name (case-insensitive)."""
        n = name.upper()
        return [l for l in self.vevent_lines()
                if re.match(re.escape(n) + r"[;:]", l, re.I)]


def _check_raw(tc, m):
    raw = m.raw
    tc.assertNotIn(b"\r\r\n", raw, "CR CR LF in the message")
    tc.assertIsNone(re.search(rb"(?<!\r)\n", raw), "bare LF in the message")
    tc.assertIsNone(re.search(rb"\r(?!\n)", raw), "bare CR in the message")
    tc.assertNotIn(b"\x00", raw, "NUL byte in the message")
    head = raw.split(b"\r\n\r\n", 1)[0]
    tc.assertTrue(all(b < 0x80 for b in head), "raw 8-bit byte in the header")
    for line in raw.split(b"\r\n"):
        tc.assertLessEqual(len(line), 998, f"line over 998 octets: {line[:80]!r}")


def _check_defects(tc, m):
    tc.assertEqual(list(m.msg.defects), [], "message defects")
    for part in m.msg.walk():
        tc.assertEqual(list(part.defects), [],
                       f"defects in {part.get_content_type()}")
        for name, value in part.items():
            defects = getattr(value, "defects", ())
            tc.assertEqual(list(defects), [], f"defects in header {name}: {value!r}")


def _check_headers(tc, m, exp):
    msg = m.msg
    names = [k.lower() for k in msg.keys()]
    for h in REQUIRED_HEADERS:
        tc.assertEqual(names.count(h.lower()), 1, f"header {h} not exactly once: {names}")
    extra = [n for n in names if n not in ALLOWED_HEADERS]
    tc.assertEqual(extra, [], "extra headers")
    tc.assertEqual(len(names), len(set(names)), f"duplicate headers: {names}")
    tc.assertEqual(str(msg["MIME-Version"]).strip(), "1.0")
    tc.assertEqual(str(msg["Auto-Submitted"]).strip(), "auto-generated")
    tc.assertIsNotNone(email.utils.parsedate_to_datetime(str(msg["Date"])), "Date")
    mid = str(msg["Message-ID"])
    tc.assertRegex(mid, r"^<[^<>@\s]+@" + re.escape(exp["domain"]) + ">$", "Message-ID")
    frm = msg["From"].addresses
    tc.assertEqual(len(frm), 1, "From")
    tc.assertEqual(frm[0].addr_spec, exp["from_addr"], "From is not the organizer")
    if exp.get("from_name") is not None:
        tc.assertEqual(frm[0].display_name, exp["from_name"], "From display name")
    to = msg["To"].addresses
    tc.assertEqual(len(to), 1, f"To has not exactly one address: {msg['To']!r}")
    tc.assertEqual(m.rcpt, [exp["to_addr"]], "envelope RCPT is not the recipient alone")
    tc.assertEqual(to[0].addr_spec, exp["to_addr"], "To address")
    if exp.get("to_name") is not None:
        tc.assertEqual(to_display_name(msg), exp["to_name"], "decoded To display name")
    tc.assertEqual(m.rec.mail_from, exp["from_addr"], "envelope MAIL FROM")
    subj = str(msg["Subject"])
    tc.assertNotIn("\n", subj)
    if exp.get("title") is not None:
        tc.assertIn(exp["title"], subj, "decoded Subject does not contain the title")
    # Encoded-words must each decode on their own (no split UTF-8 character).
    raw_head = m.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    for cs, enc, text in re.findall(r"=\?([^?]+)\?([bBqQ])\?([^?]*)\?=", raw_head):
        if enc in "bB":
            data = base64.b64decode(text + "=" * (-len(text) % 4))
        else:
            data = re.sub(rb"=([0-9A-Fa-f]{2})", lambda x: bytes([int(x.group(1), 16)]),
                          text.replace("_", " ").encode("ascii"))
        try:
            data.decode(cs)
        except (UnicodeDecodeError, LookupError):
            tc.fail(f"encoded-word does not decode alone: =?{cs}?{enc}?{text}?=")


def _check_structure(tc, m, exp):
    msg = m.msg
    tc.assertEqual(msg.get_content_type(), "multipart/mixed", "top part")
    parts = list(msg.iter_parts())
    tc.assertGreaterEqual(len(parts), 1)
    alt = parts[0]
    tc.assertEqual(alt.get_content_type(), "multipart/alternative", "first child")
    kids = list(alt.iter_parts())
    types = [k.get_content_type() for k in kids]
    tc.assertIn(types, (["text/plain", "text/calendar"],
                        ["text/plain", "text/html", "text/calendar"]),
                f"multipart/alternative children {types}")
    cals = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    tc.assertEqual(len(cals), 1, "not exactly one text/calendar part")
    cal = kids[-1]
    tc.assertIsNone(cal.get_content_disposition(),
                    "the inline text/calendar has a Content-Disposition")
    tc.assertEqual((cal.get_param("charset") or "").upper(), "UTF-8")
    m.method_param = cal.get_param("method")
    m.ics = cal.get_payload(decode=True)
    m.ics_text = m.ics.decode("utf-8")
    m.plain = kids[0].get_content()
    m.html = kids[1].get_content() if len(kids) == 3 else None
    rest = parts[1:]
    for p in rest:
        tc.assertEqual(p.get_content_type(), "application/ics", f"extra part {p}")
        tc.assertEqual(p.get_content_disposition(), "attachment")
        tc.assertEqual(p.get_filename(), "invite.ics")
        tc.assertEqual(p.get_payload(decode=True), m.ics,
                       "application/ics attachment differs from the inline calendar")
        m.attachment = p.get_payload(decode=True)
    tc.assertLessEqual(len(rest), 1)
    for p in msg.walk():
        if p.is_multipart():
            continue
        payload = p.get_payload(decode=True)
        if any(b >= 0x80 for b in payload):
            tc.assertIn(p["Content-Transfer-Encoding"].lower(), ("base64", "quoted-printable"),
                        f"8-bit {p.get_content_type()} part not encoded")
        if p.get_content_maintype() == "text":
            tc.assertEqual((p.get_param("charset") or "").upper(), "UTF-8")
            payload.decode("utf-8")
    # The body says title, local date and time with the zone, and the link.
    body = m.plain
    if exp.get("title") is not None:
        tc.assertIn(exp["title"], body, "text/plain does not contain the title")
    s = exp.get("session")
    if s is not None:
        local = s["local_start"][11:16]
        tc.assertIn(local, body, "text/plain does not give the local time")
        tc.assertIn(s["tz"], body, "text/plain does not name the zone")
        if s.get("url") and exp.get("method", "REQUEST") == "REQUEST":
            tc.assertIn(s["url"], body, "text/plain does not give the join link")


def _check_ics_text(tc, m, exp):
    text = m.ics_text
    tc.assertNotIn("\r\r", text)
    tc.assertIsNone(re.search(r"(?<!\r)\n", text), "bare LF in the calendar")
    tc.assertIsNone(re.search(r"\r(?!\n)", text), "bare CR in the calendar")
    tc.assertTrue(text.endswith("\r\n"))
    for phys in m.ics.split(b"\r\n"):
        tc.assertLessEqual(len(phys), 75, f"calendar line over 75 octets: {phys[:90]!r}")
        try:
            phys.decode("utf-8")
        except UnicodeDecodeError:
            tc.fail(f"folding splits a UTF-8 character: {phys!r}")
    lines = m.lines
    tc.assertEqual(lines[0], "BEGIN:VCALENDAR")
    tc.assertEqual(lines[-2:], ["END:VCALENDAR", ""])
    for line in lines:
        for ch in line:
            tc.assertFalse(ord(ch) < 0x20 and ch != "\t", f"control character in {line[:80]!r}")
    top = []
    depth = 0
    for line in lines:
        if line.startswith("BEGIN:"):
            depth += 1
        elif line.startswith("END:"):
            depth -= 1
        elif depth == 1:
            top.append(line)
    tc.assertIn("VERSION:2.0", top)
    tc.assertTrue(any(l.startswith("PRODID:") for l in top), "no PRODID")
    methods = [l for l in top if l.startswith("METHOD:")]
    tc.assertEqual(len(methods), 1, "METHOD not exactly once at VCALENDAR level")
    tc.assertEqual(methods[0][7:], m.method_param, "method= differs from METHOD:")
    tc.assertNotIn("PUBLISH", methods[0])
    # CN always double-quoted; ORGANIZER/ATTENDEE values mailto:bare address.
    for name in ("ORGANIZER", "ATTENDEE"):
        for l in m.prop_lines(name):
            if ";CN=" in l.upper():
                tc.assertRegex(l, r';CN="[^"]*"[;:]', f"CN not quoted: {l[:120]!r}")
            value = re.sub(r'"[^"]*"', "", l).split(":", 1)[1]
            tc.assertRegex(value, r"^mailto:[^\s<>\"]+@[^\s<>\"]+$", f"{name} value {value!r}")
    # VTIMEZONE raw form: offsets +hhmm.
    for l in lines:
        if l.startswith(("TZOFFSETFROM", "TZOFFSETTO")):
            tc.assertRegex(l, r"^TZOFFSET(FROM|TO):[+-]\d{4}$", l)


def _check_vtimezones(tc, m, ical):
    tzids_used = set()
    for key in ("tzid", "dtend_tzid"):
        if ical.get(key):
            tzids_used.add(ical[key])
    defined = [z["tzid"] for z in ical["vtimezones"]]
    tc.assertEqual(len(defined), len(set(defined)), "duplicate VTIMEZONE")
    tc.assertEqual(tzids_used - set(defined), set(), "TZID without VTIMEZONE")
    for z in ical["vtimezones"]:
        tc.assertFalse(z["tzid"].startswith("/"), f"TZID not plain IANA: {z['tzid']}")
        tc.assertIn("/", z["tzid"]) if z["tzid"] != "UTC" else None
        zoneinfo.ZoneInfo(z["tzid"])   # a real IANA name
        tc.assertLessEqual(z["standard"], 1, f"{z['tzid']}: more than one STANDARD")
        tc.assertLessEqual(z["daylight"], 1, f"{z['tzid']}: more than one DAYLIGHT")
        tc.assertEqual(z["other"], 0)
        tc.assertGreaterEqual(z["standard"] + z["daylight"], 1)
        for c in z["components"]:
            tc.assertEqual(c["rdate_count"], 0, f"{z['tzid']}: RDATE")
            tc.assertFalse(c["until"], f"{z['tzid']}: UNTIL")
            tc.assertGreater(int(c["dtstart"][:4]), 1601, f"{z['tzid']}: DTSTART {c['dtstart']}")
            tc.assertEqual(c["offset_from"] % 60, 0, "offset with seconds")
            tc.assertEqual(c["offset_to"] % 60, 0, "offset with seconds")
            for r in c["rrules"]:
                tc.assertIn("FREQ=YEARLY", r)
                tc.assertIn("BYMONTH=", r)
                tc.assertIn("BYDAY=", r)
                tc.assertNotIn("BYMONTHDAY", r)
                tc.assertNotIn("UNTIL", r)
            if z["daylight"] == 1:
                tc.assertEqual(c["rrule_count"], 1, f"{z['tzid']}: DST zone without RRULE")


def _check_calendar(tc, m, exp):
    ical = m.ical
    method = exp.get("method", "REQUEST")
    tc.assertEqual(ical["errors"], [], "libical errors")
    tc.assertEqual(ical["vcalendars"], 1)
    tc.assertEqual(ical["vevents"], 1, "not exactly one VEVENT")
    tc.assertEqual(ical["method"], method)
    tc.assertEqual(m.method_param, method)
    tc.assertEqual(ical["version"], "2.0")
    props = ical["properties"]
    tc.assertNotIn("METHOD", props, "METHOD inside VEVENT")
    missing = REQUEST_PROPS - set(props)
    tc.assertEqual(missing, set(), "required VEVENT properties missing")
    tc.assertTrue("DTEND" in props or "DURATION" in props)
    unknown = set(props) - KNOWN_PROPS
    tc.assertEqual(unknown, set(), "unexpected VEVENT properties")
    for p in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "ORGANIZER", "SEQUENCE",
              "STATUS", "DESCRIPTION", "LOCATION", "URL", "TRANSP", "ATTENDEE"):
        tc.assertLessEqual(props.count(p), 1, f"{p} more than once")
    uid = ical["uid"]
    tc.assertRegex(uid, r"^[\x21-\x7e]+@" + re.escape(exp["domain"]) + "$", "UID")
    tc.assertIsInstance(ical["sequence"], int)
    tc.assertGreaterEqual(ical["sequence"], 0)
    tc.assertEqual(ical["status"], "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    if method == "CANCEL":
        tc.assertEqual(ical["valarms"], 0, "VALARM in a CANCEL")
    tc.assertIsNotNone(ical["dtstamp"])
    date = email.utils.parsedate_to_datetime(str(m.msg["Date"]))
    stamp = utc_z(ical["dtstamp"])
    tc.assertLessEqual(abs((stamp - date).total_seconds()), 2, "DTSTAMP is not the message's time")
    tc.assertIsNotNone(ical["dtstart"])
    tc.assertIsNotNone(ical["tzid"], "DTSTART is not TZID-local")
    if ical["dtend"]:
        tc.assertGreater(utc_z(ical["dtend"]), utc_z(ical["dtstart"]), "DTEND not after DTSTART")
    # Organizer and the one attendee.
    tc.assertEqual(ical["organizer"]["address"], exp["from_addr"], "ORGANIZER")
    atts = ical["attendees"]
    tc.assertEqual([a["address"] for a in atts], [exp["to_addr"]],
                   "the recipient is not the only ATTENDEE")
    a = atts[0]
    tc.assertEqual(a["rsvp"], "TRUE")
    tc.assertEqual(a["partstat"], "NEEDS-ACTION")
    tc.assertEqual(a["role"], "REQ-PARTICIPANT")
    tc.assertEqual(a["cutype"], "INDIVIDUAL")
    if exp.get("to_name"):
        tc.assertIn(a["cn"], cn_forms(exp["to_name"]), "ATTENDEE CN (libical)")
    _check_vtimezones(tc, m, ical)
    # DTSTART in UTC = the session's start; and the system's tzdata agrees.
    s = exp.get("session")
    if s is not None:
        tc.assertEqual(ical["uid"], s["uid"], "UID is not the session's")
        tc.assertEqual(ical["dtstart"], s["start"], "DTSTART in UTC (libical) != session start")
        tc.assertEqual(ical["dtend"], s["end"], "DTEND in UTC (libical) != session end")
        tc.assertEqual(ical["tzid"], s["tz"])
        for key in ("title", "description", "location", "url"):
            got = ical["summary" if key == "title" else key]
            tc.assertEqual(got, s.get(key), f"{key} (libical)")
        raw_start = [l for l in m.prop_lines("DTSTART")][0].split(":", 1)[1]
        local = datetime.datetime.strptime(raw_start, "%Y%m%dT%H%M%S").replace(
            tzinfo=zoneinfo.ZoneInfo(s["tz"]))
        tc.assertEqual(local.astimezone(datetime.timezone.utc), utc_z(s["start"]),
                       "the local DTSTART in the system's tzdata is not the session start")
    # ical.js must say the same.
    j = m.icaljs
    if j is not None:
        tc.assertNotIn("error", j, f"ical.js: {j.get('error')}")
        tc.assertEqual(j["method"], method)
        tc.assertEqual(j["uid"], ical["uid"])
        tc.assertEqual(j["sequence"], ical["sequence"])
        tc.assertEqual(j["startDate"], ical["dtstart"], "ical.js start in UTC differs from libical")
        if ical["dtend"]:
            tc.assertEqual(j["endDate"], ical["dtend"], "ical.js end in UTC differs")
        tc.assertEqual([x["address"] for x in j["attendees"]], [exp["to_addr"]], "ical.js attendees")
        tc.assertEqual(j["organizer"]["value"].lower(), "mailto:" + exp["from_addr"].lower())
        tc.assertEqual(j["valarms"], ical["valarms"])
        for key in ("summary", "description", "location"):
            tc.assertEqual(j[key], ical[key], f"{key}: ical.js differs from libical")
        if exp.get("to_name"):
            tc.assertIn(j["attendees"][0]["cn"], [icaljs_param(f) for f in cn_forms(exp["to_name"])],
                        "ATTENDEE CN (ical.js)")
        tc.assertEqual(j["status"], ical["status"])


def cn_forms(name):
    """The CN values accepted for a name: exactly the name, or (a lossy
    choice lectern makes today instead of RFC 6868's ^') with every DQUOTE
    turned into an apostrophe."""
    return [name, name.replace('"', "'")]


def expectation(cfg, to_addr, to_name=None, session=None, method="REQUEST", title=None):
    """What one message must say.  cfg: {"from_addr", "from_name", "domain"}."""
    exp = dict(cfg)
    exp.update(to_addr=to_addr, to_name=to_name, session=session, method=method,
               title=title if title is not None else (session or {}).get("title"))
    return exp


class _context:
    """Name the message in a failure (and stop at the first one)."""

    def __init__(self, m):
        self.m = m

    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        if typ is not None and issubclass(typ, AssertionError):
            m = self.m
            raise AssertionError(f"message to {m.rcpt} {m.msg['Message-ID']} "
                                 f"subject {str(m.msg['Subject'])[:100]!r}: {exc}") from None
        return False


def check_messages(tc, received, expect):
    """Check every message; expect(rec) -> expectation dict (see
    expectation()).  Returns [Mail]."""
    require_icalcheck(tc)
    mails = []
    for rec in received:
        m = Mail(rec)
        exp = expect(m)
        with _context(m):
            _check_raw(tc, m)
            _check_defects(tc, m)
            _check_headers(tc, m, exp)
            _check_structure(tc, m, exp)
            _check_ics_text(tc, m, exp)
            m.ical, _ = run_icalcheck(m.ics)
        m.exp = exp
        mails.append(m)
    ok, _ = icaljs_available()
    if ok:
        for m, j in zip(mails, run_icaljs([m.ics_text for m in mails])):
            m.icaljs = j
    for m in mails:
        with _context(m):
            _check_calendar(tc, m, m.exp)
    return mails


def check_unique(tc, mails):
    """Message-IDs unique; one UID per session for every recipient."""
    mids = [m.message_id for m in mails]
    tc.assertEqual(len(mids), len(set(mids)), "Message-ID reused")
    by_session = {}
    for m in mails:
        s = m.exp.get("session")
        if s is not None:
            by_session.setdefault(s["id"], set()).add(m.ical["uid"])
    for sid, uids in by_session.items():
        tc.assertEqual(len(uids), 1, f"session {sid} has several UIDs: {uids}")
    uids = [next(iter(u)) for u in by_session.values()]
    tc.assertEqual(len(uids), len(set(uids)), "two sessions share a UID")
