/*
 * print.h -- human output for each command's result. Every function takes
 * the call (for its arguments), the daemon's result (borrowed, checked
 * here: it is outside input) and writes to out. 0, or -1 with err set
 * when the result does not have the expected shape.
 */
#ifndef PRINT_H
#define PRINT_H

#include "cmd.h"

#define PRINT_FN(name) int name(const struct cmd_call *, const json_t *, \
    FILE *, char *, size_t)

PRINT_FN(print_status);
PRINT_FN(print_person_added);
PRINT_FN(print_person_updated);
PRINT_FN(print_person_removed);
PRINT_FN(print_person);
PRINT_FN(print_people);
PRINT_FN(print_import);
PRINT_FN(print_group_added);
PRINT_FN(print_group_removed);
PRINT_FN(print_group);
PRINT_FN(print_groups);
PRINT_FN(print_members);
PRINT_FN(print_session_added);
PRINT_FN(print_session_updated);
PRINT_FN(print_session_cancelled);
PRINT_FN(print_session);
PRINT_FN(print_sessions);
PRINT_FN(print_course_added);
PRINT_FN(print_course_updated);
PRINT_FN(print_course_cancelled);
PRINT_FN(print_course);
PRINT_FN(print_courses);
PRINT_FN(print_enroll);
PRINT_FN(print_unenroll);
PRINT_FN(print_rsvp);
PRINT_FN(print_reply);
PRINT_FN(print_attendance_mark);
PRINT_FN(print_attendance);
PRINT_FN(print_attendance_import);
PRINT_FN(print_course_complete);
PRINT_FN(print_training_record);
PRINT_FN(print_training_import);
PRINT_FN(print_completions);
PRINT_FN(print_completion_removed);
PRINT_FN(print_report_due);
PRINT_FN(print_report_coverage);
PRINT_FN(print_report_hours);
PRINT_FN(print_outbox);
PRINT_FN(print_outbox_retry);

/*
 * Print the daemon's refusal of call on stderr-like out:
 * "lectern: session add: message (field: start)", and for a command that
 * read a CSV file each entry of error.errors as "FILE:LINE: message".
 */
void print_refusal(const struct cmd_call *call, const json_t *error,
    FILE *out);

/*
 * Format the UTC instant text utc ("2026-12-01T12:00:00Z") as wall time
 * in zone, "2026-12-01 15:00 MSK". Falls back to the text as given when
 * either cannot be read. Returns buf.
 */
const char *print_local(const char *utc, const char *zone, char *buf,
    size_t len);

#endif
