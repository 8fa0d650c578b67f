/* Table-driven parser for /etc/ias/ias.conf, shared by every IAS daemon.
 *
 * File format (see ias.conf(5)):
 *   # comment
 *   key = value            # comment after whitespace
 *   name = "quoted \"value\" with \\ escapes"
 *   [section]
 * Keys are [a-z0-9_]+. Keys before the first section header, and keys in the
 * section the caller names, are matched against the caller's table; other
 * sections are syntax-checked and skipped. An unknown key (where it applies),
 * a key set twice (counting the unsectioned part and the caller's section
 * together), a bad value or a syntax error stops loading and is reported as
 * "NAME:LINE: key: message" in the caller's buffer.
 *
 * A daemon describes its settings with a table of struct ias_cfg_opt built
 * with the IAS_CFG_* macros below, then:
 *   ias_cfg_defaults(tab, n, &conf, err, sizeof(err));
 *   ias_cfg_load_file(tab, n, &conf, "sema", path, 1, err, sizeof(err));
 *   ias_cfg_set(tab, n, &conf, "block_duration", "10m", err, sizeof(err));
 * On error the object may be partly updated: load into a fresh object when
 * re-reading the file of a running daemon.
 *
 * Every function returns 0 or a negative errno:
 *   -EINVAL  bad syntax, unknown key, bad value, bad table
 *   -EFBIG   file larger than IAS_CFG_FILE_MAX
 *   other    the errno of open/read (the file name is in the message)
 * and never prints. err is always NUL-terminated when errlen > 0. */
#ifndef IAS_COMMON_CONFIG_H
#define IAS_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define IAS_CFG_FILE_MAX (1024 * 1024) /* bytes in a configuration file */
#define IAS_CFG_LINE_MAX 4096          /* bytes in a line, newline excluded */
#define IAS_CFG_KEY_MAX 64             /* bytes in a key */
/* bytes in a value (unquoted; for a list, the items joined with ", "), so
 * that every value prints, quoted and escaped, on one line */
#define IAS_CFG_VALUE_MAX 2000

enum ias_cfg_type {
	IAS_CFG_STRING,   /* char[size], no control characters */
	IAS_CFG_PATH,     /* char[size], absolute path or empty (= unset) */
	IAS_CFG_UINT,     /* unsigned integer of 1, 2, 4 or 8 bytes, min..max */
	IAS_CFG_BOOL,     /* bool: yes/no, true/false, on/off, 1/0 */
	IAS_CFG_ENUM,     /* int or unsigned: index into names[] */
	IAS_CFG_DURATION, /* uint64_t milliseconds: "250ms", "30s", "1h30m", "0" */
	IAS_CFG_LIST,     /* struct ias_cfg_list: comma-separated strings */
};

/* A list value: at most IAS_CFG_LIST_MAX items, each at most
 * IAS_CFG_ITEM_MAX - 1 bytes, no empty items, no control characters, no
 * commas inside an item; spaces around items are dropped. */
#define IAS_CFG_LIST_MAX 32
#define IAS_CFG_ITEM_MAX 128
struct ias_cfg_list {
	unsigned n;
	char item[IAS_CFG_LIST_MAX][IAS_CFG_ITEM_MAX];
};

struct ias_cfg_opt {
	const char *key;
	enum ias_cfg_type type;
	size_t offset;            /* of the member in the caller's object */
	size_t size;              /* sizeof the member */
	uint64_t min, max;        /* UINT: range, max 0 = the type's maximum;
				   * DURATION: range in ms, max 0 = no limit;
				   * LIST: item count, max 0 = IAS_CFG_LIST_MAX */
	const char *const *names; /* ENUM: NULL-terminated names */
	const char *def;          /* default, in the file syntax; NULL = empty/zero */
	const char *help;         /* one line, printed as a comment */
};

/* Table entry macros. The key is the member's name; the member's type is
 * checked at compile time (a mismatch fails with "no association" in
 * _Generic). T is the configuration struct type, m a direct member of it. */
#define IAS_CFG__MEMBER(T, m) (((T *)0)->m)
#define IAS_CFG__ENTRY(T, m, type_, off, min_, max_, names_, def_, help_) \
	{ .key = #m, .type = (type_), .offset = (off), \
	  .size = sizeof(IAS_CFG__MEMBER(T, m)), .min = (min_), .max = (max_), \
	  .names = (names_), .def = (def_), .help = (help_) }
#define IAS_CFG__CHARS(T, m) \
	_Generic(&IAS_CFG__MEMBER(T, m), \
		 char (*)[sizeof(IAS_CFG__MEMBER(T, m))]: offsetof(T, m))

