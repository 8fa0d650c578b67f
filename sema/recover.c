/* Crash recovery at start: block cgroups that no active block record
 * explains. Only cgroups the agent made are looked at: ias-block-* directories
 * of root's right under the root-owned block parent (eproc_orphans_foreach);
 * a cgroup of that name that a user made elsewhere is never found, adopted
 * or released. A cgroup of this database instance whose block was never
 * committed (the agent died between enforcing and committing) is an orphan:
 * undone by default, or adopted as a recovered block (adopt_orphans = yes).
 * A cgroup of ANOTHER instance means the state directory was reset or
 * replaced: the start is refused, naming the cgroups, unless the agent was
 * started with --release-orphans (they are thawed and removed). Each
 * decision is logged and audited. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sema/engine_int.h"

struct recover {
	struct sema *s;
	bool release_foreign;
	char *err;
	size_t errlen;
	unsigned foreign, undone, adopted, failed;
	size_t errused;
};

static void audit(struct sema *s, const char *action, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void audit(struct sema *s, const char *action, const char *fmt, ...)
{
	char detail[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (ias_store_audit(s->store, sema_now_ms(), "recovery", action, detail) < 0)
		log_err("audit not written: %s", ias_store_errmsg(s->store));
}

/* The first process in the cgroup (to adopt it), or 0. */
static pid_t first_proc(const struct sema *s, const char *cgroup)
{
	char path[900];
	FILE *f;
	int pid = 0;

	snprintf(path, sizeof(path), "%s%s/cgroup.procs",
		 s->cfg.cgroup_root[0] ? s->cfg.cgroup_root : "/sys/fs/cgroup", cgroup);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid;
}

static int adopt(struct sema *s, const struct eproc_orphan *o)
{
	struct ias_block_rec rec;
	struct eproc_block b;
	struct ias_proc_undo u;
	struct proc_info pi;
	pid_t pid = first_proc(s, o->cgroup);

	if (pid <= 0 || proc_info_get(pid, &pi) < 0)
		return -ESRCH;
	memset(&rec, 0, sizeof(rec));
	snprintf(rec.origin, sizeof(rec.origin), "manual");
	snprintf(rec.node, sizeof(rec.node), "%s", s->cfg.node_name);
	rec.pid = pid;
	rec.pid_start = pi.starttime;
	rec.uid = pi.uid;
	snprintf(rec.comm, sizeof(rec.comm), "%s", pi.comm);
	snprintf(rec.exe, sizeof(rec.exe), "%s", pi.exe);
	snprintf(rec.reason, sizeof(rec.reason), "recovered after a crash: %s", o->cgroup);
	rec.mech = IAS_MECH_FREEZE;
	rec.created_ms = sema_now_ms();
	rec.offence = 1;
	if (ias_store_begin(s->store) < 0)
		return -EIO;
	if (ias_store_block_add(s->store, &rec) < 0)
		goto fail;
	memset(&b, 0, sizeof(b));
	b.pid = pid;
	b.did = EPROC_MOVED | (o->freeze_set ? EPROC_FROZEN : 0);
	snprintf(b.cgroup, sizeof(b.cgroup), "%s", o->cgroup);
	/* Its cgroup before is not known, and the block parent takes no
	 * processes: release moves it to the root cgroup. */
	snprintf(b.origin, sizeof(b.origin), "/");
	block_undo_from_eproc(&b, rec.id, rec.pid_start, &u);
	if (ias_store_proc_undo_set(s->store, &u) < 0)
		goto fail;
	audit(s, "recover-adopt", "block %lld pid %d (%s): orphan cgroup %s adopted",
	      (long long)rec.id, (int)pid, pi.comm, o->cgroup);
	if (ias_store_commit(s->store) < 0)
		goto fail;
	blocked_add(s, pid, pi.starttime, NULL);
	log_notice("orphan block cgroup %s adopted as block %lld (PID %d, %s)", o->cgroup,
		   (long long)rec.id, (int)pid, pi.comm);
	return 0;
fail:
	if (ias_store_in_transaction(s->store))
		ias_store_rollback(s->store);
	return -EIO;
}

static int active(struct sema *s, int64_t id)
{
	struct ias_block_rec rec;

	return id > 0 && ias_store_block_get(s->store, id, &rec) == 0 && !rec.released_ms;
}

static int orphan_cb(const struct eproc_orphan *o, void *arg)
{
	struct recover *r = arg;
	struct sema *s = r->s;
	struct eproc_cfg c;
	char note[512];

	block_eproc_cfg(s, &c);
	if (o->instance && o->instance != s->instance) {
		r->foreign++;
		if (!r->release_foreign) {
			if (r->errused < r->errlen)
				r->errused += (size_t)snprintf(r->err + r->errused, r->errlen - r->errused,
							       "%s%s", r->foreign > 1 ? ", " : "", o->cgroup);
			return 0;
		}
		eproc_orphan_release(&c, o, note, sizeof(note));
		log_notice("block cgroup %s of another database released (--release-orphans): %s",
			   o->cgroup, note);
		audit(s, "recover-release", "cgroup %s of another database instance: %s", o->cgroup, note);
		return 0;
	}
	if (active(s, o->block_id))
		return 0;	/* a live block */
	/* Only a cgroup that carries this database's instance is adopted:
	 * the walk found it root's, right under the root-owned block parent
	 * (enforce_orphan.c), so the agent made it. */
	if (s->adopt_orphans && o->instance != s->instance) {
		log_warn("orphan block cgroup %s carries no instance of this database: not adopted, "
			 "undoing it", o->cgroup);
	} else if (s->adopt_orphans) {
		int a = adopt(s, o);

		if (a == 0) {
			r->adopted++;
			return 0;
		}
		log_warn("orphan block cgroup %s not adopted (%s): undoing it", o->cgroup,
			 a == -ESRCH ? "no process in it" : ias_store_errmsg(s->store));
	}
	if (eproc_orphan_release(&c, o, note, sizeof(note)) < 0)
		r->failed++;
	else
		r->undone++;
	log_notice("orphan block cgroup %s (block %lld never committed) undone: %s", o->cgroup,
		   (long long)o->block_id, note);
	audit(s, "recover-undo", "orphan cgroup %s (block %lld never committed): %s", o->cgroup,
	      (long long)o->block_id, note);
	return 0;
}

int engine_recover(struct sema *s, bool release_foreign, char *err, size_t errlen)
{
	struct recover r = { .s = s, .release_foreign = release_foreign };
	char list[1024] = "";
	struct eproc_cfg c;
	int rc;

	r.err = list;
	r.errlen = sizeof(list);
	block_eproc_cfg(s, &c);
	rc = eproc_orphans_foreach(&c, orphan_cb, &r);
	if (rc < 0 && rc != -ENOENT) {
		log_warn("block cgroups not searched: %s", strerror(-rc));
		return 0;
	}
	if (r.foreign && !release_foreign) {
		snprintf(err, errlen, "block cgroups of another database instance exist (%s): the "
			 "state directory was reset or replaced while processes were blocked; start "
			 "once with --release-orphans to thaw and remove them", list);
		return -EEXIST;
	}
	if (r.undone || r.adopted || r.failed)
		log_notice("crash recovery: %u orphan block(s) undone, %u adopted, %u failed",
			   r.undone, r.adopted, r.failed);
	return 0;
}
