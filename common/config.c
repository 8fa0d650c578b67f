/* Table-driven parser for ias.conf: see config.h for the rules. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MSG_MAX 512

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_keychar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_ctl(char c)
{
	unsigned char u = (unsigned char)c;

	return u < 0x20 || u == 0x7f;
}

static bool valid_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > IAS_CFG_KEY_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!is_keychar(s[i]))
			return false;
	return true;
}

__attribute__((format(printf, 3, 4)))
static void put_err(char *err, size_t errlen, const char *fmt, ...)
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
static const char *shown(char *out, size_t outlen, const char *v, size_t len)
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

#define SHOWN_MAX 80
#define SHOW(buf, s) shown(buf, sizeof(buf), s, strlen(s))

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

static void fmt_duration(char *buf, size_t len, uint64_t ms)
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

static uint64_t get_uint(const struct ias_cfg_opt *o, const void *obj)
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

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if (is_ctl(*s))
			return true;
	return false;
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
				put_err(msg, msglen, "%s: empty item in list", o->key);
				return -EINVAL;
			}
			if (l.n == IAS_CFG_LIST_MAX) {
				put_err(msg, msglen, "%s: too many items (at most %d)",
					o->key, IAS_CFG_LIST_MAX);
				return -EINVAL;
			}
			if (len >= IAS_CFG_ITEM_MAX) {
				put_err(msg, msglen, "%s: item %s is too long (at most %d bytes)",
					o->key, shown(sb, sizeof(sb), start, len),
					IAS_CFG_ITEM_MAX - 1);
				return -EINVAL;
			}
			memcpy(l.item[l.n], start, len);
			l.item[l.n][len] = '\0';
			if (has_ctl(l.item[l.n])) {
				put_err(msg, msglen, "%s: control character in item %s",
					o->key, shown(sb, sizeof(sb), start, len));
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
			put_err(msg, msglen, "%s: list longer than %d bytes", o->key,
				IAS_CFG_VALUE_MAX);
			return -EINVAL;
		}
	}
	if (l.n < o->min || l.n > list_hi(o)) {
		put_err(msg, msglen, "%s: %u items, want %llu to %llu", o->key, l.n,
			(unsigned long long)o->min, (unsigned long long)list_hi(o));
		return -EINVAL;
	}
	memcpy((char *)obj + o->offset, &l, sizeof(l));
	return 0;
}

/* Parses v (NUL-terminated, unquoted) into the member; writes "key: ..." to
 * msg on error. The member is changed only on success. */
