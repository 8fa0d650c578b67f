/* iasctl/output.c on its own: table alignment (with wide and hostile cells),
 * JSON of hostile strings (quotes, control characters, invalid UTF-8) both
 * built directly and decoded from a reply, colour only where wanted, and
 * the time formats. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/proto.h"
#include "iasctl/output.h"
#include "tests/unit/tap.h"

static char *buf;
static size_t buflen;

static FILE *mem(void)
{
	free(buf);
	buf = NULL;
	return open_memstream(&buf, &buflen);
}

static const char *done(FILE *f)
{
	fclose(f);
	return buf;
}

/* Is s valid UTF-8 (out_clean changes nothing but control characters)? */
static int valid_utf8(const char *s)
{
	char *c = out_clean(s), *d = strdup(s), *p;
	int same;

	for (p = d; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	same = strcmp(c, d) == 0;
	free(c);
	free(d);
	return same;
}

static void test_table(void)
{
	static const char *const head[] = { "ID", "COMM", "NOTE" };
	struct out_table t;
	FILE *f;

	out_color_set(false);
	f = mem();
	out_table_init(&t, 3, head);
	out_table_print(f, &t);
	is_str(done(f), "ID  COMM  NOTE\n", "empty table: the heading alone");

	f = mem();
	out_table_init(&t, 3, head);
	out_table_row(&t, false, (const char *const[]){ "1", "mpi_app", "x" });
	out_table_row(&t, true, (const char *const[]){ "1234", NULL, "last column not padded" });
	out_table_print(f, &t);
	is_str(done(f),
	       "ID    COMM     NOTE\n"
	       "1     mpi_app  x\n"
	       "1234  -        last column not padded\n",
	       "columns padded to the widest cell, absent cells as -");

	f = mem();
	out_table_init(&t, 3, head);
	out_table_row(&t, false, (const char *const[]){ "1", "caf\xc3\xa9", "a" });
	out_table_row(&t, false, (const char *const[]){ "2", "abcde", "b" });
	out_table_print(f, &t);
	is_str(done(f),
	       "ID  COMM   NOTE\n"
	       "1   caf\xc3\xa9   a\n"
	       "2   abcde  b\n",
	       "a UTF-8 cell is padded by characters, not bytes");

	f = mem();
	out_table_init(&t, 3, head);
	out_table_row(&t, false, (const char *const[]){ "1", "a\033[2Jb", "\xff\xfe" });
	out_table_row(&t, false, (const char *const[]){ "2", "x\ny\tz", "ok" });
	out_table_print(f, &t);
	is_str(done(f),
	       "ID  COMM    NOTE\n"
	       "1   a?[2Jb  \xef\xbf\xbd\xef\xbf\xbd\n"
	       "2   x?y?z   ok\n",
	       "control characters shown as ?, invalid bytes as U+FFFD, still aligned");

	out_color_set(true);
	f = mem();
	out_table_init(&t, 2, head);
	out_table_row(&t, true, (const char *const[]){ "1", "gone" });
	out_table_row(&t, false, (const char *const[]){ "2", "here" });
	out_table_print(f, &t);
	is_str(done(f),
	       "\033[1mID  COMM\033[0m\n"
	       "\033[2m1   gone\033[0m\n"
	       "2   here\n",
	       "colour: heading bold, faint rows dim, escapes outside the padding");
	out_color_set(false);
}

/* The printed JSON of a string, and whether it parses back to want. */
static void json_case(const char *in, const char *printed, const char *want, const char *name)
{
	json_object *o = out_json_string(in), *back;
	char label[128];
	FILE *f = mem();

	out_json_print(f, o);
	snprintf(label, sizeof(label), "%s: printed", name);
	is_str(done(f), printed, label);
	back = json_tokener_parse(buf);
	snprintf(label, sizeof(label), "%s: parses back", name);
	ok(back && json_object_is_type(back, json_type_string) &&
	   strcmp(json_object_get_string(back), want) == 0, "%s", label);
	snprintf(label, sizeof(label), "%s: output is valid UTF-8", name);
	ok(valid_utf8(buf), "%s", label);
	json_object_put(back);
	json_object_put(o);
}

static void test_json_strings(void)
{
	json_case("mpi_app", "\"mpi_app\"\n", "mpi_app", "plain");
	json_case("a\"b\\c/d", "\"a\\\"b\\\\c/d\"\n", "a\"b\\c/d", "quote, backslash, slash");
	json_case("x\n\x01\x1b[31m", "\"x\\n\\u0001\\u001b[31m\"\n", "x\n\x01\x1b[31m",
		  "control characters escaped");
	json_case("\xff" "a", "\"\xef\xbf\xbd" "a\"\n", "\xef\xbf\xbd" "a", "stray byte");
	json_case("\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"\n", "\xef\xbf\xbd\xef\xbf\xbd",
		  "overlong /");
	json_case("\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"\n",
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "surrogate");
	json_case("ab\xe2\x82", "\"ab\xef\xbf\xbd\xef\xbf\xbd\"\n", "ab\xef\xbf\xbd\xef\xbf\xbd",
		  "truncated at the end");
	json_case("\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"\n",
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "above U+10FFFF");
	json_case("\xe2\x82\xac \xf0\x9f\x98\x80", "\"\xe2\x82\xac \xf0\x9f\x98\x80\"\n",
		  "\xe2\x82\xac \xf0\x9f\x98\x80", "valid multi-byte kept");
}

/* A reply as the agent would send it, with a hostile comm and reason. */
static void test_reply(void)
{
	static uint8_t msg[4096];
	struct ias_ctl_msg m;
	struct ias_ctl_hdr h;
	struct ias_rd r;
	json_object *o, *back, *b;
	FILE *f;

	ias_ctl_msg_init(&m, msg, sizeof(msg), IAS_CTL_REPLY, IAS_CTL_OP_BLOCKS_LIST, 1, 0);
	ias_ctl_nest_begin(&m, IAS_CTL_A_BLOCK);
	ias_ctl_put_u64(&m, IAS_CTL_A_BLOCK_ID, 42);
	ias_ctl_put_str(&m, IAS_CTL_A_COMM, "\"x\"\xff}");
	ias_ctl_put_u32(&m, IAS_CTL_A_QPN, 0x1a);
	ias_ctl_put_u32(&m, IAS_CTL_A_QPN, 0x1b);
	ias_ctl_put_u8(&m, IAS_CTL_A_SIMULATED, 1);
	ias_ctl_put_str(&m, IAS_CTL_A_REASON, "\\\"},{\"pid\":1");
	ias_ctl_nest_end(&m);
	ok(ias_ctl_msg_finish(&m) == 0, "reply built");
	ok(ias_ctl_parse_hdr(msg, m.len, &h, &r) == 0, "reply parsed");
	o = out_reply_json(&r, 0);
	f = mem();
	out_json_list(f, o, "blocks");
	done(f);
	ok(valid_utf8(buf), "decoded reply prints valid UTF-8");
	back = json_tokener_parse(buf);
	ok(back && json_object_is_type(back, json_type_array) &&
	   json_object_array_length(back) == 1, "decoded reply parses back as one block");
	b = json_object_array_get_idx(back, 0);
	is_str(jstr(b, "comm"), "\"x\"\xef\xbf\xbd}", "comm: quotes kept, bad byte replaced");
	is_str(jstr(b, "reason"), "\\\"},{\"pid\":1", "reason: no injection");
	is_int(ju64(b, "block_id"), 42, "block_id a number");
	is_int(jlen(jarr(b, "qpns")), 2, "repeated QPN as the qpns array");
	ok(json_object_is_type(json_object_object_get(b, "simulated"), json_type_boolean),
	   "u8 flag as a boolean");
	ok(!jhas(b, "pid"), "no pid smuggled in");
	json_object_put(back);
	f = mem();
	out_json_list(f, o, "qps");
	is_str(done(f), "[]\n", "an absent list prints []");
	json_object_put(o);
}

static void test_color(void)
{
	int p[2], pty;

	if (pipe(p) != 0)
		return;
	unsetenv("NO_COLOR");
	is_int(out_color_choose("auto", p[1], false), 0, "auto: no colour on a pipe");
	is_int(out_color_choose("always", p[1], false), 1, "always: colour on a pipe");
	is_int(out_color_choose("always", p[1], true), 0, "never colour JSON");
	is_int(out_color_choose("never", p[1], false), 0, "never");
	is_int(out_color_choose("sometimes", p[1], false), -1, "another mode refused");
	close(p[0]);
	close(p[1]);
	pty = posix_openpt(O_RDWR | O_NOCTTY);
	if (pty >= 0 && grantpt(pty) == 0 && unlockpt(pty) == 0) {
		int tty = open(ptsname(pty), O_RDWR | O_NOCTTY);

		is_int(out_color_choose("auto", tty, false), 1, "auto: colour on a terminal");
		setenv("NO_COLOR", "1", 1);
		is_int(out_color_choose("auto", tty, false), 0, "auto: NO_COLOR honoured");
		unsetenv("NO_COLOR");
		close(tty);
	} else {
		ok(1, "# SKIP no pseudo-terminal");
		ok(1, "# SKIP no pseudo-terminal");
	}
	if (pty >= 0)
		close(pty);
	out_color_set(false);
	is_str(out_bold(), "", "colour off: no escapes");
	out_color_set(true);
	is_str(out_red(), "\033[31m", "colour on: red");
	out_color_set(false);
}

static void test_text_and_time(void)
{
	char s[64];
	FILE *f;

	is_int(out_width("caf\xc3\xa9"), 4, "width counts characters");
	f = mem();
	out_printf(f, "%s|%s\n", "a\tb", "\xff");
	is_str(done(f), "a?b|\xef\xbf\xbd\n", "out_printf: cleaned, final newline kept");
	out_span(45000, s, sizeof(s));
	is_str(s, "45s", "span s");
	out_span(7200000, s, sizeof(s));
	is_str(s, "2h", "span h");
	out_ago(1000000, 880000, s, sizeof(s));
	is_str(s, "2m ago", "ago");
	out_ago(1000000, 0, s, sizeof(s));
	is_str(s, "-", "ago of nothing");
	out_time(1700000000000ull, s, sizeof(s));
	is_str(s, "2023-11-14 22:13:20Z", "time in UTC");
	out_time(0, s, sizeof(s));
	is_str(s, "-", "time 0");
}

int main(void)
{
	test_table();
	test_json_strings();
	test_reply();
	test_color();
	test_text_and_time();
	free(buf);
	return tap_done();
}
