/*
 * fuzz_request.c -- the request path: one line in, framing, JSON, dispatch
 * and validation against an in-memory database, as a coordinator (so that
 * write commands run too).  The reply must always be one JSON object line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lectern.h"
#include "config.h"
#include "commands.h"
#include "mail.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config fuzz_cfg;
static unsigned long fuzz_runs;

/* The server's clients count, which status reports. */
size_t server_clients(void);
size_t
server_clients(void)
{
	return 1;
}

static void
fuzz_open(void)
{
	char err[256];

	if (store_open(":memory:", err, sizeof err) != 0)
		abort();
	if (commands_start(&fuzz_cfg) != 0)
		abort();
}

static void
fuzz_init(void)
{
	memset(&fuzz_cfg, 0, sizeof fuzz_cfg);
	fuzz_cfg.timezone = strdup("Europe/Moscow");
	fuzz_cfg.lang = strdup("en");
	fuzz_cfg.domain = strdup("fuzz.example");
	fuzz_cfg.mail_from = strdup("Fuzz <fuzz@fuzz.example>");
	fuzz_cfg.mail_from_name = strdup("Fuzz");
	fuzz_cfg.mail_from_addr = strdup("fuzz@fuzz.example");
	fuzz_cfg.max_line = LECTERN_LINE_DEFAULT;
	fuzz_cfg.reminders[0] = 86400;
	fuzz_cfg.reminders[1] = 3600;
	fuzz_cfg.nreminders = 2;
	if (mail_start("config/templates", "en", NULL, 0) != 0)
		abort();
	fuzz_open();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct commands_peer peer = { .uid = 1000, .gid = 1000, .pid = 1,
	    .can_write = 1 };
	const char *p = (const char *)data, *nl;
	size_t outlen, len;
	char *reply;
	json_t *j;

	if (fuzz_runs++ == 0)
		fuzz_init();
	/* Keep the in-memory database from growing without bound. */
	if (fuzz_runs % 20000 == 0) {
		commands_stop();
		store_close();
		fuzz_open();
	}

	/* Like the server: split on '\n', one reply per line. */
	while (size > 0) {
		nl = memchr(p, '\n', size);
		len = nl != NULL ? (size_t)(nl - p) : size;
		reply = commands_execute(p, len, &peer, &outlen);
		if (reply == NULL || outlen == 0 || reply[outlen - 1] != '\n' ||
		    memchr(reply, '\n', outlen - 1) != NULL)
			abort();
		j = json_loadb(reply, outlen, 0, NULL);
		if (j == NULL || !json_is_object(j) ||
		    !json_is_boolean(json_object_get(j, "ok")))
			abort();
		json_decref(j);
		free(reply);
		if (nl == NULL)
			break;
		size -= len + 1;
		p = nl + 1;
	}
	return 0;
}
