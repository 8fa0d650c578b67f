/* eproc_tool: drive sema/enforce_proc from the shell (kernel-bed tests and
 * benchmarks).
 *
 *   eproc_tool freeze PID ID [rdma]   freeze (and cap RDMA objects)
 *   eproc_tool cap PID ID             only cap new RDMA objects
 *   eproc_tool kill PID
 *   eproc_tool release 'STATE'        undo what STATE (line 1 of the above) says
 *
 * Prints the block's state (eproc_format) on line 1 and the note on line 2.
 * $IAS_CGROUP_ROOT and $IAS_BLOCK_PARENT set the config. Exit 0 or 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema/enforce_proc.h"

int main(int argc, char **argv)
{
	struct eproc_cfg c = { getenv("IAS_CGROUP_ROOT"), getenv("IAS_BLOCK_PARENT") };
	struct eproc_block b;
	char note[2048], st[1200];
	int rc;

	memset(&b, 0, sizeof(b));
	if (argc >= 4 && strcmp(argv[1], "freeze") == 0)
		rc = eproc_freeze(&c, atoi(argv[2]), argv[3], argc > 4 && !strcmp(argv[4], "rdma"),
				  &b, note, sizeof(note));
	else if (argc == 4 && strcmp(argv[1], "cap") == 0)
		rc = eproc_rdma_cap(&c, atoi(argv[2]), argv[3], &b, note, sizeof(note));
	else if (argc == 3 && strcmp(argv[1], "kill") == 0)
		rc = eproc_kill(atoi(argv[2]), &b, note, sizeof(note));
	else if (argc == 3 && strcmp(argv[1], "release") == 0) {
		rc = eproc_parse(argv[2], &b);
		if (rc == 0)
			rc = eproc_release(&c, &b, note, sizeof(note));
		else
			snprintf(note, sizeof(note), "bad state text");
	} else {
		fprintf(stderr, "usage: eproc_tool freeze PID ID [rdma] | cap PID ID | kill PID | "
			"release STATE\n");
		return 2;
	}
	eproc_format(&b, st, sizeof(st));
	printf("%s\n%s\n", st, note);
	if (rc)
		fprintf(stderr, "eproc_tool: %s\n", strerror(-rc));
	return rc ? 1 : 0;
}
