/* SecMgt attribute codec: every attribute's big-endian layout, read and
 * written field by field through common/cursor.h.
 *
 * Each reader/writer step names the offset it expects to be at (at()); a
 * layout that drifts from the offset enums in secmgt.h makes every decode
 * fail, and the _Static_asserts of secmgt_layout.h pin the enums themselves. */
#include <errno.h>
#include <string.h>

#include "common/cursor.h"
#include "mad_defs/secmgt.h"
#include "mad_defs/secmgt_layout.h"

/* ---- Method / attribute pairing -------------------------------------- */

static int attr_known(uint16_t attr_id)
{
	switch (attr_id) {
	case IAS_ATTR_CLASS_PORT_INFO: case IAS_ATTR_TRACE:
	case IAS_ATTR_TRACE_RESULT: case IAS_ATTR_BLOCK: case IAS_ATTR_RELEASE:
	case IAS_ATTR_POLICY: case IAS_ATTR_STATUS: case IAS_ATTR_REPORT:
	case IAS_ATTR_MIRROR: case IAS_ATTR_AGENT_LIST:
		return 1;
	}
	return 0;
}

/* Mirror is the one attribute whose request and answer differ. */
static int attr_size(uint8_t method, uint16_t attr_id)
{
	switch (attr_id) {
	case IAS_ATTR_MIRROR: return method == IAS_METHOD_GET ? IAS_MIRQ_SIZE : IAS_MIRA_SIZE;
	case IAS_ATTR_AGENT_LIST: return IAS_AL_SIZE;
	case IAS_ATTR_CLASS_PORT_INFO: return IAS_CPI_SIZE;
	case IAS_ATTR_TRACE: return IAS_TRACE_SIZE;
	case IAS_ATTR_TRACE_RESULT: return IAS_TRES_SIZE;
	case IAS_ATTR_BLOCK: return IAS_BLOCK_SIZE;
	case IAS_ATTR_RELEASE: return IAS_REL_SIZE;
	case IAS_ATTR_POLICY: return IAS_POL_SIZE;
	case IAS_ATTR_STATUS: return IAS_ST_SIZE;
	case IAS_ATTR_REPORT: return IAS_REP_SIZE;
	}
	return -1;
}

int ias_secmgt_method_allowed(uint8_t method, uint16_t attr_id)
{
	switch (method) {
	case IAS_METHOD_GET:
		return attr_id == IAS_ATTR_CLASS_PORT_INFO ||
		       attr_id == IAS_ATTR_POLICY || attr_id == IAS_ATTR_STATUS ||
		       attr_id == IAS_ATTR_REPORT || /* attr_mod: seq, 0 = latest */
		       attr_id == IAS_ATTR_MIRROR;
	case IAS_METHOD_SET:
		return attr_id == IAS_ATTR_TRACE || attr_id == IAS_ATTR_BLOCK ||
		       attr_id == IAS_ATTR_RELEASE || attr_id == IAS_ATTR_POLICY ||
		       attr_id == IAS_ATTR_AGENT_LIST;
	case IAS_METHOD_GET_RESP:
		return attr_id == IAS_ATTR_CLASS_PORT_INFO ||
		       attr_id == IAS_ATTR_TRACE_RESULT ||
		       attr_id == IAS_ATTR_BLOCK || attr_id == IAS_ATTR_RELEASE ||
		       attr_id == IAS_ATTR_POLICY || attr_id == IAS_ATTR_STATUS ||
		       attr_id == IAS_ATTR_REPORT || attr_id == IAS_ATTR_MIRROR ||
		       attr_id == IAS_ATTR_AGENT_LIST;
	case IAS_METHOD_REPORT:
	case IAS_METHOD_REPORT_RESP:
		return attr_id == IAS_ATTR_REPORT;
	}
	return 0;
}

int ias_secmgt_attr_len(uint8_t method, uint16_t status, uint16_t attr_id)
{
	if (!ias_secmgt_method_allowed(method, attr_id))
		return -1;
	if (method == IAS_METHOD_GET && attr_id != IAS_ATTR_MIRROR)
		return 0;
	if ((method == IAS_METHOD_GET_RESP || method == IAS_METHOD_REPORT_RESP) &&
	    status != IAS_STATUS_OK)
		return 0;
	return attr_size(method, attr_id);
}

/* ---- Reading ---------------------------------------------------------- */

struct dec {
	struct ias_rd r;
	int short_read;
	enum ias_mad_reason why; /* first failure in field order */
};

static void fail(struct dec *d, enum ias_mad_reason why)
{
	if (d->why == IAS_MAD_OK)
		d->why = why;
}

