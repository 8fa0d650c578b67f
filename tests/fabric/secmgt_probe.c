/* secmgt_probe: send authenticated SecMgt requests to a LID and print the
 * decoded answer; or serve as a minimal echo agent. A test-bed tool (ibsim
 * under umad2sim, or a real port), not installed.
 *
 *   secmgt_probe [OPTIONS] LID REQUEST [KEY=VALUE...]
 *     REQUEST: cpi | status | policy | policy-set | trace | block | release
 *   secmgt_probe [OPTIONS] --echo     answer every SecMgt request at once
 *
 * Output (one line per answer): "response ATTR status=0xNNNN (NAME) k=v..."
 * or "timeout". Exit status: 0 answered with status 0, 1 answered with a
 * non-zero status, 2 usage, 3 no answer, 4 local failure. See
 * docs/fabric-bed.md for every option. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <endian.h>
#include <infiniband/umad.h>
#include <openssl/rand.h>

#include "common/keyfile.h"
#include "mad_defs/policy.h"
#include "mad_defs/secmgt.h"

#define QP1_QKEY 0x80010000u
#define SMI_CLASS 0x01

enum { EX_OK = 0, EX_STATUS = 1, EX_USAGE = 2, EX_TIMEOUT = 3, EX_FAIL = 4 };

struct opts {
	const char *keyfile;
	const char *ca;
	int port;
	int timeout_ms;
	int retries;
	int linger_ms;
	int wrong_key;
	int64_t stale_ms;
	int replay;
	int count;
	int echo;
	int verbose;
	uint32_t qpn;
};

static struct opts o = {
	.port = 0, .timeout_ms = 1000, .retries = 0, .linger_ms = 300, .count = 1, .qpn = 1,
};
static volatile sig_atomic_t stop_flag;
static uint8_t buf[4096];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void linger(void)
{
	/* ibsim may process our disconnect before our last MAD. */
	if (o.linger_ms > 0)
		usleep((useconds_t)o.linger_ms * 1000);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: secmgt_probe [OPTIONS] LID REQUEST [KEY=VALUE...]\n"
		"       secmgt_probe [OPTIONS] --echo\n"
		"Requests: cpi | status | policy | policy-set | trace | block | release\n"
		"  policy-set: version= level= mode= dry_run= hop= fanout= escalation= base= max=\n"
		"  trace:      dest= incident= sender_qpn= origin= sender= hop= hop_limit= fanout= search= reason= dry_run=\n"
		"  block:      pid= | incident=  reason= duration= dry_run= override=\n"
		"  release:    pid= | incident= | block=  dry_run=\n"
		"Options:\n"
		"  -k, --keys FILE     SecMgt key file (required)\n"
		"  -C, --ca NAME       RDMA device (default: the first)\n"
		"  -P, --port N        port (default: the first active)\n"
		"  -t, --timeout MS    wait for each answer (default 1000)\n"
		"  -r, --retries N     resend a fresh request N more times on timeout\n"
		"  -n, --count N       send N requests one after the other; print the\n"
		"                      median round trip (us)\n"
		"      --qp N          destination QP (default 1)\n"
		"      --wrong-key     sign with a random key under the right key id\n"
		"      --stale MS      stamp the request MS ms in the past (negative: future)\n"
		"      --replay        after the answer, send the same bytes again\n"
		"      --linger MS     wait before exiting (default 300)\n"
		"      --echo          serve: answer every SecMgt request at once\n"
		"  -v, --verbose       dump the header of every MAD refused\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return (errno || end == s || *end) ? -1 : 0;
}

/* Look KEY=VALUE up in argv; returns the value or NULL. */
static const char *kv(int argc, char **argv, const char *key)
{
	size_t n = strlen(key);
	int i;

	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], key, n) && argv[i][n] == '=')
			return argv[i] + n + 1;
	return NULL;
}

static int kv_u64(int argc, char **argv, const char *key, uint64_t def, uint64_t *v)
{
	const char *s = kv(argc, argv, key);

	*v = def;
	if (!s)
		return 0;
	if (parse_u64(s, v)) {
		fprintf(stderr, "secmgt_probe: bad value for %s: %s\n", key, s);
		return -1;
	}
	return 0;
}

