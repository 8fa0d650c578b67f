/* Choosing the RDMA port a daemon sends and receives its MADs on: the
 * configured CA (else every CA umad lists), on it the configured port (else
 * any), preferring the first ACTIVE port over the first one present. */
#ifndef IAS_COMMON_UMADPORT_H
#define IAS_COMMON_UMADPORT_H

#include <stdint.h>
#include <infiniband/umad.h>

struct ias_umad_port {
	char ca[UMAD_CA_NAME_LEN];
	int port;		/* 1.. */
	uint16_t lid;		/* base LID when picked (0 before the SM assigns one) */
	uint64_t port_guid;	/* host order */
	uint64_t node_guid;	/* the CA's, host order */
};

/* ca: a CA name, or NULL / "" for all; port: a port number, or 0 for any.
 * 0, or -ENODEV when nothing matches. */
int ias_umad_pick_port(const char *ca, unsigned port, struct ias_umad_port *out);

#endif
