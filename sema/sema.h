/* The SeMA agent's state, shared by its modules. One reactor (sd-event)
 * drives everything; no module blocks except on the local SQLite file. */
#ifndef IAS_SEMA_SEMA_H
#define IAS_SEMA_SEMA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "common/config.h"
#include "common/keyfile.h"
#include "mad_defs/policy.h"
#include "sema/qptable.h"

struct ias_store;
struct ctl_server;
struct mad_port;
struct sema_effects;
struct sema_blocked;
struct freeze_watch;
struct sema_roster;
struct sema_mirror;
struct kobsfeed;

/* sema_config.kernel_observation */
enum { SEMA_KOBS_AUTO = 0, SEMA_KOBS_OFF = 1 };

struct sema_config {
	char control_socket[108];
	char state_dir[256];
	char key_file[256];
	char node_name[64];
	char log_level[16];
	char control_group[64];
	char umad_ca[64];
	unsigned umad_port;
	bool simulated_fabric;
	uint64_t port_retry;		/* ms */
	uint64_t mad_timeout;		/* ms per try */
	unsigned mad_retries;
	unsigned gid_index;		/* source GID for GRH (RoCE) */
	unsigned manager_lid;		/* 0: learn it from Set(Policy) */
	char cgroup_root[256];		/* the cgroup v2 mount */
	char block_cgroup_parent[256];	/* "": EPROC_DEFAULT_PARENT; must be root's */
	bool rdma_cap;
	bool adopt_orphans;		/* orphan block cgroups: adopt, not undo */
	uint64_t report_retry;		/* ms */
	uint64_t kernel_scan_interval;	/* ms, 0: only on demand */
	uint64_t expiry_check_interval;	/* ms */
	uint64_t replay_window;		/* ms */
	uint64_t offence_window;	/* ms */
	unsigned max_clients;
	unsigned max_clients_per_user;	/* 0: no cap (root never has one) */
	unsigned reserved_clients;	/* for root and the control group */
	unsigned max_qps_per_client;	/* registrations per control connection */
	/* where QPs' remote ends are learned (issue 11) */
	unsigned kernel_observation;	/* SEMA_KOBS_AUTO / SEMA_KOBS_OFF */
	char kobs_pin_dir[256];		/* the pinned eBPF maps and links */
	struct ias_cfg_list peers;	/* agents to ask for mirror QPs besides the manager's list */
	uint64_t mirror_timeout;	/* ms: a mirror look-up's whole budget */
	unsigned mirror_fanout;		/* agents one mirror look-up asks at most */
	uint64_t psn_watch_grace;	/* ms: PSNs may move this long after a pause (psnwatch.h) */
	struct ias_cfg_list never_block_exe;
	struct ias_cfg_list never_block_user;
	struct ias_cfg_list never_block_unit;
	struct ias_cfg_list never_block_comm;
	/* the initial policy; a policy stored at run time wins */
	unsigned level;
	unsigned block_mode;
	bool dry_run;
	uint64_t block_duration;	/* ms, 0: no end */
	uint64_t block_duration_max;	/* ms */
	unsigned escalation;
	unsigned hop_limit;
	unsigned fanout_limit;
};

struct sema_stats {
	uint64_t blocks_total;
	uint64_t mads_rejected;
	uint64_t kernel_conflicts;
	uint64_t requests_rejected;
	uint64_t trace_unreachable;
	uint64_t traces_refused;	/* Set(Trace) not bound to a connection (trace.c) */
};

struct sema {
	sd_event *ev;
	struct sema_config cfg;
	struct ias_policy policy;
	struct ias_store *store;
	struct qptable qps;
	struct ctl_server *ctl;
	struct mad_port *mad;
	struct sema_stats stats;
	int64_t started_ms;
	struct ias_key keys[IAS_KEYS_MAX];
	size_t nkeys;
	gid_t control_gid;	/* group allowed privileged requests; (gid_t)-1 none */
	int kernel_rdma;	/* 1 if rdma netlink answered at the last scan */
	sd_event_source *expiry_timer;
	sd_event_source *scan_timer;
	sd_event_source *report_timer;
	uint16_t manager_lid;	/* 0: not known yet */
	int report_in_flight;
	int report_warned;
	/* The effects interface (sema/effects.h), wired by main.c. */
	const struct sema_effects *fx;
	/* Processes with an active block (PID + start time, the incidents
	 * they are part of): the engine's in-memory mirror of the store. */
	struct sema_blocked *blocked;
	/* 0 while the store commits; else the last commit failed and the
	 * agent is not ready (status and sd_notify say so). */
	int store_failed;
	/* The highest incident sequence number handed out in this run: a
	 * number used by a unit of work that was rolled back is never issued
	 * again. */
	uint64_t incident_seq_used;
	/* Freezes requested and not yet confirmed (sema/freeze.c). */
	struct freeze_watch *freezes;
	/* The store's instance id (block cgroup names carry it); 0: none. */
	uint64_t instance;
	/* Adopt orphaned block cgroups found at start instead of undoing them. */
	bool adopt_orphans;
	/* The agents to ask for mirror QPs (sema/roster.h) and the mirror
	 * look-ups in flight (sema/mirror.c). */
	struct sema_roster *roster;
	struct sema_mirror *mirror;
	/* Kernel observation (sema/kobsfeed.c): NULL before start. */
	struct kobsfeed *kobsfeed;
};

/* CLOCK_REALTIME in milliseconds / microseconds (all simulated nodes share
 * it, so event times from different agents on one host compare). */
int64_t sema_now_ms(void);
int64_t sema_now_us(void);

#endif
