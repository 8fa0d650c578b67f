/* The agent's local control socket (AF_UNIX SOCK_SEQPACKET). Requests are
 * validated in the documented order (docs/control-protocol.md), authorised
 * from SO_PEERCRED/SO_PEERGROUPS, and dispatched from a fixed table. */
#ifndef IAS_SEMA_CTL_OPS_H
#define IAS_SEMA_CTL_OPS_H

#include <stdint.h>

#include "sema/sema.h"
#include "sema/store.h"

struct ctlsrv_client;

int ctl_server_start(struct sema *s, const char *path, int listen_fd, struct ctl_server **out);
void ctl_server_stop(struct ctl_server *c);
unsigned ctl_server_clients(const struct ctl_server *c);
/* The connection with this id (1, 2, ... in order of connection), or NULL.
 * The unit tests set a peer credential on it. */
struct ctlsrv_client *ctl_server_client(struct ctl_server *c, uint64_t id);
/* Push an ALERT event to every subscriber. A subscriber whose socket is full
 * misses the push; the alert stays queued for GetAttackPID. */
void ctl_broadcast_alert(struct ctl_server *c, const struct ias_alert_rec *a,
			 const char *node, const char *origin);
/* Send a QP_ORDER event (pause, cut, resume) to the libias connection that
 * registered the QP. 0, or -ENOENT when that connection is gone. */
int ctl_send_order(struct ctl_server *c, uint64_t client_id, uint32_t qpn,
		   const char *device, const char *action);

#endif
