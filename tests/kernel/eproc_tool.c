/* eproc_tool: drive sema/enforce_proc from the shell (kernel-bed tests and
 * benchmarks).
 *
 *   eproc_tool freeze PID ID [rdma]   freeze (and cap RDMA objects), and wait
 *                                     (bounded) until the cgroup says frozen
 *   eproc_tool begin PID ID [rdma]    start the freeze, do not wait
 *   eproc_tool state 'STATE'          the freeze's state: prints 1, 0 or -errno
 *   eproc_tool cap PID ID             only cap new RDMA objects
 *   eproc_tool kill PID
 *   eproc_tool release 'STATE'        undo what STATE (line 1 of the above) says
 *   eproc_tool orphans                one line per ias-block-* cgroup:
 *                                     "<cgroup> instance=<hex> block=<n>
 *                                      frozen=<0|1> freeze=<0|1> procs=<n>"
 *   eproc_tool orphan-release CGROUP  thaw, empty and remove that block cgroup
 *
 * freeze/begin/cap/kill/release print the block's state (eproc_format) on
 * line 1 and the note on line 2; orphan-release prints the note.
 * $IAS_CGROUP_ROOT and $IAS_BLOCK_PARENT set the config. Exit 0 or 1. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema/enforce_proc.h"

static int print_orphan(const struct eproc_orphan *o, void *arg)
{
	(void)arg;
	printf("%s instance=%016" PRIx64 " block=%" PRId64 " frozen=%d freeze=%d procs=%d\n",
	       o->cgroup, o->instance, o->block_id, o->frozen, o->freeze_set, o->nprocs);
	return 0;
}

int main(int argc, char **argv)
{
	struct eproc_cfg c = { .cgroup_root = getenv("IAS_CGROUP_ROOT"),
			       .block_parent = getenv("IAS_BLOCK_PARENT") };
	struct eproc_orphan o;
	struct eproc_block b;
	char note[2048], st[1200];
	int rc;

	memset(&b, 0, sizeof(b));
	note[0] = '\0';
	if (argc >= 4 && strcmp(argv[1], "freeze") == 0)
		rc = eproc_freeze(&c, atoi(argv[2]), argv[3], argc > 4 && !strcmp(argv[4], "rdma"),
				  &b, note, sizeof(note));
	else if (argc >= 4 && strcmp(argv[1], "begin") == 0)
		rc = eproc_freeze_begin(&c, atoi(argv[2]), argv[3],
					argc > 4 && !strcmp(argv[4], "rdma"), &b, note, sizeof(note));
	else if (argc == 4 && strcmp(argv[1], "cap") == 0)
		rc = eproc_rdma_cap(&c, atoi(argv[2]), argv[3], &b, note, sizeof(note));
	else if (argc == 3 && strcmp(argv[1], "kill") == 0)
		rc = eproc_kill(atoi(argv[2]), &b, note, sizeof(note));
	else if (argc == 3 && (strcmp(argv[1], "release") == 0 || strcmp(argv[1], "state") == 0)) {
		rc = eproc_parse(argv[2], &b);
		if (rc) {
			fprintf(stderr, "eproc_tool: bad state text\n");
			return 1;
		}
		if (strcmp(argv[1], "state") == 0) {
			printf("%d\n", eproc_freeze_state(&c, &b));
			return 0;
		}
		rc = eproc_release(&c, &b, note, sizeof(note));
	} else if (argc == 2 && strcmp(argv[1], "orphans") == 0) {
		rc = eproc_orphans_foreach(&c, print_orphan, NULL);
		if (rc)
			fprintf(stderr, "eproc_tool: %s\n", strerror(-rc));
		return rc ? 1 : 0;
	} else if (argc == 3 && strcmp(argv[1], "orphan-release") == 0) {
		memset(&o, 0, sizeof(o));
		snprintf(o.cgroup, sizeof(o.cgroup), "%s", argv[2]);
		rc = eproc_orphan_release(&c, &o, note, sizeof(note));
		printf("%s\n", note);
		if (rc)
			fprintf(stderr, "eproc_tool: %s\n", strerror(-rc));
		return rc ? 1 : 0;
	} else {
		fprintf(stderr, "usage: eproc_tool freeze|begin PID ID [rdma] | state STATE | "
			"cap PID ID | kill PID | release STATE | orphans | orphan-release CGROUP\n");
		return 2;
	}
	eproc_format(&b, st, sizeof(st));
	printf("%s\n%s\n", st, note);
	if (rc)
		fprintf(stderr, "eproc_tool: %s\n", strerror(-rc));
	return rc ? 1 : 0;
}
