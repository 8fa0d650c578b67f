/* Live snapshots: a real process tree read through /proc, a fake procfs tree
 * with the awkward cases, snapshots taken while processes come and go, and
 * the threaded scan giving the same snapshot as the serial one. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/search.h"
#include "analyzer/snapshot-int.h"
#include "analyzer/snapshot.h"
#include "tests/unit/tap.h"

static const char *find_sleep(void)
{
	static const char *const cand[] = { "/usr/bin/sleep", "/bin/sleep" };
	size_t i;

	for (i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
		if (access(cand[i], X_OK) == 0)
			return cand[i];
	return NULL;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait (bounded) until pid's exe resolves to the same file as path. */
static int wait_exec(pid_t pid, const char *path)
{
	char link[64];
	struct stat a, b;
	int i;

	if (stat(path, &b))
		return -1;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	for (i = 0; i < 1000; i++) {
		if (stat(link, &a) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return 0;
		nap_ms(10);
	}
	return -1;
}

static const char *search_new(struct ias_snapshot *s, unsigned lv, pid_t *in, size_t n)
{
	static char out[1024];
	struct ias_search_result *res;
	size_t i, off = 0;

	if (ias_search(s, lv, in, n, NULL, 0, &res, NULL))
		return "error";
	out[0] = '\0';
	for (i = 0; i < res->n; i++)
		if (res->c[i].kind != IAS_WHY_REPORTED)
			off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%d",
						off ? "," : "", (int)res->c[i].pid);
	ias_search_result_free(res);
	return out;
}

/* A parent with three children running sleep and one running this test
 * program (a different program). */
