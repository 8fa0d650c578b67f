/* mad_defs/policy: the one policy model (names, ranges, check, wire). */
#include <errno.h>
#include <string.h>

#include "mad_defs/policy.h"
#include "mad_defs/secmgt.h"
#include "tests/unit/tap.h"

static struct ias_policy good(void)
{
	struct ias_policy p;

	memset(&p, 0, sizeof(p));
	p.version = 3;
	p.level = IAS_LEVEL_LCA;
	p.block_mode = IAS_MODE_FREEZE;
	p.dry_run = 1;
	p.base_duration_ms = 3600 * 1000;
	p.max_duration_ms = 7 * 86400 * 1000ull;
	p.escalation = 2;
	p.hop_limit = 16;
	p.fanout_limit = 64;
	return p;
}

static void test_names(void)
{
	unsigned i;

	is_str(ias_level_name(IAS_LEVEL_BASIC), "basic", "level 0 is basic");
	is_str(ias_level_name(IAS_LEVEL_ZONE), "zone", "level 4 is zone");
	is_str(ias_level_name(5), "?", "an unknown level has no name");
	is_str(ias_mode_name(IAS_MODE_PAUSE), "pause", "mode 0 is pause");
	is_str(ias_mode_name(IAS_MODE_KILL), "kill", "mode 3 is kill");
	is_str(ias_mode_name(99), "?", "an unknown mode has no name");
	for (i = 0; ias_level_names[i]; i++)
		if (ias_level_parse(ias_level_names[i]) != (int)i)
			break;
	is_int(i, 5, "every level name parses back to its number");
	for (i = 0; ias_mode_names[i]; i++)
		if (ias_mode_parse(ias_mode_names[i]) != (int)i)
			break;
	is_int(i, 4, "every mode name parses back to its number");
	is_int(ias_level_parse("LCA"), -EINVAL, "names are case-sensitive");
	is_int(ias_mode_parse(""), -EINVAL, "an empty name is unknown");
	is_int(ias_mode_parse(NULL), -EINVAL, "no name is unknown");
}

#define REFUSED(field, value, word) do { \
	struct ias_policy q_ = good(); \
	char m_[128] = ""; \
	q_.field = value; \
	ok(ias_policy_check(&q_, m_, sizeof(m_)) == -EINVAL && strstr(m_, word), \
	   #field " = " #value " refused (%s)", m_); \
} while (0)

#define ACCEPTED(field, value) do { \
	struct ias_policy q_ = good(); \
	char m_[128] = ""; \
	q_.field = value; \
	ok(ias_policy_check(&q_, m_, sizeof(m_)) == 0, #field " = " #value " accepted %s", m_); \
} while (0)

static void test_ranges(void)
{
	struct ias_policy p = good();

	is_int(ias_policy_check(&p, NULL, 0), 0, "a good policy passes, without a message buffer");
	REFUSED(level, 5, "level");
	REFUSED(block_mode, 4, "mode");
	REFUSED(hop_limit, 0, "hop limit must be 1 to 64");
	ACCEPTED(hop_limit, 1);
	ACCEPTED(hop_limit, IAS_POLICY_HOP_MAX);
	REFUSED(hop_limit, IAS_POLICY_HOP_MAX + 1, "hop limit");
	REFUSED(fanout_limit, 0, "fan-out limit must be 1 to 255");
	ACCEPTED(fanout_limit, 255);
	REFUSED(fanout_limit, 256, "fan-out");
	REFUSED(fanout_limit, 4096, "fan-out");
	REFUSED(escalation, 0, "escalation factor must be 1 to 100");
	ACCEPTED(escalation, 100);
	REFUSED(escalation, 101, "escalation");
	REFUSED(max_duration_ms, IAS_POLICY_DURATION_MAX_MS + 1, "365 days");
	REFUSED(base_duration_ms, 8 * 86400 * 1000ull, "base duration exceeds");
	ACCEPTED(base_duration_ms, 0);
	p.max_duration_ms = 0;
	p.base_duration_ms = 1000;
	is_int(ias_policy_check(&p, NULL, 0), 0, "no maximum: any base up to the range");
}

