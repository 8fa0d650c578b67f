/* See daemon.h. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <systemd/sd-daemon.h>

#include "common/daemon.h"
#include "common/log.h"

struct args {
	const char *config;
	int path_given, print;
	char **sets;
	int nsets;
};

/* -1 to go on, else the exit status. */
static int parse_args(const struct ias_daemon *d, int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "print-config", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct option lo[sizeof(longopts) / sizeof(longopts[0])];
	int c;

	memcpy(lo, longopts, sizeof(lo));
	if (!d->version)	/* no --version either */
		memset(&lo[5], 0, sizeof(lo[5]));
	optind = 1;
	while ((c = getopt_long(argc, argv, d->version ? "c:s:fphV" : "c:s:fph", lo,
				NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; a->path_given = 1; break;
		case 's': a->sets[a->nsets++] = optarg; break;
		case 'f': break;
		case 'p': a->print = 1; break;
		case 'h': d->usage(stdout); return 0;
		case 'V': printf("%s %s\n", d->name, d->version); return 0;
		default: d->usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument %s\n", d->arg_name ? d->arg_name : d->name,
			argv[optind]);
		return 2;
	}
	return -1;
}

static int load_config(const struct ias_daemon *d, const struct args *a)
{
	char err[512];
	int i;

	if (ias_cfg_defaults(d->opts, d->nopts, d->cfg, err, sizeof(err)) ||
	    ias_cfg_load_file(d->opts, d->nopts, d->cfg, d->section, a->config, !a->path_given,
			      err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", d->name, err);
		return -1;
	}
	for (i = 0; i < a->nsets; i++)
		if (ias_cfg_set_arg(d->opts, d->nopts, d->cfg, a->sets[i], err, sizeof(err))) {
			fprintf(stderr, "%s: --set %s\n", d->name, err);
			return -1;
		}
	if (ias_log_level_parse(d->log_level) < 0) {
		fprintf(stderr, "%s: log_level: \"%s\" is not err, warning, notice, info or debug\n",
			d->name, d->log_level);
		return -1;
	}
	return d->check ? d->check() : 0;
}

int ias_daemon_setup(const struct ias_daemon *d, int argc, char **argv)
{
	struct args a = { .config = IAS_SYSCONFDIR "/ias/ias.conf" };
	int rc;

	a.sets = calloc((size_t)argc + 1, sizeof(char *));
	if (!a.sets)
		return 1;
	rc = parse_args(d, argc, argv, &a);
	if (rc < 0 && load_config(d, &a))
		rc = 1;
	if (rc < 0 && a.print) {
		ias_cfg_print(d->opts, d->nopts, d->cfg, d->section, stdout);
		rc = 0;
	}
	free(a.sets);
	return rc;
}

static int on_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *arg)
{
	(void)arg;
	log_notice("signal %u: stopping", si->ssi_signo);
	sd_event_exit(sd_event_source_get_event(src), 0);
	return 0;
}

int ias_daemon_signals(sd_event *ev)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	sigset_t ss;
	size_t i;
	int r;

	sigemptyset(&ss);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&ss, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		r = sd_event_add_signal(ev, NULL, sigs[i], on_signal, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

void ias_daemon_ready(const char *fmt, ...)
{
	char status[256];
	va_list ap;
	int n;

	n = snprintf(status, sizeof(status), "READY=1\nSTATUS=");
	va_start(ap, fmt);
	vsnprintf(status + n, sizeof(status) - (size_t)n, fmt, ap);
	va_end(ap);
	sd_notify(0, status);
}

/* Why the whole process and not MADV_DONTDUMP on the key array: the keys
 * are copied into OpenSSL's HMAC contexts (inner and outer pads, on its own
 * heap) where no madvise of ours reaches, and a core holds all of it. Not
 * dumpable also means: no core file at all (a crash is debugged by running
 * the daemon under gdb as root, or by turning this off in a debug build),
 * /proc/PID entries owned by root (the daemons run as root and read only
 * other processes' /proc entries), and no ptrace by the daemon's own uid
 * when that is not root (root keeps CAP_SYS_PTRACE). The keys themselves are
 * wiped with explicit_bzero when the daemon stops (ias_keys_wipe). */
int ias_daemon_protect_secrets(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		log_err("refusing to start: cannot keep the keys out of core dumps: "
			"prctl(PR_SET_DUMPABLE): %s", strerror(errno));
		return -1;
	}
	return 0;
}
