/* ias-analyzer daemon mode: the state its files share (not installed).
 *   daemon.c         configuration, start-up, the reactor, shutdown
 *   daemon_agent.c   the agent connection and the alert subscription
 *   daemon_round.c   alerts into incidents, one search round per incident
 *   daemon_report.c  reporting what a round found, and auto-release */
#ifndef IAS_ANALYZER_DAEMON_INT_H
#define IAS_ANALYZER_DAEMON_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "common/config.h"
#include "analyzer/incidents.h"
#include "analyzer/search.h"
#include "ctl/proto.h"

#define REQ_CAP 4096
#define REASON_MAX 255
#define INCIDENTS_MAX 4096

struct az_config {
	char control_socket[108];
	char level[64];
	struct ias_cfg_list exclude_exe;
	char auto_release[32];
	char log_level[16];
	uint64_t reconnect_interval;
	uint64_t incident_memory;
};

struct pending_release {
	uint64_t block_id;
	pid_t pid;
	char incident[AZ_INCIDENT_ID_MAX + 1];
	uint64_t due_ms;
};

struct az {
	struct az_config cfg;
	unsigned levels;
	uint64_t auto_release_ms;
	const char *exes[IAS_CFG_LIST_MAX];
	sd_event *ev;
	sd_event_source *alert_src, *retry_timer, *release_timer;
	struct ias_client *cl;
	int alert_fd;
	pid_t agent_pid;
	bool warned_down;
	struct az_incidents incs;
	struct pending_release *pend;
	size_t npend, cappend;
	uint8_t *buf;
	uint64_t n_alerts, n_rounds, n_reported, n_refused, n_released;
};

/* The one daemon (defined in daemon.c). */
extern struct az azd;

/* daemon.c */
uint64_t az_now_ms(void);

/* daemon_agent.c */
/* Send one request on the client connection. 0 with *status and *attrs of
 * the reply, or a negative errno (the connection is then dropped). */
int az_call(struct ias_ctl_msg *m, int *status, struct ias_rd *attrs);
/* Reply MESSAGE, or the status's fixed text. */
const char *az_reply_message(struct ias_rd *attrs, int status, char *buf, size_t len);
/* The connection timer: connect, subscribe, drain what is pending. */
int az_on_retry(sd_event_source *src, uint64_t usec, void *arg);
/* The STATUS= line for the service manager. */
void az_set_status(void);
/* Drop both connections; az_disconnect also logs why and arms the retry. */
void az_agent_close(void);
void az_disconnect(const char *why);

/* daemon_round.c */
/* Take every pending alert, then run one round per incident with new seeds. */
void az_drain(void);

/* daemon_report.c */
/* Was pid blocked in incident by an analyzer (an earlier run of this one)? */
bool az_blocked_by_analyzer(pid_t pid, const char *incident);
/* Report one conspirator a round found, and schedule its auto-release. */
void az_report_found(struct az_incident *inc, const struct ias_conspirator *c);
/* The incident was re-reported: keep the analyzer's blocks in it. */
void az_pending_cancel(const char *incident);
/* (Re)arm the auto-release timer for the earliest pending release. */
void az_arm_release_timer(void);

#endif
