/* Process snapshots: storage, indexing, consistency checks and the TSV
 * format. See snapshot.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/snapshot-int.h"

static const char tsv_header[] = "pid\tppid\texe\tcontext\tzone";

/* ---- string table ---------------------------------------------------- */

static uint64_t str_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int strtab_grow(struct snap_strtab *t)
{
	size_t ncap = t->mask ? (t->mask + 1) * 2 : 64, i;
	uint32_t *slot = calloc(ncap, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		size_t h = str_hash(t->str[i], strlen(t->str[i])) & (ncap - 1);

		while (slot[h])
			h = (h + 1) & (ncap - 1);
		slot[h] = (uint32_t)i + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->mask = ncap - 1;
	return 0;
}

static long strtab_find(const struct snap_strtab *t, const char *str, size_t len, size_t *where)
{
	size_t h;

	if (!t->slot)
		return -ENOENT;
	h = str_hash(str, len) & t->mask;
	while (t->slot[h]) {
		const char *c = t->str[t->slot[h] - 1];

		if (strncmp(c, str, len) == 0 && c[len] == '\0')
			return t->slot[h] - 1;
		h = (h + 1) & t->mask;
	}
	if (where)
		*where = h;
	return -ENOENT;
}

long snap_lookup(const struct ias_snapshot *s, const char *str, size_t len)
{
	return strtab_find(&s->strs, str, len, NULL);
}

long snap_intern(struct ias_snapshot *s, const char *str, size_t len)
{
	struct snap_strtab *t = &s->strs;
	size_t where;
	long id;
	char *copy;

	id = strtab_find(t, str, len, &where);
	if (id >= 0)
		return id;
	if (memchr(str, '\0', len))
		return -EINVAL;
	if (t->n >= UINT32_MAX - 1)
		return -ENOMEM;
	if ((t->n + 1) * 2 > t->mask + 1) {
		int r = strtab_grow(t);

		if (r)
			return r;
		(void)strtab_find(t, str, len, &where);
	}
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		char **nstr = realloc(t->str, ncap * sizeof(*nstr));

		if (!nstr)
			return -ENOMEM;
		t->str = nstr;
		t->cap = ncap;
	}
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, str, len);
	copy[len] = '\0';
	t->str[t->n] = copy;
	t->slot[where] = (uint32_t)t->n + 1;
	return (long)t->n++;
}

const char *snap_str(const struct ias_snapshot *s, uint32_t id)
{
	return id < s->strs.n ? s->strs.str[id] : "-";
}

/* ---- construction ---------------------------------------------------- */

struct ias_snapshot *snap_new(void)
{
	struct ias_snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (snap_intern(s, "-", 1) != SNAP_STR_UNKNOWN) {
		ias_snapshot_free(s);
		return NULL;
	}
	return s;
}

int snap_add(struct ias_snapshot *s, const struct snap_proc *p)
{
	if (s->n >= IAS_SNAP_MAX_PROCS)
		return -E2BIG;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 256;
		struct snap_proc *np = realloc(s->p, ncap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		s->p = np;
		s->cap = ncap;
	}
	s->p[s->n++] = *p;
	return 0;
}

void ias_snapshot_free(struct ias_snapshot *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->strs.n; i++)
		free(s->strs.str[i]);
	free(s->strs.str);
	free(s->strs.slot);
	free(s->p);
	free(s->child_off);
	free(s->child);
	free(s);
}

