/* Process snapshots for the analyzer's searches.
 *
 * A snapshot is an immutable table of processes (pid, parent, program
 * identity, SELinux context, zone) taken at one moment, indexed by PID and by
 * parent, and checked to form a forest: PIDs are unique, every parent exists
 * (parent 0 only for PID 1 and kernel threads), and there are no cycles.
 *
 * Two sources: the live /proc of this node, or the TSV text format
 *     pid<TAB>ppid<TAB>exe<TAB>context<TAB>zone
 * (header line exactly as above, then one process per line). Unknown values
 * are "-". Inside a column, backslash, tab, newline, carriage return and other
 * control bytes are written as \\ \t \n \r \xHH.
 *
 * Functions return 0 or a negative errno and never print or exit. */
#ifndef IAS_ANALYZER_SNAPSHOT_H
#define IAS_ANALYZER_SNAPSHOT_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Largest PID Linux can hand out (PID_MAX_LIMIT on 64-bit); also the cap on
 * the number of processes in one snapshot. */
#define IAS_SNAP_PID_MAX 4194304
#define IAS_SNAP_MAX_PROCS IAS_SNAP_PID_MAX
/* Longest accepted TSV line, newline excluded. */
#define IAS_SNAP_MAX_LINE 16384
/* Largest TSV file ias_snapshot_load_tsv() reads. */
#define IAS_SNAP_MAX_FILE (1024UL * 1024 * 1024)

struct ias_snapshot;

/* A read-only view of one process. Strings stay valid while the snapshot
 * lives; unknown values are "-". exe_ino is 0 when the inode is unknown (TSV
 * snapshots, unreadable exe). */
struct ias_proc {
	pid_t pid;
	pid_t ppid;
	const char *exe;
	const char *context;
	const char *zone;
	uint64_t exe_dev;
	uint64_t exe_ino;
};

/* Where a TSV snapshot was rejected: line is 1-based (0 when the error is not
 * about one line) and msg a one-line description without the line. */
struct ias_snap_err {
	unsigned long line;
	char msg[160];
};

/* Flags for ias_snapshot_live(). */
enum {
	/* Read SELinux contexts even if is_selinux_enabled() says no (tests). */
	IAS_SNAP_LIVE_FORCE_CONTEXT = 1 << 0,
	/* Leave the zone column unknown ("-"): no cgroup reads. */
	IAS_SNAP_LIVE_NO_ZONE = 1 << 1,
	/* Leave the context column unknown and report no contexts
	 * (ias_snapshot_has_contexts() is 0); wins over FORCE_CONTEXT. */
	IAS_SNAP_LIVE_NO_CONTEXT = 1 << 2,
	/* Scan in the calling thread only. By default a large /proc is split
	 * over up to four threads (one per usable CPU); the snapshot is the
	 * same either way. */
	IAS_SNAP_LIVE_SERIAL = 1 << 3,
};

/* Parse a TSV snapshot held in memory. On -EINVAL, *err says why and where.
 * -ENOMEM on allocation failure. */
int ias_snapshot_parse_tsv(const char *buf, size_t len, struct ias_snapshot **out,
			   struct ias_snap_err *err);

/* Read and parse a TSV file ("-" = standard input). -EFBIG (with *err set) if
 * the file is larger than IAS_SNAP_MAX_FILE; other read errors as errno. */
int ias_snapshot_load_tsv(const char *path, struct ias_snapshot **out,
			  struct ias_snap_err *err);

/* Take a snapshot of the live system. procdir is the procfs mount (NULL means
 * "/proc"). Processes that exit during the scan are left out; a process whose
 * parent vanished during the scan is placed under PID 1, as the kernel does
 * with orphans. flags: IAS_SNAP_LIVE_*; a caller that needs neither zones
 * nor contexts (e.g. a search without the zone and selinux levels) can skip
 * those columns with IAS_SNAP_LIVE_NO_ZONE | IAS_SNAP_LIVE_NO_CONTEXT.
 * The scan may run in helper threads (see IAS_SNAP_LIVE_SERIAL), which are
 * joined before it returns and take no signals. */
int ias_snapshot_live(const char *procdir, unsigned flags, struct ias_snapshot **out);

/* Write the snapshot as TSV (header included). -EIO on a write error. */
int ias_snapshot_write_tsv(const struct ias_snapshot *s, FILE *f);

void ias_snapshot_free(struct ias_snapshot *s);

/* Number of processes; they are numbered 0..count-1 in ascending PID order. */
size_t ias_snapshot_count(const struct ias_snapshot *s);
/* Fill *out with process number i. -ERANGE if i >= count. */
int ias_snapshot_get(const struct ias_snapshot *s, size_t i, struct ias_proc *out);
/* Look a PID up (O(log n)). Returns its number or -ESRCH. */
long ias_snapshot_index(const struct ias_snapshot *s, pid_t pid);
/* True when the context column carries information: always for TSV
 * snapshots, and for live ones only when SELinux was enabled. */
int ias_snapshot_has_contexts(const struct ias_snapshot *s);

#endif
