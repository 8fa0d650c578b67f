/* The agent's SecMgt MAD endpoint on an RDMA port, through libibumad.
 *
 * Two umad handles on the same port: one serves requests (agent registered
 * for Get/Set/Report of the SecMgt class), one sends the agent's own
 * requests and receives their responses (registered with no methods). When
 * no port exists yet (the driver loads after the agent at boot), the agent
 * keeps serving local requests and retries on a timer. The port itself is
 * common/umad.h's, shared with the manager. */
#ifndef IAS_SEMA_MAD_PORT_H
#define IAS_SEMA_MAD_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "sema/sema.h"

struct ias_secmgt_msg;

/* Where a request goes: a LID, plus a GID when the fabric needs a GRH
 * (RoCE: LID 0). */
struct mad_dest {
	uint16_t lid;
	int has_gid;
	uint8_t gid[16];
};

/* Called once per request: with the verified response, or with NULL when
 * every try timed out. */
/* "lid N", or "gid ADDR" when the destination is reached by GID. */
const char *mad_dest_str(const struct mad_dest *d, char *buf, size_t len);

typedef void (*mad_done_fn)(struct sema *s, void *ctx, const struct mad_dest *to,
			    const struct ias_secmgt_msg *resp);

/* Serve one authenticated request: fill resp->u (header already set up as
 * the response) and return the MAD status; on a non-zero status resp->u is
 * cleared before it is sent. */
typedef uint16_t (*mad_serve_fn)(void *ctx, const struct ias_secmgt_msg *req,
				 const struct mad_dest *from, struct ias_secmgt_msg *resp);

/* One entry of the table of requests the port serves: the attribute, the
 * method (0: any the port serves), the attribute of the response (0: the
 * request's), the function and its context. The port knows nothing of what
 * the handlers do: main.c fills the table in. */
struct mad_handler {
	uint16_t attr_id;
	uint8_t method;
	uint16_t resp_attr;
	mad_serve_fn serve;
	void *ctx;
};

/* Start serving the n handlers of table (kept by reference: it must outlive
 * the port). Requests for an attribute/method not in the table are answered
 * METHOD_ATTR_UNSUPP. */
int mad_port_start(struct sema *s, const struct mad_handler *table, size_t n,
		   struct mad_port **out);
/* Send an authenticated request (method, attribute and data taken from
 * req); retried every mad_timeout up to mad_retries more times. 0, or
 * -ENODEV when no port is attached, -errno otherwise (done is not called
 * then). */
int mad_port_request(struct mad_port *p, const struct mad_dest *to,
		     const struct ias_secmgt_msg *req, mad_done_fn done, void *ctx);
uint64_t mad_port_guid(const struct mad_port *p);
uint64_t mad_port_node_guid(const struct mad_port *p);
uint16_t mad_port_lid(struct mad_port *p);
/* The RDMA device the agent serves on, or NULL when none is attached. */
const char *mad_port_ca(const struct mad_port *p);
/* Requests still waiting for an answer. */
unsigned mad_port_pending(const struct mad_port *p);
void mad_port_stop(struct mad_port *p);
void mad_port_describe(struct mad_port *p, char *buf, size_t len);

#endif
