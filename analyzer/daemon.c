/* ias-analyzer daemon mode: one sd-event reactor that turns the agent's
 * AttackAlerts into process-tree searches and reports the conspirators it
 * finds back to the agent.
 *
 * Two connections to the agent: an alert subscription (ias_alert_subscribe),
 * used only as the wake-up, and one client connection for GET_ATTACK_PID,
 * REPORT_ATTACK, BLOCKS_LIST and RELEASE. Every wake-up (and every
 * (re)connection) drains GET_ATTACK_PID, so alerts that arrived while the
 * analyzer was down or disconnected are handled too. A failure before
 * readiness (configuration) exits non-zero; afterwards only a signal stops
 * the daemon: a lost agent is reconnected.
 *
 * This file: the configuration, start-up, the reactor and shutdown. The
 * agent connection, the rounds and the reporting are in daemon_agent.c,
 * daemon_round.c and daemon_report.c (see daemon-int.h). */
#include "config.h"

#include <errno.h>
#include <selinux/selinux.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "common/config.h"
#include "common/daemon.h"
#include "common/log.h"
#include "analyzer/daemon.h"
#include "analyzer/daemon-int.h"
#include "analyzer/search.h"
#include "ctl/proto.h"

#define T struct az_config
static const struct ias_cfg_opt az_opts[] = {
	IAS_CFG_PATHNAME(T, control_socket, "/run/ias/sema.sock",
			 "the local agent's control socket"),
	IAS_CFG_STR(T, level, "sibling",
		    "search level: basic, sibling, lca, selinux, zone, or a comma list of the last four"),
	IAS_CFG_L(T, exclude_exe,
		  "/usr/sbin/sshd,/usr/sbin/opensm,/usr/sbin/sema,/usr/sbin/sem,"
		  "/usr/sbin/ias-analyzer,/usr/lib/systemd/systemd",
		  "programs whose processes are never reported (nor, as LCA, their children)"),
	IAS_CFG_STR(T, auto_release, "off",
		    "off, or a clean investigation window (e.g. 10m) after which the analyzer's own "
		    "blocks are released unless the incident was re-reported"),
	IAS_CFG_STR(T, log_level, "info", "err, warning, notice, info or debug"),
	IAS_CFG_MS(T, reconnect_interval, 100, 3600000, "2s",
		   "how often to retry the agent when it is not reachable"),
	IAS_CFG_MS(T, incident_memory, 60000, 31536000000ull, "1d",
		   "forget an incident after this long without alerts"),
};
#undef T

/* Parses auto_release: "off"/"no"/"0" or a duration. */
struct az_window {
	uint64_t auto_release;
};
#define T struct az_window
static const struct ias_cfg_opt az_window_opt[] = {
	IAS_CFG_MS(T, auto_release, 1000, 31536000000ull, NULL, NULL),
};
#undef T

struct az azd = { .alert_fd = -1 };

uint64_t az_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ias-analyzer daemon [OPTIONS]   (or: ias-analyzer --daemon [OPTIONS])\n"
		"Subscribes to the local agent's alerts, searches the process tree for the\n"
		"conspirators of alerted processes and reports them to the agent.\n\n"
		"  -c, --config FILE     configuration file (default %s/ias/ias.conf), section [analyzer]\n"
		"  -s, --set KEY=VALUE   override one configuration key (repeatable)\n"
		"  -f, --foreground      log to stderr (the daemon never forks)\n"
		"  -p, --print-config    print the effective configuration and exit\n"
		"  -h, --help            this help\n", IAS_SYSCONFDIR);
}

/* ---- start-up -------------------------------------------------------------- */