static void at(struct dec *d, size_t off)
{
	if (d->r.off != off)
		d->short_read = 1;
}

static void u8_(struct dec *d, uint8_t *v)
{
	if (ias_rd_u8(&d->r, v))
		d->short_read = 1;
}

static void u16_(struct dec *d, uint16_t *v)
{
	if (ias_rd_u16(&d->r, v))
		d->short_read = 1;
}

static void u32_(struct dec *d, uint32_t *v)
{
	if (ias_rd_u32(&d->r, v))
		d->short_read = 1;
}

static void u64_(struct dec *d, uint64_t *v)
{
	if (ias_rd_u64(&d->r, v))
		d->short_read = 1;
}

static void rsv(struct dec *d, size_t n)
{
	if (ias_rd_left(&d->r) < n) {
		d->short_read = 1;
		return;
	}
	if (ias_rd_zero(&d->r, n)) {
		fail(d, IAS_MAD_RESERVED_NONZERO);
		ias_rd_skip(&d->r, n);
	}
}

/* A QPN: one reserved (zero) byte, then 24 bits. */
static void qpn_(struct dec *d, uint32_t *q)
{
	rsv(d, 1);
	if (ias_rd_u24(&d->r, q))
		d->short_read = 1;
}

/* Fixed-size string: printable ASCII, a NUL, then only NULs. */
static void str_(struct dec *d, char *s, size_t n)
{
	const uint8_t *p;
	size_t i, end = n;

	memset(s, 0, n);
	if (ias_rd_ptr(&d->r, &p, n)) {
		d->short_read = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		if (p[i] == 0) {
			end = i;
			break;
		}
		if (p[i] < 0x20 || p[i] > 0x7e) {
			fail(d, IAS_MAD_BAD_STRING);
			return;
		}
	}
	if (end == n) {
		fail(d, IAS_MAD_BAD_STRING);
		return;
	}
	for (i = end; i < n; i++)
		if (p[i]) {
			fail(d, IAS_MAD_BAD_STRING);
			return;
		}
	memcpy(s, p, end);
}

static void check(struct dec *d, int cond)
{
	if (!cond)
		fail(d, IAS_MAD_BAD_VALUE);
}

static void dec_cpi(struct dec *d, struct ias_attr_cpi *a)
{
	at(d, IAS_CPI_PROTO_VERSION); u8_(d, &a->proto_version);
	at(d, IAS_CPI_ROLE); u8_(d, &a->role);
	at(d, IAS_CPI_RESP_TIME); u8_(d, &a->resp_time_value);
	at(d, IAS_CPI_RESERVED); rsv(d, 1);
	at(d, IAS_CPI_CAP_MASK); u32_(d, &a->cap_mask);
	at(d, IAS_CPI_NODE_GUID); u64_(d, &a->node_guid);
	at(d, IAS_CPI_NODE_DESC); str_(d, a->node_desc, sizeof(a->node_desc));
	at(d, IAS_CPI_RESERVED2); rsv(d, 3);
	at(d, IAS_CPI_SIZE);
	check(d, a->proto_version >= 1);
	check(d, a->role == IAS_ROLE_AGENT || a->role == IAS_ROLE_MANAGER);
	check(d, a->resp_time_value <= IAS_RESP_TIME_MAX);
}

static void dec_trace(struct dec *d, struct ias_attr_trace *a)
{
	at(d, IAS_TRACE_INCIDENT); u64_(d, &a->incident_id);
	at(d, IAS_TRACE_ORIGIN_GUID); u64_(d, &a->origin_guid);
	at(d, IAS_TRACE_SENDER_GUID); u64_(d, &a->sender_guid);
	at(d, IAS_TRACE_DEST_QPN); qpn_(d, &a->dest_qpn);
	at(d, IAS_TRACE_SENDER_QPN); qpn_(d, &a->sender_qpn);
	at(d, IAS_TRACE_HOP_COUNT); u8_(d, &a->hop_count);
	at(d, IAS_TRACE_HOP_LIMIT); u8_(d, &a->hop_limit);
	at(d, IAS_TRACE_FANOUT); u8_(d, &a->fanout_limit);
	at(d, IAS_TRACE_SEARCH); u8_(d, &a->search_level);
	at(d, IAS_TRACE_FLAGS); u16_(d, &a->flags);
	at(d, IAS_TRACE_REASON); u16_(d, &a->reason);
	at(d, IAS_TRACE_SIZE);
	if (a->flags & ~IAS_TRACE_F_MASK)
		fail(d, IAS_MAD_RESERVED_NONZERO);
	check(d, a->incident_id != 0);
	check(d, a->search_level <= IAS_SEARCH_MAX);
	check(d, a->reason >= 1 && a->reason <= IAS_TREASON_MAX);
}

