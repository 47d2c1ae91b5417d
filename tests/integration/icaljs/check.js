#!/usr/bin/env node
// Parse one iCalendar object (stdin) with Mozilla's ical.js, the engine of
// Thunderbird's calendar, and print a JSON summary on stdout.
//
// ICAL.parse -> ICAL.Component -> ICAL.Event; every VTIMEZONE is
// registered with ICAL.TimezoneService first, so startDate/endDate are
// converted to UTC with the calendar's own zone definition (as Thunderbird
// does for an unknown or custom zone).  Exit 1 with {"error": ...} when the
// text cannot be parsed or a TZID has no VTIMEZONE.
//
//   node check.js < invite.ics          one object, one JSON summary
//   node check.js --batch < texts.json  a JSON array of texts -> array of
//                                       summaries (each maybe {"error"})
//
// Used by tests/integration/mailcheck.py.
"use strict";

const ICAL = require("ical.js");

function readStdin() {
  const chunks = [];
  const fs = require("fs");
  const buf = Buffer.alloc(1 << 16);
  for (;;) {
    let n;
    try {
      n = fs.readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === "EAGAIN") continue;
      if (e.code === "EOF") break;
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString("utf8");
}

function utc(time) {
  if (!time) return null;
  return new Date(time.toUnixTime() * 1000).toISOString().replace(".000Z", "Z");
}

function main() {
  const input = readStdin();
  if (process.argv[2] === "--batch") {
    // stdin: a JSON array of iCalendar texts; stdout: an array of summaries.
    const results = JSON.parse(input).map((text) => {
      ICAL.TimezoneService.reset();
      const r = check(text);
      return r;
    });
    process.stdout.write(JSON.stringify(results) + "\n");
    return 0;
  }
  const r = check(input);
  process.stdout.write(JSON.stringify(r) + "\n");
  return r.error === undefined ? 0 : 1;
}

function check(text) {
  const out = {};
  let jcal;
  try {
    jcal = ICAL.parse(text);
  } catch (e) {
    return fail("ICAL.parse: " + e.message);
  }
  if (Array.isArray(jcal) && Array.isArray(jcal[0]))
    return fail("more than one top-level component");
  let cal, event, vevent, vevents;
  try {
    cal = new ICAL.Component(jcal);
  } catch (e) {
    return fail("ICAL.Component: " + e.message);
  }
  if (cal.name !== "vcalendar") return fail("top component is " + cal.name);

  const tzids = [];
  for (const vtz of cal.getAllSubcomponents("vtimezone")) {
    const tz = new ICAL.Timezone(vtz);
    ICAL.TimezoneService.register(tz.tzid, tz);
    tzids.push(tz.tzid);
  }
  vevents = cal.getAllSubcomponents("vevent");
  if (vevents.length === 0) return fail("no VEVENT");
  vevent = vevents[0];
  try {
    event = new ICAL.Event(vevent);
  } catch (e) {
    return fail("ICAL.Event: " + e.message);
  }

  for (const name of ["dtstart", "dtend"]) {
    const prop = vevent.getFirstProperty(name);
    const tzid = prop && prop.getParameter("tzid");
    if (tzid && tzids.indexOf(tzid) < 0)
      return fail(`${name} TZID=${tzid} has no VTIMEZONE`);
  }
  let start, end;
  try {
    start = event.startDate;
    end = event.endDate;
  } catch (e) {
    return fail("startDate/endDate: " + e.message);
  }
  if (start && start.zone && start.zone.tzid === "floating")
    return fail("DTSTART is floating");

  out.method = cal.getFirstPropertyValue("method");
  out.version = cal.getFirstPropertyValue("version");
  out.vevents = vevents.length;
  out.vtimezones = tzids;
  out.uid = event.uid;
  out.sequence = event.sequence;
  out.status = vevent.getFirstPropertyValue("status");
  out.summary = event.summary;
  out.description = event.description;
  out.location = event.location;
  out.url = vevent.getFirstPropertyValue("url");
  out.startDate = utc(start);
  out.endDate = utc(end);
  out.tzid = start && start.zone ? start.zone.tzid : null;
  out.valarms = vevent.getAllSubcomponents("valarm").length;
  const org = vevent.getFirstProperty("organizer");
  out.organizer = org ? { value: org.getFirstValue(), cn: org.getParameter("cn") || null } : null;
  out.attendees = event.attendees.map((a) => ({
    value: a.getFirstValue(),
    address: String(a.getFirstValue()).replace(/^mailto:/i, ""),
    cn: a.getParameter("cn") === undefined ? null : a.getParameter("cn"),
    partstat: a.getParameter("partstat") || null,
    rsvp: a.getParameter("rsvp") === undefined ? null : String(a.getParameter("rsvp")),
    role: a.getParameter("role") || null,
  }));
  out.properties = vevent.getAllProperties().map((p) => p.name.toUpperCase());
  return out;
}

function fail(msg) {
  return { error: msg };
}

process.exitCode = main();