static void test_real_tree(void)
{
	const char *sleep_path = find_sleep();
	pid_t kids[4] = { 0 }, parent;
	int pfd[2], i, st;
	struct ias_snapshot *s = NULL;
	struct ias_proc pr;
	char want[256];
	long x;

	if (!sleep_path || pipe(pfd)) {
		ok(0, "need sleep(1) and a pipe");
		return;
	}
	parent = fork();
	if (parent == 0) {
		close(pfd[0]);
		for (i = 0; i < 4; i++) {
			pid_t c = fork();

			if (c == 0) {
				if (i < 3)
					execl(sleep_path, "sleep", "600", (char *)NULL);
				for (;;)
					pause();	/* stays this program */
			}
			kids[i] = c;
		}
		if (write(pfd[1], kids, sizeof(kids)) != sizeof(kids))
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	if (read(pfd[0], kids, sizeof(kids)) != sizeof(kids)) {
		ok(0, "read the children's PIDs");
		goto out;
	}
	for (i = 0; i < 3; i++)
		if (wait_exec(kids[i], sleep_path)) {
			ok(0, "child %d did not exec sleep", (int)kids[i]);
			goto out;
		}

	is_int(ias_snapshot_live(NULL, 0, &s), 0, "live snapshot taken");
	if (!s)
		goto out;
	x = ias_snapshot_index(s, parent);
	ok(x >= 0, "the parent %d is in the snapshot", (int)parent);
	if (x >= 0) {
		ias_snapshot_get(s, (size_t)x, &pr);
		is_int(pr.ppid, getpid(), "its parent is this test");
	}
	for (i = 0; i < 4; i++) {
		x = ias_snapshot_index(s, kids[i]);
		ok(x >= 0 && ias_snapshot_get(s, (size_t)x, &pr) == 0 && pr.ppid == parent,
		   "child %d is in the snapshot under the parent", (int)kids[i]);
	}
	x = ias_snapshot_index(s, kids[0]);
	if (x >= 0) {
		struct stat sb;

		ias_snapshot_get(s, (size_t)x, &pr);
		stat(sleep_path, &sb);
		ok(pr.exe_ino == (uint64_t)sb.st_ino && pr.exe_dev == (uint64_t)sb.st_dev,
		   "exe identity is the inode of %s", sleep_path);
		ok(strstr(pr.exe, "sleep") != NULL, "exe path names sleep (%s)", pr.exe);
	}
	{
		pid_t in[2] = { kids[0], kids[3] };

		snprintf(want, sizeof(want), "%d,%d", (int)kids[1], (int)kids[2]);
		is_str(search_new(s, IAS_LEVEL_SIBLING, in, 1), want,
		       "sibling: exactly the two other sleep children");
		snprintf(want, sizeof(want), "%d,%d,%d", (int)parent, (int)kids[1], (int)kids[2]);
		is_str(search_new(s, IAS_LEVEL_LCA, in, 2), want,
		       "lca of a sleep child and the other child: the parent and all children");
		snprintf(want, sizeof(want), "%d,%d", (int)kids[1], (int)kids[2]);
		is_str(search_new(s, IAS_LEVEL_SIBLING, in + 1, 1), "",
		       "sibling of the odd child: none");
	}
out:
	ias_snapshot_free(s);
	kill(parent, SIGKILL);
	for (i = 0; i < 4; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	waitpid(parent, &st, 0);
	close(pfd[0]);
}

/* This process's own entry: exe, inode, zone. */
static void test_self(void)
{
	struct ias_snapshot *s = NULL;
	struct ias_proc pr;
	char exe[4096], cg[4096], *z;
	struct stat sb;
	ssize_t n;
	FILE *f;
	long x;

	if (ias_snapshot_live(NULL, 0, &s)) {
		ok(0, "live snapshot");
		return;
	}
	x = ias_snapshot_index(s, getpid());
	ok(x >= 0, "this process is in the snapshot");
	if (x < 0)
		goto out;
	ias_snapshot_get(s, (size_t)x, &pr);
	is_int(pr.ppid, getppid(), "ppid");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	is_str(pr.exe, exe, "exe path");
	stat("/proc/self/exe", &sb);
	ok(pr.exe_ino == (uint64_t)sb.st_ino, "exe inode");
	f = fopen("/proc/self/cgroup", "r");
	strcpy(cg, "-");
	while (f && fgets(exe, sizeof(exe), f))
		if (strncmp(exe, "0::", 3) == 0) {
			z = exe + 3;
			z[strcspn(z, "\n")] = '\0';
			snprintf(cg, sizeof(cg), "%s", *z ? z : "-");
		}
	if (f)
		fclose(f);
	is_str(pr.zone, cg, "zone is the cgroup v2 path");
	{
		pid_t in = getpid();
		struct ias_search_result *res = NULL;
		int r = ias_search(s, IAS_LEVEL_SELINUX, &in, 1, NULL, 0, &res, NULL);

		if (ias_snapshot_has_contexts(s))
			is_int(r, 0, "selinux level on a live snapshot with SELinux on");
		else
			is_int(r, -EOPNOTSUPP, "selinux level refused when SELinux is off");
		ias_search_result_free(res);
	}
out:
	ias_snapshot_free(s);
}

/* ---- a fake procfs ---------------------------------------------------- */

static char fake[256];

static void put(const char *rel, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fake, rel);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* A process directory: stat line with the given comm and ppid, optional exe
 * link target, optional cgroup text. */
static void fake_proc(int pid, const char *comm, int ppid, const char *exe, const char *cgroup)
{
	char rel[64], text[512], path[1024];

	snprintf(path, sizeof(path), "%s/%d", fake, pid);
	mkdir(path, 0755);
	snprintf(rel, sizeof(rel), "%d/stat", pid);
	snprintf(text, sizeof(text), "%d (%s) S %d 1 1 0 -1 4194560 0 0\n", pid, comm, ppid);
	put(rel, text);
	if (exe) {
		snprintf(path, sizeof(path), "%s/%d/exe", fake, pid);
		if (symlink(exe, path))
			printf("# symlink %s failed\n", path);
	}
	if (cgroup) {
		snprintf(rel, sizeof(rel), "%d/cgroup", pid);
		put(rel, cgroup);
	}
}

static void test_fake_proc(void)
{
	struct ias_snapshot *s = NULL;
	struct ias_proc pr;
	char longpath[6000], dir[1024];
	char *tsv = NULL;
	size_t len = 0, i;
	FILE *f;
	long x;

	snprintf(fake, sizeof(fake), "/tmp/ias-fakeproc-XXXXXX");
	if (!mkdtemp(fake)) {
		ok(0, "mkdtemp");
		return;
	}
	/* An exe path near PATH_MAX (symlink targets cannot be longer): a
	 * dangling link reads back whole, through several buffer growths. */
	strcpy(longpath, "/");
	for (i = 0; strlen(longpath) < 4000; i++)
		strcat(longpath, "a-rather-long-directory-name/");
	strcat(longpath, "prog");

	fake_proc(1, "init", 0, "/proc/self/exe", "0::/init.scope\n");
	fake_proc(2, "kthreadd", 0, NULL, "0::/\n");
	fake_proc(3, "kworker/0:0", 2, NULL, "0::/\n");
	fake_proc(40, "weird) S 99 (name", 1, "/proc/self/exe",
		  "12:pids:/x\n1:name=systemd:/y\n0::/system.slice/w.service\n");
	fake_proc(41, "orphan", 77, "/proc/self/exe", "0::/z\n");	/* parent gone */
	fake_proc(42, "nsentered", 0, "/proc/self/exe", "1:cpu:/\n");	/* no v2 line */
	fake_proc(43, "longexe", 40, longpath, "0::\n");
	snprintf(dir, sizeof(dir), "%s/44", fake);
	mkdir(dir, 0755);	/* exited: no stat file */
	snprintf(dir, sizeof(dir), "%s/notapid", fake);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/self", fake);
	mkdir(dir, 0755);

	is_int(ias_snapshot_live(fake, 0, &s), 0, "fake /proc scanned");
	if (!s)
		goto out;
	is_int(ias_snapshot_count(s), 7, "7 processes (44 exited, non-PIDs ignored)");
	x = ias_snapshot_index(s, 40);
	ias_snapshot_get(s, (size_t)(x < 0 ? 0 : x), &pr);
	is_int(pr.ppid, 1, "comm with ') S 99 (' does not confuse the ppid");
	is_str(pr.zone, "/system.slice/w.service", "zone from the 0:: line");
	ok(pr.exe_ino != 0, "exe inode known for a link to a real file");
	x = ias_snapshot_index(s, 41);
	ias_snapshot_get(s, (size_t)(x < 0 ? 0 : x), &pr);
	is_int(pr.ppid, 1, "a process whose parent vanished is placed under PID 1");
	x = ias_snapshot_index(s, 42);
	ias_snapshot_get(s, (size_t)(x < 0 ? 0 : x), &pr);
	is_int(pr.ppid, 1, "parent 0 for a non-kernel process other than PID 1: under PID 1");
	is_str(pr.zone, "-", "no cgroup v2 line: zone -");
	x = ias_snapshot_index(s, 43);
	ias_snapshot_get(s, (size_t)(x < 0 ? 0 : x), &pr);
	is_str(pr.exe, longpath, "an exe path of about 4000 bytes is read whole");
	is_int(pr.exe_ino, 0, "dangling exe link: inode unknown");
	is_str(pr.zone, "-", "empty 0:: path: zone -");
	x = ias_snapshot_index(s, 3);
	ias_snapshot_get(s, (size_t)(x < 0 ? 0 : x), &pr);
	is_str(pr.exe, "-", "kernel thread: exe -");
	is_int(pr.ppid, 2, "kernel thread keeps its parent");
	x = ias_snapshot_index(s, 2);
	ias_snapshot_get(s, (size_t)(x < 0 ? 0 : x), &pr);
	is_int(pr.ppid, 0, "kthreadd keeps parent 0");

	/* What the live scan wrote must parse as TSV. */
	f = open_memstream(&tsv, &len);
	ias_snapshot_write_tsv(s, f);
	fclose(f);
	{
		struct ias_snapshot *s2 = NULL;
		struct ias_snap_err err;

		is_int(ias_snapshot_parse_tsv(tsv, len, &s2, &err), 0, "live output reparses");
		if (s2)
			is_int(ias_snapshot_count(s2), 7, "with every process");
		ias_snapshot_free(s2);
	}
	free(tsv);
out:
	ias_snapshot_free(s);
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fake);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", fake);
	}
}