static void dec_tres(struct dec *d, struct ias_attr_trace_result *a)
{
	uint32_t q;
	uint16_t lid;
	unsigned i;

	at(d, IAS_TRES_INCIDENT); u64_(d, &a->incident_id);
	at(d, IAS_TRES_RESPONDER); u64_(d, &a->responder_guid);
	at(d, IAS_TRES_RESULT); u8_(d, &a->result);
	at(d, IAS_TRES_FLAGS); u8_(d, &a->flags);
	at(d, IAS_TRES_N_QPNS); u8_(d, &a->n_qpns);
	at(d, IAS_TRES_N_HOPS); u8_(d, &a->n_hops);
	at(d, IAS_TRES_OWNER_PID); u32_(d, &a->owner_pid);
	at(d, IAS_TRES_QPS_BLOCKED); u32_(d, &a->qps_blocked);
	if (a->flags & ~IAS_TRESULT_F_MASK)
		fail(d, IAS_MAD_RESERVED_NONZERO);
	check(d, a->result >= 1 && a->result <= IAS_TRESULT_MAX);
	check(d, a->n_qpns <= IAS_TRACE_MAX_QPNS);
	check(d, a->n_hops <= IAS_TRACE_MAX_HOPS);
	at(d, IAS_TRES_QPNS);
	for (i = 0; i < IAS_TRACE_MAX_QPNS; i++) {
		qpn_(d, &q);
		if (i < a->n_qpns)
			a->qpns[i] = q;
		else if (q)
			fail(d, IAS_MAD_RESERVED_NONZERO);
	}
	at(d, IAS_TRES_HOPS);
	for (i = 0; i < IAS_TRACE_MAX_HOPS; i++) {
		u16_(d, &lid);
		qpn_(d, &q);
		if (i < a->n_hops) {
			a->hops[i].lid = lid;
			a->hops[i].qpn = q;
		} else if (lid || q) {
			fail(d, IAS_MAD_RESERVED_NONZERO);
		}
	}
	at(d, IAS_TRES_SIZE);
}

static void dec_block(struct dec *d, uint8_t method, struct ias_attr_block *a)
{
	at(d, IAS_BLOCK_SCOPE); u8_(d, &a->scope);
	at(d, IAS_BLOCK_FLAGS); u8_(d, &a->flags);
	at(d, IAS_BLOCK_RESERVED); rsv(d, 2);
	at(d, IAS_BLOCK_PID); u32_(d, &a->pid);
	at(d, IAS_BLOCK_INCIDENT); u64_(d, &a->incident_id);
	at(d, IAS_BLOCK_ID); u64_(d, &a->block_id);
	at(d, IAS_BLOCK_DURATION); u32_(d, &a->duration_s);
	at(d, IAS_BLOCK_RESERVED2); rsv(d, 4);
	at(d, IAS_BLOCK_REASON); str_(d, a->reason, sizeof(a->reason));
	at(d, IAS_BLOCK_SIZE);
	if (a->flags & ~IAS_BLOCK_F_MASK)
		fail(d, IAS_MAD_RESERVED_NONZERO);
	if (method == IAS_METHOD_SET && a->block_id)
		fail(d, IAS_MAD_RESERVED_NONZERO);
	check(d, a->scope == IAS_SCOPE_PID || a->scope == IAS_SCOPE_INCIDENT);
	check(d, a->scope != IAS_SCOPE_PID || a->pid != 0);
	check(d, a->scope != IAS_SCOPE_INCIDENT || a->incident_id != 0);
}

static void dec_release(struct dec *d, uint8_t method, struct ias_attr_release *a)
{
	at(d, IAS_REL_SCOPE); u8_(d, &a->scope);
	at(d, IAS_REL_FLAGS); u8_(d, &a->flags);
	at(d, IAS_REL_RESERVED); rsv(d, 2);
	at(d, IAS_REL_RELEASED); u32_(d, &a->released);
	at(d, IAS_REL_ID); u64_(d, &a->id);
	at(d, IAS_REL_SIZE);
	if (a->flags & ~IAS_RELEASE_F_MASK)
		fail(d, IAS_MAD_RESERVED_NONZERO);
	if (method == IAS_METHOD_SET && a->released)
		fail(d, IAS_MAD_RESERVED_NONZERO);
	check(d, a->scope >= IAS_SCOPE_PID && a->scope <= IAS_SCOPE_BLOCK);
	check(d, a->id != 0);
	check(d, a->scope != IAS_SCOPE_PID || a->id <= UINT32_MAX);
}

