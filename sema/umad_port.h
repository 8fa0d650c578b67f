/* The agent's SecMgt MAD endpoint on an RDMA port, through libibumad.
 *
 * Two umad handles on the same port: one serves requests (agent registered
 * for Get/Set/Report of the SecMgt class), one sends the agent's own
 * requests and receives their responses (registered with no methods). When
 * no port exists yet (the driver loads after the agent at boot), the agent
 * keeps serving local requests and retries on a timer. */
#ifndef IAS_SEMA_UMAD_PORT_H
#define IAS_SEMA_UMAD_PORT_H

#include <stddef.h>

#include "sema/sema.h"

int umad_port_start(struct sema *s, struct umad_port **out);
void umad_port_stop(struct umad_port *p);
void umad_port_describe(const struct umad_port *p, char *buf, size_t len);
/* Peers known (reachable = 0) or answering (reachable = 1). */
unsigned umad_port_peers(const struct umad_port *p, int reachable);

#endif