static int check_keys(int argc, char **argv, const char *const *allowed)
{
	int i, j;

	for (i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		int found = 0;

		for (j = 0; eq && allowed[j]; j++)
			if (strlen(allowed[j]) == (size_t)(eq - argv[i]) &&
			    !strncmp(argv[i], allowed[j], (size_t)(eq - argv[i])))
				found = 1;
		if (!found) {
			fprintf(stderr, "secmgt_probe: unexpected argument %s\n", argv[i]);
			return -1;
		}
	}
	return 0;
}

static const char *const tresult_names[] = {
	"?", "blocked", "duplicate", "no-owner", "allowlisted", "dry-run", "hop-limit", "error",
	"not-connected"
};

static const char *status_name(uint16_t st)
{
	switch (st) {
	case IAS_STATUS_OK: return "OK";
	case IAS_STATUS_BUSY: return "BUSY";
	case IAS_STATUS_BAD_VERSION: return "BAD_VERSION";
	case IAS_STATUS_METHOD_UNSUPP: return "METHOD_UNSUPP";
	case IAS_STATUS_METHOD_ATTR_UNSUPP: return "METHOD_ATTR_UNSUPP";
	case IAS_STATUS_INVALID_VALUE: return "INVALID_VALUE";
	case IAS_STATUS_STALE: return "STALE";
	case IAS_STATUS_INTERNAL: return "INTERNAL";
	case IAS_STATUS_NOT_FOUND: return "NOT_FOUND";
	case IAS_STATUS_REFUSED: return "REFUSED";
	case IAS_STATUS_WRONG_ROLE: return "WRONG_ROLE";
	default: return "?";
	}
}

static const char *attr_name(uint16_t id)
{
	switch (id) {
	case IAS_ATTR_CLASS_PORT_INFO: return "ClassPortInfo";
	case IAS_ATTR_TRACE: return "Trace";
	case IAS_ATTR_TRACE_RESULT: return "TraceResult";
	case IAS_ATTR_BLOCK: return "Block";
	case IAS_ATTR_RELEASE: return "Release";
	case IAS_ATTR_POLICY: return "Policy";
	case IAS_ATTR_STATUS: return "Status";
	case IAS_ATTR_REPORT: return "Report";
	default: return "?";
	}
}