static void dec_policy(struct dec *d, struct ias_attr_policy *a)
{
	at(d, IAS_POL_VERSION); u32_(d, &a->policy_version);
	at(d, IAS_POL_SEARCH); u8_(d, &a->search_level);
	at(d, IAS_POL_BLOCK_MODE); u8_(d, &a->block_mode);
	at(d, IAS_POL_FLAGS); u8_(d, &a->flags);
	at(d, IAS_POL_HOP_LIMIT); u8_(d, &a->hop_limit);
	at(d, IAS_POL_FANOUT); u8_(d, &a->fanout_limit);
	at(d, IAS_POL_RESERVED); rsv(d, 1);
	at(d, IAS_POL_ESCALATION); u16_(d, &a->escalation_x100);
	at(d, IAS_POL_BASE_DUR); u32_(d, &a->base_duration_s);
	at(d, IAS_POL_MAX_DUR); u32_(d, &a->max_duration_s);
	at(d, IAS_POL_RESERVED2); rsv(d, 4);
	at(d, IAS_POL_SIZE);
	if (a->flags & ~IAS_POLICY_F_MASK)
		fail(d, IAS_MAD_RESERVED_NONZERO);
	check(d, a->search_level <= IAS_SEARCH_MAX);
	check(d, a->block_mode <= IAS_BLOCK_MODE_MAX);
	check(d, a->escalation_x100 >= 100);
	check(d, a->base_duration_s > 0);
	check(d, a->max_duration_s >= a->base_duration_s);
}

static void dec_status(struct dec *d, struct ias_attr_status *a)
{
	at(d, IAS_ST_NODE_GUID); u64_(d, &a->node_guid);
	at(d, IAS_ST_UPTIME); u64_(d, &a->uptime_s);
	at(d, IAS_ST_ACTIVE_BLOCKS); u32_(d, &a->active_blocks);
	at(d, IAS_ST_POLICY_VER); u32_(d, &a->policy_version);
	at(d, IAS_ST_TOTAL_BLOCKS); u64_(d, &a->total_blocks);
	at(d, IAS_ST_QPS_KNOWN); u32_(d, &a->qps_known);
	at(d, IAS_ST_QPS_BLOCKED); u32_(d, &a->qps_blocked);
	at(d, IAS_ST_INCIDENTS); u64_(d, &a->incidents);
	at(d, IAS_ST_MADS_REJECTED); u64_(d, &a->mads_rejected);
	at(d, IAS_ST_SIZE);
}

static void dec_report(struct dec *d, struct ias_attr_report *a)
{
	at(d, IAS_REP_SEQ); u64_(d, &a->seq);
	at(d, IAS_REP_INCIDENT); u64_(d, &a->incident_id);
	at(d, IAS_REP_NODE_GUID); u64_(d, &a->node_guid);
	at(d, IAS_REP_EVENT_MS); u64_(d, &a->event_time_ms);
	at(d, IAS_REP_BLOCK_ID); u64_(d, &a->block_id);
	at(d, IAS_REP_KIND); u8_(d, &a->kind);
	at(d, IAS_REP_RESERVED); rsv(d, 1);
	at(d, IAS_REP_PEER_LID); u16_(d, &a->peer_lid);
	at(d, IAS_REP_PEER_QPN); qpn_(d, &a->peer_qpn);
	at(d, IAS_REP_PID); u32_(d, &a->pid);
	at(d, IAS_REP_QP_COUNT); u32_(d, &a->qp_count);
	at(d, IAS_REP_COMM); str_(d, a->comm, sizeof(a->comm));
	at(d, IAS_REP_SIZE);
	check(d, a->seq != 0);
	check(d, a->kind >= 1 && a->kind <= IAS_REPORT_KIND_MAX);
}

static void dec_mirq(struct dec *d, struct ias_attr_mirror_q *a)
{
	at(d, IAS_MIRQ_ASKER_GUID); u64_(d, &a->asker_guid);
	at(d, IAS_MIRQ_ASKER_QPN); qpn_(d, &a->asker_qpn);
	at(d, IAS_MIRQ_REMOTE_QPN); qpn_(d, &a->remote_qpn);
	at(d, IAS_MIRQ_SIZE);
	check(d, a->asker_qpn != 0 && a->remote_qpn != 0);
}