static int set_value(const struct ias_cfg_opt *o, void *obj, const char *v,
		     char *msg, size_t msglen)
{
	char sb[SHOWN_MAX], lo[32], hi[32];
	char *dst = (char *)obj + o->offset;
	size_t len = strlen(v), i;
	uint64_t u;
	int r;

	if (len > IAS_CFG_VALUE_MAX) {
		put_err(msg, msglen, "%s: value longer than %d bytes", o->key, IAS_CFG_VALUE_MAX);
		return -EINVAL;
	}
	switch (o->type) {
	case IAS_CFG_STRING:
	case IAS_CFG_PATH:
		if (has_ctl(v)) {
			put_err(msg, msglen, "%s: control character in %s", o->key, SHOW(sb, v));
			return -EINVAL;
		}
		if (len >= o->size) {
			put_err(msg, msglen, "%s: %s is too long (at most %zu bytes)", o->key,
				SHOW(sb, v), o->size - 1);
			return -EINVAL;
		}
		if (o->type == IAS_CFG_PATH && len && v[0] != '/') {
			put_err(msg, msglen, "%s: %s is not an absolute path", o->key, SHOW(sb, v));
			return -EINVAL;
		}
		memset(dst, 0, o->size);
		memcpy(dst, v, len);
		return 0;
	case IAS_CFG_UINT:
		r = parse_u64(v, &u);
		if (r == -EINVAL) {
			put_err(msg, msglen, "%s: %s is not an unsigned number", o->key, SHOW(sb, v));
			return -EINVAL;
		}
		if (r == -ERANGE || u < o->min || u > uint_hi(o)) {
			put_err(msg, msglen, "%s: %s is out of range (%llu to %llu)", o->key,
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
		put_err(msg, msglen, "%s: %s is not a boolean (use yes or no)", o->key,
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
		put_err(msg, msglen, "%s: %s is not one of: %s", o->key, SHOW(sb, v), list);
		return -EINVAL;
	}
	case IAS_CFG_DURATION:
		r = parse_duration(v, &u);
		if (r == -EINVAL) {
			put_err(msg, msglen, "%s: %s is not a duration (use ms, s, m, h or d)",
				o->key, SHOW(sb, v));
			return -EINVAL;
		}
		if (r == -ERANGE || u < o->min || (o->max && u > o->max)) {
			fmt_duration(lo, sizeof(lo), o->min);
			if (o->max)
				fmt_duration(hi, sizeof(hi), o->max);
			else
				fmt_duration(hi, sizeof(hi), UINT64_MAX);
			put_err(msg, msglen, "%s: %s is out of range (%s to %s)", o->key,
				SHOW(sb, v), lo, hi);
			return -EINVAL;
		}
		memcpy(dst, &u, sizeof(u));
		return 0;
	case IAS_CFG_LIST:
		return set_list(o, obj, v, msg, msglen);
	}
	put_err(msg, msglen, "%s: unknown option type %d", o->key, (int)o->type);
	return -EINVAL;
}

/* --- Table ------------------------------------------------------------- */

static int check_table(const struct ias_cfg_opt *tab, size_t n, char *err,
		       size_t errlen)
{
	size_t i, j;

	if (n && !tab) {
		put_err(err, errlen, "configuration table: NULL");
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		const struct ias_cfg_opt *o = &tab[i];
		const char *k = o->key ? o->key : "(null)";
		bool bad;

		if (!o->key || !valid_name(o->key, strlen(o->key))) {
			put_err(err, errlen, "configuration table: bad key \"%s\"", k);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(tab[j].key, o->key) == 0) {
				put_err(err, errlen, "configuration table: %s: listed twice", k);
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
			put_err(err, errlen, "configuration table: %s: bad type, size or range", k);
			return -EINVAL;
		}
	}
	return 0;
}

static const struct ias_cfg_opt *find_opt(const struct ias_cfg_opt *tab, size_t n,
					  const char *key, size_t keylen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(tab[i].key) == keylen && memcmp(tab[i].key, key, keylen) == 0)
			return &tab[i];
	return NULL;
}

int ias_cfg_defaults(const struct ias_cfg_opt *tab, size_t n, void *obj,
		     char *err, size_t errlen)
{
	char msg[MSG_MAX];
	size_t i;
	int r;

	if (err && errlen)
		err[0] = '\0';
	r = check_table(tab, n, err, errlen);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++) {
		const struct ias_cfg_opt *o = &tab[i];

		if (!o->def) {
			memset((char *)obj + o->offset, 0, o->size);
			continue;
		}
		r = set_value(o, obj, o->def, msg, sizeof(msg));
		if (r < 0) {
			put_err(err, errlen, "configuration table: default: %s", msg);
			return r;
		}
	}
	return 0;
}

int ias_cfg_set(const struct ias_cfg_opt *tab, size_t n, void *obj,
		const char *key, const char *value, char *err, size_t errlen)
{
	const struct ias_cfg_opt *o;
	char sb[SHOWN_MAX];
	int r;

	if (err && errlen)
		err[0] = '\0';
	r = check_table(tab, n, err, errlen);
	if (r < 0)
		return r;
	if (!key || !value) {
		put_err(err, errlen, "missing key or value");
		return -EINVAL;
	}
	o = find_opt(tab, n, key, strlen(key));
	if (!o) {
		put_err(err, errlen, "%s: unknown key", SHOW(sb, key));
		return -EINVAL;
	}
	return set_value(o, obj, value, err, errlen);
}

int ias_cfg_set_arg(const struct ias_cfg_opt *tab, size_t n, void *obj,
		    const char *arg, char *err, size_t errlen)
{
	const char *eq = arg ? strchr(arg, '=') : NULL;
	char key[IAS_CFG_KEY_MAX + 1], sb[SHOWN_MAX], val[IAS_CFG_VALUE_MAX + 1];
	const char *ks, *ke, *v, *ve;

	if (err && errlen)
		err[0] = '\0';
	if (!eq) {
		put_err(err, errlen, "%s: expected key=value",
			arg ? SHOW(sb, arg) : "(null)");
		return -EINVAL;
	}
	ks = arg;
	ke = eq;
	while (ks < ke && is_ws(*ks))
		ks++;
	while (ke > ks && is_ws(ke[-1]))
		ke--;
	if (!valid_name(ks, (size_t)(ke - ks))) {
		put_err(err, errlen, "%s: expected key=value with a key of a-z, 0-9 and _",
			SHOW(sb, arg));
		return -EINVAL;
	}
	memcpy(key, ks, (size_t)(ke - ks));
	key[ke - ks] = '\0';
	v = eq + 1;
	while (is_ws(*v))
		v++;
	ve = v + strlen(v);
	while (ve > v && is_ws(ve[-1]))
		ve--;
	if ((size_t)(ve - v) > IAS_CFG_VALUE_MAX) {
		put_err(err, errlen, "%s: value longer than %d bytes", key, IAS_CFG_VALUE_MAX);
		return -EINVAL;
	}
	memcpy(val, v, (size_t)(ve - v));
	val[ve - v] = '\0';
	return ias_cfg_set(tab, n, obj, key, val, err, errlen);
}

