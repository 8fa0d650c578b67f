/* sema/enforce_own.c: whose is a cgroup. A fake cgroup tree in a temporary
 * directory, with chown as systemd's delegation does it: eproc_trusted_dir,
 * eproc_trusted_prefix, and the unit the never-block lists may count
 * (eproc_trusted_unit), with and without systemd's answer. Needs root (to
 * chown); skips otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sema/enforce_proc.h"
#include "tests/unit/tap.h"

static char tmp[256];

static const char *at(const char *rel)
{
	static char p[1024];

	snprintf(p, sizeof(p), "%s%s", tmp, rel);
	return p;
}

/* mkdir -p, each directory with its cgroup.procs (the kernel's files). */
static void cg(const char *rel)
{
	char p[1024], f[1100], *s;
	FILE *fp;

	snprintf(p, sizeof(p), "%s%s", tmp, rel);
	for (s = p + strlen(tmp) + 1;; s++) {
		s = strchr(s, '/');
		if (s)
			*s = '\0';
		mkdir(p, 0755);
		snprintf(f, sizeof(f), "%s/cgroup.procs", p);
		fp = fopen(f, "a");
		if (fp)
			fclose(fp);
		if (!s)
			break;
		*s = '/';
	}
}

/* What systemd's delegation does: the directory and its files to uid. */
static void delegate(const char *rel, uid_t uid)
{
	char f[1100];

	if (chown(at(rel), uid, uid) != 0)
		printf("# chown %s: %s\n", rel, strerror(errno));
	snprintf(f, sizeof(f), "%s/cgroup.procs", at(rel));
	if (chown(f, uid, uid) != 0)
		printf("# chown %s: %s\n", f, strerror(errno));
}

