/* The manager's control socket: the agent's control protocol (ctlproto)
 * with the ops a manager serves: STATUS, FABRIC_STATUS, INCIDENTS_LIST,
 * INCIDENT_SHOW (fabric-wide, from the reports), POLICY_SHOW, POLICY_SET. */
#ifndef IAS_SEM_CTL_H
#define IAS_SEM_CTL_H

#include "sem/sem.h"

int sem_ctl_start(struct sem *s, const char *path, int listen_fd, struct sem_ctl **out);
void sem_ctl_stop(struct sem_ctl *c);

#endif
