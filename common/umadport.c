/* See umadport.h. */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/umadport.h"

#define MAX_CAS 8
#define PORT_ACTIVE 4

/* The port of ca to use: the first ACTIVE one, else the first present;
 * 0 when none matches want (0: any). */
static int pick_on_ca(const umad_ca_t *ca, unsigned want)
{
	int j, pick = 0;

	for (j = 1; j <= ca->numports && j < UMAD_CA_MAX_PORTS; j++) {
		if (!ca->ports[j])
			continue;
		if (want && (unsigned)j != want)
			continue;
		if (!pick)
			pick = j;
		if (ca->ports[j]->state == PORT_ACTIVE)
			return j;
	}
	return pick;
}

int ias_umad_pick_port(const char *ca_name, unsigned port, struct ias_umad_port *out)
{
	char cas[MAX_CAS][UMAD_CA_NAME_LEN];
	int n, i, pick;

	if (ca_name && ca_name[0]) {
		snprintf(cas[0], sizeof(cas[0]), "%s", ca_name);
		n = 1;
	} else {
		n = umad_get_cas_names(cas, MAX_CAS);
		if (n <= 0)
			return -ENODEV;
	}
	for (i = 0; i < n; i++) {
		umad_ca_t ca;

		if (umad_get_ca(cas[i], &ca) < 0)
			continue;
		pick = pick_on_ca(&ca, port);
		if (pick) {
			memset(out, 0, sizeof(*out));
			snprintf(out->ca, sizeof(out->ca), "%s", cas[i]);
			out->port = pick;
			out->lid = (uint16_t)ca.ports[pick]->base_lid;
			out->port_guid = be64toh(ca.ports[pick]->port_guid);
			out->node_guid = be64toh(ca.node_guid);
			umad_release_ca(&ca);
			return 0;
		}
		umad_release_ca(&ca);
	}
	return -ENODEV;
}