/* Columns left out on request, and procfs files longer than the first read
 * buffer, on a second fake procfs. */
static void test_fake_flags(void)
{
	struct ias_snapshot *s = NULL;
	struct ias_proc pr;
	char *big = NULL, stat[8192];
	size_t i, off = 0, cap = 12000;
	long x;

	snprintf(fake, sizeof(fake), "/tmp/ias-fakeproc-XXXXXX");
	if (!mkdtemp(fake) || !(big = malloc(cap))) {
		ok(0, "mkdtemp");
		free(big);
		return;
	}
	fake_proc(1, "init", 0, "/proc/self/exe", "0::/init.scope\n");
	/* A cgroup file of about 10 kB with the v2 line last. */
	fake_proc(50, "many", 1, "/proc/self/exe", NULL);
	for (i = 0; off + 64 < cap - 64; i++)
		off += (size_t)snprintf(big + off, cap - off, "%zu:controller%zu:/some/path/%zu\n",
					i + 100, i, i);
	snprintf(big + off, cap - off, "0::/big.slice/last.scope\n");
	put("50/cgroup", big);
	/* A stat line longer than the first read buffer (4 kB). */
	off = (size_t)snprintf(stat, sizeof(stat), "51 (");
	while (off < 6000)
		stat[off++] = 'x';
	snprintf(stat + off, sizeof(stat) - off, ") S 50 1 1 0 -1 4194560 0 0\n");
	fake_proc(51, "placeholder", 1, "/proc/self/exe", "0::/s\n");
	put("51/stat", stat);

	is_int(ias_snapshot_live(fake, 0, &s), 0, "second fake /proc scanned");
	if (!s)
		goto out;
	is_int(ias_snapshot_count(s), 3, "3 processes");
	x = ias_snapshot_index(s, 50);
	ias_snapshot_get(s, (size_t)(x < 0 ? 0 : x), &pr);
	is_str(pr.zone, "/big.slice/last.scope", "zone from the end of a 10 kB cgroup file");
	x = ias_snapshot_index(s, 51);
	ias_snapshot_get(s, (size_t)(x < 0 ? 0 : x), &pr);
	is_int(pr.ppid, 50, "ppid from a 6 kB stat line");
	ias_snapshot_free(s);
	s = NULL;

	is_int(ias_snapshot_live(fake, IAS_SNAP_LIVE_NO_ZONE, &s), 0, "scan without zones");
	if (!s)
		goto out;
	is_int(ias_snapshot_count(s), 3, "still 3 processes");
	x = ias_snapshot_index(s, 50);
	ias_snapshot_get(s, (size_t)(x < 0 ? 0 : x), &pr);
	is_str(pr.zone, "-", "NO_ZONE: zone -");
	ok(pr.exe_ino != 0 && strcmp(pr.exe, "-") != 0, "NO_ZONE: exe still read");
	is_int(pr.ppid, 1, "NO_ZONE: ppid still read");
	ias_snapshot_free(s);
	s = NULL;

	is_int(ias_snapshot_live(fake, IAS_SNAP_LIVE_NO_CONTEXT | IAS_SNAP_LIVE_FORCE_CONTEXT, &s),
	       0, "scan without contexts");
	if (!s)
		goto out;
	ok(!ias_snapshot_has_contexts(s), "NO_CONTEXT wins over FORCE_CONTEXT: no contexts");
	x = ias_snapshot_index(s, 50);
	ias_snapshot_get(s, (size_t)(x < 0 ? 0 : x), &pr);
	is_str(pr.context, "-", "NO_CONTEXT: context -");
	is_str(pr.zone, "/big.slice/last.scope", "NO_CONTEXT: zone still read");
out:
	ias_snapshot_free(s);
	free(big);
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fake);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", fake);
	}
}