__attribute__((format(printf, 3, 4)))
static int set_err(struct ias_snap_err *err, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->line = line;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int cmp_pid(const void *a, const void *b)
{
	const struct snap_proc *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	/* Equal PIDs (only in rejected input): keep file order. */
	return x->line < y->line ? -1 : x->line > y->line;
}

static long find_idx(const struct ias_snapshot *s, int32_t pid)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->p[mid].pid == pid)
			return (long)mid;
		if (s->p[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ESRCH;
}

/* Parent 0 is a root only for PID 1 and for kernel threads (no exe). */
static bool root_allowed(const struct snap_proc *p)
{
	return p->pid == 1 || p->exe == SNAP_STR_UNKNOWN;
}

static void live_orphan(struct ias_snapshot *s, size_t i, long init_idx)
{
	/* Attach to PID 1 the way the kernel adopts orphans; with no PID 1 in
	 * sight (a restricted /proc), leave it a root. */
	if (init_idx >= 0 && (size_t)init_idx != i) {
		s->p[i].ppid = 1;
		s->p[i].parent = (int32_t)init_idx;
	} else {
		s->p[i].ppid = 0;
		s->p[i].parent = -1;
	}
}

/* Walk every parent chain once; on a cycle either report it (TSV, at the
 * smallest line of the cycle) or cut it (live). Uses a 3-colour mark. */
static int check_cycles(struct ias_snapshot *s, enum snap_mode mode, struct ias_snap_err *err)
{
	uint8_t *state = calloc(s->n ? s->n : 1, 1);
	int32_t *path = malloc((s->n ? s->n : 1) * sizeof(*path));
	unsigned long best_line = 0;
	int32_t best_pid = 0;
	size_t i, k, np;
	int r = 0;

	if (!state || !path) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < s->n; i++) {
		int32_t j = (int32_t)i;

		np = 0;
		while (j >= 0 && state[j] == 0) {
			state[j] = 1;
			path[np++] = j;
			j = s->p[j].parent;
		}
		if (j >= 0 && state[j] == 1) {
			/* j is on the current path: the cycle is path[from j]. */
			for (k = 0; path[k] != j; k++)
				;
			if (mode == SNAP_LIVE) {
				live_orphan(s, (size_t)j, find_idx(s, 1));
				if (s->p[j].parent >= 0 && state[s->p[j].parent] == 1) {
					/* PID 1 itself is in the cycle: make j a root. */
					s->p[j].ppid = 0;
					s->p[j].parent = -1;
				}
			} else {
				for (; k < np; k++) {
					const struct snap_proc *c = &s->p[path[k]];

					if (!best_line || c->line < best_line) {
						best_line = c->line;
						best_pid = c->pid;
					}
				}
			}
		}
		for (k = 0; k < np; k++)
			state[path[k]] = 2;
	}
	if (best_line)
		r = set_err(err, best_line, "PID %d is its own ancestor (parent cycle)",
			    (int)best_pid);
out:
	free(state);
	free(path);
	return r;
}

static int build_children(struct ias_snapshot *s)
{
	size_t i;

	free(s->child_off);
	free(s->child);
	s->child_off = calloc(s->n + 1, sizeof(*s->child_off));
	s->child = malloc((s->n ? s->n : 1) * sizeof(*s->child));
	if (!s->child_off || !s->child)
		return -ENOMEM;
	for (i = 0; i < s->n; i++)
		if (s->p[i].parent >= 0)
			s->child_off[s->p[i].parent + 1]++;
	for (i = 0; i < s->n; i++)
		s->child_off[i + 1] += s->child_off[i];
	/* Fill in ascending PID order using the end of each range as cursor. */
	{
		uint32_t *fill = malloc((s->n ? s->n : 1) * sizeof(*fill));

		if (!fill)
			return -ENOMEM;
		memcpy(fill, s->child_off, s->n * sizeof(*fill));
		for (i = 0; i < s->n; i++)
			if (s->p[i].parent >= 0)
				s->child[fill[s->p[i].parent]++] = (uint32_t)i;
		free(fill);
	}
	return 0;
}

int snap_finish(struct ias_snapshot *s, enum snap_mode mode, struct ias_snap_err *err,
		int32_t (*reparent)(void *ctx, int32_t pid), void *ctx)
{
	unsigned long best_line = 0;
	long init_idx;
	size_t i, w;
	int r;

	if (s->n > 1)
		qsort(s->p, s->n, sizeof(*s->p), cmp_pid);

	/* Duplicates: sorted by (pid, line), so p[w - 1] is the first
	 * occurrence; report the earliest repeated line. Live: keep the first. */
	if (s->n) {
		for (i = 1, w = 1; i < s->n; i++) {
			if (s->p[i].pid != s->p[w - 1].pid) {
				s->p[w++] = s->p[i];
				continue;
			}
			if (mode == SNAP_TSV && (!best_line || s->p[i].line < best_line)) {
				best_line = s->p[i].line;
				set_err(err, s->p[i].line, "duplicate PID %d (first on line %lu)",
					(int)s->p[i].pid, s->p[w - 1].line);
			}
		}
		s->n = w;
	}
	if (best_line)
		return -EINVAL;

	/* Parents. */
	init_idx = find_idx(s, 1);
	for (i = 0; i < s->n; i++) {
		struct snap_proc *p = &s->p[i];
		long pi;

		if (p->ppid == 0) {
			p->parent = -1;
			if (root_allowed(p))
				continue;
			if (mode == SNAP_LIVE) {
				live_orphan(s, i, init_idx);
				continue;
			}
			if (!best_line || p->line < best_line) {
				best_line = p->line;
				set_err(err, p->line, "parent 0 is allowed only for PID 1 and kernel "
					"threads (exe -), not for PID %d", (int)p->pid);
			}
			continue;
		}
		pi = find_idx(s, p->ppid);
		if (pi < 0 && mode == SNAP_LIVE && reparent) {
			int32_t np = reparent(ctx, p->pid);

			if (np > 0 && np != p->pid) {
				p->ppid = np;
				pi = find_idx(s, np);
			}
		}
		if (pi >= 0) {
			p->parent = (int32_t)pi;
			continue;
		}
		p->parent = -1;
		if (mode == SNAP_LIVE) {
			live_orphan(s, i, init_idx);
			continue;
		}
		if (!best_line || p->line < best_line) {
			best_line = p->line;
			set_err(err, p->line, "parent PID %d of PID %d is not in the snapshot",
				(int)p->ppid, (int)p->pid);
		}
	}
	if (best_line)
		return -EINVAL;

	r = check_cycles(s, mode, err);
	if (r)
		return r;
	return build_children(s);
}

