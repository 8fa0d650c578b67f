/* See incident.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mad_defs/incident.h"

uint32_t ias_incident_tag(const char *node_name)
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = node_name ? node_name : ""; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h & IAS_INCIDENT_TAG_MAX;
}

uint64_t ias_incident_make(uint32_t tag, uint64_t seq)
{
	if (tag > IAS_INCIDENT_TAG_MAX || seq == 0 || seq > IAS_INCIDENT_SEQ_MAX)
		return 0;
	return (uint64_t)tag << IAS_INCIDENT_SEQ_BITS | seq;
}

int ias_incident_format(uint64_t id, char *out, size_t outlen)
{
	uint64_t seq = id & IAS_INCIDENT_SEQ_MAX;
	int n;

	if (outlen)
		out[0] = '\0';
	if (seq == 0)
		return -EINVAL;
	n = snprintf(out, outlen, "I-%06x-%llu", (unsigned)(id >> IAS_INCIDENT_SEQ_BITS),
		     (unsigned long long)seq);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen)
			out[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int ias_incident_parse_n(const char *text, size_t len, uint64_t *id)
{
	uint64_t tag = 0, seq = 0;
	size_t i;

	*id = 0;
	if (!text || len < 2 + 6 + 1 + 1 || text[0] != 'I' || text[1] != '-' || text[8] != '-')
		return -EINVAL;
	for (i = 2; i < 8; i++) {
		int v = hexval(text[i]);

		if (v < 0)
			return -EINVAL;
		tag = tag << 4 | (uint64_t)v;
	}
	if (text[9] == '0')
		return -EINVAL;		/* no leading zero, and seq 0 is no id */
	for (i = 9; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -EINVAL;
		seq = seq * 10 + (uint64_t)(text[i] - '0');
		if (seq > IAS_INCIDENT_SEQ_MAX)
			return -EINVAL;
	}
	*id = ias_incident_make((uint32_t)tag, seq);
	return *id ? 0 : -EINVAL;
}

int ias_incident_parse(const char *text, uint64_t *id)
{
	if (!text) {
		*id = 0;
		return -EINVAL;
	}
	return ias_incident_parse_n(text, strlen(text), id);
}
