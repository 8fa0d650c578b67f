/* See outbox.h. */
#include <stdio.h>
#include <string.h>

#include "sema/outbox.h"
#include "sema/store.h"

int outbox_add(struct sema *s, uint8_t kind, const char *incident, int64_t block_id,
	       pid_t pid, uint32_t qp_count, const char *comm, uint16_t peer_lid,
	       uint32_t peer_qpn)
{
	struct ias_report_rec r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	snprintf(r.incident, sizeof(r.incident), "%s", incident ? incident : "");
	r.block_id = block_id;
	r.pid = pid;
	r.qp_count = qp_count;
	snprintf(r.comm, sizeof(r.comm), "%s", comm ? comm : "");
	r.peer_lid = peer_lid;
	r.peer_qpn = peer_qpn;
	r.event_ms = sema_now_ms();
	return ias_store_report_add(s->store, &r);
}