/* After the common loading (common/daemon.c). */
static int check_config(void)
{
	struct az_window w = { 0 };
	char err[512], lv[64];
	unsigned i;

	if (ias_level_parse(azd.cfg.level, &azd.levels)) {
		fprintf(stderr, "ias-analyzer: level: \"%s\" is not basic, sibling, lca, selinux, "
			"zone or a comma-separated list of the last four\n", azd.cfg.level);
		return -1;
	}
	/* Canonical spelling, so --print-config shows what is applied. */
	snprintf(azd.cfg.level, sizeof(azd.cfg.level), "%s",
		 ias_level_format(azd.levels, lv, sizeof(lv)));
	if (strcmp(azd.cfg.auto_release, "off") == 0 || strcmp(azd.cfg.auto_release, "no") == 0 ||
	    strcmp(azd.cfg.auto_release, "0") == 0) {
		azd.auto_release_ms = 0;
		snprintf(azd.cfg.auto_release, sizeof(azd.cfg.auto_release), "off");
	} else if (ias_cfg_set(az_window_opt, 1, &w, "auto_release", azd.cfg.auto_release, err,
			       sizeof(err))) {
		fprintf(stderr, "ias-analyzer: %s (or \"off\")\n", err);
		return -1;
	} else {
		azd.auto_release_ms = w.auto_release;
	}
	for (i = 0; i < azd.cfg.exclude_exe.n; i++)
		azd.exes[i] = azd.cfg.exclude_exe.item[i];
	return 0;
}

static int start(void)
{
	int r;

	if ((azd.levels & IAS_LEVEL_SELINUX) && is_selinux_enabled() <= 0) {
		log_err("refusing to start: level %s includes selinux, but SELinux is not "
			"enabled on this system", azd.cfg.level);
		return -1;
	}
	azd.buf = malloc(IAS_CTL_MAX_MSG);
	if (!azd.buf) {
		log_err("out of memory");
		return -1;
	}
	r = sd_event_default(&azd.ev);
	if (r < 0) {
		log_err("sd_event: %s", strerror(-r));
		return -1;
	}
	if (ias_daemon_signals(azd.ev) < 0) {
		log_err("cannot install signal handlers");
		return -1;
	}
	/* libias's alert subscription honours $IAS_SOCKET. */
	if (setenv(IAS_CTL_SOCKET_ENV, azd.cfg.control_socket, 1) < 0) {
		log_err("setenv: %s", strerror(errno));
		return -1;
	}
	/* First connection attempt right away (it drains pending alerts). */
	if (sd_event_add_time_relative(azd.ev, &azd.retry_timer, CLOCK_MONOTONIC, 0, 0,
				       az_on_retry, NULL) < 0) {
		log_err("cannot arm the connection timer");
		return -1;
	}
	sd_event_set_watchdog(azd.ev, 1);
	return 0;
}

static void stop(void)
{
	az_agent_close();
	azd.retry_timer = sd_event_source_disable_unref(azd.retry_timer);
	azd.release_timer = sd_event_source_disable_unref(azd.release_timer);
	sd_event_unref(azd.ev);
	az_incidents_free(&azd.incs);
	free(azd.pend);
	free(azd.buf);
}

int az_daemon_main(int argc, char **argv)
{
	static const struct ias_daemon d = {
		.name = "ias-analyzer",
		.arg_name = "ias-analyzer: daemon",
		.section = "analyzer",
		.usage = usage,
		.opts = az_opts,
		.nopts = IAS_CFG_NOPTS(az_opts),
		.cfg = &azd.cfg,
		.log_level = azd.cfg.log_level,
		.check = check_config,
	};
	int rc = ias_daemon_setup(&d, argc, argv);
	char lv[64];

	if (rc >= 0)
		return rc;
	rc = 1;
	ias_log_init("ias-analyzer", ias_log_level_parse(azd.cfg.log_level));
	if (start() == 0) {
		sd_notify(0, "READY=1");
		az_set_status();
		log_notice("ias-analyzer %s ready: level %s, agent socket %s, auto-release %s",
			   PACKAGE_VERSION, ias_level_format(azd.levels, lv, sizeof(lv)),
			   azd.cfg.control_socket, azd.cfg.auto_release);
		rc = sd_event_loop(azd.ev) < 0;
		sd_notify(0, "STOPPING=1");
		log_notice("stopping: %llu alert(s), %llu round(s), %llu reported, %llu refused, "
			   "%llu auto-released", (unsigned long long)azd.n_alerts,
			   (unsigned long long)azd.n_rounds, (unsigned long long)azd.n_reported,
			   (unsigned long long)azd.n_refused, (unsigned long long)azd.n_released);
	}
	stop();
	return rc;
}
