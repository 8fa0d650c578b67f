/* A tiny fake agent for client tests: a SOCK_SEQPACKET server on a path in
 * a temporary directory, answering with messages the test builds with the
 * codec. Requests are validated first (invalid ones get E_INVAL). */
#ifndef IAS_TESTS_FAKE_AGENT_H
#define IAS_TESTS_FAKE_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "ctl/proto.h"

/* Fill reply (already initialised as an ok reply to h) or re-initialise it
 * with an error status. fd lets the handler send events first. Return 0 to
 * send the reply, 1 to send it and then close the connection. */
typedef int (*fake_handler)(const struct ias_ctl_hdr *h, struct ias_rd *attrs,
			    struct ias_ctl_msg *reply, int fd, void *arg);

struct fake;
struct fake *fake_start(fake_handler fn, void *arg);
const char *fake_path(const struct fake *f);
/* The number of requests seen, and the last one's op and raw bytes. */
int fake_requests(struct fake *f, uint16_t *last_op, uint8_t *last, size_t cap, size_t *len);
/* Ops of every request seen, in order, as "OP,OP,..." (truncated to cap). */
void fake_ops(struct fake *f, char *out, size_t cap);
void fake_stop(struct fake *f);

/* Helper: value of the first attribute of a type in a request, as u32/str. */
int fake_attr_u32(const uint8_t *msg, size_t len, uint16_t type, uint32_t *v);
int fake_attr_str(const uint8_t *msg, size_t len, uint16_t type, char *out, size_t cap);

#endif
