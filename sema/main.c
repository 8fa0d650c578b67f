/* sema: the IAS Security Management Agent, one per node.
 *
 * Start-up order (reversed at exit): logging, configuration, key file,
 * store, policy, reactor and signals, control socket, blocks restored,
 * kernel QP scan, MAD port, readiness. A failure before readiness exits
 * non-zero with one line saying why; after it, nothing exits the agent but
 * a signal. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "common/daemon.h"
#include "common/log.h"
#include "mad_defs/policy.h"
#include "mad_defs/secmgt.h"
#include "sema/ctl_ops.h"
#include "sema/effects.h"
#include "sema/engine.h"
#include "sema/kobsfeed.h"
#include "sema/mad_port.h"
#include "sema/mad_serve.h"
#include "sema/mirror.h"
#include "sema/policy.h"
#include "sema/report.h"
#include "sema/roster.h"
#include "sema/store.h"
#include "sema/trace.h"

static const char *const kobs_mode_names[] = { "auto", "off", NULL };

#define T struct sema_config
static const struct ias_cfg_opt sema_opts[] = {
	IAS_CFG_PATHNAME(T, control_socket, "/run/ias/sema.sock",
			 "local control socket (AF_UNIX SOCK_SEQPACKET)"),
	IAS_CFG_PATHNAME(T, state_dir, "/var/lib/ias", "directory of the SQLite store"),
	IAS_CFG_PATHNAME(T, key_file, "/etc/ias/secmgt.keys",
			 "SecMgt MAD keys; owned by the agent's user (root), mode 0600"),
	IAS_CFG_STR(T, node_name, NULL, "name of this node in records (default: host name)"),
	IAS_CFG_STR(T, log_level, "info", "err, warning, notice, info or debug"),
	IAS_CFG_STR(T, control_group, "ias",
		    "group whose members may report, release and change policy (besides root)"),
	IAS_CFG_STR(T, umad_ca, NULL, "RDMA device for SecMgt MADs (default: the first)"),
	IAS_CFG_U(T, umad_port, 0, 254, "0", "port for SecMgt MADs (0: the first active one)"),
	IAS_CFG_B(T, simulated_fabric, "no",
		  "accept simulated QP registrations (ibsim test bed only)"),
	IAS_CFG_MS(T, port_retry, 100, 3600000, "5s", "how often to look for an RDMA port"),
	IAS_CFG_MS(T, mad_timeout, 10, 60000, "300ms", "wait for an answer to a SecMgt request"),
	IAS_CFG_U(T, mad_retries, 0, 20, "5", "SecMgt requests are sent again this many times"),
	IAS_CFG_U(T, gid_index, 0, 255, "0", "source GID index for MADs that need a GRH (RoCE)"),
	IAS_CFG_U(T, manager_lid, 0, 0xbfff, "0",
		  "LID of the manager (sem) for reports (0: the source of its Set(Policy))"),
	IAS_CFG_MS(T, report_retry, 100, 3600000, "5s",
		   "how often to offer queued reports to the manager again"),
	IAS_CFG_PATHNAME(T, cgroup_root, "/sys/fs/cgroup", "the cgroup v2 mount (freeze, rdma cap)"),
	IAS_CFG_STR(T, block_cgroup_parent, "ias.blocks",
		    "where frozen processes' cgroups are made, relative to cgroup_root; "
		    "must be root's all the way down (never a delegated subtree)"),
	IAS_CFG_MS(T, psn_watch_grace, 10, 60000, "200ms",
		   "after a per-QP pause, posted work may move the QPs' send PSNs this long; "
		   "a PSN that moves later escalates the block to a freeze"),
	IAS_CFG_B(T, rdma_cap, "yes", "a frozen process may also create no new RDMA objects"),
	IAS_CFG_B(T, adopt_orphans, "no",
		  "at start, adopt block cgroups left by a crash as recovered blocks "
		  "(default: undo them)"),
	IAS_CFG_MS(T, kernel_scan_interval, 0, 3600000, "10s",
		   "how often to re-read QP ownership from the kernel (0: only on demand)"),
	IAS_CFG_MS(T, expiry_check_interval, 100, 60000, "1s", "how often to expire blocks"),
	IAS_CFG_MS(T, replay_window, 1000, 600000, "30s",
		   "MAD timestamps further than this from our clock are refused"),
	IAS_CFG_MS(T, offence_window, 0, 31536000000ull, "30d",
		   "earlier blocks of the same program and user within this window escalate"),
	IAS_CFG_U(T, max_clients, 1, 4096, "256", "control socket connections at most"),
	IAS_CFG_U(T, max_clients_per_user, 0, 4096, "16",
		  "control socket connections one uid other than root may hold (0: no cap)"),
	IAS_CFG_U(T, reserved_clients, 0, 4096, "16",
		  "of max_clients, connections only root and the control group may take"),
	IAS_CFG_U(T, max_qps_per_client, 1, 1048576, "4096",
		  "QP registrations one control connection may hold"),
	IAS_CFG_E(T, kernel_observation, kobs_mode_names, "auto",
		  "auto: learn QPs' remote ends from the kernel with eBPF where it loads; "
		  "off: never load it"),
	IAS_CFG_PATHNAME(T, kobs_pin_dir, "/sys/fs/bpf/ias",
			 "where the eBPF programs and their records are pinned (bpf filesystem)"),
	IAS_CFG_L(T, peers, NULL,
		  "other agents to ask for a QP's mirror (lid:N or gid:ADDR), besides the "
		  "manager's agent list"),
	IAS_CFG_MS(T, mirror_timeout, 10, 60000, "1s",
		   "how long a mirror-QP look-up across agents may take"),
	IAS_CFG_U(T, mirror_fanout, 1, 1024, "64", "agents one mirror-QP look-up asks at most"),
	IAS_CFG_L(T, never_block_exe,
		  "/usr/sbin/sshd,/usr/sbin/opensm,/usr/sbin/sema,/usr/sbin/sem,/usr/sbin/ias-analyzer",
		  "executables never blocked"),
	IAS_CFG_L(T, never_block_user, NULL, "users never blocked"),
	IAS_CFG_L(T, never_block_unit,
		  "sshd.service,opensm.service,sema.service,sem.service,ias-analyzer.service,systemd-journald.service",
		  "systemd units never blocked"),
	IAS_CFG_L(T, never_block_comm, NULL, "command names (comm) never blocked"),
	IAS_CFG_E(T, level, ias_level_names, "basic",
		  "initial search level: basic, sibling, lca, selinux or zone"),
	IAS_CFG_E(T, block_mode, ias_mode_names, "freeze",
		  "initial block mode: freeze, kill, or (trusting the "
		  "suspect's libias to obey) pause or cut"),
	IAS_CFG_B(T, dry_run, "no", "initial dry-run: record what would be blocked, enforce nothing"),
	IAS_CFG_MS(T, block_duration, 0, IAS_POLICY_DURATION_MAX_MS, "1h",
		   "initial duration of a first block (0: until released)"),
	IAS_CFG_MS(T, block_duration_max, 0, IAS_POLICY_DURATION_MAX_MS, "7d",
		   "initial cap on escalated durations"),
	IAS_CFG_U(T, escalation, IAS_POLICY_ESCALATION_MIN, IAS_POLICY_ESCALATION_MAX, "2",
		  "duration factor for each repeat offence"),
	IAS_CFG_U(T, hop_limit, IAS_POLICY_HOP_MIN, IAS_POLICY_HOP_MAX, "16", "trace hops at most"),
	IAS_CFG_U(T, fanout_limit, IAS_POLICY_FANOUT_MIN, IAS_POLICY_FANOUT_MAX, "64",
		  "trace MADs one hop sends at most"),
};
#undef T

static struct sema g;
static bool release_orphans;	/* --release-orphans */