/* ---- accessors ------------------------------------------------------- */

size_t ias_snapshot_count(const struct ias_snapshot *s)
{
	return s->n;
}

int ias_snapshot_get(const struct ias_snapshot *s, size_t i, struct ias_proc *out)
{
	const struct snap_proc *p;

	if (i >= s->n)
		return -ERANGE;
	p = &s->p[i];
	out->pid = p->pid;
	out->ppid = p->ppid;
	out->exe = snap_str(s, p->exe);
	out->context = snap_str(s, p->ctx);
	out->zone = snap_str(s, p->zone);
	out->exe_dev = p->dev;
	out->exe_ino = p->ino;
	return 0;
}

long ias_snapshot_index(const struct ias_snapshot *s, pid_t pid)
{
	if (pid <= 0 || pid > IAS_SNAP_PID_MAX)
		return -ESRCH;
	return find_idx(s, (int32_t)pid);
}

int ias_snapshot_has_contexts(const struct ias_snapshot *s)
{
	return s->has_contexts;
}

/* ---- TSV reader ------------------------------------------------------ */

static const char *const col_name[5] = { "pid", "ppid", "exe", "context", "zone" };

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode one column's escapes into out (at least len bytes). */
static int unescape(const char *in, size_t len, char *out, size_t *outlen, int col,
		    unsigned long line, struct ias_snap_err *err)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '\0')
			return set_err(err, line, "NUL byte in the %s column", col_name[col]);
		if (c < 0x20 || c == 0x7f)
			return set_err(err, line, "raw control character 0x%02x in the %s column "
				       "(write it as \\xHH)", c, col_name[col]);
		if (c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		if (++i >= len)
			return set_err(err, line, "backslash at the end of the %s column",
				       col_name[col]);
		switch (in[i]) {
		case '\\': out[o++] = '\\'; break;
		case 't': out[o++] = '\t'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 'x': {
			int hi = i + 2 < len ? hexval(in[i + 1]) : -1;
			int lo = i + 2 < len ? hexval(in[i + 2]) : -1;

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return set_err(err, line, "bad \\x escape in the %s column "
					       "(two hex digits, not 00)", col_name[col]);
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
			break;
		}
		default:
			return set_err(err, line, "unknown escape in the %s column "
				       "(use \\\\ \\t \\n \\r or \\xHH)", col_name[col]);
		}
	}
	*outlen = o;
	return 0;
}

static int parse_num(const char *f, size_t len, int col, long min, long max, int32_t *v,
		     unsigned long line, struct ias_snap_err *err)
{
	long n = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (f[i] < '0' || f[i] > '9')
			return set_err(err, line, "%s column is not a decimal number", col_name[col]);
		if (n <= max)
			n = n * 10 + (f[i] - '0');
	}
	if (n < min || n > max)
		return set_err(err, line, "%s column out of range %ld..%ld", col_name[col], min, max);
	*v = (int32_t)n;
	return 0;
}

static int parse_line(struct ias_snapshot *s, const char *l, size_t len, unsigned long line,
		      char *tmp, struct ias_snap_err *err)
{
	const char *f[5];
	size_t fl[5], i, nf = 0, start = 0, tl = 0;
	struct snap_proc p = { .line = line, .parent = -1 };
	uint32_t *ids[3] = { &p.exe, &p.ctx, &p.zone };
	int r;

	for (i = 0; i <= len; i++) {
		if (i < len && l[i] != '\t')
			continue;
		if (nf < 5) {
			f[nf] = l + start;
			fl[nf] = i - start;
		}
		nf++;
		start = i + 1;
	}
	if (nf != 5)
		return set_err(err, line, "expected 5 tab-separated columns, found %zu", nf);
	for (i = 0; i < 5; i++)
		if (fl[i] == 0)
			return set_err(err, line, "empty %s column", col_name[i]);
	if ((r = parse_num(f[0], fl[0], 0, 1, IAS_SNAP_PID_MAX, &p.pid, line, err)) ||
	    (r = parse_num(f[1], fl[1], 1, 0, IAS_SNAP_PID_MAX, &p.ppid, line, err)))
		return r;
	if (p.pid == p.ppid)
		return set_err(err, line, "PID %d is its own parent", (int)p.pid);
	for (i = 0; i < 3; i++) {
		long id;

		if ((r = unescape(f[i + 2], fl[i + 2], tmp, &tl, (int)i + 2, line, err)))
			return r;
		if (i == 0 && !(tl == 1 && tmp[0] == '-') && tmp[0] != '/')
			return set_err(err, line, "exe column must be an absolute path or -");
		if (i == 2 && !(tl == 1 && tmp[0] == '-') && tmp[0] != '/')
			return set_err(err, line, "zone column must be a cgroup path (/...) or -");
		id = snap_intern(s, tmp, tl);
		if (id < 0)
			return (int)id;
		*ids[i] = (uint32_t)id;
	}
	r = snap_add(s, &p);
	if (r == -E2BIG)
		return set_err(err, line, "more than %d processes", IAS_SNAP_MAX_PROCS);
	return r;
}