static void dec_mira(struct dec *d, struct ias_attr_mirror_a *a)
{
	at(d, IAS_MIRA_RESPONDER); u64_(d, &a->responder_guid);
	at(d, IAS_MIRA_ASKER_GUID); u64_(d, &a->asker_guid);
	at(d, IAS_MIRA_ASKER_QPN); qpn_(d, &a->asker_qpn);
	at(d, IAS_MIRA_QPN); qpn_(d, &a->qpn);
	at(d, IAS_MIRA_MATCH); u8_(d, &a->match);
	at(d, IAS_MIRA_RESERVED); rsv(d, 3);
	at(d, IAS_MIRA_SIZE);
	check(d, a->match <= IAS_MIRROR_MATCH_MAX);
	check(d, a->asker_qpn != 0);
	/* found: the QPN there; not found: nothing */
	check(d, (a->match == IAS_MIRROR_NOT_FOUND) == (a->qpn == 0));
}

static void dec_alist(struct dec *d, struct ias_attr_agent_list *a)
{
	static const uint8_t zero[16];
	struct ias_agent_entry x;
	uint8_t flags;
	unsigned i;

	at(d, IAS_AL_GENERATION); u32_(d, &a->generation);
	at(d, IAS_AL_TOTAL); u16_(d, &a->total);
	at(d, IAS_AL_FIRST); u16_(d, &a->first);
	at(d, IAS_AL_COUNT); u8_(d, &a->count);
	at(d, IAS_AL_FLAGS); u8_(d, &flags);
	at(d, IAS_AL_RESERVED); rsv(d, 2);
	if (flags)
		fail(d, IAS_MAD_RESERVED_NONZERO);
	check(d, a->generation != 0);
	check(d, a->total <= IAS_AGENT_LIST_MAX);
	check(d, a->count <= IAS_AGENT_LIST_PER_MAD);
	check(d, (unsigned)a->first + a->count <= a->total);
	/* an empty segment only for an empty list */
	check(d, a->count > 0 || (a->total == 0 && a->first == 0));
	at(d, IAS_AL_ENTRIES);
	for (i = 0; i < IAS_AGENT_LIST_PER_MAD; i++) {
		memset(&x, 0, sizeof(x));
		u64_(d, &x.node_guid);
		u16_(d, &x.lid);
		rsv(d, 2);
		if (ias_rd_bytes(&d->r, x.gid, 16))
			d->short_read = 1;
		if (i < a->count) {
			/* an agent is reachable: by LID, or by GID */
			check(d, x.node_guid != 0);
			check(d, x.lid != 0 || memcmp(x.gid, zero, 16) != 0);
			check(d, x.lid < 0xc000);	/* unicast */
			a->e[i] = x;
		} else if (x.node_guid || x.lid || memcmp(x.gid, zero, 16)) {
			fail(d, IAS_MAD_RESERVED_NONZERO);
		}
	}
	at(d, IAS_AL_SIZE);
}

enum ias_mad_reason ias_secmgt_decode_attr(uint8_t method, uint16_t status,
					   uint16_t attr_id, const uint8_t *data,
					   size_t len,
					   union ias_secmgt_attr *out)
{
	struct dec d = { .short_read = 0, .why = IAS_MAD_OK };
	int want;

	memset(out, 0, sizeof(*out));
	if (!attr_known(attr_id))
		return IAS_MAD_UNKNOWN_ATTR;
	want = ias_secmgt_attr_len(method, status, attr_id);
	if (want < 0)
		return IAS_MAD_BAD_ATTR_FOR_METHOD;
	if (len != (size_t)want)
		return IAS_MAD_BAD_LENGTH;
	if (want == 0)
		return IAS_MAD_OK;
	ias_rd_init(&d.r, data, len);
	switch (attr_id) {
	case IAS_ATTR_CLASS_PORT_INFO: dec_cpi(&d, &out->cpi); break;
	case IAS_ATTR_TRACE: dec_trace(&d, &out->trace); break;
	case IAS_ATTR_TRACE_RESULT: dec_tres(&d, &out->tres); break;
	case IAS_ATTR_BLOCK: dec_block(&d, method, &out->block); break;
	case IAS_ATTR_RELEASE: dec_release(&d, method, &out->release); break;
	case IAS_ATTR_POLICY: dec_policy(&d, &out->policy); break;
	case IAS_ATTR_STATUS: dec_status(&d, &out->status); break;
	case IAS_ATTR_REPORT: dec_report(&d, &out->report); break;
	case IAS_ATTR_MIRROR:
		if (method == IAS_METHOD_GET)
			dec_mirq(&d, &out->mirq);
		else
			dec_mira(&d, &out->mira);
		break;
	case IAS_ATTR_AGENT_LIST: dec_alist(&d, &out->alist); break;
	}
	if (d.short_read || ias_rd_left(&d.r) != 0)
		d.why = IAS_MAD_BAD_LENGTH;
	if (d.why != IAS_MAD_OK)
		memset(out, 0, sizeof(*out));
	return d.why;
}