/* ---- the effects interface (sema/effects.h), wired to the modules above
 * the engine ------------------------------------------------------------- */

static int fx_send_order(void *ctx, uint64_t client_id, uint32_t qpn, const char *device,
			 const char *action)
{
	struct sema *s = ctx;

	return ctl_send_order(s->ctl, client_id, qpn, device, action);
}

static void fx_broadcast_alert(void *ctx, const struct ias_alert_rec *a, const char *node,
			       const char *origin)
{
	struct sema *s = ctx;

	ctl_broadcast_alert(s->ctl, a, node, origin);
}

static unsigned fx_send_traces(void *ctx, const char *incident, pid_t pid, uint8_t hop,
			       uint32_t except_qpn, unsigned flags)
{
	return trace_out(ctx, incident, pid, hop, except_qpn, flags);
}

static void fx_kick_outbox(void *ctx)
{
	report_kick(ctx);
}

static void fx_readiness(void *ctx, bool ready, const char *why)
{
	struct sema *s = ctx;

	if (ready)
		sd_notifyf(0, "READY=1\nSTATUS=node %s, control socket %s", s->cfg.node_name,
			   s->cfg.control_socket);
	else
		sd_notifyf(0, "STATUS=not ready: the store cannot commit (%s)", why ? why : "?");
}

