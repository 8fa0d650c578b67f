/* kqp_dump: print every QP the kernel tracks, one per line:
 *
 *   dev port lqpn rqpn type state pid
 *
 * "-" stands for a value the kernel did not report (rqpn of a UD QP, pid of a
 * kernel QP). With -a, four more columns follow: sq_psn rq_psn pdn owner,
 * where owner is the kernel module name of a kernel QP or "-".
 * Exit status: 0 on success, 2 when the kernel has no RDMA netlink or no RDMA
 * device, 1 on any other error. Used by the kernel-bed tests. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sema/rdmanl.h"

static int all;

static int print_qp(const struct ias_kqp *q, void *arg)
{
	char rqpn[16] = "-", pid[16] = "-";

	(void)arg;
	if (q->has_rqpn)
		snprintf(rqpn, sizeof(rqpn), "%u", q->rqpn);
	if (q->has_pid)
		snprintf(pid, sizeof(pid), "%u", q->pid);
	printf("%s %u %u %s %s %s %s", q->dev_name, q->port, q->lqpn, rqpn,
	       ias_kqp_type_str(q->type), ias_kqp_state_str(q->state), pid);
	if (all) {
		char rq_psn[16] = "-";

		if (q->has_rq_psn)
			snprintf(rq_psn, sizeof(rq_psn), "%u", q->rq_psn);
		printf(" %u %s %u %s", q->sq_psn, rq_psn, q->pdn,
		       q->kern_name[0] ? q->kern_name : "-");
	}
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	int c, r;

	while ((c = getopt(argc, argv, "ah")) != -1) {
		switch (c) {
		case 'a':
			all = 1;
			break;
		default:
			fprintf(stderr, "usage: %s [-a]\n", argv[0]);
			return c == 'h' ? 0 : 1;
		}
	}
	r = ias_rdmanl_dump_qps(print_qp, NULL);
	if (fflush(stdout) != 0)
		return 1;
	if (r == -ENOENT) {
		fprintf(stderr, "kqp_dump: no RDMA netlink or no RDMA device\n");
		return 2;
	}
	if (r < 0) {
		fprintf(stderr, "kqp_dump: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