/* ---- threaded and serial scans ---------------------------------------- */

/* The TSV text of a snapshot (malloc'd). */
static char *tsv_of(const struct ias_snapshot *s)
{
	char *tsv = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&tsv, &len);

	if (!f)
		return NULL;
	ias_snapshot_write_tsv(s, f);
	fclose(f);
	return tsv;
}

static int same_proc(const struct ias_proc *a, const struct ias_proc *b)
{
	return a->pid == b->pid && a->ppid == b->ppid && !strcmp(a->exe, b->exe) &&
	       !strcmp(a->context, b->context) && !strcmp(a->zone, b->zone) &&
	       a->exe_dev == b->exe_dev && a->exe_ino == b->exe_ino;
}

/* Every process of a equals that of b, in the same order, and the TSV texts
 * are the same bytes. */
static int same_snapshot(const struct ias_snapshot *a, const struct ias_snapshot *b)
{
	size_t i, n = ias_snapshot_count(a);
	char *ta, *tb;
	int same;

	if (n != ias_snapshot_count(b) ||
	    ias_snapshot_has_contexts(a) != ias_snapshot_has_contexts(b))
		return 0;
	for (i = 0; i < n; i++) {
		struct ias_proc pa, pb;

		if (ias_snapshot_get(a, i, &pa) || ias_snapshot_get(b, i, &pb) ||
		    !same_proc(&pa, &pb))
			return 0;
	}
	ta = tsv_of(a);
	tb = tsv_of(b);
	same = ta && tb && !strcmp(ta, tb);
	free(ta);
	free(tb);
	return same;
}