/* --- Files -------------------------------------------------------------- */

struct parser {
	const struct ias_cfg_opt *tab;
	size_t n;
	void *obj;
	const char *section;
	const char *name;
	unsigned line;
	unsigned *seen; /* line where each option was set, 0 = not yet */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int perr(struct parser *p, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	put_err(p->err, p->errlen, "%s:%u: %s", p->name, p->line, msg);
	return -EINVAL;
}

/* One line, without its newline, already checked for length and control
 * characters other than tab. *applies is the state of the current section. */
static int parse_line(struct parser *p, const char *s, const char *e, bool *applies)
{
	char val[IAS_CFG_LINE_MAX + 1], msg[MSG_MAX], sb[SHOWN_MAX];
	const char *k, *ke, *v;
	const struct ias_cfg_opt *o;
	size_t vl = 0;
	int r;

	while (s < e && is_ws(*s))
		s++;
	if (s == e || *s == '#')
		return 0;

	if (*s == '[') {
		const char *ns = s + 1, *ne = memchr(ns, ']', (size_t)(e - ns));

		if (!ne)
			return perr(p, "section header without closing ]");
		if (!valid_name(ns, (size_t)(ne - ns)))
			return perr(p, "bad section name %s (use a-z, 0-9 and _)",
				    shown(sb, sizeof(sb), ns, (size_t)(ne - ns)));
		s = ne + 1;
		while (s < e && is_ws(*s))
			s++;
		if (s < e && *s != '#')
			return perr(p, "text after section header");
		*applies = p->section && strlen(p->section) == (size_t)(ne - ns) &&
			   memcmp(p->section, ns, (size_t)(ne - ns)) == 0;
		return 0;
	}

	k = s;
	while (s < e && !is_ws(*s) && *s != '=')
		s++;
	ke = s;
	if (!valid_name(k, (size_t)(ke - k))) {
		if (k == ke)
			return perr(p, "expected key = value");
		return perr(p, "bad key %s (use a-z, 0-9 and _)",
			    shown(sb, sizeof(sb), k, (size_t)(ke - k)));
	}
	while (s < e && is_ws(*s))
		s++;
	if (s == e || *s != '=')
		return perr(p, "%.*s: expected = after the key", (int)(ke - k), k);
	s++;
	while (s < e && is_ws(*s))
		s++;

	if (s < e && *s == '"') {
		bool closed = false;

		for (s++; s < e; s++) {
			if (*s == '"') {
				closed = true;
				s++;
				break;
			}
			if (*s == '\\') {
				if (s + 1 < e && (s[1] == '"' || s[1] == '\\')) {
					s++;
				} else {
					return perr(p, "%.*s: unknown escape in quoted value (use \\\" or \\\\)",
						    (int)(ke - k), k);
				}
			}
			val[vl++] = *s;
		}
		if (!closed)
			return perr(p, "%.*s: missing closing quote", (int)(ke - k), k);
		while (s < e && is_ws(*s))
			s++;
		if (s < e && *s != '#')
			return perr(p, "%.*s: text after the closing quote", (int)(ke - k), k);
	} else {
		/* A '#' right after the '=' and its blanks, or after a blank,
		 * starts a comment. */
		v = s;
		for (; s < e; s++) {
			if (*s == '#' && is_ws(s[-1])) {
				e = s;
				break;
			}
		}
		while (e > v && is_ws(e[-1]))
			e--;
		vl = (size_t)(e - v);
		memcpy(val, v, vl);
	}
	val[vl] = '\0';

	if (!*applies)
		return 0;
	o = find_opt(p->tab, p->n, k, (size_t)(ke - k));
	if (!o) {
		if (p->section)
			return perr(p, "%.*s: unknown key (in the part before any section or in [%s])",
				    (int)(ke - k), k, p->section);
		return perr(p, "%.*s: unknown key", (int)(ke - k), k);
	}
	if (p->seen[o - p->tab])
		return perr(p, "%s: set twice (first at line %u)", o->key, p->seen[o - p->tab]);
	p->seen[o - p->tab] = p->line;
	r = set_value(o, p->obj, val, msg, sizeof(msg));
	if (r < 0)
		return perr(p, "%s", msg);
	return 0;
}

int ias_cfg_load_buf(const struct ias_cfg_opt *tab, size_t n, void *obj,
		     const char *section, const char *name, const char *buf,
		     size_t len, char *err, size_t errlen)
{
	struct parser p = {
		.tab = tab, .n = n, .obj = obj, .section = section,
		.name = name ? name : "(config)", .err = err, .errlen = errlen,
	};
	bool applies = true;
	size_t pos = 0;
	int r;

	if (err && errlen)
		err[0] = '\0';
	r = check_table(tab, n, err, errlen);
	if (r < 0)
		return r;
	if (section && !valid_name(section, strlen(section))) {
		put_err(err, errlen, "%s: bad section name \"%s\"", p.name, section);
		return -EINVAL;
	}
	if (len > IAS_CFG_FILE_MAX) {
		put_err(err, errlen, "%s: file is larger than %d bytes", p.name, IAS_CFG_FILE_MAX);
		return -EFBIG;
	}
	if (len && !buf) {
		put_err(err, errlen, "%s: no buffer", p.name);
		return -EINVAL;
	}
	p.seen = calloc(n ? n : 1, sizeof(*p.seen));
	if (!p.seen) {
		put_err(err, errlen, "%s: out of memory", p.name);
		return -ENOMEM;
	}
	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - s) : len - pos, i;

