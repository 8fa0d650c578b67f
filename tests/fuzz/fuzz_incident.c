/* Fuzz harness for the incident id codec (mad_defs/incident.c): the manager's
 * control socket and the agents parse ids from outside input. Whatever the
 * input: no crash; a refused input leaves 0; an accepted one formats back to
 * exactly the input bytes and parses again to the same id. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mad_defs/incident.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[IAS_INCIDENT_STR_LEN];
	uint64_t id = 1, back = 0;

	if (ias_incident_parse_n((const char *)data, size, &id) < 0) {
		if (id != 0)
			abort();
		return 0;
	}
	if (id == 0 || ias_incident_format(id, text, sizeof(text)) != 0)
		abort();
	if (strlen(text) != size || memcmp(text, data, size) != 0)
		abort();
	if (ias_incident_parse(text, &back) != 0 || back != id)
		abort();
	return 0;
}
