/* common/daemon.c: the daemons' shared command line and configuration
 * loading (what they print goes to stdout/stderr; only results are checked). */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/daemon.h"
#include "tests/unit/tap.h"

struct tcfg {
	char log_level[16];
	char name[32];
	unsigned n;
};

#define T struct tcfg
static const struct ias_cfg_opt topts[] = {
	IAS_CFG_STR(T, log_level, "info", "log level"),
	IAS_CFG_STR(T, name, "x", "a name"),
	IAS_CFG_U(T, n, 0, 100, "7", "a number"),
};
#undef T

static struct tcfg cfg;
static int checks, check_rc;

static void usage(FILE *f)
{
	fprintf(f, "usage: testd\n");
}

static int check(void)
{
	checks++;
	return check_rc;
}

static const struct ias_daemon d = {
	.name = "testd",
	.section = "testd",
	.version = "1.0",
	.usage = usage,
	.opts = topts,
	.nopts = IAS_CFG_NOPTS(topts),
	.cfg = &cfg,
	.log_level = cfg.log_level,
	.check = check,
};

static int run(const struct ias_daemon *dd, const char *a1, const char *a2, const char *a3)
{
	char *argv[5] = { (char *)"testd", (char *)a1, (char *)a2, (char *)a3, NULL };
	int argc = 1 + !!a1 + !!a2 + !!a3;
	int saved, null, rc;

	/* What the helper prints (-h, -V, -p) goes to /dev/null, not into TAP. */
	fflush(stdout);
	saved = dup(1);
	null = open("/dev/null", O_WRONLY);
	if (saved < 0 || null < 0 || dup2(null, 1) < 0)
		exit(1);
	rc = ias_daemon_setup(dd, argc, argv);
	fflush(stdout);
	if (dup2(saved, 1) < 0)
		exit(1);
	close(saved);
	close(null);
	return rc;
}

int main(void)
{
	struct ias_daemon nov = d;
	char path[] = "/tmp/test_daemon.XXXXXX";
	int fd, rc;
	FILE *f;

	/* The helper's one-line errors go away too. */
	if (!freopen("/dev/null", "w", stderr))
		return 1;
	nov.version = NULL;
	fd = mkstemp(path);
	if (fd < 0 || !(f = fdopen(fd, "w")))
		return 1;
	fprintf(f, "n = 1\n[testd]\nname = fromfile\n[other]\nname = not-ours\n");
	fclose(f);

	is_int(run(&d, "-c", path, NULL), -1, "a good file: go on");
	is_str(cfg.name, "fromfile", "the daemon's section applies");
	is_int((int)cfg.n, 1, "the unsectioned part applies");
	is_str(cfg.log_level, "info", "defaults fill the rest");
	is_int(checks, 1, "the daemon's check ran once");

	is_int(run(&d, "-c", path, "--set=n=42"), -1, "--set: go on");
	is_int((int)cfg.n, 42, "--set overrides the file");

	is_int(run(&d, "-c", path, "-sn=101"), 1, "--set out of range: exit 1");
	is_int(run(&d, "-c", path, "-snokey=1"), 1, "--set of an unknown key: exit 1");
	is_int(run(&d, "-c", path, "-slog_level=loud"), 1, "a bad log level: exit 1");
	is_int(run(&d, "-c", "/nonexistent/ias.conf", NULL), 1, "a named file that is missing: exit 1");
	checks = 0;
	check_rc = -1;
	is_int(run(&d, "-c", path, NULL), 1, "the daemon's check refuses: exit 1");
	is_int(checks, 1, "... after loading");
	check_rc = 0;

	is_int(run(&d, "-h", NULL, NULL), 0, "-h: exit 0");
	is_int(run(&d, "-V", NULL, NULL), 0, "-V: exit 0");
	is_int(run(&nov, "-V", NULL, NULL), 2, "-V without a version: usage error");
	is_int(run(&nov, "--version", NULL, NULL), 2, "--version without a version: usage error");
	is_int(run(&d, "-x", NULL, NULL), 2, "unknown option: exit 2");
	is_int(run(&d, "-c", path, "extra"), 2, "unexpected argument: exit 2");
	rc = run(&d, "-c", path, "-p");
	unlink(path);
	is_int(rc, 0, "--print-config: exit 0");
	return tap_done();
}