		p.line++;
		if (ll > IAS_CFG_LINE_MAX) {
			r = perr(&p, "line longer than %d bytes", IAS_CFG_LINE_MAX);
			goto out;
		}
		for (i = 0; i < ll; i++) {
			if (s[i] == '\0') {
				r = perr(&p, "NUL byte");
				goto out;
			}
			if (s[i] == '\r') {
				r = perr(&p, "carriage return (convert the file to Unix line ends)");
				goto out;
			}
			if (s[i] != '\t' && is_ctl(s[i])) {
				r = perr(&p, "control character 0x%02x", (unsigned char)s[i]);
				goto out;
			}
		}
		r = parse_line(&p, s, s + ll, &applies);
		if (r < 0)
			goto out;
		pos += ll + 1;
	}
	r = 0;
out:
	free(p.seen);
	return r;
}

int ias_cfg_load_file(const struct ias_cfg_opt *tab, size_t n, void *obj,
		      const char *section, const char *path, int missing_ok,
		      char *err, size_t errlen)
{
	char eb[128], *buf = NULL;
	size_t len = 0;
	struct stat st;
	int fd = -1, r;

	if (err && errlen)
		err[0] = '\0';
	if (!path) {
		put_err(err, errlen, "no configuration file name");
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT && missing_ok)
			return 0;
		put_err(err, errlen, "%s: %s", path, strerror_r(-r, eb, sizeof(eb)));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		put_err(err, errlen, "%s: %s", path, strerror_r(-r, eb, sizeof(eb)));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		put_err(err, errlen, "%s: not a regular file", path);
		r = -EINVAL;
		goto out;
	}
	if (st.st_size > IAS_CFG_FILE_MAX) {
		put_err(err, errlen, "%s: file is larger than %d bytes", path, IAS_CFG_FILE_MAX);
		r = -EFBIG;
		goto out;
	}
	buf = malloc(IAS_CFG_FILE_MAX + 1);
	if (!buf) {
		put_err(err, errlen, "%s: out of memory", path);
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t k = read(fd, buf + len, IAS_CFG_FILE_MAX + 1 - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			put_err(err, errlen, "%s: %s", path, strerror_r(-r, eb, sizeof(eb)));
			goto out;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > IAS_CFG_FILE_MAX) {
			put_err(err, errlen, "%s: file is larger than %d bytes", path,
				IAS_CFG_FILE_MAX);
			r = -EFBIG;
			goto out;
		}
	}
	r = ias_cfg_load_buf(tab, n, obj, section, path, buf, len, err, errlen);
out:
	free(buf);
	close(fd);
	return r;
}

/* --- Printing ------------------------------------------------------------ */

static bool needs_quote(const char *s)
{
	size_t len = strlen(s);

	return len == 0 || is_ws(s[0]) || is_ws(s[len - 1]) || strpbrk(s, "\"\\#");
}

