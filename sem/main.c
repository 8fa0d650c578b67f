/* sem: the IAS Security Manager, beside OpenSM.
 *
 * Start-up order (reversed at exit): logging, configuration, key file,
 * store, fabric policy, view, reactor and signals, control socket, MAD
 * port, readiness. A failure before readiness exits non-zero with one line
 * saying why. The manager holds no truth of its own: its view is rebuilt
 * from the agents (see docs/manager.md). */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "common/daemon.h"
#include "common/log.h"
#include "mad_defs/policy.h"
#include "sem/ctl.h"
#include "sem/madio.h"
#include "sem/sem.h"

#define T struct sem_config
static const struct ias_cfg_opt sem_opts[] = {
	IAS_CFG_PATHNAME(T, control_socket, "/run/ias/sem.sock",
			 "control socket (AF_UNIX SOCK_SEQPACKET)"),
	IAS_CFG_PATHNAME(T, state_dir, "/var/lib/ias-sem", "directory of the manager's store sem.db"),
	IAS_CFG_PATHNAME(T, key_file, "/etc/ias/secmgt.keys",
			 "SecMgt MAD keys; owned by the manager's user (root), mode 0600"),
	IAS_CFG_STR(T, node_name, NULL, "name of this node (default: host name)"),
	IAS_CFG_STR(T, log_level, "info", "err, warning, notice, info or debug"),
	IAS_CFG_STR(T, control_group, "ias", "group whose members may set the fabric policy"),
	IAS_CFG_STR(T, umad_ca, NULL, "RDMA device for MADs (default: the first)"),
	IAS_CFG_U(T, umad_port, 0, 254, "0", "port for MADs (0: the first active one)"),
	IAS_CFG_STR(T, sm_guid, "auto",
		    "port GUID of the SM this manager serves beside (auto: the local port's)"),
	IAS_CFG_B(T, simulated_fabric, "no", "running under the ibsim simulator (test bed only)"),
	IAS_CFG_MS(T, discovery_interval, 1000, 86400000, "30s", "how often to re-discover the fabric"),
	IAS_CFG_MS(T, mad_timeout, 50, 60000, "1s", "how long to wait for an answer to a MAD"),
	IAS_CFG_U(T, max_misses, 1, 100, "3", "unanswered requests in a row before an agent is unreachable"),
	IAS_CFG_U(T, max_lid, 1, 49151, "1024",
		  "highest LID asked for when the SA's NodeRecord table is unusable"),
	IAS_CFG_MS(T, replay_window, 1000, 600000, "30s",
		   "MAD timestamps further than this from our clock are refused"),
	IAS_CFG_MS(T, port_retry, 100, 3600000, "5s", "how often to look for an RDMA port"),
	IAS_CFG_U(T, max_clients, 1, 4096, "64", "control socket connections at most"),
	IAS_CFG_U(T, max_clients_per_user, 0, 4096, "16",
		  "control socket connections one uid other than root may hold (0: no cap)"),
	IAS_CFG_U(T, reserved_clients, 0, 4096, "16",
		  "of max_clients, connections only root and the control group may take"),
	IAS_CFG_E(T, level, ias_level_names, "basic",
		  "initial fabric search level: basic, sibling, lca, selinux or zone"),
	IAS_CFG_E(T, block_mode, ias_mode_names, "freeze",
		  "initial fabric block mode: freeze, kill, or (trusting the "
		  "suspect's libias to obey) pause or cut"),
	IAS_CFG_B(T, dry_run, "no", "initial fabric dry-run"),
	IAS_CFG_MS(T, block_duration, 1000, IAS_POLICY_DURATION_MAX_MS, "1h",
		   "initial duration of a first block"),
	IAS_CFG_MS(T, block_duration_max, 1000, IAS_POLICY_DURATION_MAX_MS, "7d",
		   "initial cap on escalated durations"),
	IAS_CFG_U(T, escalation, IAS_POLICY_ESCALATION_MIN, IAS_POLICY_ESCALATION_MAX, "2",
		  "duration factor for each repeat offence"),
	IAS_CFG_U(T, hop_limit, IAS_POLICY_HOP_MIN, IAS_POLICY_HOP_MAX, "16", "trace hops at most"),
	IAS_CFG_U(T, fanout_limit, IAS_POLICY_FANOUT_MIN, IAS_POLICY_FANOUT_MAX, "64",
		  "trace MADs one hop sends at most"),
};
#undef T

static struct sem g;

int64_t sem_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sem [OPTIONS]\n"
		"IAS Security Manager: discovers the fabric's agents through the SA, sets\n"
		"their policy, and collects their reports into fabric-wide incidents.\n\n"
		"  -c, --config FILE     configuration file (default %s/ias/ias.conf)\n"
		"  -s, --set KEY=VALUE   override one configuration key (repeatable)\n"
		"  -f, --foreground      log to stderr in the foreground (sem never forks)\n"
		"  -p, --print-config    print the effective configuration and exit\n"
		"  -h, --help            this help\n"
		"  -V, --version         print the version\n", IAS_SYSCONFDIR);
}

