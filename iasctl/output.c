/* iasctl's output: colour, tables, safe text, JSON and times; see output.h. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/proto.h"
#include "iasctl/output.h"

/* ---- colour ------------------------------------------------------------- */

static bool color;

int out_color_choose(const char *mode, int fd, bool json)
{
	int on;

	if (strcmp(mode, "always") == 0)
		on = 1;
	else if (strcmp(mode, "never") == 0)
		on = 0;
	else if (strcmp(mode, "auto") == 0)
		on = isatty(fd) && !getenv("NO_COLOR");
	else
		return -1;
	return json ? 0 : on;
}

void out_color_set(bool on)
{
	color = on;
}

const char *out_bold(void) { return color ? "\033[1m" : ""; }
const char *out_dim(void) { return color ? "\033[2m" : ""; }
const char *out_red(void) { return color ? "\033[31m" : ""; }
const char *out_reset(void) { return color ? "\033[0m" : ""; }

/* ---- text --------------------------------------------------------------- */

static void *xalloc(void *p)
{
	if (!p)
		abort();
	return p;
}

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 if there is none:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* s with invalid bytes as U+FFFD and, if ctl, control characters as '?'. */
static char *repair(const char *s, bool ctl)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char *out = xalloc(malloc(strlen((const char *)p) * 3 + 1)), *o = out;

	while (*p) {
		size_t n = utf8_seq(p);

		if (n == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		} else if (ctl && n == 1 && (*p < 0x20 || *p == 0x7f)) {
			*o++ = '?';
			p++;
		} else {
			memcpy(o, p, n);
			o += n;
			p += n;
		}
	}
	*o = '\0';
	return out;
}

char *out_clean(const char *s)
{
	return repair(s, true);
}

void out_printf(FILE *f, const char *fmt, ...)
{
	char *raw = NULL, *clean;
	va_list ap;
	bool nl;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&raw, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	nl = n > 0 && raw[n - 1] == '\n';
	if (nl)
		raw[n - 1] = '\0';
	clean = out_clean(raw);
	fputs(clean, f);
	if (nl)
		fputc('\n', f);
	free(clean);
	free(raw);
}

size_t out_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* ---- tables ------------------------------------------------------------- */

void out_table_init(struct out_table *t, int ncol, const char *const *head)
{
	int c;

	memset(t, 0, sizeof(*t));
	t->ncol = ncol < OUT_MAXCOL ? ncol : OUT_MAXCOL;
	for (c = 0; c < t->ncol; c++) {
		t->head[c] = head[c];
		t->width[c] = out_width(head[c]);
	}
}

void out_table_row(struct out_table *t, bool faint, const char *const *cells)
{
	char **row;
	int c;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->rows = xalloc(realloc(t->rows, (size_t)t->cap * sizeof(*t->rows)));
		t->faint = xalloc(realloc(t->faint, (size_t)t->cap * sizeof(*t->faint)));
	}
	row = xalloc(calloc((size_t)t->ncol, sizeof(char *)));
	for (c = 0; c < t->ncol; c++) {
		size_t w;

		row[c] = out_clean(cells[c] ? cells[c] : "-");
		w = out_width(row[c]);
		if (w > t->width[c])
			t->width[c] = w;
	}
	t->rows[t->nrows] = row;
	t->faint[t->nrows++] = faint;
}

static void print_cells(FILE *f, const struct out_table *t, const char *const *cells)
{
	int c;

	for (c = 0; c < t->ncol; c++) {
		fputs(cells[c], f);
		if (c + 1 < t->ncol)
			fprintf(f, "%*s", (int)(t->width[c] - out_width(cells[c]) + 2), "");
	}
}

void out_table_print(FILE *f, struct out_table *t)
{
	int r, c;

	fputs(out_bold(), f);
	print_cells(f, t, t->head);
	fprintf(f, "%s\n", out_reset());
	for (r = 0; r < t->nrows; r++) {
		fputs(t->faint[r] ? out_dim() : "", f);
		print_cells(f, t, (const char *const *)t->rows[r]);
		fprintf(f, "%s\n", t->faint[r] ? out_reset() : "");
		for (c = 0; c < t->ncol; c++)
			free(t->rows[r][c]);
		free(t->rows[r]);
	}
	free(t->rows);
	free(t->faint);
	t->rows = NULL;
	t->faint = NULL;
	t->nrows = t->cap = 0;
}

/* ---- JSON --------------------------------------------------------------- */

json_object *out_json_string(const char *s)
{
	char *v = repair(s, false); /* json-c escapes quotes and controls */
	json_object *o = json_object_new_string(v);

	free(v);
	return o;
}

/* Attributes that repeat, and the array they are collected in. */
static const char *list_key(uint16_t parent, uint16_t type)
{
	switch (type) {
	case IAS_CTL_A_QPN: return parent == IAS_CTL_A_BLOCK ? "qpns" : NULL;
	case IAS_CTL_A_DEST: return "dests";
	case IAS_CTL_A_BLOCK: return "blocks";
	case IAS_CTL_A_QP: return "qps";
	case IAS_CTL_A_INCIDENT: return "incidents";
	case IAS_CTL_A_ALLOW: return "allow";
	case IAS_CTL_A_AUDIT: return "audit";
	case IAS_CTL_A_EVENT: return "events";
	case IAS_CTL_A_FABRIC_NODE: return "nodes";
	default: return NULL;
	}
}