/* Build the request named by argv[0] into *m. 0, or EX_USAGE. */
static int build_request(int argc, char **argv, struct ias_secmgt_msg *m)
{
	const char *req = argv[0];
	uint64_t v;

	argc--;
	argv++;
	memset(m, 0, sizeof(*m));
	if (!strcmp(req, "cpi") || !strcmp(req, "status") || !strcmp(req, "policy")) {
		static const char *const none[] = { NULL };

		if (check_keys(argc, argv, none))
			return EX_USAGE;
		m->method = IAS_METHOD_GET;
		m->attr_id = !strcmp(req, "cpi") ? IAS_ATTR_CLASS_PORT_INFO :
			     !strcmp(req, "status") ? IAS_ATTR_STATUS : IAS_ATTR_POLICY;
		return 0;
	}
	if (!strcmp(req, "policy-set")) {
		static const char *const keys[] = { "version", "level", "mode", "dry_run", "hop",
						    "fanout", "escalation", "base", "max", NULL };
		struct ias_attr_policy *p = &m->u.policy;
		const char *s;
		int i;

		if (check_keys(argc, argv, keys))
			return EX_USAGE;
		m->method = IAS_METHOD_SET;
		m->attr_id = IAS_ATTR_POLICY;
		if (kv_u64(argc, argv, "version", 1, &v)) return EX_USAGE;
		p->policy_version = (uint32_t)v;
		s = kv(argc, argv, "level");
		i = s ? ias_level_parse(s) : 0;
		if (i < 0) return EX_USAGE;
		p->search_level = (uint8_t)i;
		s = kv(argc, argv, "mode");
		i = s ? ias_mode_parse(s) : 0;
		if (i < 0) return EX_USAGE;
		p->block_mode = (uint8_t)i;
		if (kv_u64(argc, argv, "dry_run", 0, &v)) return EX_USAGE;
		p->flags = v ? IAS_POLICY_F_DRY_RUN : 0;
		if (kv_u64(argc, argv, "hop", 16, &v)) return EX_USAGE;
		p->hop_limit = (uint8_t)v;
		if (kv_u64(argc, argv, "fanout", 64, &v)) return EX_USAGE;
		p->fanout_limit = (uint8_t)v;
		if (kv_u64(argc, argv, "escalation", 200, &v)) return EX_USAGE;
		p->escalation_x100 = (uint16_t)v;
		if (kv_u64(argc, argv, "base", 3600, &v)) return EX_USAGE;
		p->base_duration_s = (uint32_t)v;
		if (kv_u64(argc, argv, "max", 604800, &v)) return EX_USAGE;
		p->max_duration_s = (uint32_t)v;
		return 0;
	}
	if (!strcmp(req, "trace")) {
		static const char *const keys[] = { "dest", "incident", "sender_qpn", "origin",
						    "sender", "hop", "hop_limit", "fanout",
						    "search", "reason", "dry_run", NULL };
		struct ias_attr_trace *t = &m->u.trace;

		if (check_keys(argc, argv, keys))
			return EX_USAGE;
		m->method = IAS_METHOD_SET;
		m->attr_id = IAS_ATTR_TRACE;
		if (kv_u64(argc, argv, "dest", 0, &v)) return EX_USAGE;
		t->dest_qpn = (uint32_t)v;
		if (kv_u64(argc, argv, "incident", 0x1, &v)) return EX_USAGE;
		t->incident_id = v;
		if (kv_u64(argc, argv, "sender_qpn", 0, &v)) return EX_USAGE;
		t->sender_qpn = (uint32_t)v;
		if (kv_u64(argc, argv, "origin", 0, &v)) return EX_USAGE;
		t->origin_guid = v;
		if (kv_u64(argc, argv, "sender", 0, &v)) return EX_USAGE;
		t->sender_guid = v;
		if (kv_u64(argc, argv, "hop", 1, &v)) return EX_USAGE;
		t->hop_count = (uint8_t)v;
		if (kv_u64(argc, argv, "hop_limit", 16, &v)) return EX_USAGE;
		t->hop_limit = (uint8_t)v;
		if (kv_u64(argc, argv, "fanout", 64, &v)) return EX_USAGE;
		t->fanout_limit = (uint8_t)v;
		if (kv_u64(argc, argv, "search", 0, &v)) return EX_USAGE;
		t->search_level = (uint8_t)v;
		if (kv_u64(argc, argv, "reason", IAS_TREASON_TRACE_HOP, &v)) return EX_USAGE;
		t->reason = (uint16_t)v;
		if (kv_u64(argc, argv, "dry_run", 0, &v)) return EX_USAGE;
		t->flags = v ? IAS_TRACE_F_DRY_RUN : 0;
		return 0;
	}
	if (!strcmp(req, "block")) {
		static const char *const keys[] = { "pid", "incident", "reason", "duration",
						    "dry_run", "override", NULL };
		struct ias_attr_block *b = &m->u.block;
		const char *s;

		if (check_keys(argc, argv, keys))
			return EX_USAGE;
		m->method = IAS_METHOD_SET;
		m->attr_id = IAS_ATTR_BLOCK;
		if (kv(argc, argv, "pid")) {
			b->scope = IAS_SCOPE_PID;
			if (kv_u64(argc, argv, "pid", 0, &v)) return EX_USAGE;
			b->pid = (uint32_t)v;
		} else {
			b->scope = IAS_SCOPE_INCIDENT;
			if (kv_u64(argc, argv, "incident", 0, &v)) return EX_USAGE;
			b->incident_id = v;
		}
		if (kv_u64(argc, argv, "duration", 0, &v)) return EX_USAGE;
		b->duration_s = (uint32_t)v;
		if (kv_u64(argc, argv, "dry_run", 0, &v)) return EX_USAGE;
		b->flags |= v ? IAS_BLOCK_F_DRY_RUN : 0;
		if (kv_u64(argc, argv, "override", 0, &v)) return EX_USAGE;
		b->flags |= v ? IAS_BLOCK_F_OVERRIDE : 0;
		s = kv(argc, argv, "reason");
		snprintf(b->reason, sizeof(b->reason), "%s", s ? s : "secmgt_probe");
		return 0;
	}
	if (!strcmp(req, "release")) {
		static const char *const keys[] = { "pid", "incident", "block", "dry_run", NULL };
		struct ias_attr_release *r = &m->u.release;

		if (check_keys(argc, argv, keys))
			return EX_USAGE;
		m->method = IAS_METHOD_SET;
		m->attr_id = IAS_ATTR_RELEASE;
		if (kv(argc, argv, "pid")) {
			r->scope = IAS_SCOPE_PID;
			if (kv_u64(argc, argv, "pid", 0, &v)) return EX_USAGE;
		} else if (kv(argc, argv, "incident")) {
			r->scope = IAS_SCOPE_INCIDENT;
			if (kv_u64(argc, argv, "incident", 0, &v)) return EX_USAGE;
		} else {
			r->scope = IAS_SCOPE_BLOCK;
			if (kv_u64(argc, argv, "block", 0, &v)) return EX_USAGE;
		}
		r->id = v;
		if (kv_u64(argc, argv, "dry_run", 0, &v)) return EX_USAGE;
		r->flags = v ? IAS_RELEASE_F_DRY_RUN : 0;
		return 0;
	}
	fprintf(stderr, "secmgt_probe: unknown request %s\n", req);
	return EX_USAGE;
}