/* ---- what the MAD port serves (sema/mad_serve.h) -------------------------- */

static const struct mad_handler mad_handlers[] = {
	{ IAS_ATTR_CLASS_PORT_INFO, IAS_METHOD_GET, 0, mad_serve_port_info, &g },
	{ IAS_ATTR_STATUS, IAS_METHOD_GET, 0, mad_serve_status, &g },
	{ IAS_ATTR_POLICY, 0, 0, mad_serve_policy, &g },
	{ IAS_ATTR_TRACE, IAS_METHOD_SET, IAS_ATTR_TRACE_RESULT, mad_serve_trace, &g },
	{ IAS_ATTR_REPORT, IAS_METHOD_GET, 0, mad_serve_report, &g },
	{ IAS_ATTR_MIRROR, IAS_METHOD_GET, 0, mad_serve_mirror, &g },
	{ IAS_ATTR_AGENT_LIST, IAS_METHOD_SET, 0, mad_serve_agent_list, &g },
};

static const struct sema_effects effects = {
	.ctx = &g,
	.send_order = fx_send_order,
	.broadcast_alert = fx_broadcast_alert,
	.send_traces = fx_send_traces,
	.kick_outbox = fx_kick_outbox,
	.readiness = fx_readiness,
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sema [OPTIONS]\n"
		"IAS Security Management Agent: blocks attacking processes' QPs and traces\n"
		"their conspirators across the fabric.\n\n"
		"  -c, --config FILE     configuration file (default %s/ias/ias.conf)\n"
		"  -s, --set KEY=VALUE   override one configuration key (repeatable)\n"
		"  -f, --foreground      log to stderr in the foreground (sema never forks)\n"
		"  -p, --print-config    print the effective configuration and exit\n"
		"  -h, --help            this help\n"
		"  -V, --version         print the version\n"
		"      --release-orphans thaw and remove block cgroups of another database\n"
		"                        instance (after the state directory was reset)\n",
		IAS_SYSCONFDIR);
}

