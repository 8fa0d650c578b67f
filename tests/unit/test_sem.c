/* Unit tests of the manager's store, its per-agent state machine (against a
 * fake agent: results are fed by hand) and the SA NodeRecord codec. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cursor.h"
#include "sem/sa.h"
#include "sem/semstore.h"
#include "mad_defs/policy.h"
#include "sem/view.h"
#include "tests/unit/tap.h"

static char dir[] = "/tmp/test_sem.XXXXXX";

static void rm_store(void)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/sem.db", dir); unlink(p);
	snprintf(p, sizeof(p), "%s/sem.db-wal", dir); unlink(p);
	snprintf(p, sizeof(p), "%s/sem.db-shm", dir); unlink(p);
}

static struct ias_attr_report rep(uint64_t guid, uint64_t seq)
{
	struct ias_attr_report r;

	memset(&r, 0, sizeof(r));
	r.node_guid = guid;
	r.seq = seq;
	r.incident_id = (0xabcdefull << 40) | 7;
	r.event_time_ms = 1000 + seq;
	r.kind = IAS_REPORT_BLOCK;
	r.pid = 4242;
	r.qp_count = 2;
	snprintf(r.comm, sizeof(r.comm), "evil%u", (unsigned)seq);
	return r;
}

static int count_cb(const struct sem_report_rec *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

static int count_reports(struct semstore *st, uint64_t inc)
{
	int n = 0;

	semstore_reports_foreach(st, inc, count_cb, &n);
	return n;
}

static struct ias_attr_policy pol(uint32_t ver)
{
	struct ias_attr_policy p;

	memset(&p, 0, sizeof(p));
	p.policy_version = ver;
	p.search_level = IAS_SEARCH_LCA;
	p.hop_limit = 16;
	p.fanout_limit = 64;
	p.escalation_x100 = 200;
	p.base_duration_s = 3600;
	p.max_duration_s = 7 * 86400;
	return p;
}

static void test_store(void)
{
	struct semstore *st;
	struct ias_attr_report r = rep(0x11, 1), bad;
	struct sem_policy_rec pr, got;
	uint64_t max, cnt, miss[8];
	char err[256];
	int k;

	rm_store();
	is_int(semstore_open(dir, &st, err, sizeof(err)), 0, "store opens");
	is_int(semstore_report_add(st, &r, 5, SEM_VIA_REPORT), 1, "a report is stored");
	is_int(semstore_report_add(st, &r, 6, SEM_VIA_REPORT), 0, "the same (node, seq) is a duplicate");
	is_int(semstore_report_add(st, &r, 6, SEM_VIA_FETCH), 0, "fetched copy is a duplicate too");
	r = rep(0x22, 1);
	is_int(semstore_report_add(st, &r, 6, SEM_VIA_REPORT), 1, "same seq of another node is new");
	bad = rep(0x11, 0);
	is_int(semstore_report_add(st, &bad, 6, SEM_VIA_REPORT), -EINVAL, "seq 0 refused");
	r = rep(0x11, 4);
	semstore_report_add(st, &r, 7, SEM_VIA_REPORT);
	semstore_report_span(st, 0x11, &max, &cnt);
	ok(max == 4 && cnt == 2, "span: max seq 4, 2 rows");
	k = semstore_report_missing(st, 0x11, 6, miss, 8);
	ok(k == 4 && miss[0] == 2 && miss[1] == 3 && miss[2] == 5 && miss[3] == 6,
	   "missing in 1..6: 2 3 5 6");
	is_int(semstore_report_missing(st, 0x11, 6, miss, 1), 1, "missing honours max");
	is_int(semstore_report_lost(st, 0x11, 2, 8), 1, "seq 2 marked lost");
	is_int(count_reports(st, 0), 3, "lost placeholders are not listed");
	r = rep(0x11, 2);
	is_int(semstore_report_add(st, &r, 9, SEM_VIA_REPORT), 1, "a real report replaces a placeholder");
	is_int(semstore_report_lost(st, 0x11, 2, 8), 0, "but not the other way round");
	is_int(count_reports(st, 0), 4, "four reports listed");
	is_int(count_reports(st, 12345), 0, "filter by incident");
	is_int(semstore_policy_get(st, &got), -ENOENT, "no policy yet");
	memset(&pr, 0, sizeof(pr));
	pr.p = pol(3);
	pr.updated_ms = 77;
	is_int(semstore_policy_put(st, &pr), 0, "policy stored");
	semstore_close(st);
	is_int(semstore_open(dir, &st, err, sizeof(err)), 0, "store reopens");
	is_int(semstore_policy_get(st, &got), 0, "policy read back");
	ok(memcmp(&got.p, &pr.p, sizeof(pr.p)) == 0 && got.updated_ms == 77, "policy round-trips");
	is_int(count_reports(st, 0), 4, "reports survive a reopen, exactly once");
	semstore_close(st);
}

static struct sem_node_rec nrec(uint64_t guid, uint16_t lid, uint8_t type, const char *name)
{
	struct sem_node_rec n;

	memset(&n, 0, sizeof(n));
	n.guid = guid;
	n.port_guid = guid + 1;
	n.lid = lid;
	n.node_type = type;
	snprintf(n.name, sizeof(n.name), "%s", name);
	return n;
}

/* The fake agent's answers. */
static void answer(struct sem_view *v, struct sem_node *n, enum sem_action want,
		   int status, const union ias_secmgt_attr *a, const char *what)
{
	uint32_t mod;
	enum sem_action act = sem_view_next(v, n, 100, &mod);

	is_int(act, want, what);
	sem_view_sent(n, act, mod, 200);
	is_int(sem_view_next(v, n, 100, &mod), SEM_ACT_NONE, "one request at a time");
	sem_view_result(v, n, status, a, 150);
}

