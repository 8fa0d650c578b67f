/* ias.conf: the value layer. Each option type's parser and range check,
 * the duration syntax, the members of the caller's object, the check of a
 * caller's table, and the helpers that word the error messages. */
#include "config_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

void ias_cfg__put_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A value shown inside a message: double-quoted, control and non-ASCII
 * bytes as \xNN, long values cut with "...". */
const char *ias_cfg__shown(char *out, size_t outlen, const char *v, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (outlen < 8) {
		if (outlen)
			out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (o + 9 >= outlen) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			out[o++] = '\\';
			if (c == '"' || c == '\\') {
				out[o++] = (char)c;
			} else {
				out[o++] = 'x';
				out[o++] = hex[c >> 4];
				out[o++] = hex[c & 15];
			}
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

/* --- Numbers and durations -------------------------------------------- */

/* Decimal digits or 0x-prefixed hex digits, nothing else. Returns 0,
 * -EINVAL (not a number) or -ERANGE (does not fit in 64 bits). */
static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10, d;
	const char *p = s;
	bool big = false;

	*out = 0;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			big = true;
		else
			v = v * base + d;
	}
	if (big)
		return -ERANGE;
	*out = v;
	return 0;
}

static const struct {
	const char *name;
	uint64_t ms;
} units[] = {
	{ "d", 86400000ull }, { "h", 3600000ull }, { "ms", 1 },
	{ "m", 60000ull }, { "s", 1000ull },
};

/* "0" or one or more <digits><unit>, e.g. "1h30m". -EINVAL / -ERANGE
 * (the whole text is syntax-checked before an overflow is reported). */
static int parse_duration(const char *s, uint64_t *out)
{
	uint64_t total = 0;
	const char *p = s;
	bool big = false;

	*out = 0;
	if (strcmp(s, "0") == 0)
		return 0;
	if (!*p)
		return -EINVAL;
	while (*p) {
		uint64_t v = 0, mul = 0;
		size_t i;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			unsigned d = (unsigned)(*p - '0');

			if (v > (UINT64_MAX - d) / 10)
				big = true;
			else
				v = v * 10 + d;
		}
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t ul = strlen(units[i].name);

			if (strncmp(p, units[i].name, ul) == 0 &&
			    !(p[ul] >= 'a' && p[ul] <= 'z')) {
				mul = units[i].ms;
				p += ul;
				break;
			}
		}
		if (!mul)
			return -EINVAL;
		if (big || v > UINT64_MAX / mul || total > UINT64_MAX - v * mul)
			big = true;
		else
			total += v * mul;
	}
	if (big)
		return -ERANGE;
	*out = total;
	return 0;
}

void ias_cfg__fmt_duration(char *buf, size_t len, uint64_t ms)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} order[] = { { "d", 86400000ull }, { "h", 3600000ull }, { "m", 60000ull },
		      { "s", 1000ull } };
	size_t i;

	if (ms == 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (ms % order[i].ms == 0) {
			snprintf(buf, len, "%llu%s",
				 (unsigned long long)(ms / order[i].ms), order[i].name);
			return;
		}
	}
	snprintf(buf, len, "%llums", (unsigned long long)ms);
}

/* --- Members ----------------------------------------------------------- */

static uint64_t uint_type_max(size_t size)
{
	return size >= 8 ? UINT64_MAX : (UINT64_C(1) << (size * 8)) - 1;
}

static uint64_t uint_hi(const struct ias_cfg_opt *o)
{
	uint64_t tmax = uint_type_max(o->size);

	return (o->max == 0 || o->max > tmax) ? tmax : o->max;
}

uint64_t ias_cfg__get_uint(const struct ias_cfg_opt *o, const void *obj)
{
	const char *p = (const char *)obj + o->offset;

	switch (o->size) {
	case 1: { uint8_t v; memcpy(&v, p, 1); return v; }
	case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
	default: { uint64_t v; memcpy(&v, p, 8); return v; }
	}
}

static void put_uint(const struct ias_cfg_opt *o, void *obj, uint64_t v)
{
	char *p = (char *)obj + o->offset;

	switch (o->size) {
	case 1: { uint8_t x = (uint8_t)v; memcpy(p, &x, 1); break; }
	case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
	default: memcpy(p, &v, 8); break;
	}
}

static uint64_t list_hi(const struct ias_cfg_opt *o)
{
	return (o->max == 0 || o->max > IAS_CFG_LIST_MAX) ? IAS_CFG_LIST_MAX : o->max;
}

