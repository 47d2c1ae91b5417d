#!/usr/bin/python3
"""Check one message rendered by daemon/mail.c with an independent parser.

usage: mail_check.py MESSAGE EXPECT.json

MESSAGE is the raw message as mail_render() returned it; EXPECT.json says
what it must say:

  {"subject": "...", "from_name": "...", "from_addr": "...",
   "to_name": "...", "to_addr": "...", "method": "REQUEST"|"CANCEL"|null,
   "text": ["substrings of the plain text"], "html": ["... of the HTML"]}

Python's email package (policy.default) parses the message; every part
must parse without defects, the decoded headers must equal the inputs,
the structure must be the one INVITES.md asks for. Problems go to stderr,
one a line; the exit status is 0 only when there are none.
"""
import email
import email.policy
import html.parser
import json
import re
import sys

WANT_HEADERS = ["date", "from", "to", "subject", "message-id",
                "mime-version", "auto-submitted", "content-type"]
HTML_TAGS = {"html", "head", "meta", "title", "body", "p", "br", "a"}

problems = []


def problem(msg):
    problems.append(msg)


class TagCheck(html.parser.HTMLParser):
    """Only the tags mail.c writes; no attribute but lang, charset, href."""

    def __init__(self, url):
        super().__init__(convert_charrefs=True)
        self.url = url
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag not in HTML_TAGS:
            problem(f"html: unexpected tag <{tag}>")
        for k, v in attrs:
            if k not in ("lang", "charset", "href"):
                problem(f"html: unexpected attribute {k}={v!r}")
            if k == "href":
                self.links.append(v)


def check_raw(raw):
    if re.search(rb"(?<!\r)\n", raw):
        problem("bare LF")
    if re.search(rb"\r(?!\n)", raw):
        problem("bare CR")
    if b"\r\r\n" in raw:
        problem("CR CR LF")
    for n, line in enumerate(raw.split(b"\r\n")):
        if len(line) > 998:
            problem(f"line {n + 1} is {len(line)} octets")
    head = raw.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if any(c < 0x20 and c != 9 or c > 0x7e for c in line):
            problem(f"non-ASCII or control byte in header line {line[:60]!r}")
        if len(line) > 998:
            problem("header line over 998 octets")
    # Every header name at the top, exactly once (continuations start with WSP).
    names = [l.split(b":", 1)[0].decode().lower() for l in head.split(b"\r\n")
             if l[:1] not in (b" ", b"\t")]
    if sorted(names) != sorted(WANT_HEADERS):
        problem(f"headers are {names}, expected {WANT_HEADERS}")


def check_addr(msg, field, name, addr):
    h = msg[field]
    if h is None:
        problem(f"{field}: missing")
        return
    if len(h.addresses) != 1:
        problem(f"{field}: {len(h.addresses)} addresses in {str(h)!r}")
        return
    a = h.addresses[0]
    if a.addr_spec != addr:
        problem(f"{field}: address {a.addr_spec!r}, expected {addr!r}")
    if a.display_name != name:
        problem(f"{field}: name {a.display_name!r}, expected {name!r}")


def main():
    raw = open(sys.argv[1], "rb").read()
    want = json.load(open(sys.argv[2], encoding="utf-8"))
    check_raw(raw)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for part in msg.walk():
        if part.defects:
            problem(f"{part.get_content_type()}: defects {part.defects}")
        for k, v in part.items():
            if getattr(v, "defects", None):
                problem(f"{k}: header defects {v.defects}")
    if "subject" in want and str(msg["subject"]) != want["subject"]:
        problem(f"subject {str(msg['subject'])!r}, expected {want['subject']!r}")
    check_addr(msg, "from", want["from_name"], want["from_addr"])
    check_addr(msg, "to", want["to_name"], want["to_addr"])
    for field in ("cc", "bcc", "reply-to", "sender"):
        if msg[field] is not None:
            problem(f"unexpected {field}")
    if msg["mime-version"] != "1.0" or msg["auto-submitted"] != "auto-generated":
        problem("MIME-Version or Auto-Submitted wrong")
    if not re.fullmatch(r"<[0-9a-f]{32}@[A-Za-z0-9.-]+>", str(msg["message-id"])):
        problem(f"message-id {msg['message-id']!r}")
    if msg["date"].datetime is None or not str(msg["date"]).endswith("+0000"):
        problem(f"date {msg['date']!r}")

    method = want.get("method")
    cals = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    if method is None:
        alt = msg
        if msg.get_content_type() != "multipart/alternative":
            problem(f"top is {msg.get_content_type()}")
        if cals:
            problem("a calendar part in a message without one")
    else:
        if msg.get_content_type() != "multipart/mixed":
            problem(f"top is {msg.get_content_type()}")
        kids = list(msg.iter_parts())
        if len(kids) != 2:
            problem(f"{len(kids)} parts in multipart/mixed")
            return
        alt, att = kids
        if att.get_content_type() != "application/ics" or \
                att.get_param("name") != "invite.ics" or \
                att.get_content_disposition() != "attachment" or \
                att.get_filename() != "invite.ics":
            problem("attachment is not application/ics invite.ics")
        if len(cals) != 1:
            problem(f"{len(cals)} text/calendar parts")
            return
        cal = cals[0]
        if cal.get_content_disposition() is not None:
            problem("calendar part has a Content-Disposition")
        if cal.get_param("method") != method:
            problem(f"method={cal.get_param('method')}, expected {method}")
        if (cal.get_param("charset") or "").upper() != "UTF-8":
            problem("calendar charset is not UTF-8")
        body = cal.get_payload(decode=True)
        if body != att.get_payload(decode=True):
            problem("attachment differs from the inline calendar")
        if cal.get("content-transfer-encoding") != att.get("content-transfer-encoding") or \
                cal.get_payload() != att.get_payload():
            problem("attachment not encoded byte-identically")
        m = re.findall(rb"^METHOD:(.*)\r$", body, re.M)
        if m != [method.encode()]:
            problem(f"METHOD: lines {m}")
    kids = list(alt.iter_parts())
    types = [k.get_content_type() for k in kids]
    expect = ["text/plain", "text/html"] + (["text/calendar"] if method else [])
    if types != expect:
        problem(f"alternative holds {types}, expected {expect}")
        return
    for k in kids:
        if (k.get_param("charset") or "").upper() != "UTF-8":
            problem(f"{k.get_content_type()}: charset not UTF-8")
        cte = k.get("content-transfer-encoding")
        payload = k.get_payload(decode=True)
        if cte != "base64" and any(b > 0x7f for b in payload):
            problem(f"{k.get_content_type()}: 8-bit data without base64")
        if cte == "base64":
            for line in k.get_payload().split("\r\n" if "\r\n" in k.get_payload() else "\n"):
                if len(line) > 76:
                    problem("base64 line over 76")
    text = kids[0].get_content()
    page = kids[1].get_content()
    for s in want.get("text", []):
        if s not in text:
            problem(f"text lacks {s!r}")
    for s in want.get("html", []):
        if s not in page:
            problem(f"html lacks {s!r}")
    tc = TagCheck(want.get("url"))
    tc.feed(page)
    tc.close()
    if want.get("url") and want["url"] not in tc.links:
        problem(f"html: no link to {want['url']!r} (links {tc.links})")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a crash of the parser is a finding too
        problem(f"exception: {type(e).__name__}: {e}")
    for p in problems:
        print(p, file=sys.stderr)
    sys.exit(1 if problems else 0)