static void print_response(const struct ias_secmgt_msg *r, uint64_t rtt_us)
{
	printf("response %s status=0x%04x (%s)", attr_name(r->attr_id), r->status,
	       status_name(r->status));
	if (r->status == IAS_STATUS_OK) {
		switch (r->attr_id) {
		case IAS_ATTR_CLASS_PORT_INFO:
			printf(" role=%s proto=%u caps=0x%x guid=0x%016" PRIx64 " node=%s",
			       r->u.cpi.role == IAS_ROLE_AGENT ? "agent" :
			       r->u.cpi.role == IAS_ROLE_MANAGER ? "manager" : "?",
			       r->u.cpi.proto_version, r->u.cpi.cap_mask, r->u.cpi.node_guid,
			       r->u.cpi.node_desc);
			break;
		case IAS_ATTR_STATUS: {
			const struct ias_attr_status *s = &r->u.status;

			printf(" guid=0x%016" PRIx64 " uptime=%" PRIu64 " active_blocks=%u"
			       " policy_version=%u total_blocks=%" PRIu64 " qps_known=%u"
			       " qps_blocked=%u incidents=%" PRIu64 " mads_rejected=%" PRIu64,
			       s->node_guid, s->uptime_s, s->active_blocks, s->policy_version,
			       s->total_blocks, s->qps_known, s->qps_blocked, s->incidents,
			       s->mads_rejected);
			break;
		}
		case IAS_ATTR_POLICY: {
			const struct ias_attr_policy *p = &r->u.policy;

			printf(" version=%u level=%s mode=%s dry_run=%u hop=%u fanout=%u"
			       " escalation=%u base=%u max=%u", p->policy_version,
			       ias_level_name(p->search_level), ias_mode_name(p->block_mode),
			       (p->flags & IAS_POLICY_F_DRY_RUN) ? 1 : 0, p->hop_limit,
			       p->fanout_limit, p->escalation_x100, p->base_duration_s,
			       p->max_duration_s);
			break;
		}
		case IAS_ATTR_TRACE_RESULT: {
			const struct ias_attr_trace_result *t = &r->u.tres;
			unsigned i;

			printf(" incident=0x%" PRIx64 " responder=0x%016" PRIx64 " result=%s"
			       " owner_pid=%u qps_blocked=%u qpns=", t->incident_id,
			       t->responder_guid,
			       t->result <= IAS_TRESULT_MAX ? tresult_names[t->result] : "?",
			       t->owner_pid, t->qps_blocked);
			for (i = 0; i < t->n_qpns && i < IAS_TRACE_MAX_QPNS; i++)
				printf("%s0x%x", i ? "," : "", t->qpns[i]);
			printf(" hops=");
			for (i = 0; i < t->n_hops && i < IAS_TRACE_MAX_HOPS; i++)
				printf("%s%u:0x%x", i ? "," : "", t->hops[i].lid, t->hops[i].qpn);
			if (t->flags & IAS_TRESULT_F_TRUNCATED)
				printf(" truncated=1");
			break;
		}
		case IAS_ATTR_BLOCK:
			printf(" block_id=%" PRIu64 " scope=%u pid=%u incident=0x%" PRIx64,
			       r->u.block.block_id, r->u.block.scope, r->u.block.pid,
			       r->u.block.incident_id);
			break;
		case IAS_ATTR_RELEASE:
			printf(" released=%u scope=%u id=%" PRIu64, r->u.release.released,
			       r->u.release.scope, r->u.release.id);
			break;
		default:
			break;
		}
	}
	printf(" rtt_us=%" PRIu64 "\n", rtt_us);
	fflush(stdout);
}

