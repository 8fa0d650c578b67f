/* Start-up pieces the daemons (sema, sem, ias-analyzer daemon) share: the
 * common command line (-c FILE, -s KEY=VALUE, -f, -p, -h, -V), the
 * configuration (defaults, then the file's [section], then --set overrides,
 * then the log level, then the daemon's own checks; every error one line on
 * stderr), --print-config, the stop signals on an sd-event loop and the
 * readiness notification. Daemon code: it prints and logs. */
#ifndef IAS_COMMON_DAEMON_H
#define IAS_COMMON_DAEMON_H

#include <stddef.h>
#include <stdio.h>
#include <systemd/sd-event.h>

#include "common/config.h"

struct ias_daemon {
	const char *name;	/* "sema": error lines start "sema: " */
	const char *arg_name;	/* prefix of "unexpected argument"; NULL: name */
	const char *section;	/* config file section, and --print-config's */
	const char *version;	/* -V prints "NAME VERSION"; NULL: no -V */
	void (*usage)(FILE *f);
	const struct ias_cfg_opt *opts;
	size_t nopts;
	void *cfg;		/* the daemon's config struct */
	const char *log_level;	/* its log_level member (checked after loading) */
	/* Optional: the daemon's own checks and derived values after loading;
	 * prints its one-line error itself and returns -1, else 0. */
	int (*check)(void);
};

/* Command line, configuration and --print-config. Returns -1 when the
 * daemon is to start, else the exit status (0 after -h, -V or -p; 1 for a
 * configuration error; 2 for a usage error). */
int ias_daemon_setup(const struct ias_daemon *d, int argc, char **argv);

/* Blocks SIGTERM, SIGINT and SIGHUP, ignores SIGPIPE, and adds sd-event
 * sources for the three that log the signal and leave the loop. 0 or
 * negative errno. */
int ias_daemon_signals(sd_event *ev);

/* Keeps the secrets the daemon is about to load (the SecMgt keys, and the
 * HMAC state OpenSSL derives from them on its own heap) out of core dumps
 * and away from debuggers of the daemon's own uid: prctl(PR_SET_DUMPABLE,
 * 0) for the whole process. Call before loading keys. Logs its one-line
 * error itself; 0 or -1. */
int ias_daemon_protect_secrets(void);

/* READY=1 with a STATUS= line from fmt. */
__attribute__((format(printf, 1, 2)))
void ias_daemon_ready(const char *fmt, ...);

#endif