static void test_wire(void)
{
	struct ias_policy p = good(), q;
	struct ias_attr_policy a;
	union ias_secmgt_attr u;
	uint8_t buf[IAS_SECMGT_DATA_MAX];
	size_t len;
	char m[128];

	is_int(ias_policy_to_attr(&p, &a), 0, "a good policy goes on the wire");
	ok(a.policy_version == 3 && a.search_level == IAS_SEARCH_LCA && a.block_mode == IAS_BLOCK_FREEZE &&
	   a.flags == IAS_POLICY_F_DRY_RUN && a.hop_limit == 16 && a.fanout_limit == 64 &&
	   a.escalation_x100 == 200 && a.base_duration_s == 3600 && a.max_duration_s == 7 * 86400,
	   "every field converted");
	memset(&u, 0, sizeof(u));
	u.policy = a;
	is_int(ias_secmgt_encode_attr(IAS_METHOD_SET, 0, IAS_ATTR_POLICY, &u, buf, sizeof(buf), &len), 0,
	       "the codec takes it");
	is_int(ias_secmgt_decode_attr(IAS_METHOD_SET, 0, IAS_ATTR_POLICY, buf, len, &u), IAS_MAD_OK,
	       "and decodes it back");
	ias_policy_from_attr(&u.policy, &q);
	ok(memcmp(&p, &q, sizeof(p)) == 0, "the round trip keeps the policy");
	is_int(ias_policy_check_attr(&a, m, sizeof(m)), 0, "the wire policy passes the same check");

	p.hop_limit = IAS_POLICY_HOP_MAX;
	p.fanout_limit = IAS_POLICY_FANOUT_MAX;
	p.escalation = IAS_POLICY_ESCALATION_MAX;
	p.base_duration_ms = p.max_duration_ms = IAS_POLICY_DURATION_MAX_MS;
	is_int(ias_policy_to_attr(&p, &a), 0, "every range's top fits the wire");
	ias_policy_from_attr(&a, &q);
	ok(memcmp(&p, &q, sizeof(p)) == 0, "and comes back unchanged");

	p = good();
	p.base_duration_ms = 0;
	is_int(ias_policy_to_attr(&p, &a), -ERANGE, "\"until released\" cannot go on the wire");
	p = good();
	p.base_duration_ms = 1500;
	is_int(ias_policy_to_attr(&p, &a), -ERANGE, "nor a duration that is not whole seconds");
	p = good();
	p.fanout_limit = 4096;
	is_int(ias_policy_to_attr(&p, &a), -ERANGE, "nor a fan-out over 255");
	is_int(a.fanout_limit, 255, "which is clamped, not wrapped");

	ias_policy_to_attr(&(struct ias_policy){ 0 }, &a);
	a = (struct ias_attr_policy){ .policy_version = 1, .hop_limit = 65, .fanout_limit = 1,
				      .escalation_x100 = 100, .base_duration_s = 1, .max_duration_s = 1 };
	ok(ias_policy_check_attr(&a, m, sizeof(m)) == -EINVAL && strstr(m, "hop"),
	   "a wire hop limit of 65 is refused (%s)", m);
	a.hop_limit = 1;
	a.flags = 0x80;
	ok(ias_policy_check_attr(&a, m, sizeof(m)) == -EINVAL && strstr(m, "flags"), "unknown flags refused");
	a.flags = 0;
	a.max_duration_s = 0;
	ok(ias_policy_check_attr(&a, m, sizeof(m)) == -EINVAL && strstr(m, "max_duration"),
	   "max below base refused (%s)", m);
	a.base_duration_s = 0;
	ok(ias_policy_check_attr(&a, m, sizeof(m)) == -EINVAL && strstr(m, "base_duration"),
	   "base 0 refused on the wire (%s)", m);
}

int main(void)
{
	test_names();
	test_ranges();
	test_wire();
	return tap_done();
}
