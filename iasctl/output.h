/* iasctl's output: colour, aligned tables, text made safe for a terminal,
 * the reply decoded into a JSON tree (json-c) and printed, and the time
 * formats. Nothing here talks to a daemon or knows a command. */
#ifndef IAS_IASCTL_OUTPUT_H
#define IAS_IASCTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "common/cursor.h"

/* ---- colour ---- */

/* Colour for --color MODE: "always", "never", or "auto" (fd is a terminal
 * and NO_COLOR is unset). JSON output is never coloured. Returns 1 or 0, or
 * -1 for another MODE. */
int out_color_choose(const char *mode, int fd, bool json);
void out_color_set(bool on);
const char *out_bold(void);
const char *out_dim(void);
const char *out_red(void);
const char *out_reset(void);

/* ---- text ---- */

/* s made safe to show: control characters become '?', bytes that are not
 * valid UTF-8 become U+FFFD. Returns a new string (never NULL: aborts when
 * memory runs out, as every allocation in iasctl does). */
char *out_clean(const char *s);
/* printf, made safe with out_clean but for a final newline (so colour codes
 * and other line breaks go around it, not in it). */
__attribute__((format(printf, 2, 3)))
void out_printf(FILE *f, const char *fmt, ...);
/* Columns s takes on a terminal: its code points (s is valid UTF-8). */
size_t out_width(const char *s);

/* ---- tables ---- */

#define OUT_MAXCOL 12

/* Columns padded to their widest cell and separated by two blanks, the last
 * one unpadded; the heading in bold, faint rows dim. An absent cell is "-". */
struct out_table {
	int ncol;
	const char *head[OUT_MAXCOL];
	size_t width[OUT_MAXCOL];
	char ***rows; /* rows[i][c], cleaned with out_clean */
	bool *faint;
	int nrows, cap;
};

void out_table_init(struct out_table *t, int ncol, const char *const *head);
void out_table_row(struct out_table *t, bool faint, const char *const *cells);
/* Print and free the rows. */
void out_table_print(FILE *f, struct out_table *t);

/* ---- JSON ---- */

/* A JSON string of s, with bytes that are not valid UTF-8 replaced by
 * U+FFFD, so that the document stays valid UTF-8 whatever s holds. */
json_object *out_json_string(const char *s);
/* A reply's attribute list as JSON: keys are attribute names in lower case,
 * repeated items become arrays (parent: the enclosing attribute's type, 0 at
 * the top). Attributes this build does not know are left out. */
json_object *out_reply_json(struct ias_rd *r, uint16_t parent);
/* Pretty-printed, one document per call. */
void out_json_print(FILE *f, json_object *o);
/* The array under key, or [] when there is none. */
void out_json_list(FILE *f, json_object *o, const char *key);

/* Accessors that take NULL and missing keys: NULL, "" or 0 then. */
const char *jstr(json_object *o, const char *k);
const char *jstr_or(json_object *o, const char *k, const char *dflt);
bool jhas(json_object *o, const char *k);
uint64_t ju64(json_object *o, const char *k);
json_object *jarr(json_object *o, const char *k);
json_object *jobj(json_object *o, const char *k);
size_t jlen(json_object *a);
json_object *jat(json_object *a, size_t i);

/* ---- time ---- */

/* Now in ms since the epoch (IASCTL_NOW_MS fixes it, for tests). */
uint64_t out_now_ms(void);
/* "45s", "2m", "3h", "4d" */
void out_span(uint64_t ms, char *out, size_t cap);
/* "2m ago", or "-" when then is 0 or not in the past. */
void out_ago(uint64_t now, uint64_t then, char *out, size_t cap);
/* "2023-11-14 22:13:20Z", "-" for 0. */
void out_time(uint64_t ms, char *out, size_t cap);

#endif