static void test_view(void)
{
	struct semstore *st;
	struct sem_view v;
	struct sem_node_rec recs[3];
	struct ias_attr_policy p = pol(5);
	union ias_secmgt_attr a;
	struct sem_node *n, *sw, *quiet;
	struct ias_attr_report r;
	char err[256];
	uint32_t mod;
	int i;

	rm_store();
	semstore_open(dir, &st, err, sizeof(err));
	is_int(sem_view_init(&v, st, &p), 0, "empty view");
	v.active = 1;
	recs[0] = nrec(0x100, 3, 1, "n1 HCA-1");
	recs[1] = nrec(0x200, 4, 2, "switch");
	recs[2] = nrec(0x300, 5, 1, "quiet");
	is_int(sem_view_discovered(&v, recs, 3, 10), 0, "discovery round");
	is_int((int)v.n, 3, "three nodes");
	n = sem_view_by_guid(&v, 0x100);
	sw = sem_view_by_guid(&v, 0x200);
	quiet = sem_view_by_guid(&v, 0x300);
	ok(n && sw && quiet && sem_view_by_lid(&v, 3) == n, "found by GUID and LID");
	is_int(sem_view_next(&v, sw, 100, &mod), SEM_ACT_NONE, "switches are not probed");

	/* A CA without an agent: one probe, then nothing this round. */
	answer(&v, quiet, SEM_ACT_PROBE, SEM_TIMEOUT, NULL, "probe the quiet CA");
	is_int(sem_view_next(&v, quiet, 100, &mod), SEM_ACT_NONE, "no agent: left alone");

	/* The agent. */
	memset(&a, 0, sizeof(a));
	a.cpi.role = IAS_ROLE_AGENT;
	a.cpi.node_guid = 0x100;
	answer(&v, n, SEM_ACT_PROBE, 0, &a, "probe the agent");
	ok(n->rec.agent && n->reachable, "agent found and reachable");
	memset(&a, 0, sizeof(a));
	a.status.policy_version = 1;
	a.status.active_blocks = 2;
	answer(&v, n, SEM_ACT_STATUS, 0, &a, "ask its status");
	is_int((int)n->active_blocks, 2, "active blocks recorded");
	memset(&a, 0, sizeof(a));
	a.policy = pol(5);
	a.policy.hop_limit = 3;
	answer(&v, n, SEM_ACT_POLICY, 0, &a, "ask its policy");
	ok(!sem_view_policy_current(&v, n), "same version, other content: not current");
	answer(&v, n, SEM_ACT_PUSH, IAS_STATUS_INVALID_VALUE, NULL, "push the policy");
	is_int(n->push_status, IAS_STATUS_INVALID_VALUE, "refusal recorded");
	/* Backed off: the next thing is the rebuild, not another push. */
	memset(&a, 0, sizeof(a));
	a.report = rep(0x100, 3);
	answer(&v, n, SEM_ACT_LATEST, 0, &a, "back-off: ask for the latest report");
	is_int((int)n->agent_latest, 3, "agent's highest seq learnt");
	a.report = rep(0x100, 1);
	answer(&v, n, SEM_ACT_FETCH, 0, &a, "fetch seq 1");
	answer(&v, n, SEM_ACT_FETCH, IAS_STATUS_NOT_FOUND, NULL, "fetch seq 2: gone");
	is_int((int)v.stats.lost, 1, "seq 2 lost");
	is_int(sem_view_next(&v, n, 100, &mod), SEM_ACT_NONE, "in sync: nothing to do");
	sem_view_set_policy(&v, &p);
	memset(&a, 0, sizeof(a));
	a.policy = p;
	answer(&v, n, SEM_ACT_PUSH, 0, &a, "a new policy is pushed again at once");
	ok(sem_view_policy_current(&v, n), "agent holds the fabric policy");

	/* Reports: dedup and gap. */
	r = rep(0x100, 4);
	is_int(sem_view_report(&v, &r, 300), 1, "report 4 new");
	is_int(sem_view_report(&v, &r, 301), 0, "report 4 again: duplicate");
	r = rep(0x100, 7);
	is_int(sem_view_report(&v, &r, 302), 1, "report 7 new");
	ok(sem_view_next(&v, n, 400, &mod) == SEM_ACT_FETCH && mod == 5, "gap: fetch 5");
	sem_view_sent(n, SEM_ACT_FETCH, mod, 500);
	a.report = rep(0x100, 5);
	sem_view_result(&v, n, 0, &a, 450);
	ok(sem_view_next(&v, n, 400, &mod) == SEM_ACT_FETCH && mod == 6, "then 6");
	sem_view_sent(n, SEM_ACT_FETCH, mod, 500);
	a.report = rep(0x999, 6);
	is_int(sem_view_result(&v, n, 0, &a, 450), -EPROTO, "a report of another node is refused");
	ok(sem_view_next(&v, n, 400, &mod) == SEM_ACT_FETCH && mod == 6, "6 asked again");

	/* Standby: no pushes. */
	v.active = 0;
	p.policy_version = 6;
	sem_view_set_policy(&v, &p);
	n->busy = SEM_ACT_NONE;
	ok(sem_view_next(&v, n, 400, &mod) != SEM_ACT_PUSH, "standby: no push");

	/* Unreachable after max_misses timeouts. */
	v.active = 1;
	n->probe_due = 1;
	for (i = 0; i < 3; i++) {
		ok(sem_view_next(&v, n, 400, &mod) == SEM_ACT_PROBE, "probe %d", i + 1);
		sem_view_sent(n, SEM_ACT_PROBE, 0, 410);
		sem_view_expire(&v, 420);
	}
	ok(!n->reachable, "three misses: unreachable");
	is_int(sem_view_next(&v, n, 500, &mod), SEM_ACT_NONE, "unreachable: left until the next round");
	sem_view_free(&v);

	/* Restart: the store remembers the agent; the view is rebuilt. */
	is_int(sem_view_init(&v, st, &p), 0, "view reloaded");
	n = sem_view_by_guid(&v, 0x100);
	ok(n && n->rec.agent && n->need_latest && !n->present, "agent remembered, marked for rebuild");
	sem_view_discovered(&v, recs, 1, 1000);
	memset(&a, 0, sizeof(a));
	a.cpi.role = IAS_ROLE_AGENT;
	a.cpi.node_guid = 0x100;
	answer(&v, n, SEM_ACT_PROBE, 0, &a, "probe after restart");
	memset(&a, 0, sizeof(a));
	answer(&v, n, SEM_ACT_STATUS, 0, &a, "status after restart");
	a.policy = p;
	answer(&v, n, SEM_ACT_POLICY, 0, &a, "policy after restart (current)");
	a.report = rep(0x100, 7);
	answer(&v, n, SEM_ACT_LATEST, 0, &a, "latest after restart (a duplicate)");
	ok(sem_view_next(&v, n, 400, &mod) == SEM_ACT_FETCH && mod == 6, "only the hole is fetched");
	sem_view_free(&v);
	semstore_close(st);
}