int main(void)
{
	char why[512], unit[128], cmd[600];
	const char *user_sshd = "/user.slice/user-1000.slice/user@1000.service/app.slice/sshd.service";

	if (geteuid() != 0)
		tap_skip_all("not root: cannot chown a fake cgroup tree");
	snprintf(tmp, sizeof(tmp), "/tmp/ias-eown-XXXXXX");
	if (!mkdtemp(tmp))
		tap_skip_all("no temporary directory");
	chmod(tmp, 0755);
	cg("/system.slice/sshd.service");
	cg("/system.slice/app.service/sub.scope");
	cg(user_sshd);
	delegate("/user.slice/user-1000.slice/user@1000.service", 1000);
	delegate("/user.slice/user-1000.slice/user@1000.service/app.slice", 1000);
	delegate(user_sshd, 1000);
	/* A delegated system service (Delegate=yes, User=alice) with a
	 * sub-cgroup the user named after sshd. */
	cg("/system.slice/run-u7.service/sshd.service");
	delegate("/system.slice/run-u7.service", 1000);
	delegate("/system.slice/run-u7.service/sshd.service", 1000);
	/* Only the cgroup.procs of a directory is the user's. */
	cg("/system.slice/half.service/sshd.service");
	if (chown(at("/system.slice/half.service/cgroup.procs"), 1000, 1000) != 0)
		tap_diag("chown half.service/cgroup.procs failed");
	cg("/open.slice/sshd.service");
	chmod(at("/open.slice"), 0777);

	/* eproc_trusted_dir */
	is_int(eproc_trusted_dir(tmp, "/system.slice/sshd.service", why, sizeof(why)), 0,
	       "a system unit's cgroup is root's");
	is_int(eproc_trusted_dir(tmp, user_sshd, why, sizeof(why)), -EPERM,
	       "a cgroup under user@1000.service is not");
	ok(strstr(why, "/user.slice/user-1000.slice/user@1000.service is owned by uid 1000") != NULL,
	   "why names the first directory the user owns: %s", why);
	is_int(eproc_trusted_dir(tmp, "/system.slice/half.service/sshd.service", why, sizeof(why)),
	       -EPERM, "an ancestor whose cgroup.procs is the user's: not root's");
	ok(strstr(why, "half.service/cgroup.procs is owned by uid 1000") != NULL, "why: %s", why);
	is_int(eproc_trusted_dir(tmp, "/open.slice/sshd.service", why, sizeof(why)), -EPERM,
	       "an ancestor writable by all: not root's");
	ok(strstr(why, "writable by others") != NULL, "why: %s", why);
	is_int(eproc_trusted_dir(tmp, "/system.slice/none.service", why, sizeof(why)), -ENOENT,
	       "a cgroup that does not exist");
	is_int(eproc_trusted_dir(tmp, "/system.slice/../x", why, sizeof(why)), -EINVAL, "'..' refused");
	is_int(eproc_trusted_dir(tmp, "relative", why, sizeof(why)), -EINVAL, "relative refused");
	is_int(eproc_trusted_dir(tmp, "/", why, sizeof(why)), 0, "the root itself");

	/* eproc_trusted_prefix */
	is_int((int)eproc_trusted_prefix(tmp, user_sshd), (int)strlen("/user.slice/user-1000.slice"),
	       "prefix: up to user-1000.slice");
	is_int((int)eproc_trusted_prefix(tmp, "/system.slice/sshd.service"),
	       (int)strlen("/system.slice/sshd.service"), "prefix: the whole system unit path");
	is_int((int)eproc_trusted_prefix(tmp, "/system.slice/run-u7.service/sshd.service"),
	       (int)strlen("/system.slice"), "prefix: stops at the delegated service");

	/* eproc_trusted_unit without systemd (the kernel bed): the last unit
	 * name among the root's components. */
	is_int(eproc_trusted_unit(tmp, "/system.slice/sshd.service", NULL, unit, sizeof(unit)), 0,
	       "no systemd: a system unit");
	is_str(unit, "sshd.service", "...sshd.service");
	is_int(eproc_trusted_unit(tmp, user_sshd, NULL, unit, sizeof(unit)), -ENOENT,
	       "no systemd: a user-made sshd.service under user@1000.service is no unit");
	is_str(unit, "", "...empty");
	is_int(eproc_trusted_unit(tmp, "/system.slice/run-u7.service/sshd.service", NULL, unit,
				  sizeof(unit)), -ENOENT,
	       "no systemd: a user-made sshd.service in a delegated service: no unit");
	is_int(eproc_trusted_unit(tmp, "/system.slice/half.service/sshd.service", NULL, unit,
				  sizeof(unit)), -ENOENT,
	       "no systemd: below a cgroup.procs of the user's: no unit");
	is_int(eproc_trusted_unit(tmp, "/system.slice/app.service/sub.scope", NULL, unit,
				  sizeof(unit)), 0, "no systemd: the deepest root's unit");
	is_str(unit, "sub.scope", "...sub.scope");
	is_int(eproc_trusted_unit(tmp, "/system.slice/sshd.service", NULL, unit, 5), -ENAMETOOLONG,
	       "short buffer");

	/* With systemd's answer: it counts only as a root's component. */
	is_int(eproc_trusted_unit(tmp, "/system.slice/sshd.service", "sshd.service", unit,
				  sizeof(unit)), 0, "systemd: sshd.service, root's");
	is_str(unit, "sshd.service", "...sshd.service");
	is_int(eproc_trusted_unit(tmp, user_sshd, "user@1000.service", unit, sizeof(unit)), -ENOENT,
	       "systemd says user@1000.service, which is the user's: no unit");
	is_int(eproc_trusted_unit(tmp, user_sshd, "sshd.service", unit, sizeof(unit)), -ENOENT,
	       "systemd's name only counts in the root's part of the path");
	is_int(eproc_trusted_unit(tmp, "/system.slice/app.service/sub.scope", "app.service", unit,
				  sizeof(unit)), 0, "systemd: the unit is app.service");
	is_str(unit, "app.service", "...app.service, not the sub-cgroup's name");
	is_int(eproc_trusted_unit(tmp, "/system.slice/sshd.service", "cron.service", unit,
				  sizeof(unit)), -ENOENT, "systemd's unit must be on the path");

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		tap_diag("could not remove the temporary directory");
	return tap_done();
}
