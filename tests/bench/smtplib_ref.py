#!/usr/bin/python3
"""smtplib_ref.py -- the "plain Python" reference for lectern's invitations.

    /usr/bin/python3 tests/bench/smtplib_ref.py HOST PORT PEOPLE_CSV N

Builds, for each of the first N teachers of PEOPLE_CSV (the benchmark's
name,email,organization,position,lang file), an invitation like lectern's
-- a VCALENDAR (METHOD:REQUEST, VTIMEZONE Europe/Moscow, one VEVENT with
UID, DTSTAMP, DTSTART/DTEND with TZID, SUMMARY, DESCRIPTION, LOCATION, URL,
ORGANIZER, ATTENDEE with CN/RSVP, SEQUENCE, STATUS, TRANSP) made with the
icalendar package, in a multipart/mixed message (multipart/alternative of
text/plain, text/html and text/calendar, plus the .ics as an attachment)
made with email.mime -- and sends them with smtplib over ONE connection,
one message after the other.  Prints

    n=2000 secs=1.234 rate=1621 build_s=0.8 send_s=0.4 size=5012

(build_s / send_s split the time between making and sending messages).
Run by Debian's /usr/bin/python3, which has python3-icalendar.
"""
import csv
import datetime
import smtplib
import sys
import time
import uuid
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate

import icalendar

FROM_NAME, FROM_ADDR, DOMAIN = "Lectern Bench", "lectern@bench.test", "bench.test"
TITLE = "Formative assessment in grade 5"
DESCRIPTION = "Bring one lesson plan."
LOCATION = "Online"
URL = "https://meet.example/abc"
TZID = "Europe/Moscow"
START = datetime.datetime(2027, 3, 1, 15, 0)
END = datetime.datetime(2027, 3, 1, 16, 30)
UID = "%s-1@%s" % (uuid.uuid4().hex[:16], DOMAIN)


def vtimezone():
    tz = icalendar.Timezone()
    tz.add("tzid", TZID)
    std = icalendar.TimezoneStandard()
    std.add("dtstart", datetime.datetime(1970, 1, 1))
    std.add("tzoffsetfrom", datetime.timedelta(hours=3))
    std.add("tzoffsetto", datetime.timedelta(hours=3))
    std.add("tzname", "MSK")
    tz.add_component(std)
    return tz


def calendar(name, email, now):
    cal = icalendar.Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", "-//lectern//smtplib reference//EN")
    cal.add("method", "REQUEST")
    cal.add("calscale", "GREGORIAN")
    cal.add_component(vtimezone())
    ev = icalendar.Event()
    ev.add("uid", UID)
    ev.add("dtstamp", now)
    ev.add("dtstart", START, parameters={"TZID": TZID})
    ev.add("dtend", END, parameters={"TZID": TZID})
    ev.add("summary", TITLE)
    ev.add("description", DESCRIPTION)
    ev.add("location", LOCATION)
    ev.add("url", URL)
    org = icalendar.vCalAddress("mailto:" + FROM_ADDR)
    org.params["cn"] = icalendar.vText(FROM_NAME)
    ev.add("organizer", org)
    att = icalendar.vCalAddress("mailto:" + email)
    att.params["cn"] = icalendar.vText(name)
    att.params["cutype"] = icalendar.vText("INDIVIDUAL")
    att.params["role"] = icalendar.vText("REQ-PARTICIPANT")
    att.params["partstat"] = icalendar.vText("NEEDS-ACTION")
    att.params["rsvp"] = icalendar.vText("TRUE")
    ev.add("attendee", att)
    ev.add("sequence", 0)
    ev.add("status", "CONFIRMED")
    ev.add("transp", "OPAQUE")
    cal.add_component(ev)
    return cal.to_ical()


def message(name, email, now):
    when = "Monday, 1 March 2027, 15:00-16:30 MSK (Europe/Moscow)"
    subject = "Invitation: %s - 1 March 2027, 15:00 MSK" % TITLE
    text = ("Hello %s,\n\nYou are invited to this webinar:\n\nWhat: %s\nWhen: %s\n"
            "Duration: 1 hour 30 minutes\nJoin: %s\nPlace: %s\n\n%s\n\n"
            "The invitation is attached: accept it in your calendar and the time is\n"
            "kept free for you.\n\n%s\n" % (name, TITLE, when, URL, LOCATION,
                                            DESCRIPTION, FROM_NAME))
    html = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"UTF-8\">\n"
            "<title>%s</title>\n</head>\n<body>\n<p>Hello %s,</p>\n"
            "<p>You are invited to this webinar:</p>\n<p>What: %s<br>\nWhen: %s<br>\n"
            "Duration: 1 hour 30 minutes<br>\nJoin: <a href=\"%s\">%s</a><br>\n"
            "Place: %s</p>\n<p>%s</p>\n<p>The invitation is attached: accept it in your "
            "calendar and the time is<br>\nkept free for you.</p>\n<p>%s</p>\n</body>\n"
            "</html>\n" % (subject, name, TITLE, when, URL, URL, LOCATION,
                           DESCRIPTION, FROM_NAME))
    ics = calendar(name, email, now)

    msg = MIMEMultipart("mixed")
    msg["Date"] = formatdate(usegmt=True)
    msg["From"] = formataddr((FROM_NAME, FROM_ADDR))
    msg["To"] = formataddr((name, email), charset="utf-8")
    msg["Subject"] = Header(subject, "utf-8")
    msg["Message-ID"] = "<%s@%s>" % (uuid.uuid4().hex, DOMAIN)
    msg["Auto-Submitted"] = "auto-generated"
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText(text, "plain", "utf-8"))
    alt.attach(MIMEText(html, "html", "utf-8"))
    cal = MIMEText(ics.decode("utf-8"), "calendar", "utf-8")
    cal.set_param("method", "REQUEST")
    alt.attach(cal)
    msg.attach(alt)
    att = MIMEBase("application", "ics", name="invite.ics")
    att.set_payload(ics)
    from email import encoders
    encoders.encode_base64(att)
    att.add_header("Content-Disposition", "attachment", filename="invite.ics")
    msg.attach(att)
    return msg.as_bytes()


def main():
    host, port, path, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    with open(path, newline="", encoding="utf-8") as f:
        people = [(r["name"], r["email"]) for r in csv.DictReader(f)][:n]
    if len(people) < n:
        sys.exit("smtplib_ref: only %d people in %s" % (len(people), path))
    t0 = time.perf_counter()
    build = 0.0
    size = 0
    with smtplib.SMTP(host, port, local_hostname=DOMAIN) as s:
        for name, email in people:
            b0 = time.perf_counter()
            now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
            data = message(name, email, now)
            build += time.perf_counter() - b0
            size = len(data)
            s.sendmail(FROM_ADDR, [email], data)
    secs = time.perf_counter() - t0
    print("n=%d secs=%.4f rate=%.0f build_s=%.4f send_s=%.4f size=%d"
          % (n, secs, n / secs, build, secs - build, size))


if __name__ == "__main__":
    main()