static int set_list(const struct ias_cfg_opt *o, void *obj, const char *v,
		    char *msg, size_t msglen)
{
	struct ias_cfg_list l;
	char sb[SHOWN_MAX];
	const char *p = v;

	memset(&l, 0, sizeof(l));
	while (*p && is_ws(*p))
		p++;
	if (*p) {
		for (;;) {
			const char *e = p, *start, *end;
			size_t len;

			while (*e && *e != ',')
				e++;
			start = p;
			end = e;
			while (start < end && is_ws(*start))
				start++;
			while (end > start && is_ws(end[-1]))
				end--;
			len = (size_t)(end - start);
			if (len == 0) {
				ias_cfg__put_err(msg, msglen, "%s: empty item in list", o->key);
				return -EINVAL;
			}
			if (l.n == IAS_CFG_LIST_MAX) {
				ias_cfg__put_err(msg, msglen, "%s: too many items (at most %d)",
					o->key, IAS_CFG_LIST_MAX);
				return -EINVAL;
			}
			if (len >= IAS_CFG_ITEM_MAX) {
				ias_cfg__put_err(msg, msglen, "%s: item %s is too long (at most %d bytes)",
					o->key, ias_cfg__shown(sb, sizeof(sb), start, len),
					IAS_CFG_ITEM_MAX - 1);
				return -EINVAL;
			}
			memcpy(l.item[l.n], start, len);
			l.item[l.n][len] = '\0';
			if (has_ctl(l.item[l.n])) {
				ias_cfg__put_err(msg, msglen, "%s: control character in item %s",
					o->key, ias_cfg__shown(sb, sizeof(sb), start, len));
				return -EINVAL;
			}
			l.n++;
			if (!*e)
				break;
			p = e + 1;
		}
	}
	if (l.n) {
		size_t total = 2 * (l.n - 1), i;

		for (i = 0; i < l.n; i++)
			total += strlen(l.item[i]);
		if (total > IAS_CFG_VALUE_MAX) {
			ias_cfg__put_err(msg, msglen, "%s: list longer than %d bytes", o->key,
				IAS_CFG_VALUE_MAX);
			return -EINVAL;
		}
	}
	if (l.n < o->min || l.n > list_hi(o)) {
		ias_cfg__put_err(msg, msglen, "%s: %u items, want %llu to %llu", o->key, l.n,
			(unsigned long long)o->min, (unsigned long long)list_hi(o));
		return -EINVAL;
	}
	memcpy((char *)obj + o->offset, &l, sizeof(l));
	return 0;
}

/* Parses v (NUL-terminated, unquoted) into the member; writes "key: ..." to
 * msg on error. The member is changed only on success. */
