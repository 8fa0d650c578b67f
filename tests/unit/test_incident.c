/* The incident id codec (mad_defs/incident.c). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "mad_defs/incident.h"
#include "tests/unit/tap.h"

int main(void)
{
	char s[IAS_INCIDENT_STR_LEN], tiny[8];
	uint64_t id, max = ias_incident_make(0xffffff, IAS_INCIDENT_SEQ_MAX);
	static const char *const bad[] = {
		"", "I-", "I-0a1b2c-", "I-0a1b2c-0", "I-0a1b2c-017", "I-1-2", "I-0a1b2c-2x",
		"I-0A1B2C-2", "I- a1b2c-1", "I-+a1b2c-1", "I-0a1b2c--1", "I-0a1b2c-+1",
		"I-0a1b2c-1099511627776", "I-0a1b2c-99999999999999999999", "i-0a1b2c-1",
		"I-0a1b2c-1 ", " I-0a1b2c-1", "I-0a1b2cd-1", "0x10", "17",
	};
	size_t i;

	ok(ias_incident_tag("node-a") <= 0xffffff && ias_incident_tag("node-a") != ias_incident_tag("node-b"),
	   "node tags are 24-bit and tell nodes apart");
	ok(ias_incident_tag("") == (2166136261u & 0xffffff), "empty name: the FNV offset basis");
	ok(ias_incident_make(0x0a1b2c, 17) == ((0x0a1b2cull << 40) | 17), "tag << 40 | seq");
	ok(ias_incident_make(0x1000000, 1) == 0 && ias_incident_make(1, 0) == 0 &&
	   ias_incident_make(1, IAS_INCIDENT_SEQ_MAX + 1) == 0, "out-of-range parts make no id");
	ok(ias_incident_format((0x0a1b2cull << 40) | 17, s, sizeof(s)) == 0 &&
	   strcmp(s, "I-0a1b2c-17") == 0, "formatted: %s", s);
	ok(ias_incident_parse(s, &id) == 0 && id == ((0x0a1b2cull << 40) | 17), "parsed back");
	ok(ias_incident_format(max, s, sizeof(s)) == 0 && strcmp(s, "I-ffffff-1099511627775") == 0,
	   "the largest id: %s", s);
	ok(ias_incident_parse(s, &id) == 0 && id == max, "and back");
	ok(ias_incident_format(0x0a1b2cull << 40, s, sizeof(s)) == -EINVAL && !s[0],
	   "an id without a sequence number is not formatted");
	ok(ias_incident_format(max, tiny, sizeof(tiny)) < 0 && !tiny[0], "a short buffer is refused");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		id = 5;
		if (ias_incident_parse(bad[i], &id) != -EINVAL || id != 0)
			break;
	}
	ok(i == sizeof(bad) / sizeof(bad[0]), "%zu malformed ids refused (stopped at \"%s\")",
	   sizeof(bad) / sizeof(bad[0]), i < sizeof(bad) / sizeof(bad[0]) ? bad[i] : "");
	ok(ias_incident_parse(NULL, &id) < 0 && id == 0, "NULL refused");
	ok(ias_incident_parse_n("I-0a1b2c-17XYZ", 11, &id) == 0 && id == ((0x0a1b2cull << 40) | 17),
	   "parse_n reads only len bytes");
	ok(ias_incident_parse_n("I-0a1b2c-1\0", 11, &id) < 0, "an embedded NUL is refused");
	ok(ias_incident_parse("I-000000-1", &id) == 0 && id == 1, "tag 0 is a tag");
	ok(ias_incident_make(ias_incident_tag("n"), 3) >> 40 == ias_incident_tag("n"),
	   "the tag survives make");
	return tap_done();
}
