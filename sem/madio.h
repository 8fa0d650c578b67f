/* The manager's MADs on its RDMA port, through libibumad.
 *
 * Two umad handles: one serves Report MADs from agents (an agent registered
 * for the SecMgt class, method Report only, so an agent on the same node
 * keeps Get/Set), one sends the manager's own requests: SA NodeRecord
 * queries to the master SM and SecMgt Get/Set to agents. Every SecMgt MAD
 * received is verified by mad_defs before anything looks at it. */
#ifndef IAS_SEM_MADIO_H
#define IAS_SEM_MADIO_H

#include <stddef.h>

#include "sem/sem.h"

int sem_mad_start(struct sem *s, struct sem_mad **out);
void sem_mad_stop(struct sem_mad *m);
void sem_mad_describe(const struct sem_mad *m, char *buf, size_t len);
/* Start a discovery round now (also runs every discovery_interval). */
void sem_mad_discover(struct sem_mad *m);

#endif
