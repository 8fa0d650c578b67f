/* The SecMgt requests the agent answers (sema/mad_serve.c), against the
 * fakes and a real store: ClassPortInfo, Status, Get/Set(Policy) -- a valid
 * policy is applied and kept in the store, an invalid one is refused and
 * changes nothing, a policy the wire cannot carry is an internal error --
 * and Get(Report) of a report that does not exist. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mad_defs/policy.h"
#include "mad_defs/secmgt.h"
#include "sema/mad_serve.h"
#include "sema/store.h"
#include "tests/unit/fake_sema.h"
#include "tests/unit/tap.h"

static struct sema S;
static const struct mad_dest FROM = { .lid = 7 };

static uint16_t serve(uint16_t (*fn)(void *, const struct ias_secmgt_msg *, const struct mad_dest *,
				      struct ias_secmgt_msg *),
		      const struct ias_secmgt_msg *req, struct ias_secmgt_msg *resp)
{
	memset(resp, 0, sizeof(*resp));
	return fn(&S, req, &FROM, resp);
}

static struct ias_secmgt_msg request(uint8_t method, uint16_t attr)
{
	struct ias_secmgt_msg m;

	memset(&m, 0, sizeof(m));
	m.method = method;
	m.attr_id = attr;
	return m;
}

static void test_port_info_and_status(void)
{
	struct ias_secmgt_msg req = request(IAS_METHOD_GET, IAS_ATTR_CLASS_PORT_INFO), resp;

	is_int(serve(mad_serve_port_info, &req, &resp), IAS_STATUS_OK, "ClassPortInfo: OK");
	is_int(resp.u.cpi.role, IAS_ROLE_AGENT, "ClassPortInfo: the agent's role");
	is_int(resp.u.cpi.proto_version, IAS_SECMGT_VERSION, "ClassPortInfo: the protocol version");
	ok(resp.u.cpi.node_guid == 0x1122334455667788ull, "ClassPortInfo: the port's node GUID");
	is_str(resp.u.cpi.node_desc, "node-test", "ClassPortInfo: the node name");

	req = request(IAS_METHOD_GET, IAS_ATTR_STATUS);
	is_int(serve(mad_serve_status, &req, &resp), IAS_STATUS_OK, "Status: OK");
	is_int(resp.u.status.policy_version, 1, "Status: the policy version in force");
	is_int(resp.u.status.active_blocks, 0, "Status: no active block yet");
	is_int(resp.u.status.incidents, 0, "Status: no incident yet");
}

static void test_policy(void)
{
	struct ias_secmgt_msg req = request(IAS_METHOD_GET, IAS_ATTR_POLICY), resp;
	struct ias_policy want = S.policy, stored;

	is_int(serve(mad_serve_policy, &req, &resp), IAS_STATUS_OK, "Get(Policy): OK");
	is_int(resp.u.policy.policy_version, 1, "Get(Policy): the version in force");
	is_int(resp.u.policy.hop_limit, 4, "Get(Policy): the hop limit in force");

	/* A valid new policy: applied and kept. */
	want.version = 2;
	want.block_mode = IAS_MODE_FREEZE;
	want.hop_limit = 9;
	req = request(IAS_METHOD_SET, IAS_ATTR_POLICY);
	ok(ias_policy_to_attr(&want, &req.u.policy) == 0, "the new policy fits the wire");
	is_int(serve(mad_serve_policy, &req, &resp), IAS_STATUS_OK, "Set(Policy) valid: OK");
	is_int(S.policy.version, 2, "Set(Policy) valid: in force");
	is_int(S.policy.block_mode, IAS_MODE_FREEZE, "Set(Policy) valid: the new block mode");
	is_int(resp.u.policy.hop_limit, 9, "Set(Policy) valid: the answer carries the new policy");
	ok(ias_store_policy_get(S.store, &stored) == 0 && stored.version == 2 && stored.hop_limit == 9,
	   "Set(Policy) valid: kept in the store");

	/* Out of the model's ranges: refused, nothing changes. */
	req.u.policy.policy_version = 3;
	req.u.policy.hop_limit = IAS_POLICY_HOP_MAX + 1;
	is_int(serve(mad_serve_policy, &req, &resp), IAS_STATUS_INVALID_VALUE,
	       "Set(Policy) with a hop limit over the range: INVALID_VALUE");
	req.u.policy.hop_limit = 4;
	req.u.policy.block_mode = IAS_MODE_KILL + 1;
	is_int(serve(mad_serve_policy, &req, &resp), IAS_STATUS_INVALID_VALUE,
	       "Set(Policy) with an unknown block mode: INVALID_VALUE");
	is_int(S.policy.version, 2, "refused policies left the policy in force alone");
	ok(ias_store_policy_get(S.store, &stored) == 0 && stored.version == 2,
	   "refused policies left the stored policy alone");

	/* "Until released" (base duration 0) cannot go on the wire. */
	S.policy.base_duration_ms = 0;
	req = request(IAS_METHOD_GET, IAS_ATTR_POLICY);
	is_int(serve(mad_serve_policy, &req, &resp), IAS_STATUS_INTERNAL,
	       "Get(Policy) of a policy the wire cannot carry: INTERNAL");
	S.policy.base_duration_ms = 60 * 1000;
}

static void test_report(void)
{
	struct ias_secmgt_msg req = request(IAS_METHOD_GET, IAS_ATTR_REPORT), resp;

	req.attr_mod = 42;
	is_int(serve(mad_serve_report, &req, &resp), IAS_STATUS_NOT_FOUND,
	       "Get(Report) of a sequence number never written: NOT_FOUND");
}

int main(void)
{
	char dir[256];

	if (fake_sema_open(&S, dir, sizeof(dir)) < 0) {
		printf("not ok 1 - fake agent\n1..1\n");
		return 1;
	}
	test_port_info_and_status();
	test_policy();
	test_report();
	fake_sema_close(&S, dir);
	return tap_done();
}
