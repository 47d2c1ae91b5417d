/*
 * fuzz_tz.c -- time conversion: the first line is a zone name, the rest a
 * user's time.  A successful parse must round-trip: the normalized local
 * time, parsed again in the same zone, gives the same instant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char zone[64], input[128], local[64], err[256], utcbuf[64];
	const char *nl;
	size_t zl, il;
	int64_t t, t2, back;

	nl = memchr(data, '\n', size);
	if (nl == NULL)
		return 0;
	zl = (size_t)(nl - (const char *)data);
	il = size - zl - 1;
	if (zl >= sizeof zone || il >= sizeof input)
		return 0;
	memcpy(zone, data, zl);
	zone[zl] = '\0';
	memcpy(input, nl + 1, il);
	input[il] = '\0';
	if (strlen(zone) != zl || strlen(input) != il)
		return 0;
	if (tz_parse(input, zone, 1, "start", &t, local, sizeof local, err,
	    sizeof err) != 0)
		return 0;
	/* The instant seen in the zone is a wall time that maps back to it
	 * (the earlier instant of an overlap may differ: then it is earlier). */
	if (tz_parse(local, zone, 0, "start", &t2, NULL, 0, err, sizeof err) != 0)
		abort();
	if (t2 > t)
		abort();
	tz_format_utc(t, utcbuf, sizeof utcbuf);
	if (tz_parse_utc(utcbuf, &back) != 0 || back != t)
		abort();
	return 0;
}