/* A fake procfs of 1500 PIDs (many chunks for every thread): a tree with a
 * few programs, dangling and missing exe links, kernel threads, several
 * zones, missing and v1-only cgroup files, exited PIDs and orphans. The scan
 * with 1, 2 and 4 threads and with IAS_SNAP_LIVE_SERIAL must agree. */
static void test_threads_fake(void)
{
	static const char *const exes[] = { "/proc/self/exe", "/nonexistent/prog-a",
					    "/nonexistent/prog-b", NULL };
	static const char *const cgs[] = { "0::/a.slice/x.scope\n", "0::/b.slice\n",
					   "1:cpu:/\n", NULL, "0::/\n" };
	struct ias_snapshot *s[4] = { 0 };
	static const unsigned th[4] = { 1, 2, 4, 0 };
	int pid, k, all = 1;

	snprintf(fake, sizeof(fake), "/tmp/ias-fakeproc-XXXXXX");
	if (!mkdtemp(fake)) {
		ok(0, "mkdtemp");
		return;
	}
	fake_proc(1, "init", 0, "/proc/self/exe", "0::/init.scope\n");
	fake_proc(2, "kthreadd", 0, NULL, "0::/\n");
	for (pid = 3; pid <= 1500; pid++) {
		char dir[1024];

		if (pid % 97 == 0) {	/* exited: no stat */
			snprintf(dir, sizeof(dir), "%s/%d", fake, pid);
			mkdir(dir, 0755);
			continue;
		}
		if (pid < 40) {		/* kernel threads */
			fake_proc(pid, "kworker", 2, NULL, "0::/\n");
			continue;
		}
		/* Parents earlier in the list, some gone (orphans). */
		fake_proc(pid, "p", pid % 13 == 0 ? 99999 : 1 + (pid * 7) % (pid - 1),
			  exes[pid % 4], cgs[pid % 5]);
	}
	for (k = 0; k < 4; k++) {
		int r = k < 3 ? snap_live_scan(fake, 0, th[k], &s[k])
			      : ias_snapshot_live(fake, IAS_SNAP_LIVE_SERIAL, &s[k]);

		if (r) {
			ok(0, "fake /proc scanned (%s)", strerror(-r));
			all = 0;
		}
	}
	if (all) {
		is_int(ias_snapshot_count(s[0]), 1500 - 15, "1485 processes (15 exited)");
		ok(same_snapshot(s[0], s[1]), "2 threads: the same snapshot as 1");
		ok(same_snapshot(s[0], s[2]), "4 threads: the same snapshot as 1");
		ok(same_snapshot(s[0], s[3]), "IAS_SNAP_LIVE_SERIAL: the same snapshot");
	}
	for (k = 0; k < 4; k++)
		ias_snapshot_free(s[k]);
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fake);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", fake);
	}
}

/* The live /proc with 300 processes of ours held still: serial and threaded
 * scans agree on all of them (other processes may come, go or exec between
 * the scans, so only ours are compared exactly). */