static void put_nr(uint8_t *p, uint16_t lid, uint8_t type, uint64_t guid, const char *desc)
{
	ias_put_be16(p + SA_NR_LID, lid);
	p[SA_NR_NODE_TYPE] = type;
	ias_put_be64(p + SA_NR_NODE_GUID, guid);
	ias_put_be64(p + SA_NR_PORT_GUID, guid + 1);
	memcpy(p + SA_NR_DESC, desc, strlen(desc));
}

static void test_sa(void)
{
	uint8_t mad[512];
	struct sem_node_rec out[4];
	size_t n;
	uint16_t st;
	int tr;

	sa_build_node_query(mad, SA_METHOD_GET, 7, 0x1234);
	ok(mad[1] == SA_CLASS && mad[2] == SA_CLASS_VERSION && mad[3] == SA_METHOD_GET,
	   "Get header");
	ok(ias_get_be64(mad + SA_OFF_COMP_MASK) == 1 && ias_get_be16(mad + SA_OFF_DATA) == 7,
	   "Get by LID: component mask and LID");
	ok(ias_get_be16(mad + 16) == SA_ATTR_NODE_RECORD, "attribute NodeRecord");

	/* A single GetResp. */
	mad[3] = SA_METHOD_GET_RESP;
	memset(mad + SA_OFF_DATA, 0, 200);
	put_nr(mad + SA_OFF_DATA, 7, 1, 0x42, "node7 HCA-1");
	is_int(sa_parse_node_records(mad, 256, out, 4, &n, &st, &tr), 0, "GetResp parses");
	ok(n == 1 && out[0].lid == 7 && out[0].guid == 0x42 && out[0].port_guid == 0x43 &&
	   out[0].node_type == 1 && strcmp(out[0].name, "node7 HCA-1") == 0, "record decoded");
	/* No record. */
	ias_put_be16(mad + 4, SA_STATUS_NO_RECORDS);
	is_int(sa_parse_node_records(mad, 256, out, 4, &n, &st, &tr), 0, "error status parses");
	ok(n == 0 && st == SA_STATUS_NO_RECORDS, "no records, status kept");

	/* A reassembled GetTableResp with three records (stride 112). */
	memset(mad, 0, sizeof(mad));
	mad[0] = 1; mad[1] = SA_CLASS; mad[2] = SA_CLASS_VERSION; mad[3] = SA_METHOD_GET_TABLE_RESP;
	ias_put_be16(mad + 16, SA_ATTR_NODE_RECORD);
	mad[SA_OFF_RMPP_VERSION] = 1;
	mad[SA_OFF_RMPP_TYPE] = 1;
	mad[SA_OFF_RMPP_FLAGS] = 0x07;
	ias_put_be32(mad + SA_OFF_RMPP_PAYLEN, SA_HDR_LEN + 3 * 112);
	ias_put_be16(mad + SA_OFF_ATTR_OFFSET, 14);
	put_nr(mad + SA_OFF_DATA, 1, 1, 0x10, "sm");
	put_nr(mad + SA_OFF_DATA + 112, 2, 2, 0x20, "switch \x01");
	put_nr(mad + SA_OFF_DATA + 224, 3, 1, 0x30, "h3");
	is_int(sa_parse_node_records(mad, SA_OFF_DATA + 3 * 112 + 8, out, 4, &n, &st, &tr), 0,
	       "table parses");
	ok(n == 3 && !tr && out[2].lid == 3 && out[1].node_type == 2, "three records, complete");
	ok(strcmp(out[1].name, "switch ?") == 0, "control characters in descriptions masked");
	is_int(sa_parse_node_records(mad, SA_OFF_DATA + 3 * 112, out, 2, &n, &st, &tr), 0,
	       "table with a small output");
	is_int((int)n, 2, "stops at max");
	/* First segment only. */
	mad[SA_OFF_RMPP_FLAGS] = 0x03;
	sa_parse_node_records(mad, 256, out, 4, &n, &st, &tr);
	ok(tr && n == 1, "first segment alone: truncated");
	/* Malformed. */
	ias_put_be16(mad + SA_OFF_ATTR_OFFSET, 2);
	mad[SA_OFF_RMPP_FLAGS] = 0x07;
	is_int(sa_parse_node_records(mad, 400, out, 4, &n, &st, &tr), -EBADMSG, "stride too small");
	mad[1] = 0x43;
	is_int(sa_parse_node_records(mad, 400, out, 4, &n, &st, &tr), -EBADMSG, "not SA");
	is_int(sa_parse_node_records(mad, 10, out, 4, &n, &st, &tr), -EBADMSG, "too short");
	mad[1] = SA_CLASS;
	ias_put_be16(mad + SA_OFF_ATTR_OFFSET, 14);
	is_int(sa_parse_node_records(mad, SA_OFF_DATA + 3 * 112, out, 4, &n, &st, &tr), 0,
	       "repaired table parses again");
	mad[0] = 2;
	is_int(sa_parse_node_records(mad, 400, out, 4, &n, &st, &tr), -EBADMSG, "base version 2 refused");
	mad[0] = 1;
	ias_put_be16(mad + 16, 0x0012);
	is_int(sa_parse_node_records(mad, 400, out, 4, &n, &st, &tr), -EBADMSG, "not a NodeRecord");
	ok(n == 0, "and no records reported");
	ias_put_be16(mad + 16, SA_ATTR_NODE_RECORD);
	mad[3] = SA_METHOD_GET_TABLE;
	is_int(sa_parse_node_records(mad, 400, out, 4, &n, &st, &tr), -EBADMSG, "a query is not an answer");
	mad[3] = SA_METHOD_GET_TABLE_RESP;
	is_int(sa_parse_node_records(mad, 17, out, 4, &n, &st, &tr), -EBADMSG, "cut inside the attribute id");
	is_int(sa_parse_node_records(mad, SA_OFF_DATA - 1, out, 4, &n, &st, &tr), -EBADMSG,
	       "cut inside the SA header");
	/* paylen shorter than the bytes: only what it covers is read. */
	ias_put_be32(mad + SA_OFF_RMPP_PAYLEN, SA_HDR_LEN + 112);
	is_int(sa_parse_node_records(mad, SA_OFF_DATA + 3 * 112, out, 4, &n, &st, &tr), 0,
	       "paylen of one record");
	is_int((int)n, 1, "only the record paylen covers");
	/* A record with LID 0 or GUID 0 is skipped. */
	ias_put_be32(mad + SA_OFF_RMPP_PAYLEN, SA_HDR_LEN + 3 * 112);
	ias_put_be16(mad + SA_OFF_DATA + 112, 0);
	memset(mad + SA_OFF_DATA + 224 + SA_NR_NODE_GUID, 0, 8);
	is_int(sa_parse_node_records(mad, SA_OFF_DATA + 3 * 112, out, 4, &n, &st, &tr), 0,
	       "records without LID or GUID parse");
	ok(n == 1 && out[0].lid == 1, "and are skipped (%zu left)", n);
}