static int rearm(sd_event_source *src, uint64_t ms)
{
	int r = sd_event_source_set_time_relative(src, ms * 1000);

	return r < 0 ? r : sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

static int on_expiry(sd_event_source *src, uint64_t usec, void *arg)
{
	struct sema *s = arg;

	engine_expire_due(s);
	return rearm(src, s->cfg.expiry_check_interval);
}

static int on_scan(sd_event_source *src, uint64_t usec, void *arg)
{
	struct sema *s = arg;

	engine_kernel_scan(s);
	return rearm(src, s->cfg.kernel_scan_interval);
}

/* After the common loading (common/daemon.c). */
static int check_config(void)
{
	if (!g.cfg.node_name[0] && gethostname(g.cfg.node_name, sizeof(g.cfg.node_name) - 1) < 0)
		snprintf(g.cfg.node_name, sizeof(g.cfg.node_name), "node");
	if (g.cfg.block_duration_max && g.cfg.block_duration > g.cfg.block_duration_max) {
		fprintf(stderr, "sema: block_duration exceeds block_duration_max\n");
		return -1;
	}
	return 0;
}

static int start(void)
{
	char err[512];
	struct group *gr;
	int r, nfds;

	if (ias_daemon_protect_secrets() < 0)
		return -1;
	if (roster_init(&g, err, sizeof(err)) < 0) {
		log_err("refusing to start: %s", err);
		return -1;
	}
	r = ias_keyfile_load(g.cfg.key_file, geteuid(), g.keys, IAS_KEYS_MAX, &g.nkeys,
			     err, sizeof(err));
	if (r) {
		log_err("refusing to start: %s", err);
		return -1;
	}
	r = ias_store_open(g.cfg.state_dir, &g.store, err, sizeof(err));
	if (r) {
		log_err("refusing to start: store: %s", err);
		return -1;
	}
	g.instance = ias_store_instance(g.store);
	policy_from_config(&g.cfg, &g.policy);
	r = policy_load(&g, &g.policy);
	if (r == -ENOENT)
		r = policy_save(&g, &g.policy);
	if (r) {
		log_err("refusing to start: stored policy: %s", strerror(-r));
		return -1;
	}
	gr = getgrnam(g.cfg.control_group);
	g.control_gid = gr ? gr->gr_gid : (gid_t)-1;
	if (!gr)
		log_warn("group %s does not exist: only root may report, release or set policy",
			 g.cfg.control_group);

	r = sd_event_default(&g.ev);
	if (r < 0) {
		log_err("sd_event: %s", strerror(-r));
		return -1;
	}
	r = ias_daemon_signals(g.ev);
	if (r < 0) {
		log_err("cannot install signal handlers");
		return -1;
	}

	nfds = sd_listen_fds(1);
	r = ctl_server_start(&g, g.cfg.control_socket, nfds == 1 ? SD_LISTEN_FDS_START : -1, &g.ctl);
	if (r) {
		log_err("control socket %s: %s", g.cfg.control_socket, strerror(-r));
		return -1;
	}
	kobsfeed_start(&g);
	engine_kernel_scan(&g);
	r = engine_restore(&g);
	if (r < 0) {
		log_err("restoring blocks: %s", ias_store_errmsg(g.store));
		return -1;
	}
	g.adopt_orphans = g.cfg.adopt_orphans;
	if (engine_recover(&g, release_orphans, err, sizeof(err)) < 0) {
		log_err("refusing to start: %s", err);
		return -1;
	}
	if (sd_event_add_time_relative(g.ev, &g.expiry_timer, CLOCK_MONOTONIC,
				       g.cfg.expiry_check_interval * 1000, 0, on_expiry, &g) < 0)
		return -1;
	if (g.cfg.kernel_scan_interval &&
	    sd_event_add_time_relative(g.ev, &g.scan_timer, CLOCK_MONOTONIC,
				       g.cfg.kernel_scan_interval * 1000, 0, on_scan, &g) < 0)
		return -1;
	if (report_start(&g) < 0)
		return -1;
	r = mad_port_start(&g, mad_handlers, sizeof(mad_handlers) / sizeof(mad_handlers[0]), &g.mad);
	if (r) {
		log_err("MAD port: %s", strerror(-r));
		return -1;
	}
	sd_event_set_watchdog(g.ev, 1);
	return 0;
}

static void stop(void)
{
	report_stop(&g);
	mad_port_stop(g.mad);
	mirror_stop(&g);
	roster_free(&g);
	sd_event_source_disable_unref(g.scan_timer);
	sd_event_source_disable_unref(g.expiry_timer);
	ctl_server_stop(g.ctl);
	kobsfeed_stop(&g);
	engine_free(&g);
	sd_event_unref(g.ev);
	ias_store_close(g.store);
	qpt_free(&g.qps);
	ias_keys_wipe(g.keys, g.nkeys);
}

int main(int argc, char **argv)
{
	static const struct ias_daemon d = {
		.name = "sema",
		.section = "sema",
		.version = PACKAGE_VERSION,
		.usage = usage,
		.opts = sema_opts,
		.nopts = IAS_CFG_NOPTS(sema_opts),
		.cfg = &g.cfg,
		.log_level = g.cfg.log_level,
		.check = check_config,
	};
	int rc, i, j;

	/* --release-orphans is the agent's own; the rest is common/daemon.c's. */
	for (i = j = 1; i < argc; i++) {
		if (strcmp(argv[i], "--release-orphans") == 0)
			release_orphans = true;
		else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	argc = j;
	rc = ias_daemon_setup(&d, argc, argv);

	if (rc >= 0)
		return rc;
	rc = 1;
	ias_log_init("sema", ias_log_level_parse(g.cfg.log_level));
	g.started_ms = sema_now_ms();
	g.fx = &effects;
	qpt_init(&g.qps);
	if (start() == 0) {
		ias_daemon_ready("node %s, control socket %s", g.cfg.node_name,
				 g.cfg.control_socket);
		log_notice("sema %s ready: node %s, control socket %s, state %s",
			   PACKAGE_VERSION, g.cfg.node_name, g.cfg.control_socket, g.cfg.state_dir);
		rc = sd_event_loop(g.ev) < 0;
		sd_notify(0, "STOPPING=1");
	}
	stop();
	return rc;
}