static void test_threads_live(void)
{
	enum { HELD = 300 };
	pid_t kids[HELD] = { 0 }, holder;
	struct ias_snapshot *s[3] = { 0 };
	static const unsigned th[3] = { 1, 4, 0 };
	int pfd[2], i, k, st, bad = 0, common = 0, differ = 0;

	if (pipe(pfd)) {
		ok(0, "pipe");
		return;
	}
	holder = fork();
	if (holder == 0) {
		close(pfd[0]);
		for (i = 0; i < HELD; i++) {
			pid_t c = fork();

			if (c == 0) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				for (;;)
					pause();
			}
			kids[i] = c;
		}
		if (write(pfd[1], kids, sizeof(kids)) != (ssize_t)sizeof(kids))
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	{
		size_t got = 0;
		ssize_t n;

		while (got < sizeof(kids) &&
		       (n = read(pfd[0], (char *)kids + got, sizeof(kids) - got)) > 0)
			got += (size_t)n;
		if (got != sizeof(kids)) {
			ok(0, "read the held PIDs");
			goto out;
		}
	}
	for (k = 0; k < 3; k++)
		if (snap_live_scan(NULL, 0, th[k], &s[k])) {
			ok(0, "live scan with %u threads", th[k]);
			goto out;
		}
	for (k = 1; k < 3; k++) {
		for (i = -1; i < HELD; i++) {
			pid_t p = i < 0 ? holder : kids[i];
			long a = ias_snapshot_index(s[0], p), b = ias_snapshot_index(s[k], p);
			struct ias_proc pa, pb;

			if (a < 0 || b < 0 || ias_snapshot_get(s[0], (size_t)a, &pa) ||
			    ias_snapshot_get(s[k], (size_t)b, &pb) || !same_proc(&pa, &pb) ||
			    pa.ppid != (i < 0 ? getpid() : holder) || pa.exe_ino == 0)
				bad++;
		}
		/* The rest: report, do not judge. */
		for (i = 0; i < (int)ias_snapshot_count(s[0]); i++) {
			struct ias_proc pa, pb;
			long b;

			ias_snapshot_get(s[0], (size_t)i, &pa);
			b = ias_snapshot_index(s[k], pa.pid);
			if (b < 0)
				continue;
			common++;
			ias_snapshot_get(s[k], (size_t)b, &pb);
			differ += !same_proc(&pa, &pb);
		}
	}
	ok(bad == 0, "1 thread, 4 threads and the default agree on all %d held processes (%d bad)",
	   HELD + 1, bad);
	printf("# %d PIDs in both scans, %d of them changed between the scans\n", common, differ);
out:
	for (k = 0; k < 3; k++)
		ias_snapshot_free(s[k]);
	for (i = 0; i < HELD; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	kill(holder, SIGKILL);
	waitpid(holder, &st, 0);
	close(pfd[0]);
}

/* Snapshots while processes are created and reaped all the time: each must
 * succeed and form a forest whose TSV reparses. */
static void test_churn(void)
{
	pid_t churn = fork();
	int i, good = 0, st;

	if (churn == 0) {
		for (;;) {
			pid_t c = fork();

			if (c == 0) {
				if (fork() == 0)	/* a grandchild orphaned at once */
					_exit(0);
				_exit(0);
			}
			if (c > 0)
				waitpid(c, NULL, 0);
		}
	}
	for (i = 0; i < 30; i++) {
		struct ias_snapshot *s = NULL, *s2 = NULL;
		struct ias_snap_err err;
		char *tsv = NULL;
		size_t len = 0;
		FILE *f;

		/* Odd rounds: four threads whatever the CPUs. */
		if (snap_live_scan(NULL, 0, i % 2 ? 4 : 0, &s))
			continue;
		f = open_memstream(&tsv, &len);
		ias_snapshot_write_tsv(s, f);
		fclose(f);
		if (ias_snapshot_parse_tsv(tsv, len, &s2, &err) == 0)
			good++;
		else
			printf("# round %d: line %lu: %s\n", i, err.line, err.msg);
		ias_snapshot_free(s2);
		ias_snapshot_free(s);
		free(tsv);
	}
	kill(churn, SIGKILL);
	waitpid(churn, &st, 0);
	is_int(good, 30, "30 snapshots under process churn, all consistent");
}

int main(void)
{
	if (access("/proc/self/stat", R_OK))
		tap_skip_all("no /proc");
	test_real_tree();
	test_self();
	test_fake_proc();
	test_fake_flags();
	test_threads_fake();
	test_threads_live();
	test_churn();
	return tap_done();
}