static void test_misc(void)
{
	struct ias_attr_policy p = pol(1);
	char s[40], why[80];
	uint64_t id;

	sem_incident_str((0x0a1b2cull << 40) | 17, s, sizeof(s));
	is_str(s, "I-0a1b2c-17", "incident id shown as the agent does");
	ok(sem_incident_parse(s, &id) == 0 && id == ((0x0a1b2cull << 40) | 17), "and parsed back");
	ok(sem_incident_parse("0x10", &id) == 0 && id == 16, "hex accepted");
	ok(sem_incident_parse("I-0a1b2c-", &id) < 0 && sem_incident_parse("-1", &id) < 0 &&
	   sem_incident_parse("I-1-2x", &id) < 0 && sem_incident_parse("", &id) < 0,
	   "malformed ids refused");
	is_int(ias_policy_check_attr(&p, why, sizeof(why)), 0, "policy valid");
	p.max_duration_s = 1;
	ok(ias_policy_check_attr(&p, why, sizeof(why)) == -EINVAL && strstr(why, "max_duration"),
	   "max below base refused");
}

int main(void)
{
	if (!mkdtemp(dir))
		tap_skip_all("no temporary directory");
	test_store();
	test_view();
	test_sa();
	test_misc();
	rm_store();
	rmdir(dir);
	return tap_done();
}