int ias_snapshot_parse_tsv(const char *buf, size_t len, struct ias_snapshot **out,
			   struct ias_snap_err *err)
{
	struct ias_snapshot *s = NULL;
	unsigned long line = 0;
	size_t off = 0;
	char *tmp = NULL;
	int r;

	*out = NULL;
	if (err) {
		err->line = 0;
		err->msg[0] = '\0';
	}
	s = snap_new();
	tmp = malloc(IAS_SNAP_MAX_LINE + 1);
	if (!s || !tmp) {
		r = -ENOMEM;
		goto out;
	}
	s->has_contexts = true;
	if (len == 0) {
		r = set_err(err, 1, "empty file: missing the header line");
		goto out;
	}
	while (off < len) {
		const char *l = buf + off, *nl = memchr(l, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - l) : len - off;

		line++;
		off += ll + (nl ? 1 : 0);
		if (ll > IAS_SNAP_MAX_LINE) {
			r = set_err(err, line, "line longer than %d bytes", IAS_SNAP_MAX_LINE);
			goto out;
		}
		if (line == 1) {
			if (ll != sizeof(tsv_header) - 1 || memcmp(l, tsv_header, ll) != 0) {
				r = set_err(err, 1, "header must be exactly "
					    "'pid<TAB>ppid<TAB>exe<TAB>context<TAB>zone'");
				goto out;
			}
			continue;
		}
		r = parse_line(s, l, ll, line, tmp, err);
		if (r)
			goto out;
	}
	r = snap_finish(s, SNAP_TSV, err, NULL, NULL);
out:
	free(tmp);
	if (r) {
		if (r == -ENOMEM)
			set_err(err, line, "out of memory");
		ias_snapshot_free(s);
		return r;
	}
	*out = s;
	return 0;
}

int ias_snapshot_load_tsv(const char *path, struct ias_snapshot **out, struct ias_snap_err *err)
{
	int fd = -1, r;
	size_t len = 0, cap = 0;
	char *buf = NULL;

	*out = NULL;
	if (err) {
		err->line = 0;
		err->msg[0] = '\0';
	}
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb;

			if (cap > IAS_SNAP_MAX_FILE) {
				set_err(err, 0, "file larger than %lu bytes", IAS_SNAP_MAX_FILE);
				r = -EFBIG;
				goto out;
			}
			nb = realloc(buf, ncap);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > IAS_SNAP_MAX_FILE) {
		set_err(err, 0, "file larger than %lu bytes", IAS_SNAP_MAX_FILE);
		r = -EFBIG;
		goto out;
	}
	r = ias_snapshot_parse_tsv(buf, len, out, err);
out:
	if (fd > STDIN_FILENO)
		close(fd);
	free(buf);
	return r;
}

/* ---- TSV writer ------------------------------------------------------ */

static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '\\': fputs("\\\\", f); break;
		case '\t': fputs("\\t", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\x%02x", c);
			else
				fputc(c, f);
		}
	}
}

int ias_snapshot_write_tsv(const struct ias_snapshot *s, FILE *f)
{
	size_t i;

	fprintf(f, "%s\n", tsv_header);
	for (i = 0; i < s->n; i++) {
		const struct snap_proc *p = &s->p[i];

		fprintf(f, "%d\t%d\t", (int)p->pid, (int)p->ppid);
		put_escaped(f, snap_str(s, p->exe));
		fputc('\t', f);
		put_escaped(f, snap_str(s, p->ctx));
		fputc('\t', f);
		put_escaped(f, snap_str(s, p->zone));
		fputc('\n', f);
	}
	if (fflush(f) == EOF || ferror(f))
		return -EIO;
	return 0;
}
