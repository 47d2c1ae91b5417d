/*
 * test_mail.c -- whole messages from the real templates (en, ru), checked
 * byte by byte here and by an independent parser (Python's email package,
 * tests/unit/mail_check.py); template errors; hostile values in every
 * field. mail.c is #included to reach its statics.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../../daemon/mail.c"
#include "ical.h"

#define TEST_PY		"/usr/bin/python3"

static char	test_top[1024] = ".";
static char	test_tmp[] = "/tmp/test_mail.XXXXXX";
static int	test_have_py;

struct test_msg {
	struct mail_message	 m;
	struct ical_event	 ev;
	char			*ical;
};

static void test_fmt(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* snprintf that must not truncate. */
static void
test_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < len);
}

static const char *
test_path(const char *rel, char *buf, size_t len)
{
	int	n;

	n = snprintf(buf, len, "%s/%s", test_top, rel);
	assert_true(n > 0 && (size_t)n < len);
	return buf;
}

static int
test_count(const char *hay, const char *needle)
{
	int	n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* A message with every optional field set; strings are literals. */
static void
test_msg_init(struct test_msg *t, enum mail_kind kind, const char *lang)
{
	int64_t	utc;
	char	err[256];

	memset(t, 0, sizeof *t);
	assert_int_equal(tz_parse("2026-12-01T15:00", "Europe/Moscow", 0,
	    "start", &utc, NULL, 0, err, sizeof err), 0);
	t->m.kind = kind;
	t->m.lang = lang;
	t->m.from_name = "Методический центр";
	t->m.from_addr = "methodist@lectern.example";
	t->m.to_name = "Петров, Иван: учитель";
	t->m.to_addr = "ivan.petrov@school5.example";
	t->m.domain = "lectern.example";
	t->m.date = 1764000000;
	t->m.session_kind = "seminar";
	t->m.title = "Семинар: \"ФГОС\", 5 кл. \\ итоги";
	t->m.description = "Line one\nLine two, with; <b>punctuation</b> & \"quotes\"";
	t->m.location = "Школа №5, каб. 12";
	t->m.url = "https://meet.example.org/j/42?pwd=a&b=1";
	t->m.course = "ФГОС-2026";
	t->m.reason = kind == MAIL_CANCEL ? "the speaker is ill" : NULL;
	t->m.tz = "Europe/Moscow";
	t->m.start_utc = utc;
	t->m.duration = 90;
	t->m.waitlist_position = kind == MAIL_WAITLIST ? 3 : 0;
	t->m.remind_before = kind == MAIL_REMINDER ? 86400 : 0;
}

/* The kinds about a session (the course kinds follow them). */
#define TEST_SESSION_KINDS	(MAIL_WAITLIST + 1)

/* Render the calendar part for t from its current values. */
static void
test_msg_ical(struct test_msg *t)
{
	char	err[256] = "";

	free(t->ical);
	t->ical = NULL;
	t->m.ical = NULL;
	t->m.ical_method = NULL;
	if (t->m.kind == MAIL_REMINDER || t->m.kind == MAIL_WAITLIST)
		return;
	memset(&t->ev, 0, sizeof t->ev);
	t->ev.method = t->m.kind == MAIL_CANCEL ? ICAL_CANCEL : ICAL_REQUEST;
	t->ev.uid = "session-42@lectern.example";
	t->ev.sequence = t->m.kind == MAIL_INVITE ? 0 : 2;
	t->ev.dtstamp = t->m.date;
	t->ev.tz = "Europe/Moscow";
	t->ev.start_local = "2026-12-01T15:00:00";
	t->ev.start_utc = t->m.start_utc;
	t->ev.duration = t->m.duration;
	t->ev.summary = t->m.title;
	t->ev.description = t->m.description;
	t->ev.location = t->m.location;
	t->ev.url = t->m.url;
	t->ev.organizer_name = t->m.from_name;
	t->ev.organizer_addr = t->m.from_addr;
	t->ev.attendee_name = t->m.to_name;
	t->ev.attendee_addr = t->m.to_addr;
	t->ev.rrule = t->m.rrule;
	t->ical = ical_render(&t->ev, err, sizeof err);
	if (t->ical == NULL)
		fail_msg("ical_render: %s", err);
	t->m.ical = t->ical;
	t->m.ical_method = t->m.kind == MAIL_CANCEL ? "CANCEL" : "REQUEST";
}

static void
test_msg_free(struct test_msg *t)
{
	free(t->ical);
	t->ical = NULL;
}

static int
test_b64val(int c)
{
	const char	*p = strchr(mail_b64_chars, c);

	return c != '\0' && p != NULL ? (int)(p - mail_b64_chars) : -1;
}

/* Decode base64 s[0..n) (no line breaks) into out; its length, or -1. */
static long
test_unb64(const char *s, size_t n, unsigned char *out, size_t outlen)
{
	size_t		i, o = 0;
	uint32_t	v;
	int		k, pad, d;

	if (n % 4 != 0)
		return -1;
	for (i = 0; i < n; i += 4) {
		v = 0;
		pad = 0;
		for (k = 0; k < 4; k++) {
			if (s[i + k] == '=') {
				pad++;
				d = 0;
			} else if ((d = test_b64val(s[i + k])) < 0 || pad > 0)
				return -1;
			v = v << 6 | (uint32_t)d;
		}
		if (o + 3 > outlen)
			return -1;
		out[o++] = v >> 16;
		if (pad < 2)
			out[o++] = (v >> 8) & 0xff;
		if (pad < 1)
			out[o++] = v & 0xff;
	}
	return (long)o;
}

/*
 * Every encoded-word in the headers: at most 75 characters, and each one
 * alone decodes to whole UTF-8 characters.
 */
static void
test_encoded_words(const char *msg, size_t hlen)
{
	unsigned char	 dec[128];
	const char	*p = msg, *q, *end = msg + hlen;
	long		 n;

	while ((p = strstr(p, "=?UTF-8?B?")) != NULL && p < end) {
		q = strstr(p + 10, "?=");
		assert_non_null(q);
		assert_true(q + 2 - p <= MAIL_EW_MAX);
		n = test_unb64(p + 10, q - (p + 10), dec, sizeof dec);
		assert_true(n > 0);
		assert_int_equal(valid_utf8((const char *)dec, (size_t)n), 0);
		p = q + 2;
	}
}

/* The body of the part whose header block contains ctype. */
static char *
test_part_body(const char *msg, const char *ctype)
{
	const char	*h, *b, *e;

	h = strstr(msg, ctype);
	assert_non_null(h);
	b = strstr(h, "\r\n\r\n");
	assert_non_null(b);
	b += 4;
	e = strstr(b, "\r\n--=_lectern_");
	assert_non_null(e);
	return mail_strndup(b, e - b);
}

/* What must hold for any message mail_render returns. */
static void
test_structure(const char *msg, size_t len, const struct mail_message *m)
{
	const char	*hend, *s;
	char		*cal, *att, want[64];
	size_t		 i, col = 0;

	assert_int_equal(strlen(msg), len);	/* no NUL inside */
	assert_int_equal(mail_lint(msg, len), 0);
	for (i = 0; i < len; i++) {
		if (msg[i] == '\n')
			assert_true(i > 0 && msg[i - 1] == '\r');
		if (msg[i] == '\r') {
			assert_true(msg[i + 1] == '\n');
			assert_true(i == 0 || msg[i - 1] != '\r');
		}
		col = msg[i] == '\n' ? 0 : col + 1;
		assert_true(col <= MAIL_LINE_MAX + 1);
	}
	hend = strstr(msg, "\r\n\r\n");
	assert_non_null(hend);
	for (s = msg; s < hend; s++)
		assert_true((*s >= 0x20 && *s <= 0x7e) || *s == '\r' ||
		    *s == '\n' || *s == '\t');
	test_encoded_words(msg, hend - msg);
	assert_int_equal(test_count(msg, "\r\nTo:"), 1);
	assert_int_equal(test_count(msg, "\r\nFrom:"), 1);
	assert_int_equal(test_count(msg, "\r\nSubject:"), 1);
	assert_null(strstr(msg, "\r\nBcc:"));
	assert_null(strstr(msg, "\r\nCc:"));
	if (m->ical == NULL) {
		assert_int_equal(test_count(msg, "text/calendar"), 0);
		assert_non_null(strstr(msg, "Content-Type: "
		    "multipart/alternative"));
		return;
	}
	assert_int_equal(test_count(msg, "Content-Type: text/calendar"), 1);
	test_fmt(want, sizeof want, "text/calendar; method=%s;",
	    m->ical_method);
	assert_non_null(strstr(msg, want));
	assert_int_equal(test_count(msg, "Content-Disposition: attachment"),
	    1);
	cal = test_part_body(msg, "Content-Type: text/calendar");
	att = test_part_body(msg, "Content-Type: application/ics");
	assert_string_equal(cal, att);
	free(cal);
	free(att);
}

/* Write s[0..n) to path. */
static void
test_write(const char *path, const char *s, size_t n)
{
	FILE	*f;

	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/*
 * Check msg with mail_check.py. expect_subject NULL: the subject is not
 * compared (hostile values), the rest is.
 */
static void
test_python(const char *msg, size_t len, const struct mail_message *m,
    const char *expect_subject, const char *const *text)
{
	json_t	*want, *arr;
	char	 mpath[256], jpath[256], cmd[1024], script[1024], *js;
	int	 rc;

	if (!test_have_py)
		return;
	test_fmt(mpath, sizeof mpath, "%s/msg.eml", test_tmp);
	test_fmt(jpath, sizeof jpath, "%s/want.json", test_tmp);
	test_write(mpath, msg, len);
	want = json_pack("{s:s?, s:s, s:s, s:s, s:s, s:s?, s:s?}",
	    "subject", expect_subject,
	    "from_name", m->from_name != NULL ? m->from_name : "",
	    "from_addr", m->from_addr,
	    "to_name", m->to_name != NULL ? m->to_name : "",
	    "to_addr", m->to_addr,
	    "method", m->ical != NULL ? m->ical_method : NULL,
	    "url", m->url != NULL && *m->url != '\0' &&
	    m->kind != MAIL_CANCEL && m->kind != MAIL_WAITLIST ? m->url :
	    NULL);
	assert_non_null(want);
	if (expect_subject == NULL)
		json_object_del(want, "subject");
	arr = json_array();
	for (; text != NULL && *text != NULL; text++)
		json_array_append_new(arr, json_string(*text));
	json_object_set_new(want, "text", arr);
	js = json_dumps(want, 0);
	assert_non_null(js);
	test_write(jpath, js, strlen(js));
	free(js);
	json_decref(want);
	test_fmt(cmd, sizeof cmd, TEST_PY " %s %s %s", test_path(
	    "tests/unit/mail_check.py", script, sizeof script), mpath, jpath);
	rc = system(cmd);
	if (rc != 0) {
		fprintf(stderr, "mail_check.py failed; the message is in %s\n",
		    mpath);
		/* Keep the evidence. */
		test_fmt(cmd, sizeof cmd, "cp %s %s.failed", mpath, mpath);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot keep it\n");
		fail_msg("mail_check.py: status %d", rc);
	}
}

/* With TEST_MAIL_DUMP=dir, keep every message rendered as dir/NNN.eml. */
static void
test_dump(const char *msg, size_t len)
{
	static int	 n;
	const char	*dir = getenv("TEST_MAIL_DUMP");
	char		 path[1024];

	if (dir == NULL)
		return;
	test_fmt(path, sizeof path, "%s/%03d.eml", dir, n++);
	test_write(path, msg, len);
}

/* Render t, expecting success; the caller frees the result. */
static char *
test_render_ok(struct test_msg *t, size_t *len)
{
	char	 err[512] = "", *id = NULL, *msg;

	msg = mail_render(&t->m, len, &id, err, sizeof err);
	if (msg == NULL)
		fail_msg("mail_render: %s", err);
	assert_non_null(id);
	assert_non_null(strstr(msg, id));
	free(id);
	test_structure(msg, *len, &t->m);
	test_dump(msg, *len);
	return msg;
}

static int
test_setup(void **state)
{
	char	err[512] = "", path[1024];
	const char *top;

	(void)state;
	if ((top = getenv("LECTERN_TOP")) != NULL)
		test_fmt(test_top, sizeof test_top, "%s", top);
	if (mkdtemp(test_tmp) == NULL)
		return -1;
	test_have_py = access(TEST_PY, X_OK) == 0;
	if (!test_have_py)
		fprintf(stderr, "no " TEST_PY ": independent checks skipped\n");
	if (mail_start(test_path("config/templates", path, sizeof path), "en",
	    err, sizeof err) == -1) {
		fprintf(stderr, "mail_start: %s\n", err);
		return -1;
	}
	return 0;
}

static int
test_teardown(void **state)
{
	char	cmd[256];

	(void)state;
	mail_stop();
	ical_cache_clear();
	test_fmt(cmd, sizeof cmd, "rm -rf %s", test_tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* Every kind in both languages with awkward but valid values. */
static void
test_render_matrix(void **state)
{
	static const char *const langs[] = { "en", "ru" };
	static const char *const subj_en[] = {
		"Invitation: ", "Updated: ", "Cancelled: ", "Reminder: ",
		"Waiting list: ",
	};
	static const char *const subj_ru[] = {
		"Приглашение: ", "Изменение: ", "Отменено: ", "Напоминание: ",
		"Лист ожидания: ",
	};
	char		 title500[2048], subject[4096], *msg;
	const char	*titles[8], *names[4], *text[6];
	struct test_msg	 t;
	size_t		 li, k, ti, i, len;

	(void)state;
	/* 500 characters: Cyrillic, commas, quotes, backslashes. */
	for (i = 0, title500[0] = '\0'; i < 500; i++) {
		static const char *const pieces[] = {
			"я", ",", "\"", "\\", "a",
		};
		memcpy(title500 + strlen(title500), pieces[i % 5],
		    strlen(pieces[i % 5]) + 1);
	}
	assert_int_equal(valid_utf8_len(title500), 500);
	titles[0] = "Algebra in grade 7";
	titles[1] = "Семинар: \"ФГОС\", 5 кл. \\ итоги";
	titles[2] = "=?UTF-8?B?QmNjOg==?=";
	titles[3] = "Why ?= and =? matter, \"quoted\" \\ back";
	titles[4] = title500;
	titles[5] = "Очень длинное название семинара о функциональной "
	    "грамотности учащихся основной школы 🎓 и цифровых ресурсах";
	titles[6] = NULL;
	names[0] = "Петров, Иван: учитель";
	names[1] = "O'Brien, \"Pat\" \\ J.";
	names[2] = "";
	names[3] = "Anna Smith";
	for (li = 0; li < 2; li++) {
		for (k = 0; k < TEST_SESSION_KINDS; k++) {
			for (ti = 0; titles[ti] != NULL; ti++) {
				test_msg_init(&t, (enum mail_kind)k, langs[li]);
				t.m.title = titles[ti];
				t.m.to_name = names[ti % 4];
				t.m.from_name = names[(ti + 1) % 4];
				test_msg_ical(&t);
				msg = test_render_ok(&t, &len);
				test_fmt(subject, sizeof subject, "%s%s %s "
				    "%s, 15:00 MSK", li == 0 ? subj_en[k] :
				    subj_ru[k], t.m.title, li == 0 ? "-" :
				    "—", li == 0 ? "1 December 2026" :
				    "1 декабря 2026");
				i = 0;
				text[i++] = t.m.title;
				text[i++] = "15:00";
				text[i++] = "MSK (Europe/Moscow)";
				if (k != MAIL_CANCEL && k != MAIL_WAITLIST)
					text[i++] = t.m.url;
				text[i] = NULL;
				test_python(msg, len, &t.m, subject, text);
				free(msg);
				test_msg_free(&t);
			}
		}
	}
}

/* The words: dates, durations, optional lines, repetition, kinds. */
static void
test_render_text(void **state)
{
	struct test_msg	 t;
	char		*msg, *body, *text;
	unsigned char	 dec[65536];
	size_t		 len;
	long		 n;
	const char	*p;
	size_t		 o;

	(void)state;
	/* English invitation without location, course or description. */
	test_msg_init(&t, MAIL_INVITE, "en");
	t.m.title = "Algebra";
	t.m.location = NULL;
	t.m.course = "";
	t.m.description = NULL;
	t.m.to_name = "";
	t.m.from_name = "Methodology Centre";
	t.m.session_kind = "open_lesson";
	t.m.rrule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=10";
	test_msg_ical(&t);
	msg = test_render_ok(&t, &len);
	assert_non_null(strstr(msg, "\r\nSubject: Invitation: Algebra - "
	    "1 December 2026, 15:00 MSK\r\n"));
	assert_non_null(strstr(msg, "\r\nFrom: Methodology Centre "
	    "<methodist@lectern.example>\r\n"));
	assert_non_null(strstr(msg, "\r\nTo: ivan.petrov@school5.example\r\n"));
	body = test_part_body(msg, "Content-Type: text/plain");
	/* ASCII text stays readable (7bit). */
	assert_non_null(strstr(msg, "Content-Type: text/plain; charset=UTF-8"
	    "\r\nContent-Transfer-Encoding: 7bit"));
	assert_non_null(strstr(body, "You are invited to this open lesson:"));
	assert_non_null(strstr(body, "When: Tuesday, 1 December 2026, "
	    "15:00-16:30 MSK (Europe/Moscow)\r\n"));
	assert_non_null(strstr(body, "Duration: 1 hour 30 minutes\r\n"));
	assert_non_null(strstr(body, "Repeats: every 2 weeks, on Tuesday, "
	    "Thursday, 10 times\r\n"));
	assert_non_null(strstr(body, "Join: https://meet.example.org/j/42?"
	    "pwd=a&b=1\r\n"));
	assert_null(strstr(body, "Hello"));
	assert_null(strstr(body, "Place:"));
	assert_null(strstr(body, "Course:"));
	assert_null(strstr(body, "\r\n\r\n\r\n"));
	assert_true(strncmp(body, "You are invited", 15) == 0);
	free(body);
	/* The HTML: escaped, the link a link. */
	body = test_part_body(msg, "Content-Type: text/html");
	assert_non_null(strstr(body, "<a href=\"https://meet.example.org/j/"
	    "42?pwd=a&amp;b=1\">https://meet.example.org/j/42?pwd=a&amp;b=1"
	    "</a>"));
	free(body);
	free(msg);
	test_msg_free(&t);

	/* Russian: genitive months, plural forms, base64 text. */
	test_msg_init(&t, MAIL_REMINDER, "ru");
	t.m.duration = 125;
	t.m.remind_before = 2 * 86400;
	t.m.description = "<script>alert(1)</script>\r\nвторая строка";
	test_msg_ical(&t);
	msg = test_render_ok(&t, &len);
	body = test_part_body(msg, "Content-Type: text/plain");
	/* Undo the 76-column lines, then decode. */
	text = malloc(strlen(body) + 1);
	assert_non_null(text);
	for (p = body, o = 0; *p != '\0'; p++) {
		if (*p != '\r' && *p != '\n')
			text[o++] = *p;
	}
	text[o] = '\0';
	n = test_unb64(text, o, dec, sizeof dec - 1);
	assert_true(n > 0);
	dec[n] = '\0';
	assert_non_null(strstr((char *)dec, "Когда: вторник, 1 декабря 2026 "
	    "г., 15:00–17:05 MSK (Europe/Moscow)\r\n"));
	assert_non_null(strstr((char *)dec, "Продолжительность: 2 часа "
	    "5 минут\r\n"));
	assert_non_null(strstr((char *)dec, "До начала: 2 дня\r\n"));
	assert_non_null(strstr((char *)dec, "Здравствуйте, Петров, Иван: "
	    "учитель!"));
	assert_non_null(strstr((char *)dec, "(семинар)"));
	assert_non_null(strstr((char *)dec, "<script>alert(1)</script>\r\n"
	    "вторая строка\r\n"));
	free(text);
	free(body);
	free(msg);
	test_msg_free(&t);

	/* The waiting list and an unknown kind. */
	test_msg_init(&t, MAIL_WAITLIST, "en");
	t.m.session_kind = "karaoke";
	t.m.title = "Geometry";
	t.m.location = "School 5";
	t.m.course = NULL;
	t.m.to_name = "Anna";
	t.m.from_name = "Anna";
	test_msg_ical(&t);
	msg = test_render_ok(&t, &len);
	assert_non_null(strstr(msg, "You are on the waiting list "
	    "(position 3)."));
	assert_non_null(strstr(msg, "This event is full."));
	assert_non_null(strstr(msg, "Subject: Waiting list: Geometry - "
	    "1 December 2026, 15:00 MSK\r\n"));
	free(msg);
	test_msg_free(&t);
}

/* Unknown or regional languages fall back. */
static void
test_render_lang(void **state)
{
	static const struct {
		const char	*lang;
		const char	*want;
	} cases[] = {
		{ "ru", "Изменение" }, { "ru-ua", "Изменение" },
		{ "pt-br", "Updated" }, { NULL, "Updated" }, { "", "Updated" },
		{ "../../etc", "Updated" },
	};
	struct test_msg	 t;
	char		*msg, *subj;
	size_t		 len, i;

	(void)state;
	for (i = 0; i < MAIL_N(cases); i++) {
		test_msg_init(&t, MAIL_UPDATE, cases[i].lang);
		test_msg_ical(&t);
		msg = test_render_ok(&t, &len);
		subj = strstr(msg, "\r\nSubject:");
		assert_non_null(subj);
		if (strcmp(cases[i].want, "Updated") == 0)
			assert_non_null(strstr(msg, "Subject: =?UTF-8?B?"
			    "VXBkYXRlZDog"));	/* "Updated: " */
		else
			assert_non_null(strstr(msg, "Subject: =?UTF-8?B?"
			    "0JjQt9C80LXQvdC10L3QuNC1"));	/* "Изменение" */
		free(msg);
		test_msg_free(&t);
	}
}

/* Headers: encoded-words, quoting, folding. */
static void
test_headers(void **state)
{
	struct buf	 b = { 0 };
	char		 longs[8192];
	size_t		 i;
	const char	*line, *e;

	(void)state;
	/* 4-byte characters across many words; no word splits one. */
	for (i = 0, longs[0] = '\0'; i < 300; i++)
		memcpy(longs + strlen(longs), i % 3 ? "🎓" : "ж",
		    strlen(i % 3 ? "🎓" : "ж") + 1);
	mail_hdr_text(&b, "Subject", longs);
	assert_non_null(buf_get(&b));
	test_encoded_words(b.s, b.len);
	for (line = b.s; (e = strstr(line, "\r\n")) != NULL; line = e + 2)
		assert_true(e - line <= MAIL_FOLD);
	buf_free(&b);

	/* Plain ASCII stays plain; specials are quoted with escapes. */
	mail_hdr_addr(&b, "To", "Anna Smith", "a@b.example");
	assert_string_equal(buf_get(&b), "To: Anna Smith <a@b.example>"
	    "\r\n");
	buf_free(&b);
	mail_hdr_addr(&b, "To", "Smith, \"JJ\" \\ x", "a@b.example");
	assert_string_equal(buf_get(&b), "To: \"Smith, \\\"JJ\\\" \\\\ "
	    "x\" <a@b.example>\r\n");
	buf_free(&b);
	/* Anything that looks like an encoded-word is encoded itself. */
	mail_hdr_addr(&b, "To", "=?UTF-8?B?QmNjOg==?=", "a@b.example");
	assert_string_equal(buf_get(&b), "To: =?UTF-8?B?PT9VVEYtOD9CP1F"
	    "tTmpPZz09Pz0=?= <a@b.example>\r\n");
	buf_free(&b);
	mail_hdr_text(&b, "Subject", "a ?= b");
	assert_string_equal(buf_get(&b), "Subject: =?UTF-8?B?YSA/PSBi?="
	    "\r\n");
	buf_free(&b);

	/* The lint, NUL included. */
#define TEST_L(s) (s), sizeof (s) - 1
	assert_int_equal(mail_lint(TEST_L("A: b\r\n\r\nx\r\n")), 0);
	assert_int_equal(mail_lint(TEST_L("A: b\r\n\r\nx\n")), -1);
	assert_int_equal(mail_lint(TEST_L("A: b\r\n\r\nx\r\r\n")), -1);
	assert_int_equal(mail_lint(TEST_L("A: b\r\n\r\nx\0y\r\n")), -1);
	assert_int_equal(mail_lint(TEST_L("A: b\0\r\n\r\nx\r\n")), -1);
	assert_int_equal(mail_lint(TEST_L("A: \xd0\x96\r\n\r\nx\r\n")),
	    -1);
	assert_int_equal(mail_lint(TEST_L("A: b\r\nx\r\n")), -1);
	memset(longs, 'x', sizeof longs);
	memcpy(longs, "A: b\r\n\r\n", 8);
	memcpy(longs + 8 + 998, "\r\n", 2);
	assert_int_equal(mail_lint(longs, 8 + 998 + 2), 0);
	memcpy(longs + 8 + 999, "\r\n", 2);
	assert_int_equal(mail_lint(longs, 8 + 999 + 2), -1);
}

/* A boundary never occurs in the content. */
static void
test_boundary(void **state)
{
	struct mail_part parts[2];
	const char	*hex = "0123456789abcdef0123456789abcdef";
	char		 b1[64], b2[64];
	unsigned	 counter = 0;

	(void)state;
	memset(parts, 0, sizeof parts);
	buf_str(&parts[0].enc, "x\r\n--=_lectern_0123456789abcdef_000"
	    "\r\n");
	buf_str(&parts[1].enc, "=_lectern_0123456789abcdef_001");
	assert_int_equal(mail_boundary(hex, &counter, parts, 2, b1,
	    sizeof b1), 0);
	assert_string_equal(b1, "=_lectern_0123456789abcdef_002");
	assert_int_equal(mail_boundary(hex, &counter, parts, 2, b2,
	    sizeof b2), 0);
	assert_string_equal(b2, "=_lectern_0123456789abcdef_003");
	buf_free(&parts[0].enc);
	buf_free(&parts[1].enc);
}

/* Message-IDs are fresh for every rendering, on the domain. */
static void
test_message_id(void **state)
{
	struct test_msg	 t;
	char		 err[256], *a, *b, *ida, *idb;
	size_t		 len, i;

	(void)state;
	test_msg_init(&t, MAIL_INVITE, "en");
	test_msg_ical(&t);
	a = mail_render(&t.m, &len, &ida, err, sizeof err);
	b = mail_render(&t.m, &len, &idb, err, sizeof err);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_not_equal(ida, idb);
	assert_int_equal(strlen(ida), 32 + 1 + strlen("lectern.example"));
	for (i = 0; i < 32; i++)
		assert_non_null(strchr("0123456789abcdef", ida[i]));
	assert_string_equal(ida + 32, "@lectern.example");
	free(a);
	free(b);
	free(ida);
	free(idb);
	test_msg_free(&t);
}

/* ---- prepared messages ---- */

#define TEST_PH		"attendee@lectern.invalid"

/* A copy of msg with its Message-ID's hex (so the boundaries) blotted. */
static char *
test_blot(const char *msg, size_t len, const char *id)
{
	char	*s, *p;

	s = mail_strndup(msg, len);
	assert_non_null(s);
	assert_true(strlen(id) > 32);
	for (p = s; (p = strstr(p, id)) != NULL; p += 32)
		memset(p, 'X', 32);
	for (p = s; (p = memmem(p, strlen(p), id, 16)) != NULL; p += 16)
		memset(p, 'Y', 16);
	return s;
}

/* The prepared message for t's session, kind and language. */
static struct mail_prep *
test_prep(const struct test_msg *t)
{
	struct test_msg		 ph = *t;
	struct mail_prep	*p;
	char			 err[512] = "";

	ph.ical = NULL;
	ph.m.to_name = "";
	ph.m.to_addr = TEST_PH;
	test_msg_ical(&ph);
	p = mail_prep_new(&ph.m, err, sizeof err);
	if (p == NULL)
		fail_msg("mail_prep_new: %s", err);
	test_msg_free(&ph);
	return p;
}

/*
 * t's message rendered by p and by mail_render: the same octets but for
 * the fresh Message-ID. Returns p's (the caller frees).
 */
static char *
test_prep_cmp(struct mail_prep *p, const struct test_msg *t, size_t *lenp)
{
	char	 err[512] = "", *a, *b, *ida = NULL, *idb = NULL, *ba, *bb;
	size_t	 alen, blen;

	a = mail_render(&t->m, &alen, &ida, err, sizeof err);
	if (a == NULL)
		fail_msg("mail_render: %s", err);
	b = mail_prep_render(p, t->m.to_name, t->m.to_addr, t->m.ical, &blen,
	    &idb, err, sizeof err);
	if (b == NULL)
		fail_msg("mail_prep_render: %s", err);
	assert_string_not_equal(ida, idb);
	assert_int_equal(alen, blen);
	/* By the fast path: the calendar fits the prepared one. */
	assert_false(p->whole);
	if (p->method != NULL)
		assert_int_equal(mail_prep_attendee(p, t->m.ical +
		    p->head.len, strlen(t->m.ical) - p->head.len -
		    p->tail.len, t->m.to_addr), 0);
	ba = test_blot(a, alen, ida);
	bb = test_blot(b, blen, idb);
	assert_string_equal(ba, bb);
	test_structure(b, blen, &t->m);
	free(ba);
	free(bb);
	free(a);
	free(ida);
	free(idb);
	*lenp = blen;
	return b;
}

/*
 * One prepared message per kind and language, many recipients: names
 * with non-ASCII text, quotes, HTML specials, the join URL, a boundary's
 * prefix, an encoded-word look-alike, a long one; with and without a
 * calendar. Each the same as mail_render's, by the fast path.
 */
static void
test_prep_matrix(void **state)
{
	static const char *const langs[] = { "en", "ru" };
	static const char *const addrs[] = {
		"ivan.petrov@school5.example", "a@b.example",
	};
	char		 longname[1024], *msg;
	const char	*names[12], *text[4];
	struct test_msg	 t;
	struct mail_prep *p;
	size_t		 li, k, ni, ai, i, len;

	(void)state;
	for (i = 0, longname[0] = '\0'; i < 120; i++)
		memcpy(longname + strlen(longname), i % 2 ? "ё" : "Ж ",
		    strlen(i % 2 ? "ё" : "Ж ") + 1);
	i = 0;
	names[i++] = "";
	names[i++] = "Anna Smith";
	names[i++] = "Петров, Иван: учитель";
	names[i++] = "O'Brien, \"Pat\" \\ J.";
	names[i++] = "<b>Bold</b> & \"Co\"";
	names[i++] = "see https://meet.example.org/j/42?pwd=a&b=1 here";
	names[i++] = "=_lectern_0123456789abcdef_000";
	names[i++] = "=?UTF-8?B?QmNjOg==?=";
	names[i++] = "ATTENDEE:mailto:evil@x.example";
	names[i++] = longname;
	names[i++] = "Анна";
	names[i] = NULL;
	for (li = 0; li < 2; li++) {
		for (k = 0; k < TEST_SESSION_KINDS; k++) {
			test_msg_init(&t, (enum mail_kind)k, langs[li]);
			p = test_prep(&t);
			assert_false(p->whole);
			for (ni = 0; names[ni] != NULL; ni++) {
				for (ai = 0; ai < 2; ai++) {
					t.m.to_name = names[ni];
					t.m.to_addr = addrs[ai];
					test_msg_ical(&t);
					msg = test_prep_cmp(p, &t, &len);
					if (ni == 2 && ai == 0) {
						text[0] = t.m.title;
						text[1] = "15:00";
						text[2] = NULL;
						test_python(msg, len, &t.m, NULL,
						    text);
					}
					free(msg);
				}
			}
			mail_prep_free(p);
			test_msg_free(&t);
		}
	}
	mail_prep_free(NULL);
}

/* Two renderings, their blotted copies and their Message-IDs freed. */
static void
test_free_both(char *a, char *b, char *ba, char *bb, char *ida, char *idb)
{
	free(a);
	free(b);
	free(ba);
	free(bb);
	free(ida);
	free(idb);
}

/*
 * Two recipients of one prepared message: the same octets but for what
 * is theirs (To, the greeting, ATTENDEE; and the Message-ID). ASCII
 * values, so that every part is 7bit and can be compared as it is.
 */
static void
test_prep_two(void **state)
{
	struct test_msg	 t;
	struct mail_prep *p;
	char		*a, *b, *ida, *idb, *ba, *bb, *s, err[256];
	size_t		 alen, blen, i;
	static const char *const who[2][2] = {
		{ "Anna Smith", "anna@school1.example" },
		{ "Boris Bold", "bori@school2.example" },
	};

	(void)state;
	test_msg_init(&t, MAIL_INVITE, "en");
	t.m.from_name = "Methodists";
	t.m.title = "Algebra in grade 7";
	t.m.location = "Room 12";
	t.m.course = "Maths";
	p = test_prep(&t);
	t.m.to_name = who[0][0];
	t.m.to_addr = who[0][1];
	test_msg_ical(&t);
	a = mail_prep_render(p, who[0][0], who[0][1], t.m.ical, &alen, &ida,
	    err, sizeof err);
	assert_non_null(a);
	t.m.to_name = who[1][0];
	t.m.to_addr = who[1][1];
	test_msg_ical(&t);
	b = mail_prep_render(p, who[1][0], who[1][1], t.m.ical, &blen, &idb,
	    err, sizeof err);
	assert_non_null(b);
	assert_null(strstr(a, "base64"));
	assert_int_equal(alen, blen);
	ba = test_blot(a, alen, ida);
	bb = test_blot(b, blen, idb);
	assert_string_not_equal(ba, bb);
	/* Anna's with her name and address made Boris's: Boris's. */
	for (i = 0; i < 2; i++) {
		/* To, text, HTML, 2 x ATTENDEE; To, 2 x ATTENDEE. */
		assert_int_equal(test_count(ba, who[0][i]), i == 0 ? 5 : 3);
		for (s = ba; (s = strstr(s, who[0][i])) != NULL; s++)
			memcpy(s, who[1][i], strlen(who[1][i]));
	}
	assert_string_equal(ba, bb);
	test_free_both(a, b, ba, bb, ida, idb);
	mail_prep_free(p);
	test_msg_free(&t);
}

/*
 * Prepared messages of two languages and of two revisions, alive at the
 * same time and used in turns: each renders its own values, nothing of
 * another's.
 */
static void
test_prep_stale(void **state)
{
	struct test_msg	 t[4];
	struct mail_prep *p[4];
	char		*msg;
	size_t		 i, r, len;

	(void)state;
	for (i = 0; i < 4; i++) {
		/* 0, 1: revision 1 (en, ru); 2, 3: revision 2 (en, ru). */
		test_msg_init(&t[i], i < 2 ? MAIL_INVITE : MAIL_UPDATE,
		    i % 2 ? "ru" : "en");
		if (i >= 2) {
			t[i].m.title = "Revision two";
			t[i].m.description = "Another plan";
		}
		p[i] = test_prep(&t[i]);
	}
	for (r = 0; r < 3; r++) {
		for (i = 0; i < 4; i++) {
			t[i].m.to_name = r == 1 ? "" : r == 0 ?
			    "Петров, Иван" : "Anna \"A\" Smith";
			t[i].m.to_addr = r == 2 ? "anna@b.example" :
			    "ivan@school5.example";
			test_msg_ical(&t[i]);
			msg = test_prep_cmp(p[i], &t[i], &len);
			if (i % 2 == 0)
				assert_non_null(strstr(msg, i < 2 ?
				    "Subject: =?UTF-8?B?SW52aXRhdGlvbjog" :
				    "Subject: Updated: Revision two -"));
			free(msg);
		}
	}
	for (i = 0; i < 4; i++) {
		mail_prep_free(p[i]);
		test_msg_free(&t[i]);
	}
}

/* mail_render and mail_prep_render of t: both NULL with the same words. */
static void
test_prep_refused(struct mail_prep *p, const struct test_msg *t)
{
	char	 e1[512] = "", e2[512] = "", *id = NULL;
	size_t	 len;

	assert_null(mail_render(&t->m, &len, &id, e1, sizeof e1));
	assert_null(id);
	assert_null(mail_prep_render(p, t->m.to_name, t->m.to_addr,
	    t->m.ical, &len, &id, e2, sizeof e2));
	assert_null(id);
	assert_true(e1[0] != '\0');
	assert_string_equal(e1, e2);
}

/* Both ways for t, blotted; the same octets. */
static void
test_prep_same(struct mail_prep *p, const struct test_msg *t)
{
	char	 err[512] = "", *a, *b, *ida, *idb, *ba, *bb;
	size_t	 alen, blen;

	a = mail_render(&t->m, &alen, &ida, err, sizeof err);
	assert_non_null(a);
	b = mail_prep_render(p, t->m.to_name, t->m.to_addr, t->m.ical, &blen,
	    &idb, err, sizeof err);
	assert_non_null(b);
	ba = test_blot(a, alen, ida);
	bb = test_blot(b, blen, idb);
	assert_string_equal(ba, bb);
	test_free_both(a, b, ba, bb, ida, idb);
}

/*
 * What does not fit the prepared pieces goes through mail_render whole:
 * refused values (with its words), a calendar that is not the prepared
 * one, a subject that names the recipient.
 */
static void
test_prep_whole(void **state)
{
	struct test_msg	 t, other;
	struct mail_prep *p;
	char		 dir[1024], cmd[4096], path[1024], src[1024];
	char		*text, err[512];

	(void)state;
	test_msg_init(&t, MAIL_INVITE, "ru");
	p = test_prep(&t);
	test_msg_ical(&t);
	/* The recipient's values. */
	t.m.to_addr = "not an address";
	test_prep_refused(p, &t);
	t.m.to_addr = "ivan.petrov@school5.example";
	t.m.to_name = "Line\nbreak";
	test_prep_refused(p, &t);
	t.m.to_name = "Петров, Иван: учитель";
	/* No calendar; a calendar for someone else. */
	t.m.ical = NULL;
	test_prep_refused(p, &t);
	t.m.ical = t.ical;
	t.m.to_addr = "someone.else@school5.example";
	test_prep_refused(p, &t);
	t.m.to_addr = "ivan.petrov@school5.example";
	/* Another session's calendar: accepted by both, as it is. */
	other = t;
	other.ical = NULL;
	other.m.title = "Другой семинар";
	test_msg_ical(&other);
	t.m.ical = other.ical;
	test_prep_same(p, &t);
	t.m.ical = t.ical;
	test_msg_free(&other);
	/* Two ATTENDEE lines. */
	other = t;
	other.ical = NULL;
	test_msg_ical(&other);
	text = strstr(other.ical, "\r\nSEQUENCE:");
	assert_non_null(text);
	memcpy(text, "\r\nATTENDEE:", 11);
	t.m.ical = other.ical;
	test_prep_refused(p, &t);
	t.m.ical = t.ical;
	test_msg_free(&other);
	mail_prep_free(p);
	test_msg_free(&t);

	/* A subject with the name in it. */
	test_fmt(dir, sizeof dir, "%s/tplname", test_tmp);
	test_fmt(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s && cp -R "
	    "%s/config/templates/en %s/", dir, dir, test_top, dir);
	assert_int_equal(system(cmd), 0);
	test_fmt(path, sizeof path, "%s/en/invite.txt", dir);
	test_write(path, "Subject: {name}, you are invited: {title}\n"
	    "Hello {name},\n\nWhat: {title}\n", strlen("Subject: {name}, "
	    "you are invited: {title}\nHello {name},\n\nWhat: {title}\n"));
	assert_int_equal(mail_start(dir, "en", err, sizeof err), 0);
	test_msg_init(&t, MAIL_INVITE, "en");
	p = test_prep(&t);
	assert_true(p->whole);
	test_msg_ical(&t);
	test_prep_same(p, &t);
	t.m.to_name = "";
	test_msg_ical(&t);
	test_prep_same(p, &t);
	mail_prep_free(p);
	test_msg_free(&t);
	test_fmt(src, sizeof src, "%s/config/templates", test_top);
	assert_int_equal(mail_start(src, "en", err, sizeof err), 0);
}

/* Values that must be refused. */
static void
test_refuse(void **state)
{
	struct test_msg	 t;
	char		 err[512], *msg, *id;
	size_t		 len, i;
	enum { F_FROM, F_TO, F_FROMNAME, F_TONAME, F_DOMAIN, F_TITLE,
	    F_URL, F_TZ, F_METHOD, F_ICAL } f;
	static const struct {
		int		 field;
		const char	*value;
	} cases[] = {
		{ F_FROM, "a@b.example\r\nBcc: x@y.example" },
		{ F_FROM, "Name <a@b.example>" },
		{ F_TO, "ivan@school5.example\nBcc: x@y" },
		{ F_TO, "x@y, z@w.example" },
		{ F_TO, "" },
		{ F_TO, NULL },
		{ F_FROMNAME, "Org\r\nBcc: x@y.example" },
		{ F_TONAME, "Ivan\nBcc: x@y.example" },
		{ F_TONAME, "Ivan\rX" },
		{ F_TONAME, "Ivan\xe2\x80\xa8X" },		/* U+2028 */
		{ F_TONAME, "Ivan\xc2\x85X" },		/* NEL */
		{ F_TONAME, "Ivan\xd0" },			/* invalid UTF-8 */
		{ F_DOMAIN, "lectern.example>\r\nBcc: x" },
		{ F_DOMAIN, NULL },
		{ F_TITLE, "Title\r\nBcc: x@y.example" },
		{ F_TITLE, "Title\r\n.\r\n" },
		{ F_TITLE, "\n" },
		{ F_TITLE, "" },
		{ F_TITLE, NULL },
		{ F_TITLE, "a\xe2\x80\xa9" },		/* U+2029 */
		{ F_TITLE, "a\x1b[31m" },
		{ F_URL, "javascript:alert(1)" },
		{ F_URL, "https://x.example/\"><script>" },
		{ F_TZ, "Mars/Olympus" },
		{ F_TZ, NULL },
		{ F_METHOD, "CANCEL" },
		{ F_METHOD, NULL },
		{ F_ICAL, "BEGIN:VCALENDAR\nMETHOD:REQUEST\n" },
		{ F_ICAL, NULL },
	};

	(void)state;
	for (i = 0; i < MAIL_N(cases); i++) {
		test_msg_init(&t, MAIL_INVITE, "en");
		test_msg_ical(&t);
		f = cases[i].field;
		switch (f) {
		case F_FROM: t.m.from_addr = cases[i].value; break;
		case F_TO: t.m.to_addr = cases[i].value; break;
		case F_FROMNAME: t.m.from_name = cases[i].value; break;
		case F_TONAME: t.m.to_name = cases[i].value; break;
		case F_DOMAIN: t.m.domain = cases[i].value; break;
		case F_TITLE: t.m.title = cases[i].value; break;
		case F_URL: t.m.url = cases[i].value; break;
		case F_TZ: t.m.tz = cases[i].value; break;
		case F_METHOD: t.m.ical_method = cases[i].value; break;
		case F_ICAL: t.m.ical = cases[i].value; break;
		}
		err[0] = '\0';
		id = NULL;
		msg = mail_render(&t.m, &len, &id, err, sizeof err);
		if (msg != NULL)
			fail_msg("case %zu rendered", i);
		assert_null(id);
		assert_true(err[0] != '\0');
		assert_null(strchr(err, '\n'));
		test_msg_free(&t);
	}

	/* A calendar for somebody else, or two attendees. */
	test_msg_init(&t, MAIL_INVITE, "en");
	test_msg_ical(&t);
	t.m.to_addr = "someone.else@school5.example";
	assert_null(mail_render(&t.m, &len, &id, err, sizeof err));
	assert_non_null(strstr(err, "ATTENDEE"));
	test_msg_free(&t);
	/* A REQUEST calendar in a cancellation. */
	test_msg_init(&t, MAIL_INVITE, "en");
	test_msg_ical(&t);
	t.m.kind = MAIL_CANCEL;
	t.m.ical_method = "CANCEL";
	assert_null(mail_render(&t.m, &len, &id, err, sizeof err));
	assert_non_null(strstr(err, "METHOD"));
	test_msg_free(&t);
	/* An unknown kind of message. */
	test_msg_init(&t, MAIL_INVITE, "en");
	test_msg_ical(&t);
	t.m.kind = (enum mail_kind)42;
	assert_null(mail_render(&t.m, &len, &id, err, sizeof err));
	test_msg_free(&t);
}

/*
 * The injection corpus in every text field: either refused, or rendered
 * with the same headers, one sender and one recipient (mail_check.py
 * counts them) and the values intact.
 */
static void
test_injection(void **state)
{
	static char	 big[10001];
	const char	*corpus[16];
	struct test_msg	 t;
	char		 err[512], *msg, *id;
	size_t		 len, i, f, ncorpus = 0, rendered = 0, refused = 0;

	(void)state;
	memset(big, 'x', sizeof big - 1);
	corpus[ncorpus++] = "a\rb";
	corpus[ncorpus++] = "a\nb";
	corpus[ncorpus++] = "a\r\n.\r\nMAIL FROM:<x@y>";
	corpus[ncorpus++] = "x\r\nBcc: victim@evil.example";
	corpus[ncorpus++] = "Bcc: x@y.example";
	corpus[ncorpus++] = "=?UTF-8?B?QmNjOg==?=";
	corpus[ncorpus++] = "=?UTF-8?Q?a=0D=0ABcc:_x@y?=";
	corpus[ncorpus++] = "a\xe2\x80\xa8" "Bcc: x@y";
	corpus[ncorpus++] = "--=_lectern_";
	corpus[ncorpus++] = "<x@y.example>, z@w.example";
	corpus[ncorpus++] = "\"quoted\\\" name\\";
	corpus[ncorpus++] = big;
	corpus[ncorpus] = NULL;
	for (f = 0; f < 9; f++) {
		for (i = 0; i < ncorpus; i++) {
			test_msg_init(&t, f % 2 ? MAIL_CANCEL : MAIL_INVITE,
			    f % 3 ? "ru" : "en");
			/*
			 * The calendar from the harmless values: ical_render
			 * refuses some of the corpus itself, and mail.c must
			 * hold without its help.
			 */
			test_msg_ical(&t);
			switch (f) {
			case 0: t.m.title = corpus[i]; break;
			case 1: t.m.to_name = corpus[i]; break;
			case 2: t.m.from_name = corpus[i]; break;
			case 3: t.m.location = corpus[i]; break;
			case 4: t.m.course = corpus[i]; break;
			case 5: t.m.description = corpus[i]; break;
			case 6: t.m.reason = corpus[i]; break;
			case 7: t.m.to_addr = corpus[i]; break;
			default: t.m.url = corpus[i]; break;
			}
			err[0] = '\0';
			id = NULL;
			msg = mail_render(&t.m, &len, &id, err, sizeof err);
			if (msg == NULL) {
				assert_true(err[0] != '\0');
				refused++;
				test_msg_free(&t);
				continue;
			}
			rendered++;
			test_structure(msg, len, &t.m);
			test_python(msg, len, &t.m, NULL, NULL);
			free(msg);
			free(id);
			test_msg_free(&t);
		}
	}
	assert_true(rendered > 0);
	assert_true(refused > 0);
}

/* Template errors name the file and the line. */
static void
test_start_errors(void **state)
{
	static const char *const files[] = {
		"lang.conf", "invite.txt", "update.txt", "cancel.txt",
		"reminder.txt", "waitlist.txt",
	};
	static const struct {
		const char	*file;		/* replaced, or NULL: removed */
		const char	*content;
		const char	*want;		/* in the error */
	} cases[] = {
		{ "invite.txt", "Subject: Hi {title}\nWhen: {time}\n{titel}\n",
		    "en/invite.txt:3: unknown placeholder {titel}" },
		{ "update.txt", "Hi {title}\n", "en/update.txt:1: the first "
		    "line must be \"Subject: ...\"" },
		{ "cancel.txt", "Subject: x {description}\n",
		    "en/cancel.txt:1: {description} cannot" },
		{ "reminder.txt", "Subject: x\n{ title}\n",
		    "en/reminder.txt:2: column 1: malformed" },
		{ "waitlist.txt", "Subject: x\nok }\n",
		    "en/waitlist.txt:2: column 4: a lone '}'" },
		{ "invite.txt", "Subject: x\n\x01\n",
		    "en/invite.txt:2: control character" },
		{ "invite.txt", "Subject: x\n\xff\n", "en/invite.txt: not "
		    "UTF-8" },
		{ "invite.txt", "", "en/invite.txt:1: empty file" },
		{ "update.txt", NULL, "en/update.txt: No such file" },
		{ "lang.conf", NULL, "en/lang.conf: No such file" },
		{ "lang.conf", "months = a, b\n", "en/lang.conf:1: months: "
		    "needs 12" },
		{ "lang.conf", "colour = red\n", "en/lang.conf:1: unknown key "
		    "\"colour\"" },
		{ "lang.conf", "kind.karaoke = k\n", "en/lang.conf:1: unknown "
		    "key \"kind.karaoke\"" },
		{ "lang.conf", "# only\ndate = {weekday} {dya}\n",
		    "en/lang.conf:2: date: unknown placeholder {dya}" },
		{ "lang.conf", "minute = a\n", "en/lang.conf:1: minute: needs "
		    "2 plural forms" },
		{ "lang.conf", "months = a,b,c,d,e,f,g,h,i,j,k,l\n",
		    "en/lang.conf: missing key \"weekdays\"" },
	};
	char	 src[1024], dst[1024], dir[1024], err[1024], cmd[4096];
	char	*text;
	size_t	 i, j;

	(void)state;
	test_fmt(dir, sizeof dir, "%s/tpl", test_tmp);
	for (i = 0; i < MAIL_N(cases); i++) {
		test_fmt(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s/en",
		    dir, dir);
		assert_int_equal(system(cmd), 0);
		for (j = 0; j < MAIL_N(files); j++) {
			test_fmt(src, sizeof src, "%s/config/templates/en/%s",
			    test_top, files[j]);
			test_fmt(dst, sizeof dst, "%s/en/%s", dir, files[j]);
			if (strcmp(files[j], cases[i].file) == 0) {
				if (cases[i].content != NULL)
					test_write(dst, cases[i].content,
					    strlen(cases[i].content));
				continue;
			}
			text = mail_read(src, err, sizeof err);
			assert_non_null(text);
			test_write(dst, text, strlen(text));
			free(text);
		}
		err[0] = '\0';
		assert_int_equal(mail_start(dir, "en", err, sizeof err), -1);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
			    cases[i].want);
		/* The loaded templates are kept. */
		assert_non_null(mail_templates);
	}
	/* The default language must exist; other names are refused. */
	test_fmt(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s && cp -R "
	    "%s/config/templates/en %s/", dir, dir, test_top, dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(mail_start(dir, "ru", err, sizeof err), -1);
	assert_non_null(strstr(err, "\"ru\""));
	assert_int_equal(mail_start(dir, "en", err, sizeof err), 0);
	test_fmt(cmd, sizeof cmd, "mkdir %s/English", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(mail_start(dir, "en", err, sizeof err), -1);
	assert_non_null(strstr(err, "/English"));
	assert_int_equal(mail_start("/nonexistent/templates", "en", err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent/templates"));
	/* Back to the real ones. */
	test_fmt(src, sizeof src, "%s/config/templates", test_top);
	assert_int_equal(mail_start(src, "en", err, sizeof err), 0);
}

/* Without templates nothing renders. */
static void
test_not_started(void **state)
{
	struct mail_set	*saved = mail_templates;
	struct test_msg	 t;
	char		 err[256], *id;
	size_t		 len;

	(void)state;
	mail_templates = NULL;
	test_msg_init(&t, MAIL_REMINDER, "en");
	test_msg_ical(&t);
	assert_null(mail_render(&t.m, &len, &id, err, sizeof err));
	assert_non_null(strstr(err, "not loaded"));
	mail_templates = saved;
	test_msg_free(&t);
}

/*
 * A course's messages: its all-day entry (REQUEST/CANCEL with DATE
 * values) or its waitlist notice, the period in the language's words.
 */
static void
test_course_kinds(void **state)
{
	static const enum mail_kind kinds[] = { MAIL_COURSE_INVITE,
	    MAIL_COURSE_UPDATE, MAIL_COURSE_CANCEL, MAIL_COURSE_WAITLIST };
	static const char *const subj_en[] = { "Course: ", "Course updated: ",
	    "Course cancelled: ", "Waiting list: " };
	struct ical_allday	 ev;
	struct test_msg		 t;
	const char		*text[6];
	char			 subject[512], err[256], *msg, *cal;
	size_t			 k, len, i;

	(void)state;
	for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		test_msg_init(&t, kinds[k], "en");
		t.m.title = "Inclusive classroom";
		t.m.first_day = "2027-02-01";
		t.m.last_day = "2027-02-28";
		t.m.provider = "District office";
		t.m.hours = 36;
		t.m.reason = kinds[k] == MAIL_COURSE_CANCEL ? "no trainer" :
		    NULL;
		t.m.waitlist_position = kinds[k] == MAIL_COURSE_WAITLIST ? 4 :
		    0;
		cal = NULL;
		if (kinds[k] != MAIL_COURSE_WAITLIST) {
			memset(&ev, 0, sizeof ev);
			ev.method = kinds[k] == MAIL_COURSE_CANCEL ?
			    ICAL_CANCEL : ICAL_REQUEST;
			ev.uid = "c-course-1@lectern.example";
			ev.dtstamp = t.m.date;
			ev.first_day = t.m.first_day;
			ev.last_day = t.m.last_day;
			ev.summary = t.m.title;
			ev.organizer_name = t.m.from_name;
			ev.organizer_addr = t.m.from_addr;
			ev.attendee_name = t.m.to_name;
			ev.attendee_addr = t.m.to_addr;
			cal = ical_render_allday(&ev, err, sizeof err);
			if (cal == NULL)
				fail_msg("ical_render_allday: %s", err);
			assert_non_null(strstr(cal,
			    "DTSTART;VALUE=DATE:20270201\r\n"));
			/* DTEND is exclusive: the day after the last. */
			assert_non_null(strstr(cal,
			    "DTEND;VALUE=DATE:20270301\r\n"));
			assert_non_null(strstr(cal, "TRANSP:TRANSPARENT\r\n"));
			assert_null(strstr(cal, "VTIMEZONE"));
			t.m.ical = cal;
			t.m.ical_method = ev.method == ICAL_CANCEL ? "CANCEL" :
			    "REQUEST";
		}
		t.m.url = NULL;
		msg = test_render_ok(&t, &len);
		test_fmt(subject, sizeof subject, "%sInclusive classroom (1 "
		    "February 2027 - 28 February 2027)", subj_en[k]);
		i = 0;
		text[i++] = "Inclusive classroom";
		text[i++] = "28 February 2027";
		if (kinds[k] == MAIL_COURSE_CANCEL)
			text[i++] = "no trainer";
		else
			text[i++] = "District office";
		if (kinds[k] == MAIL_COURSE_WAITLIST)
			text[i++] = "position 4";
		text[i] = NULL;
		test_python(msg, len, &t.m, subject, text);
		free(msg);
		free(cal);
		t.m.ical = NULL;
		test_msg_free(&t);
	}
	/* A day that does not exist is refused, not rendered. */
	test_msg_init(&t, MAIL_COURSE_WAITLIST, "en");
	t.m.first_day = "2027-02-30";
	t.m.last_day = "2027-03-01";
	assert_null(mail_render(&t.m, &len, &cal, err, sizeof err));
	assert_non_null(strstr(err, "first_day"));
	test_msg_free(&t);
	memset(&ev, 0, sizeof ev);
	ev.method = ICAL_REQUEST;
	ev.uid = "c@x.example";
	ev.first_day = "2027-03-02";
	ev.last_day = "2027-03-01";
	ev.summary = "x";
	ev.organizer_addr = "a@x.example";
	ev.attendee_addr = "b@x.example";
	assert_null(ical_render_allday(&ev, err, sizeof err));
}

/*
 * Recertification: the notice (the person's language) and the digest,
 * no calendar part, every placeholder filled, hostile values refused.
 */
static void
test_recert_kinds(void **state)
{
	static const struct mail_digest_group groups[] = {
		{ "School No. 5", 267, 87, 325 },
		{ NULL, 7, 7, 1000 },
	};
	static const struct mail_digest_person late[] = {
		{ "Dmitry Overdue", "dmitry@school.example", "School No. 5",
		    "2026-05-01", 206 },
		{ "Олег Поздний", "oleg@school.example", NULL, "2026-10-01", 1 },
	};
	struct mail_digest	 d;
	struct test_msg		 t;
	const char		*text[8];
	char			 err[256], *msg, *id;
	size_t			 len;

	(void)state;
	test_msg_init(&t, MAIL_RECERT_NOTICE, "en");
	t.m.title = NULL;
	t.m.url = NULL;
	t.m.due = "2027-03-01";
	t.m.days_left = 50;
	t.m.last_title = "Assessment literacy";
	t.m.last_completed_on = "2024-02-29";
	msg = test_render_ok(&t, &len);
	assert_null(strstr(msg, "text/calendar"));
	text[0] = "1 March 2027";
	text[1] = "50 days";
	text[2] = "Assessment literacy";
	text[3] = "29 February 2024";
	text[4] = NULL;
	test_python(msg, len, &t.m, "Your recertification is due on 1 March "
	    "2027", text);
	free(msg);
	t.m.lang = "ru";
	msg = test_render_ok(&t, &len);
	text[0] = "1 марта 2027";
	text[1] = "50 дней";
	text[2] = NULL;
	test_python(msg, len, &t.m, NULL, text);
	free(msg);
	/* A title that would break a line, a date that does not exist. */
	t.m.last_title = "Course\r\nBcc: x@evil.example";
	assert_null(mail_render(&t.m, &len, &id, err, sizeof err));
	assert_non_null(strstr(err, "last_title"));
	t.m.last_title = "Course";
	t.m.due = "2027-02-29";
	assert_null(mail_render(&t.m, &len, &id, err, sizeof err));
	assert_non_null(strstr(err, "due"));
	test_msg_free(&t);

	memset(&d, 0, sizeof d);
	d.period = "2026-11";
	d.from = "2023-11-24";
	d.to = "2026-11-23";
	d.total = 274;
	d.trained = 94;
	d.permille = 343;
	d.hours = 31325;
	d.ok = 150;
	d.due_soon = 20;
	d.overdue = 24;
	d.never = 80;
	d.groups = groups;
	d.ngroups = 2;
	d.late = late;
	d.nlate = 2;
	d.more = 22;
	test_msg_init(&t, MAIL_RECERT_DIGEST, "en");
	t.m.title = NULL;
	t.m.url = NULL;
	t.m.to_name = "";
	t.m.digest = &d;
	msg = test_render_ok(&t, &len);
	text[0] = "School No. 5: 87 of 267 trained (32.5 %)";
	text[1] = "no organization: 7 of 7 trained (100 %)";
	text[2] = "Dmitry Overdue <dmitry@school.example>, School No. 5: due "
	    "1 May 2026, 206 days ago";
	text[3] = "Олег Поздний <oleg@school.example>, no organization: due "
	    "1 October 2026, 1 day ago";
	text[4] = "and 22 more";
	text[5] = "3132.5 hours";
	text[6] = "24 November 2023";
	text[7] = NULL;
	test_python(msg, len, &t.m, "Recertification digest 2026-11: 94 of "
	    "274 trained (34.3 %)", text);
	free(msg);
	/* Everyone named: the "... more" line goes. */
	d.more = 0;
	msg = test_render_ok(&t, &len);
	assert_null(strstr(msg, "more"));
	free(msg);
	/* A name with a line break, an address that is none. */
	d.late = (const struct mail_digest_person[]){ { "A\nB",
	    "a@school.example", NULL, "2026-05-01", 3 } };
	d.nlate = 1;
	assert_null(mail_render(&t.m, &len, &id, err, sizeof err));
	d.late = (const struct mail_digest_person[]){ { "A",
	    "a@school.example>, evil", NULL, "2026-05-01", 3 } };
	assert_null(mail_render(&t.m, &len, &id, err, sizeof err));
	assert_non_null(strstr(err, "email"));
	t.m.digest = NULL;
	assert_null(mail_render(&t.m, &len, &id, err, sizeof err));
	test_msg_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_matrix),
		cmocka_unit_test(test_render_text),
		cmocka_unit_test(test_render_lang),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_boundary),
		cmocka_unit_test(test_message_id),
		cmocka_unit_test(test_refuse),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_start_errors),
		cmocka_unit_test(test_not_started),
		cmocka_unit_test(test_prep_matrix),
		cmocka_unit_test(test_prep_two),
		cmocka_unit_test(test_prep_stale),
		cmocka_unit_test(test_prep_whole),
		cmocka_unit_test(test_course_kinds),
		cmocka_unit_test(test_recert_kinds),
	};

	return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