static json_object *attr_json(const struct ias_ctl_attr *a)
{
	char s[IAS_CTL_STR_MAX + 1];
	struct ias_rd inner;
	uint8_t u8, g[16];
	uint32_t u32;
	uint64_t u64;

	switch (ias_ctl_attr_wire(a->type)) {
	case IAS_CTL_W_U8:
		ias_ctl_get_u8(a, &u8);
		/* u8 attributes are flags, except the QP's type and state */
		if (a->type == IAS_CTL_A_QP_TYPE || a->type == IAS_CTL_A_QP_STATE)
			return json_object_new_int(u8);
		return json_object_new_boolean(u8 != 0);
	case IAS_CTL_W_U32:
		ias_ctl_get_u32(a, &u32);
		return json_object_new_int64(u32);
	case IAS_CTL_W_U64:
		ias_ctl_get_u64(a, &u64);
		return json_object_new_uint64(u64);
	case IAS_CTL_W_STR:
		ias_ctl_get_str(a, s, sizeof(s));
		return out_json_string(s);
	case IAS_CTL_W_GID:
		ias_ctl_get_bytes(a, g, 16);
		snprintf(s, sizeof(s),
			 "%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x",
			 g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11],
			 g[12], g[13], g[14], g[15]);
		return json_object_new_string(s);
	case IAS_CTL_W_NESTED:
		ias_ctl_attr_nested(a, &inner);
		return out_reply_json(&inner, a->type);
	default:
		return NULL;
	}
}

json_object *out_reply_json(struct ias_rd *r, uint16_t parent)
{
	json_object *o = json_object_new_object();
	struct ias_ctl_attr a;

	while (ias_ctl_next(r, &a) == 1) {
		const char *name = ias_ctl_attr_name(a.type), *lk;
		json_object *v, *arr;
		char key[64];
		size_t i;

		if (!name || !(v = attr_json(&a)))
			continue; /* from a newer daemon: not shown */
		for (i = 0; name[i] && i < sizeof(key) - 1; i++)
			key[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
		key[i] = '\0';
		lk = list_key(parent, a.type);
		if (!lk) {
			json_object_object_add(o, key, v);
			continue;
		}
		if (!json_object_object_get_ex(o, lk, &arr)) {
			arr = json_object_new_array();
			json_object_object_add(o, lk, arr);
		}
		json_object_array_add(arr, v);
	}
	return o;
}

void out_json_print(FILE *f, json_object *o)
{
	fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_SPACED |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
}

void out_json_list(FILE *f, json_object *o, const char *key)
{
	json_object *a = jarr(o, key);

	if (a)
		out_json_print(f, a);
	else
		fprintf(f, "[]\n");
}

const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v))
		return NULL;
	return json_object_get_string(v);
}

const char *jstr_or(json_object *o, const char *k, const char *dflt)
{
	const char *s = jstr(o, k);

	return s && *s ? s : dflt;
}

bool jhas(json_object *o, const char *k)
{
	return o && json_object_object_get_ex(o, k, NULL);
}

uint64_t ju64(json_object *o, const char *k)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v))
		return 0;
	return json_object_get_uint64(v);
}

static json_object *jtyped(json_object *o, const char *k, json_type type)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

json_object *jarr(json_object *o, const char *k)
{
	return jtyped(o, k, json_type_array);
}

json_object *jobj(json_object *o, const char *k)
{
	return jtyped(o, k, json_type_object);
}

size_t jlen(json_object *a)
{
	return a ? json_object_array_length(a) : 0;
}

json_object *jat(json_object *a, size_t i)
{
	return i < jlen(a) ? json_object_array_get_idx(a, i) : NULL;
}

/* ---- time --------------------------------------------------------------- */

uint64_t out_now_ms(void)
{
	const char *fixed = getenv("IASCTL_NOW_MS");
	struct timespec ts;
	char *end;
	uint64_t v;

	if (fixed && *fixed >= '0' && *fixed <= '9') {
		v = strtoull(fixed, &end, 10);
		if (!*end)
			return v;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void out_span(uint64_t ms, char *out, size_t cap)
{
	uint64_t s = ms / 1000;

	if (s < 60)
		snprintf(out, cap, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(out, cap, "%" PRIu64 "m", s / 60);
	else if (s < 86400)
		snprintf(out, cap, "%" PRIu64 "h", s / 3600);
	else
		snprintf(out, cap, "%" PRIu64 "d", s / 86400);
}

void out_ago(uint64_t now, uint64_t then, char *out, size_t cap)
{
	char span[24];

	if (!then || now <= then) {
		snprintf(out, cap, "-");
		return;
	}
	out_span(now - then, span, sizeof(span));
	snprintf(out, cap, "%s ago", span);
}

void out_time(uint64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!ms || !gmtime_r(&t, &tm)) {
		snprintf(out, cap, "-");
		return;
	}
	strftime(out, cap, "%Y-%m-%d %H:%M:%SZ", &tm);
}