/* After the common loading (common/daemon.c). */
static int check_config(void)
{
	char *end;

	if (!g.cfg.node_name[0] && gethostname(g.cfg.node_name, sizeof(g.cfg.node_name) - 1) < 0)
		snprintf(g.cfg.node_name, sizeof(g.cfg.node_name), "manager");
	if (strcmp(g.cfg.sm_guid, "auto") != 0) {
		errno = 0;
		g.our_sm_guid = strtoull(g.cfg.sm_guid, &end, 0);
		if (errno || *end || !g.our_sm_guid || g.cfg.sm_guid[0] == '-') {
			fprintf(stderr, "sem: sm_guid: \"%s\" is neither auto nor a GUID\n", g.cfg.sm_guid);
			return -1;
		}
	}
	if (g.cfg.block_duration > g.cfg.block_duration_max) {
		fprintf(stderr, "sem: block_duration exceeds block_duration_max\n");
		return -1;
	}
	return 0;
}

/* The configured policy, in whole seconds as the wire carries it. */
static void policy_from_config(struct ias_attr_policy *a)
{
	struct ias_policy p = {
		.version = 1,
		.level = g.cfg.level,
		.block_mode = g.cfg.block_mode,
		.dry_run = g.cfg.dry_run,
		.base_duration_ms = g.cfg.block_duration / 1000 * 1000,
		.max_duration_ms = g.cfg.block_duration_max / 1000 * 1000,
		.escalation = g.cfg.escalation,
		.hop_limit = g.cfg.hop_limit,
		.fanout_limit = g.cfg.fanout_limit,
	};

	ias_policy_to_attr(&p, a);	/* checked below, as a stored one is */
}

static int start(void)
{
	struct sem_policy_rec pr;
	char err[512];
	struct group *gr;
	int r, nfds;

	if (ias_daemon_protect_secrets() < 0)
		return -1;
	r = ias_keyfile_load(g.cfg.key_file, geteuid(), g.keys, IAS_KEYS_MAX, &g.nkeys,
			     err, sizeof(err));
	if (r) {
		log_err("refusing to start: %s", err);
		return -1;
	}
	r = semstore_open(g.cfg.state_dir, &g.store, err, sizeof(err));
	if (r) {
		log_err("refusing to start: store: %s", err);
		return -1;
	}
	/* The stored policy (set at run time) wins over the configured one. */
	r = semstore_policy_get(g.store, &pr);
	if (r == -ENOENT) {
		memset(&pr, 0, sizeof(pr));
		policy_from_config(&pr.p);
		pr.updated_ms = sem_now_ms();
		r = semstore_policy_put(g.store, &pr);
	}
	if (!r && ias_policy_check_attr(&pr.p, err, sizeof(err)))
		r = -EINVAL;
	if (r) {
		log_err("refusing to start: fabric policy: %s", r == -EINVAL ? err : semstore_errmsg(g.store));
		return -1;
	}
	r = sem_view_init(&g.view, g.store, &pr.p);
	if (r) {
		log_err("refusing to start: loading the view: %s", semstore_errmsg(g.store));
		return -1;
	}
	g.view.max_misses = g.cfg.max_misses;
	gr = getgrnam(g.cfg.control_group);
	g.control_gid = gr ? gr->gr_gid : (gid_t)-1;

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
	r = sem_ctl_start(&g, g.cfg.control_socket, nfds == 1 ? SD_LISTEN_FDS_START : -1, &g.ctl);
	if (r) {
		log_err("control socket %s: %s", g.cfg.control_socket, strerror(-r));
		return -1;
	}
	r = sem_mad_start(&g, &g.mad);
	if (r) {
		log_err("MAD port: %s", strerror(-r));
		return -1;
	}
	sd_event_set_watchdog(g.ev, 1);
	return 0;
}

static void stop(void)
{
	sem_mad_stop(g.mad);
	sem_ctl_stop(g.ctl);
	sd_event_unref(g.ev);
	sem_view_free(&g.view);
	semstore_close(g.store);
	ias_keys_wipe(g.keys, g.nkeys);
}

int main(int argc, char **argv)
{
	static const struct ias_daemon d = {
		.name = "sem",
		.section = "sem",
		.version = PACKAGE_VERSION,
		.usage = usage,
		.opts = sem_opts,
		.nopts = IAS_CFG_NOPTS(sem_opts),
		.cfg = &g.cfg,
		.log_level = g.cfg.log_level,
		.check = check_config,
	};
	int rc = ias_daemon_setup(&d, argc, argv);

	if (rc >= 0)
		return rc;
	rc = 1;
	ias_log_init("sem", ias_log_level_parse(g.cfg.log_level));
	g.started_ms = sem_now_ms();
	if (start() == 0) {
		ias_daemon_ready("%s, control socket %s", g.view.active ? "active" : "standby",
				 g.cfg.control_socket);
		log_notice("sem %s ready: control socket %s, state %s, policy version %u",
			   PACKAGE_VERSION, g.cfg.control_socket, g.cfg.state_dir,
			   g.view.policy.policy_version);
		rc = sd_event_loop(g.ev) < 0;
		sd_notify(0, "STOPPING=1");
	}
	stop();
	return rc;
}
