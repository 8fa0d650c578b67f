/* Test helper: REPORT_ATTACK naming the incident to join, as a detector
 * reporting several processes of one incident would (iasctl report has no
 * --incident yet). Usage: az_report SOCKET PID INCIDENT [REASON]
 * Prints the incident id of the reply; exit 0 ok, 1 refused, 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/proto.h"
#include "verbs_ext/ias.h"

int main(int argc, char **argv)
{
	static uint8_t reply[IAS_CTL_MAX_MSG];
	uint8_t rq[4096];
	struct ias_client *c = NULL;
	struct ias_ctl_msg m;
	struct ias_ctl_hdr h;
	struct ias_ctl_attr a;
	struct ias_rd attrs;
	char inc[64] = "";
	size_t len;
	long pid;
	int r;

	if (argc < 4 || argc > 5 || (pid = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: az_report SOCKET PID INCIDENT [REASON]\n");
		return 2;
	}
	r = ias_client_open(argv[1], &c);
	if (r) {
		fprintf(stderr, "az_report: %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_REPORT_ATTACK, 0, 0);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, (uint32_t)pid);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, argv[3]);
	if (argc == 5)
		ias_ctl_put_str(&m, IAS_CTL_A_REASON, argv[4]);
	r = ias_client_call(c, &m, reply, sizeof(reply), &len);
	ias_client_close(c);
	if (r) {
		fprintf(stderr, "az_report: %s\n", strerror(-r));
		return 1;
	}
	ias_ctl_parse_hdr(reply, len, &h, &attrs);
	if (h.status) {
		fprintf(stderr, "az_report: %s\n", ias_ctl_strerror(h.status));
		return 1;
	}
	while (ias_ctl_next(&attrs, &a) == 1)
		if (a.type == IAS_CTL_A_INCIDENT_ID)
			ias_ctl_get_str(&a, inc, sizeof(inc));
	printf("%s\n", inc);
	return 0;
}