/* ---- Writing ---------------------------------------------------------- */

struct enc {
	struct ias_wr w;
	int err;
};

static void wat(struct enc *e, size_t off)
{
	if (e->w.off != off)
		e->err = -EINVAL;
}

static void w8(struct enc *e, uint8_t v)
{
	if (ias_wr_u8(&e->w, v))
		e->err = -ENOSPC;
}

static void w16(struct enc *e, uint16_t v)
{
	if (ias_wr_u16(&e->w, v))
		e->err = -ENOSPC;
}

static void w32(struct enc *e, uint32_t v)
{
	if (ias_wr_u32(&e->w, v))
		e->err = -ENOSPC;
}

static void w64(struct enc *e, uint64_t v)
{
	if (ias_wr_u64(&e->w, v))
		e->err = -ENOSPC;
}

static void wz(struct enc *e, size_t n)
{
	if (ias_wr_zero(&e->w, n))
		e->err = -ENOSPC;
}

/* A QPN goes out as a u32; a value over 24 bits shows in the reserved byte
 * and is refused by the check decode in ias_secmgt_encode_attr(). */
static void wqpn(struct enc *e, uint32_t q)
{
	w32(e, q);
}

static void wstr(struct enc *e, const char *s, size_t n)
{
	size_t l = strnlen(s, n);

	if (l == n) {
		e->err = -EINVAL;
		return;
	}
	if (ias_wr_bytes(&e->w, s, l) || ias_wr_zero(&e->w, n - l))
		e->err = -ENOSPC;
}

static void enc_cpi(struct enc *e, const struct ias_attr_cpi *a)
{
	wat(e, IAS_CPI_PROTO_VERSION); w8(e, a->proto_version);
	wat(e, IAS_CPI_ROLE); w8(e, a->role);
	wat(e, IAS_CPI_RESP_TIME); w8(e, a->resp_time_value);
	wat(e, IAS_CPI_RESERVED); wz(e, 1);
	wat(e, IAS_CPI_CAP_MASK); w32(e, a->cap_mask);
	wat(e, IAS_CPI_NODE_GUID); w64(e, a->node_guid);
	wat(e, IAS_CPI_NODE_DESC); wstr(e, a->node_desc, sizeof(a->node_desc));
	wat(e, IAS_CPI_RESERVED2); wz(e, 3);
	wat(e, IAS_CPI_SIZE);
}

static void enc_trace(struct enc *e, const struct ias_attr_trace *a)
{
	wat(e, IAS_TRACE_INCIDENT); w64(e, a->incident_id);
	wat(e, IAS_TRACE_ORIGIN_GUID); w64(e, a->origin_guid);
	wat(e, IAS_TRACE_SENDER_GUID); w64(e, a->sender_guid);
	wat(e, IAS_TRACE_DEST_QPN); wqpn(e, a->dest_qpn);
	wat(e, IAS_TRACE_SENDER_QPN); wqpn(e, a->sender_qpn);
	wat(e, IAS_TRACE_HOP_COUNT); w8(e, a->hop_count);
	wat(e, IAS_TRACE_HOP_LIMIT); w8(e, a->hop_limit);
	wat(e, IAS_TRACE_FANOUT); w8(e, a->fanout_limit);
	wat(e, IAS_TRACE_SEARCH); w8(e, a->search_level);
	wat(e, IAS_TRACE_FLAGS); w16(e, a->flags);
	wat(e, IAS_TRACE_REASON); w16(e, a->reason);
	wat(e, IAS_TRACE_SIZE);
}

static void enc_tres(struct enc *e, const struct ias_attr_trace_result *a)
{
	unsigned i;

	wat(e, IAS_TRES_INCIDENT); w64(e, a->incident_id);
	wat(e, IAS_TRES_RESPONDER); w64(e, a->responder_guid);
	wat(e, IAS_TRES_RESULT); w8(e, a->result);
	wat(e, IAS_TRES_FLAGS); w8(e, a->flags);
	wat(e, IAS_TRES_N_QPNS); w8(e, a->n_qpns);
	wat(e, IAS_TRES_N_HOPS); w8(e, a->n_hops);
	wat(e, IAS_TRES_OWNER_PID); w32(e, a->owner_pid);
	wat(e, IAS_TRES_QPS_BLOCKED); w32(e, a->qps_blocked);
	wat(e, IAS_TRES_QPNS);
	for (i = 0; i < IAS_TRACE_MAX_QPNS; i++)
		wqpn(e, i < a->n_qpns ? a->qpns[i] : 0);
	wat(e, IAS_TRES_HOPS);
	for (i = 0; i < IAS_TRACE_MAX_HOPS; i++) {
		w16(e, i < a->n_hops ? a->hops[i].lid : 0);
		wqpn(e, i < a->n_hops ? a->hops[i].qpn : 0);
	}
	wat(e, IAS_TRES_SIZE);
}