int ias_cfg__set_value(const struct ias_cfg_opt *o, void *obj, const char *v,
		     char *msg, size_t msglen)
{
	char sb[SHOWN_MAX], lo[32], hi[32];
	char *dst = (char *)obj + o->offset;
	size_t len = strlen(v), i;
	uint64_t u;
	int r;

	if (len > IAS_CFG_VALUE_MAX) {
		ias_cfg__put_err(msg, msglen, "%s: value longer than %d bytes", o->key, IAS_CFG_VALUE_MAX);
		return -EINVAL;
	}
	switch (o->type) {
	case IAS_CFG_STRING:
	case IAS_CFG_PATH:
		if (has_ctl(v)) {
			ias_cfg__put_err(msg, msglen, "%s: control character in %s", o->key, SHOW(sb, v));
			return -EINVAL;
		}
		if (len >= o->size) {
			ias_cfg__put_err(msg, msglen, "%s: %s is too long (at most %zu bytes)", o->key,
				SHOW(sb, v), o->size - 1);
			return -EINVAL;
		}
		if (o->type == IAS_CFG_PATH && len && v[0] != '/') {
			ias_cfg__put_err(msg, msglen, "%s: %s is not an absolute path", o->key, SHOW(sb, v));
			return -EINVAL;
		}
		memset(dst, 0, o->size);
		memcpy(dst, v, len);
		return 0;
	case IAS_CFG_UINT:
		r = parse_u64(v, &u);
		if (r == -EINVAL) {
			ias_cfg__put_err(msg, msglen, "%s: %s is not an unsigned number", o->key, SHOW(sb, v));
			return -EINVAL;
		}
		if (r == -ERANGE || u < o->min || u > uint_hi(o)) {
			ias_cfg__put_err(msg, msglen, "%s: %s is out of range (%llu to %llu)", o->key,
				SHOW(sb, v), (unsigned long long)o->min,
				(unsigned long long)uint_hi(o));
			return -EINVAL;
		}
		put_uint(o, obj, u);
		return 0;
	case IAS_CFG_BOOL: {
		static const char *const yes[] = { "yes", "true", "on", "1" };
		static const char *const no[] = { "no", "false", "off", "0" };

		for (i = 0; i < 4; i++) {
			if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
				bool b = strcasecmp(v, yes[i]) == 0;

				memcpy(dst, &b, sizeof(b));
				return 0;
			}
		}
		ias_cfg__put_err(msg, msglen, "%s: %s is not a boolean (use yes or no)", o->key,
			SHOW(sb, v));
		return -EINVAL;
	}
	case IAS_CFG_ENUM: {
		char list[256];
		size_t off = 0;

		for (i = 0; o->names[i]; i++) {
			if (strcmp(v, o->names[i]) == 0) {
				int x = (int)i;

				memcpy(dst, &x, sizeof(x));
				return 0;
			}
		}
		list[0] = '\0';
		for (i = 0; o->names[i] && off < sizeof(list); i++) {
			int k = snprintf(list + off, sizeof(list) - off, "%s%s",
					 i ? ", " : "", o->names[i]);
			if (k < 0)
				break;
			off += (size_t)k;
		}
		ias_cfg__put_err(msg, msglen, "%s: %s is not one of: %s", o->key, SHOW(sb, v), list);
		return -EINVAL;
	}
	case IAS_CFG_DURATION:
		r = parse_duration(v, &u);
		if (r == -EINVAL) {
			ias_cfg__put_err(msg, msglen, "%s: %s is not a duration (use ms, s, m, h or d)",
				o->key, SHOW(sb, v));
			return -EINVAL;
		}
		if (r == -ERANGE || u < o->min || (o->max && u > o->max)) {
			ias_cfg__fmt_duration(lo, sizeof(lo), o->min);
			if (o->max)
				ias_cfg__fmt_duration(hi, sizeof(hi), o->max);
			else
				ias_cfg__fmt_duration(hi, sizeof(hi), UINT64_MAX);
			ias_cfg__put_err(msg, msglen, "%s: %s is out of range (%s to %s)", o->key,
				SHOW(sb, v), lo, hi);
			return -EINVAL;
		}
		memcpy(dst, &u, sizeof(u));
		return 0;
	case IAS_CFG_LIST:
		return set_list(o, obj, v, msg, msglen);
	}
	ias_cfg__put_err(msg, msglen, "%s: unknown option type %d", o->key, (int)o->type);
	return -EINVAL;
}

/* --- Table ------------------------------------------------------------- */

int ias_cfg__check_table(const struct ias_cfg_opt *tab, size_t n, char *err,
		       size_t errlen)
{
	size_t i, j;

	if (err && errlen)
		err[0] = '\0';
	if (n && !tab) {
		ias_cfg__put_err(err, errlen, "configuration table: NULL");
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		const struct ias_cfg_opt *o = &tab[i];
		const char *k = o->key ? o->key : "(null)";
		bool bad;

		if (!o->key || !valid_name(o->key, strlen(o->key))) {
			ias_cfg__put_err(err, errlen, "configuration table: bad key \"%s\"", k);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(tab[j].key, o->key) == 0) {
				ias_cfg__put_err(err, errlen, "configuration table: %s: listed twice", k);
				return -EINVAL;
			}
		}
		switch (o->type) {
		case IAS_CFG_STRING:
		case IAS_CFG_PATH:
			bad = o->size < 1;
			break;
		case IAS_CFG_UINT:
			bad = (o->size != 1 && o->size != 2 && o->size != 4 && o->size != 8) ||
			      o->min > uint_hi(o);
			break;
		case IAS_CFG_BOOL:
			bad = o->size != sizeof(bool);
			break;
		case IAS_CFG_ENUM:
			bad = o->size != sizeof(int) || !o->names || !o->names[0];
			break;
		case IAS_CFG_DURATION:
			bad = o->size != sizeof(uint64_t) || (o->max && o->min > o->max);
			break;
		case IAS_CFG_LIST:
			bad = o->size != sizeof(struct ias_cfg_list) || o->min > list_hi(o);
			break;
		default:
			bad = true;
			break;
		}
		if (bad) {
			ias_cfg__put_err(err, errlen, "configuration table: %s: bad type, size or range", k);
			return -EINVAL;
		}
	}
	return 0;
}
