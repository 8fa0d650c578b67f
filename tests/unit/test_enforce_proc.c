/* sema/enforce_proc: parsing of /proc/PID/cgroup, the text form of a block,
 * block cgroup names, argument checks, the SIGSTOP fallback and kill on a
 * real child process, and against a fake cgroup tree in a temporary
 * directory the cgroup steps, the asynchronous freeze state, and finding
 * and releasing orphan block cgroups (the real cgroup v2 freezer and rdma
 * controller are exercised in the kernel bed: tests/kernel/test_block_chain.sh). */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sema/enforce_proc.h"
#include "tests/unit/tap.h"

static char tmp[256];

static void put(const char *rel, const char *text)
{
	char p[1024];
	FILE *f;

	snprintf(p, sizeof(p), "%s%s", tmp, rel);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static char *get(const char *rel)
{
	static char buf[1024];
	char p[1024];
	FILE *f;
	size_t n = 0;

	buf[0] = '\0';
	snprintf(p, sizeof(p), "%s%s", tmp, rel);
	f = fopen(p, "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static const char *tmp_path(const char *rel)
{
	static char p[1024];

	snprintf(p, sizeof(p), "%s%s", tmp, rel);
	return p;
}

static void own(const char *rel, uid_t uid)
{
	if (chown(tmp_path(rel), uid, uid) != 0)
		printf("# chown %s: %s\n", rel, strerror(errno));
}

/* What the kernel gives a new cgroup, in the fake tree. */
static void made(const char *path)
{
	static const char *const files[][2] = {
		{ "cgroup.procs", "" }, { "cgroup.freeze", "0\n" },
		{ "cgroup.events", "populated 0\nfrozen 0\n" },
		{ "rdma.max", "rxe0 hca_handle=max hca_object=max\n" },
	};
	char p[1100];
	size_t i;
	FILE *f;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", path, files[i][0]);
		f = fopen(p, "w");
		if (f) {
			fputs(files[i][1], f);
			fclose(f);
		}
	}
}

/* ...and a kernel that freezes at once (for the blocking eproc_freeze). */
static void made_frozen(const char *path)
{
	char p[1100];
	FILE *f;

	made(path);
	snprintf(p, sizeof(p), "%s/cgroup.events", path);
	f = fopen(p, "w");
	if (f) {
		fputs("populated 1\nfrozen 1\n", f);
		fclose(f);
	}
}

static void mkdirs(const char *rel)
{
	char p[1024], *s;

	snprintf(p, sizeof(p), "%s%s", tmp, rel);
	for (s = p + strlen(tmp) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

static pid_t child(void)
{
	pid_t p = fork();

	if (p == 0) {
		for (;;)
			pause();
	}
	return p;
}

struct seen {
	int n;
	struct eproc_orphan o[8];
	int stop_at;
};

static int collect(const struct eproc_orphan *o, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		s->o[s->n] = *o;
	s->n++;
	return s->stop_at && s->n == s->stop_at ? 7 : 0;
}

static const struct eproc_orphan *find(const struct seen *s, const char *cg)
{
	int i;

	for (i = 0; i < s->n && i < 8; i++)
		if (strcmp(s->o[i].cgroup, cg) == 0)
			return &s->o[i];
	return NULL;
}

static void rm_tmp(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		tap_diag("could not remove the temporary directory");
}

/* Names, the orphan walk and orphan release, in a fresh fake tree. */
static void orphans(void)
{
	const struct eproc_orphan *o;
	struct eproc_cfg cfg = { 0 };
	struct eproc_orphan rel;
	struct seen s;
	char out[64], note[1024], num[32];
	uint64_t inst;
	int64_t id;
	int st;
	pid_t p;

	is_int(eproc_id_format(0x0123456789abcdefULL, 42, out, sizeof(out)), 0, "id_format");
	is_str(out, "0123456789abcdef-42", "id_format: <16 hex>-<block id>");
	is_int(eproc_id_format(0, 42, out, sizeof(out)), -EINVAL, "id_format: instance 0 refused");
	is_int(eproc_id_format(1, -1, out, sizeof(out)), -EINVAL, "id_format: negative id refused");
	is_int(eproc_id_format(1, 42, out, 10), -ENAMETOOLONG, "id_format: short buffer");
	is_int(eproc_orphan_name("ias-block-0123456789abcdef-42", &inst, &id), 0, "name: new form");
	ok(inst == 0x0123456789abcdefULL && id == 42, "name: instance and block id");
	is_int(eproc_orphan_name("ias-block-7", &inst, &id), 0, "name: old form");
	ok(inst == 0 && id == 7, "name: old form has no instance, block id 7");
	is_int(eproc_orphan_name("ias-block-t1", &inst, &id), 0, "name: old form, not a number");
	ok(inst == 0 && id == -1, "name: block id -1");
	is_int(eproc_orphan_name("ias-block-0000000000000000-5", &inst, &id), 0, "name: zero instance");
	ok(inst == 0 && id == -1, "name: a zero instance is not the new form");
	is_int(eproc_orphan_name("ias-block-", &inst, &id), -EINVAL, "name: empty id refused");
	is_int(eproc_orphan_name("ias-blocks", &inst, &id), -EINVAL, "name: other name refused");
	is_int(eproc_orphan_name("ias-block-a b", &inst, &id), -EINVAL, "name: space refused");

	snprintf(tmp, sizeof(tmp), "/tmp/ias-eorph-XXXXXX");
	if (!mkdtemp(tmp)) {
		tap_diag("no temporary directory: orphan checks not run");
		return;
	}
	cfg.cgroup_root = tmp;
	p = child();
	snprintf(num, sizeof(num), "%d\n", (int)p);
	/* Only root's ias-block-* directories right under the block parent
	 * count: one a user made (or one elsewhere) is never taken. */
	mkdirs("/ias.blocks/ias-block-00000000000000aa-5");
	put("/cgroup.procs", "");
	put("/ias.blocks/cgroup.procs", "");
	put("/ias.blocks/ias-block-00000000000000aa-5/cgroup.events", "populated 1\nfrozen 1\n");
	put("/ias.blocks/ias-block-00000000000000aa-5/cgroup.freeze", "1\n");
	put("/ias.blocks/ias-block-00000000000000aa-5/cgroup.procs", num);
	mkdirs("/ias.blocks/ias-block-00000000000000aa-5/ias-block-inner");
	mkdirs("/ias.blocks/ias-block-00000000000000bb-6");
	put("/ias.blocks/ias-block-00000000000000bb-6/cgroup.events", "populated 0\nfrozen 0\n");
	put("/ias.blocks/ias-block-00000000000000bb-6/cgroup.freeze", "0\n");
	put("/ias.blocks/ias-block-00000000000000bb-6/cgroup.procs", "");
	mkdirs("/ias.blocks/ias-block-t9");
	put("/ias.blocks/ias-block-file", "not a cgroup");
	mkdirs("/ias.blocks/ias-block-00000000000000aa-7");	/* a user's */
	own("/ias.blocks/ias-block-00000000000000aa-7", 1000);
	mkdirs("/ias.blocks/ias-block-00000000000000aa-8");	/* the user's cgroup.procs */
	put("/ias.blocks/ias-block-00000000000000aa-8/cgroup.procs", "");
	own("/ias.blocks/ias-block-00000000000000aa-8/cgroup.procs", 1000);
	mkdirs("/a.slice/x.service/ias-block-00000000000000aa-9");	/* not under the parent */
	mkdirs("/ias.slice/ias-block-00000000000000cc-1");

	memset(&s, 0, sizeof(s));
	is_int(eproc_orphans_foreach(&cfg, collect, &s), 0, "orphans: walk of the default parent");
	is_int(s.n, 3, "orphans: three block cgroups found (not nested, not files, not a user's, "
	       "not elsewhere)");
	o = find(&s, "/ias.blocks/ias-block-00000000000000aa-5");
	ok(o && o->instance == 0xaa && o->block_id == 5 && o->frozen && o->freeze_set &&
	   o->nprocs == 1, "orphan: instance, id, frozen, 1 process");
	o = find(&s, "/ias.blocks/ias-block-00000000000000bb-6");
	ok(o && o->instance == 0xbb && o->block_id == 6 && !o->frozen && !o->freeze_set &&
	   o->nprocs == 0, "orphan: not frozen, empty");
	o = find(&s, "/ias.blocks/ias-block-t9");
	ok(o && o->instance == 0 && o->block_id == -1 && o->nprocs == -1,
	   "old-style orphan without interface files");
	ok(!find(&s, "/ias.blocks/ias-block-00000000000000aa-7") &&
	   !find(&s, "/ias.blocks/ias-block-00000000000000aa-8"), "a user's block-named cgroups: skipped");
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	is_int(eproc_orphans_foreach(&cfg, collect, &s), 7, "orphans: the callback's stop value");
	is_int(s.n, 2, "orphans: stopped after two");
	cfg.block_parent = "ias.slice";
	memset(&s, 0, sizeof(s));
	is_int(eproc_orphans_foreach(&cfg, collect, &s), 0, "orphans under a configured parent");
	is_int(s.n, 1, "orphans: only the one under ias.slice");
	own("/ias.slice", 1000);
	memset(&s, 0, sizeof(s));
	is_int(eproc_orphans_foreach(&cfg, collect, &s), 0, "orphans under a user's parent");
	is_int(s.n, 0, "orphans: none taken from a parent that is not root's");
	cfg.block_parent = "none.slice";
	memset(&s, 0, sizeof(s));
	is_int(eproc_orphans_foreach(&cfg, collect, &s), 0, "orphans: no block parent yet");
	is_int(s.n, 0, "orphans: none");
	cfg.block_parent = "../etc";
	is_int(eproc_orphans_foreach(&cfg, collect, &s), -EINVAL, "orphans: bad block parent");
	cfg.block_parent = NULL;

	/* Release: thaw, move the process to the parent, remove. A fake tree
	 * keeps listing the process and cannot rmdir a directory with files. */
	memset(&rel, 0, sizeof(rel));
	snprintf(rel.cgroup, sizeof(rel.cgroup), "/ias.blocks/ias-block-00000000000000aa-5");
	is_int(eproc_orphan_release(&cfg, &rel, note, sizeof(note)), -EBUSY,
	       "orphan release in a fake tree: processes remain");
	is_str(get("/ias.blocks/ias-block-00000000000000aa-5/cgroup.freeze"), "0", "thawed");
	snprintf(num, sizeof(num), "%d", (int)p);
	is_str(get("/cgroup.procs"), num, "process moved to the root cgroup");
	ok(strstr(note, "thawed") && strstr(note, "moved 1 process to cgroup /;") &&
	   strstr(note, "remain"), "note: %s", note);
	snprintf(rel.cgroup, sizeof(rel.cgroup), "/ias.blocks/ias-block-t9");
	is_int(eproc_orphan_release(&cfg, &rel, note, sizeof(note)), 0, "release of an empty orphan");
	ok(strstr(note, "removed cgroup /ias.blocks/ias-block-t9") != NULL, "note: %s", note);
	is_int(eproc_orphan_release(&cfg, &rel, note, sizeof(note)), 0, "release again: gone");
	ok(strstr(note, "gone") != NULL, "note: %s", note);
	snprintf(rel.cgroup, sizeof(rel.cgroup), "/ias.blocks/ias-block-00000000000000aa-7");
	is_int(eproc_orphan_release(&cfg, &rel, note, sizeof(note)), -EPERM,
	       "release of a user's block-named cgroup refused");
	ok(access(tmp_path("/ias.blocks/ias-block-00000000000000aa-7"), F_OK) == 0, "...left alone");
	snprintf(rel.cgroup, sizeof(rel.cgroup), "/a.slice/x.service");
	is_int(eproc_orphan_release(&cfg, &rel, note, sizeof(note)), -EINVAL,
	       "release of a cgroup that is not a block cgroup refused");
	snprintf(rel.cgroup, sizeof(rel.cgroup), "/a/../ias-block-1");
	is_int(eproc_orphan_release(&cfg, &rel, note, sizeof(note)), -EINVAL, "'..' refused");
	kill(p, SIGKILL);
	waitpid(p, &st, 0);
	rm_tmp();
	cfg.cgroup_root = "/nonexistent-ias-root";
	is_int(eproc_orphans_foreach(&cfg, collect, &s), -ENOENT, "orphans: no cgroup root");
}

int main(void)
{
	struct eproc_cfg cfg = { 0 };
	struct eproc_block b, b2;
	char out[512], note[1024], self[512], text[4096], rel[1024], num[32], path[2048];
	struct stat sb;
	int st, have_v2;
	FILE *f;
	size_t n;
	pid_t p;

	/* parsing */
	is_int(eproc_cgroup_of("12:pids:/\n1:name=systemd:/x\n0::/user.slice/a.service\n", out,
			       sizeof(out)), 0, "cgroup_of: v2 line found among v1 lines");
	is_str(out, "/user.slice/a.service", "cgroup_of: the path");
	is_int(eproc_cgroup_of("0::/\n", out, sizeof(out)), 0, "cgroup_of: root cgroup");
	is_str(out, "/", "cgroup_of: \"/\"");
	is_int(eproc_cgroup_of("4:memory:/x\n", out, sizeof(out)), -ENOENT, "cgroup_of: v1 only");
	is_int(eproc_cgroup_of("", out, sizeof(out)), -ENOENT, "cgroup_of: empty");
	is_int(eproc_cgroup_of("0::/abcdef", out, 4), -ENAMETOOLONG, "cgroup_of: too long");
	is_int(eproc_cgroup_of("0::relative\n", out, sizeof(out)), -ENOENT, "cgroup_of: not absolute");

	memset(&b, 0, sizeof(b));
	b.pid = 4242;
	b.did = EPROC_MOVED | EPROC_FROZEN | EPROC_RDMA_CAP;
	snprintf(b.cgroup, sizeof(b.cgroup), "/system.slice/x.service/ias-block-7");
	snprintf(b.origin, sizeof(b.origin), "/system.slice/x.service");
	is_int(eproc_format(&b, out, sizeof(out)), 0, "format");
	is_str(out, "pid=4242 did=11 cg=/system.slice/x.service/ias-block-7 from=/system.slice/x.service",
	       "format: text");
	is_int(eproc_parse(out, &b2), 0, "parse");
	ok(b2.pid == b.pid && b2.did == b.did && !strcmp(b2.cgroup, b.cgroup) &&
	   !strcmp(b2.origin, b.origin), "parse(format(b)) == b");
	is_int(eproc_parse("pid=99 did=4 cg=- from=-", &b2), 0, "parse: SIGSTOP only");
	ok(b2.cgroup[0] == '\0' && b2.origin[0] == '\0' && b2.did == EPROC_SIGSTOP, "...no cgroup");
	is_int(eproc_parse("pid=99 did=3 cg=/a/../b from=/a", &b2), -EINVAL, "parse: '..' refused");
	is_int(eproc_parse("pid=1 did=2 cg=/a from=/", &b2), -EINVAL, "parse: pid 1 refused");
	is_int(eproc_parse("pid=9 did=64 cg=/a from=/", &b2), -EINVAL, "parse: unknown bits refused");
	is_int(eproc_parse("pid=9 did=2 cg=a from=/", &b2), -EINVAL, "parse: relative path refused");
	is_int(eproc_parse("pid=9 did=2 cg=/a from=/ x", &b2), -EINVAL, "parse: trailing junk refused");

	/* arguments */
	snprintf(tmp, sizeof(tmp), "/tmp/ias-eproc-XXXXXX");
	if (!mkdtemp(tmp))
		tap_skip_all("no temporary directory");
	cfg.cgroup_root = tmp;
	is_int(eproc_freeze(&cfg, 1, "x", false, &b, note, sizeof(note)), -EINVAL, "pid 1 refused");
	is_int(eproc_freeze(&cfg, getpid(), "../x", false, &b, note, sizeof(note)), -EINVAL,
	       "id with a slash refused");
	p = child();
	kill(p, SIGKILL);
	waitpid(p, &st, 0);
	is_int(eproc_freeze(&cfg, p, "x", false, &b, note, sizeof(note)), -ESRCH,
	       "a process that is gone: -ESRCH");

	/* No cgroup v2 hierarchy at the root: SIGSTOP, and the note says so. */
	p = child();
	is_int(eproc_freeze(&cfg, p, "t0", false, &b, note, sizeof(note)), 0,
	       "fallback freeze returns 0");
	is_int((int)b.did, EPROC_SIGSTOP, "fallback: SIGSTOP recorded");
	ok(strstr(note, "SIGSTOP") && strstr(note, "unavailable"), "fallback note: %s", note);
	ok(waitpid(p, &st, WUNTRACED) == p && WIFSTOPPED(st), "the process is stopped");
	is_int(eproc_freeze_state(&cfg, &b), 1, "freeze state: SIGSTOP counts as frozen at once");
	is_int(eproc_events_path(&cfg, &b, out, sizeof(out)), -EINVAL, "no cgroup.events to watch");
	is_int(eproc_release(&cfg, &b, note, sizeof(note)), 0, "release of the fallback");
	ok(strstr(note, "SIGCONT") != NULL, "release note: %s", note);
	ok(waitpid(p, &st, WCONTINUED) == p && WIFCONTINUED(st), "the process continued");
	is_int((int)b.did, 0, "nothing left to undo");
	kill(p, SIGKILL);
	waitpid(p, &st, 0);

	/* A fake cgroup tree: the steps and what they write. Block cgroups
	 * go under the root's block parent (ias.blocks by default), made by
	 * the agent; made() adds the files the kernel would. */
	f = fopen("/proc/self/cgroup", "r");
	n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (f)
		fclose(f);
	text[n] = '\0';
	have_v2 = eproc_cgroup_of(text, self, sizeof(self)) == 0;
	if (have_v2) {
		cfg.made = made;
		put("/cgroup.controllers", "rdma\n");
		put("/cgroup.subtree_control", "");
		if (strcmp(self, "/"))
			mkdirs(self);
		snprintf(out, sizeof(out), "%s/cgroup.procs", strcmp(self, "/") ? self : "");
		put(out, "");
		snprintf(rel, sizeof(rel), "/ias.blocks/ias-block-t1");
		p = child();
		snprintf(num, sizeof(num), "%d", (int)p);
		is_int(eproc_freeze_begin(&cfg, p, "t1", true, &b, note, sizeof(note)), 0,
		       "freeze begun through the (fake) cgroup tree");
		is_int((int)b.did, EPROC_MOVED | EPROC_FROZEN | EPROC_RDMA_CAP,
		       "moved, frozen and capped");
		is_str(b.cgroup, rel, "block cgroup under the default parent /ias.blocks");
		is_str(b.origin, self, "origin recorded");
		ok(stat(tmp_path("/ias.blocks"), &sb) == 0 && sb.st_uid == 0 &&
		   (sb.st_mode & 0777) == 0755, "the block parent was made 0755, root's");
		snprintf(out, sizeof(out), "%s/cgroup.procs", rel);
		is_str(get(out), num, "the PID was written to the block cgroup's cgroup.procs");
		snprintf(out, sizeof(out), "%s/cgroup.freeze", rel);
		is_str(get(out), "1", "cgroup.freeze = 1");
		snprintf(out, sizeof(out), "%s/rdma.max", rel);
		is_str(get(out), "rxe0 hca_handle=0 hca_object=0", "rdma.max capped to 0");
		ok(strstr(note, "moved") && strstr(note, "freeze requested") && strstr(note, "capped"),
		   "note: %s", note);
		is_int(eproc_freeze_state(&cfg, &b), 0, "freeze state: not frozen yet");
		is_int(eproc_events_path(&cfg, &b, text, sizeof(text)), 0, "events path");
		snprintf(path, sizeof(path), "%s%s/cgroup.events", tmp, rel);
		is_str(text, path, "events path: the block cgroup's cgroup.events");
		snprintf(out, sizeof(out), "%s/cgroup.events", rel);
		put(out, "populated 1\nfrozen 1\n");
		is_int(eproc_freeze_state(&cfg, &b), 1, "freeze state: frozen");
		put(out, "frozen 10\n");
		is_int(eproc_freeze_state(&cfg, &b), 0, "freeze state: \"frozen 10\" is not frozen");
		is_int(eproc_events_path(&cfg, &b, text, 8), -ENAMETOOLONG, "events path: short buffer");
		unlink(path);
		is_int(eproc_freeze_state(&cfg, &b), -ENOENT, "freeze state: cgroup.events gone");
		put(out, "populated 1\nfrozen 1\n");
		is_int(eproc_release(&cfg, &b, note, sizeof(note)), 0, "release");
		snprintf(out, sizeof(out), "%s/cgroup.freeze", rel);
		is_str(get(out), "0", "cgroup.freeze = 0");
		snprintf(out, sizeof(out), "%s/cgroup.procs", strcmp(self, "/") ? self : "");
		is_str(get(out), num, "the PID was written back to its origin's cgroup.procs");
		ok(strstr(note, "thawed") && strstr(note, "moved") && strstr(note, "back"),
		   "release note: %s", note);
		ok(!(b.did & (EPROC_MOVED | EPROC_FROZEN)), "moved/frozen undone");

		/* A block cgroup name that exists already is never reused
		 * (the user could have made it, or thawed it): SIGSTOP. */
		mkdirs("/ias.blocks/ias-block-t3");
		put("/ias.blocks/ias-block-t3/cgroup.procs", "");
		put("/ias.blocks/ias-block-t3/cgroup.freeze", "0");
		is_int(eproc_freeze_begin(&cfg, p, "t3", false, &b, note, sizeof(note)), 0,
		       "a block cgroup that exists: not adopted");
		is_int((int)b.did, EPROC_SIGSTOP, "...the SIGSTOP fallback instead");
		ok(strstr(note, "exists already") && strstr(note, "not reused"), "note: %s", note);
		is_str(get("/ias.blocks/ias-block-t3/cgroup.procs"), "", "nothing moved into it");
		ok(waitpid(p, &st, WUNTRACED) == p && WIFSTOPPED(st), "the process is stopped");
		is_int(eproc_release(&cfg, &b, note, sizeof(note)), 0, "release of the SIGSTOP");

		/* Parents the blocked user could write are refused. */
		cfg.block_parent = "user.slice/user@1000.service/ias.blocks";
		mkdirs("/user.slice/user@1000.service");
		put("/user.slice/user@1000.service/cgroup.procs", "");
		own("/user.slice/user@1000.service", 1000);
		is_int(eproc_freeze_begin(&cfg, p, "t4", false, &b, note, sizeof(note)), 0,
		       "block parent inside a delegated subtree: not used");
		is_int((int)b.did, EPROC_SIGSTOP, "...SIGSTOP instead");
		ok(access(tmp_path("/user.slice/user@1000.service/ias.blocks"), F_OK) != 0,
		   "nothing was made inside the delegated subtree");
		ok(strstr(note, "user@1000.service is owned by uid 1000") &&
		   strstr(note, "refused as the block parent"), "note: %s", note);
		is_int(eproc_release(&cfg, &b, note, sizeof(note)), 0, "release of the SIGSTOP");
		own("/user.slice/user@1000.service", 0);
		own("/user.slice/user@1000.service/cgroup.procs", 1000);
		is_int(eproc_parent_ready(&cfg, note, sizeof(note)), -EPERM,
		       "a parent whose ancestor's cgroup.procs is the user's: refused");
		ok(strstr(note, "cgroup.procs is owned by uid 1000") != NULL, "why: %s", note);
		cfg.block_parent = "open.blocks";
		mkdirs("/open.blocks");
		chmod(tmp_path("/open.blocks"), 0777);
		is_int(eproc_parent_ready(&cfg, note, sizeof(note)), -EPERM,
		       "a parent writable by others: refused");
		ok(strstr(note, "writable by others") != NULL, "why: %s", note);
		cfg.block_parent = "/";
		is_int(eproc_parent_ready(&cfg, note, sizeof(note)), -EINVAL, "the root as parent: refused");

		/* A configured parent ("ias.slice"): made if missing. */
		cfg.block_parent = "ias.slice";
		cfg.made = made_frozen;
		is_int(eproc_freeze(&cfg, p, "t2", false, &b, note, sizeof(note)), 0,
		       "blocking freeze (tools) into ias.slice");
		ok(strstr(note, "cgroup.events says frozen") != NULL, "blocking freeze note: %s", note);
		is_str(b.cgroup, "/ias.slice/ias-block-t2", "block cgroup under ias.slice");
		is_int((int)b.did, EPROC_MOVED | EPROC_FROZEN, "moved and frozen, no rdma cap asked");
		kill(p, SIGKILL);
		waitpid(p, &st, 0);
		is_int(eproc_release(&cfg, &b, note, sizeof(note)), 0, "release after the process died");
		ok(strstr(note, "gone") != NULL, "release note says the process is gone: %s", note);
		cfg.block_parent = NULL;
		cfg.made = NULL;
	} else {
		tap_diag("no cgroup v2 line in /proc/self/cgroup: fake-tree checks not run");
	}

	/* kill */
	p = child();
	memset(&b, 0, sizeof(b));
	is_int(eproc_kill(p, &b, note, sizeof(note)), 0, "kill");
	ok(waitpid(p, &st, 0) == p && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	   "the process was killed");
	ok(b.did == EPROC_KILLED && strstr(note, "SIGKILL"), "kill recorded: %s", note);
	is_int(eproc_release(&cfg, &b, note, sizeof(note)), 0, "release of a kill");
	ok(strstr(note, "nothing to undo") != NULL, "release note: %s", note);
	rm_tmp();
	orphans();
	return tap_done();
}