static int open_port(int *portid, int *agent, int serve)
{
	struct umad_reg_attr ra;
	uint32_t id = 0;
	int r;

	if (umad_init() < 0) {
		fprintf(stderr, "secmgt_probe: libibumad could not initialise\n");
		return -1;
	}
	*portid = umad_open_port(o.ca, o.port);
	if (*portid < 0) {
		fprintf(stderr, "secmgt_probe: cannot open %s port %d: %s\n",
			o.ca ? o.ca : "(first)", o.port, strerror(-*portid));
		return -1;
	}
	memset(&ra, 0, sizeof(ra));
	ra.mgmt_class = IAS_SECMGT_CLASS;
	ra.mgmt_class_version = IAS_SECMGT_CLASS_VERSION;
	ra.oui = IAS_SECMGT_OUI;
	if (serve)
		ra.method_mask[0] = (1ull << IAS_METHOD_GET) | (1ull << IAS_METHOD_SET) |
				    (1ull << IAS_METHOD_REPORT);
	r = umad_register2(*portid, &ra, &id);
	if (r) {
		fprintf(stderr, "secmgt_probe: registering class 0x%x: %s\n", IAS_SECMGT_CLASS,
			strerror(r < 0 ? -r : r));
		return -1;
	}
	*agent = (int)id;
	/* Under the simulator the serving client also gets stray SMPs. */
	if (serve && getenv("SIM_HOST") && umad_register(*portid, SMI_CLASS, 1, 0, NULL) < 0)
		fprintf(stderr, "secmgt_probe: could not register for the SM class\n");
	return 0;
}

static int load_keys(struct ias_keyring *kr, struct ias_keyring *wrong)
{
	struct ias_key keys[IAS_KEYS_MAX];
	char err[256];
	size_t n = 0, i;
	int r;

	r = ias_keyfile_load(o.keyfile, geteuid(), keys, IAS_KEYS_MAX, &n, err, sizeof(err));
	if (r) {
		fprintf(stderr, "secmgt_probe: %s\n", err);
		return -1;
	}
	if (ias_keyring_init(kr) || (wrong && ias_keyring_init(wrong))) {
		ias_keys_wipe(keys, n);
		return -1;
	}
	for (i = 0; i < n && !r; i++)
		r = ias_keyring_add(kr, keys[i].id, keys[i].key, keys[i].len);
	if (!r)
		r = ias_keyring_set_active(kr, keys[0].id);
	if (!r && wrong) {
		uint8_t k[IAS_KEY_MIN_LEN];

		if (RAND_bytes(k, sizeof(k)) != 1)
			r = -EIO;
		if (!r)
			r = ias_keyring_add(wrong, keys[0].id, k, sizeof(k));
		if (!r)
			r = ias_keyring_set_active(wrong, keys[0].id);
		memset(k, 0, sizeof(k));
	}
	ias_keys_wipe(keys, n);
	if (r)
		fprintf(stderr, "secmgt_probe: keys: %s\n", strerror(-r));
	return r ? -1 : 0;
}

