/* ias-analyzer daemon mode: the agent connection. Two connections to the
 * agent: an alert subscription (ias_alert_subscribe), used only as the
 * wake-up, and one client connection for the requests (az_call). A lost
 * agent is reconnected every reconnect_interval; every (re)connection
 * drains the alerts that are pending. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "common/log.h"
#include "analyzer/daemon-int.h"
#include "ctl/proto.h"
#include "verbs_ext/ias.h"

static int arm_retry(void);

/* Send one request on the client connection. 0 with *status and *attrs of
 * the reply, or a negative errno (the connection is then dropped). */
int az_call(struct ias_ctl_msg *m, int *status, struct ias_rd *attrs)
{
	struct ias_ctl_hdr h;
	size_t len;
	int r;

	if (!azd.cl)
		return -ENOTCONN;
	r = ias_client_call(azd.cl, m, azd.buf, IAS_CTL_MAX_MSG, &len);
	if (r) {
		char why[96];

		snprintf(why, sizeof(why), "request failed: %s", strerror(-r));
		az_disconnect(why);
		return r;
	}
	ias_ctl_parse_hdr(azd.buf, len, &h, attrs);
	*status = h.status;
	return 0;
}

/* Reply MESSAGE, or the status's fixed text. */
const char *az_reply_message(struct ias_rd *attrs, int status, char *buf, size_t len)
{
	struct ias_ctl_attr a;
	struct ias_rd r = *attrs;

	while (ias_ctl_next(&r, &a) == 1)
		if (a.type == IAS_CTL_A_MESSAGE && ias_ctl_get_str(&a, buf, len) == 0)
			return buf;
	return ias_ctl_strerror(status);
}

static int on_alert(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct ias_alert al;
	int r = ias_alert_read(fd, &al);

	if (r <= 0) {
		az_disconnect(r == 0 ? "the agent closed the alert connection" : strerror(-r));
		return 0;
	}
	log_debug("AttackAlert: PID %d, incident %s, origin %s", (int)al.pid, al.incident,
		  al.origin);
	az_drain();
	return 0;
}

static int try_connect(void)
{
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	int r, fd;

	r = ias_client_open(azd.cfg.control_socket, &azd.cl);
	if (r)
		return r;
	if (getsockopt(ias_client_fd(azd.cl), SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0)
		azd.agent_pid = cr.pid;
	fd = ias_alert_subscribe();
	if (fd < 0) {
		ias_client_close(azd.cl);
		azd.cl = NULL;
		return fd;
	}
	r = sd_event_add_io(azd.ev, &azd.alert_src, fd, EPOLLIN, on_alert, NULL);
	if (r < 0) {
		close(fd);
		ias_client_close(azd.cl);
		azd.cl = NULL;
		return r;
	}
	azd.alert_fd = fd;
	return 0;
}

void az_set_status(void)
{
	char st[200];

	if (azd.cl)
		snprintf(st, sizeof(st), "STATUS=connected to agent PID %d at %s",
			 (int)azd.agent_pid, azd.cfg.control_socket);
	else
		snprintf(st, sizeof(st), "STATUS=waiting for the agent at %s",
			 azd.cfg.control_socket);
	sd_notify(0, st);
}

int az_on_retry(sd_event_source *src, uint64_t usec, void *arg)
{
	int r = try_connect();

	if (r) {
		if (!azd.warned_down)
			log_warn("agent not reachable at %s: %s; retrying every %llu ms",
				 azd.cfg.control_socket, ias_strerror(r),
				 (unsigned long long)azd.cfg.reconnect_interval);
		azd.warned_down = true;
		az_set_status();
		return arm_retry();
	}
	azd.warned_down = false;
	az_set_status();
	log_notice("connected to the agent (PID %d) at %s; subscribed to alerts",
		   (int)azd.agent_pid, azd.cfg.control_socket);
	az_drain();
	if (azd.npend)
		az_arm_release_timer();
	return 0;
}

static int arm_retry(void)
{
	int r;

	if (!azd.retry_timer)
		return sd_event_add_time_relative(azd.ev, &azd.retry_timer, CLOCK_MONOTONIC,
						  azd.cfg.reconnect_interval * 1000, 0, az_on_retry,
						  NULL);
	r = sd_event_source_set_time_relative(azd.retry_timer, azd.cfg.reconnect_interval * 1000);
	return r < 0 ? r : sd_event_source_set_enabled(azd.retry_timer, SD_EVENT_ONESHOT);
}

void az_agent_close(void)
{
	azd.alert_src = sd_event_source_disable_unref(azd.alert_src);
	if (azd.alert_fd >= 0)
		close(azd.alert_fd);
	azd.alert_fd = -1;
	ias_client_close(azd.cl);
	azd.cl = NULL;
}

void az_disconnect(const char *why)
{
	if (!azd.cl && azd.alert_fd < 0)
		return;
	log_warn("lost the agent (%s); reconnecting", why);
	az_agent_close();
	az_set_status();
	arm_retry();
}
