/* Fuzz harness for the ias.conf parser. Whatever the input: no crash, a
 * message on every failure; and a configuration that loads must print and
 * load back to identical values, and print identically a second time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const levels[] = { "off", "dry_run", "enforce", NULL };

struct fconf {
	char name[24];
	char path[48];
	uint8_t u8;
	uint16_t u16;
	uint32_t port;
	uint64_t u64;
	bool flag;
	int level;
	uint64_t dur;
	uint64_t dur2;
	struct ias_cfg_list list;
};

static const struct ias_cfg_opt tab[] = {
	IAS_CFG_STR(struct fconf, name, "n", "a string"),
	IAS_CFG_PATHNAME(struct fconf, path, NULL, "a path"),
	IAS_CFG_U(struct fconf, u8, 0, 0, "1", "8 bits"),
	IAS_CFG_U(struct fconf, u16, 0, 0, "1", "16 bits"),
	IAS_CFG_U(struct fconf, port, 1, 65535, "1", "bounded"),
	IAS_CFG_U(struct fconf, u64, 0, 0, "0", "64 bits"),
	IAS_CFG_B(struct fconf, flag, "no", "a bool"),
	IAS_CFG_E(struct fconf, level, levels, "off", "an enum"),
	IAS_CFG_MS(struct fconf, dur, 1000, 86400000, "1s", "bounded duration"),
	IAS_CFG_MS(struct fconf, dur2, 0, 0, "0", "any duration"),
	IAS_CFG_L(struct fconf, list, NULL, "a list"),
};
#define N IAS_CFG_NOPTS(tab)

static int equal(const struct fconf *a, const struct fconf *b)
{
	unsigned i;

	if (strcmp(a->name, b->name) || strcmp(a->path, b->path) || a->u8 != b->u8 ||
	    a->u16 != b->u16 || a->port != b->port || a->u64 != b->u64 ||
	    a->flag != b->flag || a->level != b->level || a->dur != b->dur ||
	    a->dur2 != b->dur2 || a->list.n != b->list.n)
		return 0;
	for (i = 0; i < a->list.n; i++)
		if (strcmp(a->list.item[i], b->list.item[i]))
			return 0;
	return 1;
}

static char *print(const struct fconf *c, const char *section, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		abort();
	ias_cfg_print(tab, N, c, section, f);
	fclose(f);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fconf a, b;
	char err[512], *t1, *t2;
	const char *section = size && (data[0] & 1) ? "sema" : NULL;
	size_t l1, l2;
	int r;

	if (ias_cfg_defaults(tab, N, &a, err, sizeof(err)) < 0)
		abort();
	memset(err, 'x', sizeof(err));
	r = ias_cfg_load_buf(tab, N, &a, section, "fuzz", (const char *)data, size, err,
			     sizeof(err));
	if (!memchr(err, '\0', sizeof(err)))
		abort();
	if (r < 0) {
		if (err[0] == '\0' || strncmp(err, "fuzz", 4) != 0)
			abort();
		return 0;
	}
	if (err[0] != '\0')
		abort();

	t1 = print(&a, section, &l1);
	if (ias_cfg_defaults(tab, N, &b, err, sizeof(err)) < 0)
		abort();
	memset(&b.list, 0x7f, sizeof(b.list));
	b.list.n = 0;
	r = ias_cfg_load_buf(tab, N, &b, section, "printed", t1, l1, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "printed configuration does not load: %s\n%s", err, t1);
		abort();
	}
	if (!equal(&a, &b))
		abort();
	t2 = print(&b, section, &l2);
	if (l1 != l2 || memcmp(t1, t2, l1) != 0)
		abort();
	free(t1);
	free(t2);
	return 0;
}