static int put_text(char *buf, size_t buflen, const char *s)
{
	size_t o = 0;

	if (has_ctl(s))
		return -EINVAL;
	if (!needs_quote(s))
		return snprintf(buf, buflen, "%s", s);
#define PUT(c) do { if (o + 1 < buflen) buf[o] = (c); o++; } while (0)
	PUT('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			PUT('\\');
		PUT(*s);
	}
	PUT('"');
#undef PUT
	if (buflen)
		buf[o < buflen ? o : buflen - 1] = '\0';
	return o > INT_MAX ? -EOVERFLOW : (int)o;
}

int ias_cfg_format(const struct ias_cfg_opt *o, const void *obj, char *buf,
		   size_t buflen)
{
	const char *src = (const char *)obj + o->offset;
	char tmp[IAS_CFG_LIST_MAX * (IAS_CFG_ITEM_MAX + 2) + 1];
	uint64_t u;
	size_t i, off = 0, l;
	bool b;
	int x;

	if (buflen)
		buf[0] = '\0';
	switch (o->type) {
	case IAS_CFG_STRING:
	case IAS_CFG_PATH:
		l = strnlen(src, o->size);
		if (l == o->size)
			l = o->size - 1;
		if (l >= sizeof(tmp))
			return -EINVAL;
		memcpy(tmp, src, l);
		tmp[l] = '\0';
		return put_text(buf, buflen, tmp);
	case IAS_CFG_UINT:
		return snprintf(buf, buflen, "%llu", (unsigned long long)get_uint(o, obj));
	case IAS_CFG_BOOL:
		memcpy(&b, src, sizeof(b));
		return snprintf(buf, buflen, "%s", b ? "yes" : "no");
	case IAS_CFG_ENUM:
		memcpy(&x, src, sizeof(x));
		for (i = 0; o->names[i]; i++)
			if ((size_t)x == i)
				return snprintf(buf, buflen, "%s", o->names[i]);
		return -EINVAL;
	case IAS_CFG_DURATION:
		memcpy(&u, src, sizeof(u));
		fmt_duration(tmp, sizeof(tmp), u);
		return snprintf(buf, buflen, "%s", tmp);
	case IAS_CFG_LIST: {
		const struct ias_cfg_list *lst = (const struct ias_cfg_list *)(const void *)src;
		unsigned cnt = lst->n > IAS_CFG_LIST_MAX ? IAS_CFG_LIST_MAX : lst->n;

		tmp[0] = '\0';
		for (i = 0; i < cnt; i++) {
			l = strnlen(lst->item[i], IAS_CFG_ITEM_MAX);
			if (l == IAS_CFG_ITEM_MAX || l == 0 || strchr(lst->item[i], ',') ||
			    is_ws(lst->item[i][0]) || is_ws(lst->item[i][l - 1]))
				return -EINVAL;
			if (i) {
				memcpy(tmp + off, ", ", 2);
				off += 2;
			}
			memcpy(tmp + off, lst->item[i], l);
			off += l;
			tmp[off] = '\0';
		}
		return put_text(buf, buflen, tmp);
	}
	}
	return -EINVAL;
}

void ias_cfg_print(const struct ias_cfg_opt *tab, size_t n, const void *obj,
		   const char *section, FILE *out)
{
	char val[IAS_CFG_LIST_MAX * (IAS_CFG_ITEM_MAX + 4) + 8];
	size_t i;

	fprintf(out, "# Effective IAS configuration%s%s%s\n", section ? " for [" : "",
		section ? section : "", section ? "]" : "");
	if (section)
		fprintf(out, "[%s]\n", section);
	for (i = 0; i < n; i++) {
		const struct ias_cfg_opt *o = &tab[i];
		int r = ias_cfg_format(o, obj, val, sizeof(val));

		fprintf(out, "\n");
		if (o->help && *o->help) {
			const char *h = o->help;

			while (*h) {
				size_t l = strcspn(h, "\n");

				fprintf(out, "# %.*s\n", (int)l, h);
				h += l;
				if (*h)
					h++;
			}
		}
		if (o->def)
			fprintf(out, "# default: %s\n", *o->def ? o->def : "(empty)");
		if (r < 0 || (size_t)r >= sizeof(val) ||
		    strlen(o->key) + 3 + (size_t)r > IAS_CFG_LINE_MAX)
			fprintf(out, "# %s: current value cannot be printed\n", o->key);
		else
			fprintf(out, "%s = %s\n", o->key, val);
	}
}