static void enc_block(struct enc *e, const struct ias_attr_block *a)
{
	wat(e, IAS_BLOCK_SCOPE); w8(e, a->scope);
	wat(e, IAS_BLOCK_FLAGS); w8(e, a->flags);
	wat(e, IAS_BLOCK_RESERVED); wz(e, 2);
	wat(e, IAS_BLOCK_PID); w32(e, a->pid);
	wat(e, IAS_BLOCK_INCIDENT); w64(e, a->incident_id);
	wat(e, IAS_BLOCK_ID); w64(e, a->block_id);
	wat(e, IAS_BLOCK_DURATION); w32(e, a->duration_s);
	wat(e, IAS_BLOCK_RESERVED2); wz(e, 4);
	wat(e, IAS_BLOCK_REASON); wstr(e, a->reason, sizeof(a->reason));
	wat(e, IAS_BLOCK_SIZE);
}

static void enc_release(struct enc *e, const struct ias_attr_release *a)
{
	wat(e, IAS_REL_SCOPE); w8(e, a->scope);
	wat(e, IAS_REL_FLAGS); w8(e, a->flags);
	wat(e, IAS_REL_RESERVED); wz(e, 2);
	wat(e, IAS_REL_RELEASED); w32(e, a->released);
	wat(e, IAS_REL_ID); w64(e, a->id);
	wat(e, IAS_REL_SIZE);
}

static void enc_policy(struct enc *e, const struct ias_attr_policy *a)
{
	wat(e, IAS_POL_VERSION); w32(e, a->policy_version);
	wat(e, IAS_POL_SEARCH); w8(e, a->search_level);
	wat(e, IAS_POL_BLOCK_MODE); w8(e, a->block_mode);
	wat(e, IAS_POL_FLAGS); w8(e, a->flags);
	wat(e, IAS_POL_HOP_LIMIT); w8(e, a->hop_limit);
	wat(e, IAS_POL_FANOUT); w8(e, a->fanout_limit);
	wat(e, IAS_POL_RESERVED); wz(e, 1);
	wat(e, IAS_POL_ESCALATION); w16(e, a->escalation_x100);
	wat(e, IAS_POL_BASE_DUR); w32(e, a->base_duration_s);
	wat(e, IAS_POL_MAX_DUR); w32(e, a->max_duration_s);
	wat(e, IAS_POL_RESERVED2); wz(e, 4);
	wat(e, IAS_POL_SIZE);
}

static void enc_status(struct enc *e, const struct ias_attr_status *a)
{
	wat(e, IAS_ST_NODE_GUID); w64(e, a->node_guid);
	wat(e, IAS_ST_UPTIME); w64(e, a->uptime_s);
	wat(e, IAS_ST_ACTIVE_BLOCKS); w32(e, a->active_blocks);
	wat(e, IAS_ST_POLICY_VER); w32(e, a->policy_version);
	wat(e, IAS_ST_TOTAL_BLOCKS); w64(e, a->total_blocks);
	wat(e, IAS_ST_QPS_KNOWN); w32(e, a->qps_known);
	wat(e, IAS_ST_QPS_BLOCKED); w32(e, a->qps_blocked);
	wat(e, IAS_ST_INCIDENTS); w64(e, a->incidents);
	wat(e, IAS_ST_MADS_REJECTED); w64(e, a->mads_rejected);
	wat(e, IAS_ST_SIZE);
}

static void enc_report(struct enc *e, const struct ias_attr_report *a)
{
	wat(e, IAS_REP_SEQ); w64(e, a->seq);
	wat(e, IAS_REP_INCIDENT); w64(e, a->incident_id);
	wat(e, IAS_REP_NODE_GUID); w64(e, a->node_guid);
	wat(e, IAS_REP_EVENT_MS); w64(e, a->event_time_ms);
	wat(e, IAS_REP_BLOCK_ID); w64(e, a->block_id);
	wat(e, IAS_REP_KIND); w8(e, a->kind);
	wat(e, IAS_REP_RESERVED); wz(e, 1);
	wat(e, IAS_REP_PEER_LID); w16(e, a->peer_lid);
	wat(e, IAS_REP_PEER_QPN); wqpn(e, a->peer_qpn);
	wat(e, IAS_REP_PID); w32(e, a->pid);
	wat(e, IAS_REP_QP_COUNT); w32(e, a->qp_count);
	wat(e, IAS_REP_COMM); wstr(e, a->comm, sizeof(a->comm));
	wat(e, IAS_REP_SIZE);
}

