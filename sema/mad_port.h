/* The agent's SecMgt MAD endpoint on an RDMA port, through libibumad.
 *
 * Two umad handles on the same port: one serves requests (agent registered
 * for Get/Set/Report of the SecMgt class), one sends the agent's own
 * requests and receives their responses (registered with no methods). When
 * no port exists yet (the driver loads after the agent at boot), the agent
 * keeps serving local requests and retries on a timer. */
#ifndef IAS_SEMA_MAD_PORT_H
#define IAS_SEMA_MAD_PORT_H

#include <stddef.h>

#include "sema/sema.h"

int mad_port_start(struct sema *s, struct mad_port **out);
void mad_port_stop(struct mad_port *p);
void mad_port_describe(const struct mad_port *p, char *buf, size_t len);
/* Peers known (reachable = 0) or answering (reachable = 1). */
unsigned mad_port_peers(const struct mad_port *p, int reachable);

#endif
