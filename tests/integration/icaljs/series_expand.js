#!/usr/bin/env node
// Expand the recurring event of iCalendar objects with Mozilla's ical.js
// (Thunderbird's engine), the way a calendar shows them.
//
// stdin: a JSON array of iCalendar texts; stdout: a JSON array with, per
// text, {"uid", "vevents", "occurrences": [{"recurrenceId", "start", "end",
// "exception", "summary"}], "exdates": [...], "rrule", "isDate", "dtstart",
// "dtend" (ical.js's own strings), "transp", "attendees"} (times in UTC, ISO
// with Z) or {"error": ...}.  Every VTIMEZONE of the text is registered
// first, so local times are converted with the calendar's own zone.  The
// first VEVENT without RECURRENCE-ID is the master (a lone occurrence is
// taken as it is); the others with the
// same UID are related to it as exceptions (ICAL.Event.relateException),
// so a moved occurrence appears at its new time and an EXDATE removes one.
// At most 400 occurrences, none after 2100.
//
// Used by tests/integration/test_series_courses.py.
"use strict";

const ICAL = require("ical.js");
const fs = require("fs");

function utc(time) {
  if (!time) return null;
  return new Date(time.toUnixTime() * 1000).toISOString().replace(".000Z", "Z");
}

function expand(text) {
  let cal;
  try {
    cal = new ICAL.Component(ICAL.parse(text));
  } catch (e) {
    return { error: "parse: " + e.message };
  }
  ICAL.TimezoneService.reset();
  for (const vtz of cal.getAllSubcomponents("vtimezone")) {
    const tz = new ICAL.Timezone(vtz);
    ICAL.TimezoneService.register(tz.tzid, tz);
  }
  const vevents = cal.getAllSubcomponents("vevent");
  if (vevents.length === 0) return { error: "no VEVENT" };
  // A message about one occurrence alone has no master: that VEVENT is
  // shown as it is.
  const masterComp = vevents.find((v) => !v.hasProperty("recurrence-id")) || vevents[0];
  const master = new ICAL.Event(masterComp);
  const out = { uid: master.uid, vevents: vevents.length, occurrences: [] };
  for (const v of vevents) {
    if (v === masterComp) continue;
    if (!v.hasProperty("recurrence-id")) return { error: "two VEVENTs without RECURRENCE-ID" };
    const ex = new ICAL.Event(v);
    if (ex.uid !== master.uid) return { error: "VEVENT with another UID " + ex.uid };
    master.relateException(ex);
  }
  // The master's own values as ical.js reads them (all-day: isDate, and the
  // date as YYYY-MM-DD).
  out.isDate = master.startDate.isDate;
  out.dtstart = master.startDate.toString();
  out.dtend = master.endDate ? master.endDate.toString() : null;
  out.transp = masterComp.getFirstPropertyValue("transp");
  out.attendees = master.attendees.map((a) => String(a.getFirstValue()).replace(/^mailto:/i, ""));
  out.exdates = masterComp.getAllProperties("exdate").map((p) => utc(p.getFirstValue()));
  const rr = masterComp.getFirstPropertyValue("rrule");
  out.rrule = rr ? rr.toString() : null;
  if (!master.isRecurring()) {
    out.occurrences.push({ recurrenceId: master.isRecurrenceException() ? utc(master.recurrenceId) : null,
      start: utc(master.startDate),
      end: utc(master.endDate), exception: false, summary: master.summary });
    return out;
  }
  const it = master.iterator();
  let next;
  for (let i = 0; i < 400 && (next = it.next()); i++) {
    if (next.year > 2100) break;
    const d = master.getOccurrenceDetails(next);
    out.occurrences.push({
      recurrenceId: utc(d.recurrenceId),
      start: utc(d.startDate),
      end: utc(d.endDate),
      exception: d.item !== master,
      summary: d.item.summary,
    });
  }
  return out;
}

const texts = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(texts.map(expand)) + "\n");
