/* The Security Manager's state, shared by its modules. One reactor
 * (sd-event) drives everything. */
#ifndef IAS_SEM_SEM_H
#define IAS_SEM_SEM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "common/config.h"
#include "common/keyfile.h"
#include "sem/semstore.h"
#include "sem/view.h"

struct sem_mad;
struct sem_ctl;

struct sem_config {
	char control_socket[108];
	char state_dir[256];
	char key_file[256];
	char node_name[64];
	char log_level[16];
	char control_group[64];
	char umad_ca[64];
	unsigned umad_port;
	char sm_guid[24];		/* "auto" or a GUID */
	bool simulated_fabric;
	uint64_t discovery_interval;	/* ms */
	uint64_t mad_timeout;		/* ms */
	unsigned max_misses;
	unsigned max_lid;
	uint64_t replay_window;		/* ms */
	uint64_t port_retry;		/* ms */
	unsigned max_clients;
	unsigned max_clients_per_user;	/* 0: no cap (root never has one) */
	unsigned reserved_clients;	/* for root and the control group */
	/* the initial fabric policy; one stored at run time wins */
	unsigned level;
	unsigned block_mode;
	bool dry_run;
	uint64_t block_duration;	/* ms */
	uint64_t block_duration_max;	/* ms */
	unsigned escalation;
	unsigned hop_limit;
	unsigned fanout_limit;
};

struct sem {
	sd_event *ev;
	struct sem_config cfg;
	struct semstore *store;
	struct sem_view view;
	struct sem_mad *mad;
	struct sem_ctl *ctl;
	int64_t started_ms;
	struct ias_key keys[IAS_KEYS_MAX];
	size_t nkeys;
	gid_t control_gid;
	uint64_t our_sm_guid;		/* 0: auto (the local port's GUID) */
	uint64_t local_port_guid;
	uint16_t sm_lid;		/* the master SM, from the local port */
	uint64_t sm_guid;		/* its port GUID, 0 unknown */
	uint64_t mads_rejected;
};

int64_t sem_now_ms(void);
/* Is our SM the master? Updates s->view.active and logs a change
 * (sem/role.c). */
void sem_update_role(struct sem *s);

#endif
