/* Table-driven parser for ias.conf: see config.h for the rules. This file
 * reads files and --set arguments; the values themselves are parsed and
 * range-checked in config_value.c, printed in config_print.c. */
#include "config_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

	r = ias_cfg__check_table(tab, n, err, errlen);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++) {
		const struct ias_cfg_opt *o = &tab[i];

		if (!o->def) {
			memset((char *)obj + o->offset, 0, o->size);
			continue;
		}
		r = ias_cfg__set_value(o, obj, o->def, msg, sizeof(msg));
		if (r < 0) {
			ias_cfg__put_err(err, errlen, "configuration table: default: %s", msg);
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

	r = ias_cfg__check_table(tab, n, err, errlen);
	if (r < 0)
		return r;
	if (!key || !value) {
		ias_cfg__put_err(err, errlen, "missing key or value");
		return -EINVAL;
	}
	o = find_opt(tab, n, key, strlen(key));
	if (!o) {
		ias_cfg__put_err(err, errlen, "%s: unknown key", SHOW(sb, key));
		return -EINVAL;
	}
	return ias_cfg__set_value(o, obj, value, err, errlen);
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
		ias_cfg__put_err(err, errlen, "%s: expected key=value",
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
		ias_cfg__put_err(err, errlen, "%s: expected key=value with a key of a-z, 0-9 and _",
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
		ias_cfg__put_err(err, errlen, "%s: value longer than %d bytes", key, IAS_CFG_VALUE_MAX);
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
	ias_cfg__put_err(p->err, p->errlen, "%s:%u: %s", p->name, p->line, msg);
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
				    ias_cfg__shown(sb, sizeof(sb), ns, (size_t)(ne - ns)));
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
			    ias_cfg__shown(sb, sizeof(sb), k, (size_t)(ke - k)));
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
	r = ias_cfg__set_value(o, p->obj, val, msg, sizeof(msg));
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

	r = ias_cfg__check_table(tab, n, err, errlen);
	if (r < 0)
		return r;
	if (section && !valid_name(section, strlen(section))) {
		ias_cfg__put_err(err, errlen, "%s: bad section name \"%s\"", p.name, section);
		return -EINVAL;
	}
	if (len > IAS_CFG_FILE_MAX) {
		ias_cfg__put_err(err, errlen, "%s: file is larger than %d bytes", p.name, IAS_CFG_FILE_MAX);
		return -EFBIG;
	}
	if (len && !buf) {
		ias_cfg__put_err(err, errlen, "%s: no buffer", p.name);
		return -EINVAL;
	}
	p.seen = calloc(n ? n : 1, sizeof(*p.seen));
	if (!p.seen) {
		ias_cfg__put_err(err, errlen, "%s: out of memory", p.name);
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
		ias_cfg__put_err(err, errlen, "no configuration file name");
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT && missing_ok)
			return 0;
		ias_cfg__put_err(err, errlen, "%s: %s", path, strerror_r(-r, eb, sizeof(eb)));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		ias_cfg__put_err(err, errlen, "%s: %s", path, strerror_r(-r, eb, sizeof(eb)));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ias_cfg__put_err(err, errlen, "%s: not a regular file", path);
		r = -EINVAL;
		goto out;
	}
	if (st.st_size > IAS_CFG_FILE_MAX) {
		ias_cfg__put_err(err, errlen, "%s: file is larger than %d bytes", path, IAS_CFG_FILE_MAX);
		r = -EFBIG;
		goto out;
	}
	buf = malloc(IAS_CFG_FILE_MAX + 1);
	if (!buf) {
		ias_cfg__put_err(err, errlen, "%s: out of memory", path);
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t k = read(fd, buf + len, IAS_CFG_FILE_MAX + 1 - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			ias_cfg__put_err(err, errlen, "%s: %s", path, strerror_r(-r, eb, sizeof(eb)));
			goto out;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > IAS_CFG_FILE_MAX) {
			ias_cfg__put_err(err, errlen, "%s: file is larger than %d bytes", path,
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