static int send_raw(int portid, int agent, uint16_t lid, const uint8_t mad[IAS_MAD_SIZE])
{
	memset(buf, 0, umad_size() + IAS_MAD_SIZE);
	memcpy(umad_get_mad(buf), mad, IAS_MAD_SIZE);
	umad_set_addr(buf, lid, (int)o.qpn, 0, QP1_QKEY);
	if (umad_send(portid, agent, buf, IAS_MAD_SIZE, o.timeout_ms, 0) < 0) {
		fprintf(stderr, "secmgt_probe: send to LID %u failed\n", lid);
		return -1;
	}
	return 0;
}

static void dump(const char *what, enum ias_mad_reason why, const uint8_t *mad, int len)
{
	int i;

	fprintf(stderr, "%s: %s (%d bytes)", what, ias_mad_reason_str(why), len);
	for (i = 0; i < len; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", mad[i]);
	fprintf(stderr, "\n");
}

/* Wait for the answer to the request with this TID and nonce. 1 answered,
 * 0 timeout, -1 failure. */
static int wait_answer(int portid, const struct ias_keyring *kr, uint64_t tid, uint64_t nonce,
		       struct ias_secmgt_msg *resp)
{
	uint64_t deadline = mono_us() + (uint64_t)o.timeout_ms * 1000;

	while (!stop_flag) {
		uint64_t now = mono_us();
		int len = IAS_MAD_SIZE, r;
		uint64_t got;
		enum ias_mad_reason why;

		if (now >= deadline)
			return 0;
		r = umad_recv(portid, buf, &len, (int)((deadline - now + 999) / 1000));
		if (r < 0) {
			if (r == -ETIMEDOUT || r == -EAGAIN || r == -EINTR)
				continue;
			return 0;
		}
		if (umad_status(buf))
			continue;	/* the send timed out (real kernel) */
		if (ias_secmgt_peek_tid_unauth(umad_get_mad(buf), (size_t)len, &got) ||
		    (got & 0xffffffffu) != (tid & 0xffffffffu))
			continue;
		why = ias_secmgt_decode(umad_get_mad(buf), (size_t)len, kr, NULL, now_ms(), resp);
		if (why != IAS_MAD_OK) {
			printf("rejected-answer %s\n", ias_mad_reason_str(why));
			if (o.verbose)
				dump("answer refused", why, umad_get_mad(buf), len);
			continue;
		}
		if (resp->echo_nonce != nonce) {
			printf("rejected-answer echo-nonce\n");
			continue;
		}
		return 1;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int run_client(uint16_t lid, int argc, char **argv)
{
	struct ias_keyring kr, wrong;
	struct ias_secmgt_msg req, resp;
	uint8_t mad[IAS_MAD_SIZE];
	uint64_t *rtts = NULL;
	int portid, agent, i, rc = EX_TIMEOUT, answered = 0, r;
	uint32_t tid_seq;

	r = build_request(argc, argv, &req);
	if (r)
		return r;
	if (load_keys(&kr, o.wrong_key ? &wrong : NULL))
		return EX_FAIL;
	if (open_port(&portid, &agent, 0))
		return EX_FAIL;
	rtts = calloc((size_t)o.count, sizeof(*rtts));
	if (!rtts)
		return EX_FAIL;
	if (RAND_bytes((uint8_t *)&tid_seq, sizeof(tid_seq)) != 1)
		tid_seq = (uint32_t)getpid();
	for (i = 0; i < o.count && !stop_flag; i++) {
		int attempt, got = 0;
		uint64_t t0 = 0;

		for (attempt = 0; attempt <= o.retries && !got; attempt++) {
			struct ias_secmgt_msg m = req;

			m.tid = ++tid_seq;
			if (ias_secmgt_encode(&m, o.wrong_key ? &wrong : &kr,
					      (uint64_t)((int64_t)now_ms() - o.stale_ms), mad)) {
				fprintf(stderr, "secmgt_probe: encoding failed\n");
				rc = EX_FAIL;
				goto out;
			}
			t0 = mono_us();
			if (send_raw(portid, agent, lid, mad)) {
				rc = EX_FAIL;
				goto out;
			}
			got = wait_answer(portid, &kr, m.tid, m.nonce, &resp);
			if (got < 0) {
				rc = EX_FAIL;
				goto out;
			}
		}
		if (!got) {
			if (o.count == 1)
				printf("timeout after %d ms\n", o.timeout_ms);
			continue;
		}
		rtts[answered++] = mono_us() - t0;
		if (o.count == 1)
			print_response(&resp, rtts[0]);
		rc = resp.status ? EX_STATUS : EX_OK;
	}
	if (o.count > 1) {
		qsort(rtts, (size_t)answered, sizeof(*rtts), cmp_u64);
		printf("answered %d of %d median_us %" PRIu64 " min_us %" PRIu64 " max_us %" PRIu64 "\n",
		       answered, o.count, answered ? rtts[answered / 2] : 0,
		       answered ? rtts[0] : 0, answered ? rtts[answered - 1] : 0);
		rc = answered == o.count ? EX_OK : EX_TIMEOUT;
	}
	if (o.replay && answered) {
		struct ias_secmgt_msg again;
		uint64_t tid, nonce;

		/* The very bytes the agent already accepted, once more. */
		if (ias_secmgt_peek_tid_unauth(mad, sizeof(mad), &tid) || send_raw(portid, agent, lid, mad)) {
			rc = EX_FAIL;
			goto out;
		}
		memcpy(&nonce, mad + IAS_OFF_NONCE, sizeof(nonce));
		nonce = be64toh(nonce);
		if (wait_answer(portid, &kr, tid, nonce, &again) > 0) {
			printf("replay: ");
			print_response(&again, 0);
			rc = EX_STATUS;	/* a replay must never be answered */
		} else {
			printf("replay: timeout after %d ms\n", o.timeout_ms);
		}
	}
out:
	free(rtts);
	linger();
	umad_close_port(portid);
	ias_keyring_wipe(&kr);
	if (o.wrong_key)
		ias_keyring_wipe(&wrong);
	return rc;
}

/* Echo agent: answer each verified request at once with a canned attribute. */
static void echo_fill(const struct ias_secmgt_msg *req, struct ias_secmgt_msg *resp)
{
	switch (req->attr_id) {
	case IAS_ATTR_CLASS_PORT_INFO:
		resp->u.cpi.proto_version = IAS_SECMGT_VERSION;
		resp->u.cpi.role = IAS_ROLE_AGENT;
		resp->u.cpi.resp_time_value = 10;
		resp->u.cpi.cap_mask = IAS_CAP_TRACE | IAS_CAP_STATUS;
		snprintf(resp->u.cpi.node_desc, sizeof(resp->u.cpi.node_desc), "echo");
		break;
	case IAS_ATTR_STATUS:
		break;
	case IAS_ATTR_POLICY:
		resp->u.policy = req->u.policy;
		if (req->method == IAS_METHOD_GET) {
			resp->u.policy.escalation_x100 = 200;
			resp->u.policy.base_duration_s = 3600;
			resp->u.policy.max_duration_s = 3600;
			resp->u.policy.hop_limit = 16;
			resp->u.policy.fanout_limit = 64;
		}
		break;
	case IAS_ATTR_TRACE:
		resp->attr_id = IAS_ATTR_TRACE_RESULT;
		resp->u.tres.incident_id = req->u.trace.incident_id;
		resp->u.tres.result = IAS_TRESULT_NO_OWNER;
		break;
	case IAS_ATTR_BLOCK:
		resp->u.block = req->u.block;
		break;
	case IAS_ATTR_RELEASE:
		resp->u.release = req->u.release;
		break;
	default:
		resp->status = IAS_STATUS_METHOD_ATTR_UNSUPP;
		break;
	}
}

static int run_echo(void)
{
	struct ias_keyring kr;
	struct ias_replay *rp = malloc(sizeof(*rp));
	int portid, agent;
	unsigned long served = 0, refused = 0;

	if (!rp || load_keys(&kr, NULL) || ias_replay_init(rp, 30000)) {
		free(rp);
		return EX_FAIL;
	}
	if (open_port(&portid, &agent, 1)) {
		free(rp);
		return EX_FAIL;
	}
	{
		umad_port_t port;

		if (umad_get_port(o.ca, o.port, &port) == 0) {
			printf("echo: serving on lid %u\n", port.base_lid);
			umad_release_port(&port);
		} else {
			printf("echo: serving\n");
		}
	}
	fflush(stdout);
	while (!stop_flag) {
		struct ias_secmgt_msg req, resp;
		enum ias_mad_reason why;
		ib_mad_addr_t addr;
		int len = IAS_MAD_SIZE;
		uint8_t *mad;

		if (umad_recv(portid, buf, &len, 200) < 0 || umad_status(buf))
			continue;
		mad = umad_get_mad(buf);
		if (len < 2 || mad[1] != IAS_SECMGT_CLASS)
			continue;
		memcpy(&addr, umad_get_mad_addr(buf), sizeof(addr));
		why = ias_secmgt_decode(mad, (size_t)len, &kr, rp, now_ms(), &req);
		if (why != IAS_MAD_OK || ias_secmgt_init_response(&req, req.attr_id, &resp)) {
			refused++;
			if (o.verbose)
				dump("echo: refused", why, mad, len);
			continue;
		}
		echo_fill(&req, &resp);
		if (resp.status)
			memset(&resp.u, 0, sizeof(resp.u));
		memset(buf, 0, umad_size() + IAS_MAD_SIZE);
		if (ias_secmgt_encode(&resp, &kr, now_ms(), umad_get_mad(buf)))
			continue;
		umad_set_addr(buf, be16toh(addr.lid), (int)be32toh(addr.qpn), addr.sl, QP1_QKEY);
		if (addr.grh_present)
			umad_set_grh(buf, &addr);
		umad_set_pkey(buf, addr.pkey_index);
		if (umad_send(portid, agent, buf, IAS_MAD_SIZE, 0, 0) == 0)
			served++;
	}
	printf("echo: served %lu refused %lu\n", served, refused);
	umad_close_port(portid);
	ias_keyring_wipe(&kr);
	free(rp);
	return EX_OK;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "keys", required_argument, NULL, 'k' },
		{ "ca", required_argument, NULL, 'C' },
		{ "port", required_argument, NULL, 'P' },
		{ "timeout", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },
		{ "qp", required_argument, NULL, 'q' },
		{ "wrong-key", no_argument, NULL, 'W' },
		{ "stale", required_argument, NULL, 'S' },
		{ "replay", no_argument, NULL, 'R' },
		{ "linger", required_argument, NULL, 'L' },
		{ "echo", no_argument, NULL, 'E' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa;
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "+k:C:P:t:r:n:hv", lo, NULL)) != -1) {
		switch (c) {
		case 'k': o.keyfile = optarg; break;
		case 'C': o.ca = optarg; break;
		case 'P': case 't': case 'r': case 'n': case 'q': case 'L':
			if (parse_u64(optarg, &v) || v > 100000000) {
				fprintf(stderr, "secmgt_probe: bad number %s\n", optarg);
				return EX_USAGE;
			}
			if (c == 'P') o.port = (int)v;
			else if (c == 't') o.timeout_ms = (int)v;
			else if (c == 'r') o.retries = (int)v;
			else if (c == 'n') o.count = v ? (int)v : 1;
			else if (c == 'q') o.qpn = (uint32_t)v;
			else o.linger_ms = (int)v;
			break;
		case 'S': {
			char *end;

			o.stale_ms = strtoll(optarg, &end, 0);
			if (*end || end == optarg) {
				fprintf(stderr, "secmgt_probe: bad number %s\n", optarg);
				return EX_USAGE;
			}
			break;
		}
		case 'W': o.wrong_key = 1; break;
		case 'R': o.replay = 1; break;
		case 'E': o.echo = 1; break;
		case 'v': o.verbose = 1; break;
		case 'h': usage(stdout); return EX_OK;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (!o.keyfile) {
		usage(stderr);
		return EX_USAGE;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (o.echo)
		return optind == argc ? run_echo() : EX_USAGE;
	if (argc - optind < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (parse_u64(argv[optind], &v) || v == 0 || v > 0xbfff) {
		fprintf(stderr, "secmgt_probe: bad LID %s\n", argv[optind]);
		return EX_USAGE;
	}
	return run_client((uint16_t)v, argc - optind - 1, argv + optind + 1);
}
