/* ias.conf: one option's value in the file syntax, and the effective
 * configuration printed so that it loads back to the same values. */
#include "config_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>

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
		return snprintf(buf, buflen, "%llu", (unsigned long long)ias_cfg__get_uint(o, obj));
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
		ias_cfg__fmt_duration(tmp, sizeof(tmp), u);
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