static void enc_mirq(struct enc *e, const struct ias_attr_mirror_q *a)
{
	wat(e, IAS_MIRQ_ASKER_GUID); w64(e, a->asker_guid);
	wat(e, IAS_MIRQ_ASKER_QPN); wqpn(e, a->asker_qpn);
	wat(e, IAS_MIRQ_REMOTE_QPN); wqpn(e, a->remote_qpn);
	wat(e, IAS_MIRQ_SIZE);
}

static void enc_mira(struct enc *e, const struct ias_attr_mirror_a *a)
{
	wat(e, IAS_MIRA_RESPONDER); w64(e, a->responder_guid);
	wat(e, IAS_MIRA_ASKER_GUID); w64(e, a->asker_guid);
	wat(e, IAS_MIRA_ASKER_QPN); wqpn(e, a->asker_qpn);
	wat(e, IAS_MIRA_QPN); wqpn(e, a->qpn);
	wat(e, IAS_MIRA_MATCH); w8(e, a->match);
	wat(e, IAS_MIRA_RESERVED); wz(e, 3);
	wat(e, IAS_MIRA_SIZE);
}

static void enc_alist(struct enc *e, const struct ias_attr_agent_list *a)
{
	unsigned i;

	wat(e, IAS_AL_GENERATION); w32(e, a->generation);
	wat(e, IAS_AL_TOTAL); w16(e, a->total);
	wat(e, IAS_AL_FIRST); w16(e, a->first);
	wat(e, IAS_AL_COUNT); w8(e, a->count);
	wat(e, IAS_AL_FLAGS); w8(e, 0);
	wat(e, IAS_AL_RESERVED); wz(e, 2);
	wat(e, IAS_AL_ENTRIES);
	for (i = 0; i < IAS_AGENT_LIST_PER_MAD; i++) {
		if (i < a->count && i < IAS_AGENT_LIST_PER_MAD) {
			w64(e, a->e[i].node_guid);
			w16(e, a->e[i].lid);
			wz(e, 2);
			if (ias_wr_bytes(&e->w, a->e[i].gid, 16))
				e->err = -ENOSPC;
		} else {
			wz(e, IAS_AGENT_ENTRY_SIZE);
		}
	}
	wat(e, IAS_AL_SIZE);
}

int ias_secmgt_encode_attr(uint8_t method, uint16_t status, uint16_t attr_id,
			   const union ias_secmgt_attr *a, uint8_t *out,
			   size_t cap, size_t *len)
{
	union ias_secmgt_attr check_copy;
	struct enc e = { .err = 0 };
	int want = ias_secmgt_attr_len(method, status, attr_id);

	*len = 0;
	if (want < 0)
		return -EINVAL;
	if ((size_t)want > cap)
		return -ENOSPC;
	if (want == 0)
		return 0;
	ias_wr_init(&e.w, out, (size_t)want);
	switch (attr_id) {
	case IAS_ATTR_CLASS_PORT_INFO: enc_cpi(&e, &a->cpi); break;
	case IAS_ATTR_TRACE: enc_trace(&e, &a->trace); break;
	case IAS_ATTR_TRACE_RESULT: enc_tres(&e, &a->tres); break;
	case IAS_ATTR_BLOCK: enc_block(&e, &a->block); break;
	case IAS_ATTR_RELEASE: enc_release(&e, &a->release); break;
	case IAS_ATTR_POLICY: enc_policy(&e, &a->policy); break;
	case IAS_ATTR_STATUS: enc_status(&e, &a->status); break;
	case IAS_ATTR_REPORT: enc_report(&e, &a->report); break;
	case IAS_ATTR_MIRROR:
		if (method == IAS_METHOD_GET)
			enc_mirq(&e, &a->mirq);
		else
			enc_mira(&e, &a->mira);
		break;
	case IAS_ATTR_AGENT_LIST: enc_alist(&e, &a->alist); break;
	}
	if (e.err)
		return e.err;
	if (e.w.off != (size_t)want)
		return -EINVAL;
	/* Never send what a receiver would reject. */
	if (ias_secmgt_decode_attr(method, status, attr_id, out, (size_t)want,
				   &check_copy) != IAS_MAD_OK)
		return -EINVAL;
	*len = (size_t)want;
	return 0;
}