/* char m[N] */
#define IAS_CFG_STR(T, m, def, help) \
	IAS_CFG__ENTRY(T, m, IAS_CFG_STRING, IAS_CFG__CHARS(T, m), 0, 0, NULL, def, help)
/* char m[N], absolute path or empty */
#define IAS_CFG_PATHNAME(T, m, def, help) \
	IAS_CFG__ENTRY(T, m, IAS_CFG_PATH, IAS_CFG__CHARS(T, m), 0, 0, NULL, def, help)
/* unsigned char/short/int/long/long long m (uint8_t ... uint64_t) */
#define IAS_CFG_U(T, m, min, max, def, help) \
	IAS_CFG__ENTRY(T, m, IAS_CFG_UINT, \
		       _Generic(IAS_CFG__MEMBER(T, m), \
				unsigned char: offsetof(T, m), \
				unsigned short: offsetof(T, m), \
				unsigned int: offsetof(T, m), \
				unsigned long: offsetof(T, m), \
				unsigned long long: offsetof(T, m)), \
		       min, max, NULL, def, help)
/* bool m */
#define IAS_CFG_B(T, m, def, help) \
	IAS_CFG__ENTRY(T, m, IAS_CFG_BOOL, \
		       _Generic(IAS_CFG__MEMBER(T, m), bool: offsetof(T, m)), \
		       0, 1, NULL, def, help)
/* int or unsigned m (or an enum type compatible with one of them);
 * names: static const char *const x[] = { "a", "b", NULL }; value = index */
#define IAS_CFG_E(T, m, names, def, help) \
	IAS_CFG__ENTRY(T, m, IAS_CFG_ENUM, \
		       _Generic(IAS_CFG__MEMBER(T, m), \
				int: offsetof(T, m), unsigned int: offsetof(T, m)), \
		       0, 0, names, def, help)
/* uint64_t m, milliseconds, min..max in milliseconds */
#define IAS_CFG_MS(T, m, min, max, def, help) \
	IAS_CFG__ENTRY(T, m, IAS_CFG_DURATION, \
		       _Generic(IAS_CFG__MEMBER(T, m), uint64_t: offsetof(T, m)), \
		       min, max, NULL, def, help)
/* struct ias_cfg_list m */
#define IAS_CFG_L(T, m, def, help) \
	IAS_CFG__ENTRY(T, m, IAS_CFG_LIST, \
		       _Generic(IAS_CFG__MEMBER(T, m), struct ias_cfg_list: offsetof(T, m)), \
		       0, IAS_CFG_LIST_MAX, NULL, def, help)

#define IAS_CFG_NOPTS(tab) (sizeof(tab) / sizeof((tab)[0]))

/* Checks the table (key syntax, sizes, defaults) and sets every option to its
 * default. Other members of obj are left alone. */
int ias_cfg_defaults(const struct ias_cfg_opt *tab, size_t n, void *obj,
		     char *err, size_t errlen);

/* Reads path and applies the unsectioned part and [section] (section may be
 * NULL: unsectioned part only). With missing_ok, a file that does not exist
 * is not an error (returns 0, obj untouched). Does not apply defaults first. */
int ias_cfg_load_file(const struct ias_cfg_opt *tab, size_t n, void *obj,
		      const char *section, const char *path, int missing_ok,
		      char *err, size_t errlen);

/* As ias_cfg_load_file on a buffer; name is used in messages. */
int ias_cfg_load_buf(const struct ias_cfg_opt *tab, size_t n, void *obj,
		     const char *section, const char *name, const char *buf,
		     size_t len, char *err, size_t errlen);

/* Sets one option from its text form (for --set key=value); value is taken
 * as is (no quotes, no comments). Messages read "key: ...". */
int ias_cfg_set(const struct ias_cfg_opt *tab, size_t n, void *obj,
		const char *key, const char *value, char *err, size_t errlen);

/* Splits "key=value" (as given to --set), drops blanks around the key and
 * the value, and calls ias_cfg_set. */
int ias_cfg_set_arg(const struct ias_cfg_opt *tab, size_t n, void *obj,
		    const char *arg, char *err, size_t errlen);

/* Formats the current value of one option in the file syntax (quoted when
 * needed). Returns the length written as snprintf does, or negative errno. */
int ias_cfg_format(const struct ias_cfg_opt *opt, const void *obj, char *buf,
		   size_t buflen);

/* Prints the effective configuration in the file syntax, under a [section]
 * header when section is not NULL, each key preceded by its help as a
 * comment. The output loads back to the same values. */
void ias_cfg_print(const struct ias_cfg_opt *tab, size_t n, const void *obj,
		   const char *section, FILE *out);

#endif
