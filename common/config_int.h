/* Private to the ias.conf parser (common/config*.c): the character classes,
 * the message helpers, and the value layer that config.c (files, --set) and
 * config_print.c (the effective configuration) share. Not installed. */
#ifndef IAS_COMMON_CONFIG_INT_H
#define IAS_COMMON_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

#define MSG_MAX 512   /* one error message */
#define SHOWN_MAX 80  /* one value quoted inside a message */

static inline bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static inline bool is_keychar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static inline bool is_ctl(char c)
{
	unsigned char u = (unsigned char)c;

	return u < 0x20 || u == 0x7f;
}

static inline bool has_ctl(const char *s)
{
	for (; *s; s++)
		if (is_ctl(*s))
			return true;
	return false;
}

/* A key or a section name: 1..IAS_CFG_KEY_MAX bytes of a-z, 0-9 and _. */
static inline bool valid_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > IAS_CFG_KEY_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!is_keychar(s[i]))
			return false;
	return true;
}

/* ---- config_value.c ---------------------------------------------------- */

/* snprintf into err when err is not NULL and errlen > 0. */
__attribute__((format(printf, 3, 4)))
void ias_cfg__put_err(char *err, size_t errlen, const char *fmt, ...);

/* v[0..len) double-quoted for a message: control and non-ASCII bytes as
 * \xNN, long values cut with "...". Returns out. */
const char *ias_cfg__shown(char *out, size_t outlen, const char *v, size_t len);
#define SHOW(buf, s) ias_cfg__shown(buf, sizeof(buf), s, strlen(s))

/* A duration in its shortest exact spelling ("90s", "1h", "250ms", "0"). */
void ias_cfg__fmt_duration(char *buf, size_t len, uint64_t ms);

/* An IAS_CFG_UINT member, whatever its size. */
uint64_t ias_cfg__get_uint(const struct ias_cfg_opt *o, const void *obj);

/* Parses v (NUL-terminated, unquoted) into the member, range checks
 * included; writes "key: ..." to msg on error. The member is changed only
 * on success. 0 or -EINVAL. */
int ias_cfg__set_value(const struct ias_cfg_opt *o, void *obj, const char *v,
		       char *msg, size_t msglen);

/* Empties err, then checks a caller's table: key syntax, no key twice,
 * type, size and range. Every entry point starts with it. */
int ias_cfg__check_table(const struct ias_cfg_opt *tab, size_t n, char *err,
			 size_t errlen);

#endif
