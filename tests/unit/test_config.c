/* Unit tests for common/config: every rule of the ias.conf parser. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "tests/unit/tap.h"

enum mode { MODE_OFF, MODE_DRY_RUN, MODE_ENFORCE };
static const char *const mode_names[] = { "off", "dry_run", "enforce", NULL };

struct conf {
	char name[32];
	char state_dir[64];
	char spare_path[64];
	uint32_t port;
	uint8_t small;
	uint64_t big;
	bool enabled;
	enum mode mode;
	uint64_t block_duration;
	uint64_t poll;
	struct ias_cfg_list allow;
	char note[2100];
};

static const struct ias_cfg_opt tab[] = {
	IAS_CFG_STR(struct conf, name, "agent", "A name"),
	IAS_CFG_PATHNAME(struct conf, state_dir, "/var/lib/ias", "Where state lives"),
	IAS_CFG_PATHNAME(struct conf, spare_path, NULL, "Unset by default"),
	IAS_CFG_U(struct conf, port, 1, 65535, "4791", "A port"),
	IAS_CFG_U(struct conf, small, 0, 0, "7", "Bounded by its type"),
	IAS_CFG_U(struct conf, big, 0, 0, "0", "Sixty-four bits"),
	IAS_CFG_B(struct conf, enabled, "yes", "On or off"),
	IAS_CFG_E(struct conf, mode, mode_names, "dry_run", "What to do"),
	IAS_CFG_MS(struct conf, block_duration, 1000, 86400000, "1h",
		   "How long a block lasts\nsecond help line"),
	IAS_CFG_MS(struct conf, poll, 0, 0, "250ms", "Poll period"),
	IAS_CFG_L(struct conf, allow, "init, sshd", "Never block these"),
	IAS_CFG_STR(struct conf, note, NULL, "Long text"),
};
#define N IAS_CFG_NOPTS(tab)

static char err[1024];

static int load(struct conf *c, const char *section, const char *text)
{
	int r;

	memset(c, 0x5a, sizeof(*c));
	r = ias_cfg_defaults(tab, N, c, err, sizeof(err));
	if (r < 0)
		return r;
	return ias_cfg_load_buf(tab, N, c, section, "t.conf", text, strlen(text), err,
				sizeof(err));
}

/* Loads text, expects failure with exactly this message. */
static void fails(const char *section, const char *text, const char *msg, const char *name)
{
	struct conf c;
	int r = load(&c, section, text);

	ok(r == -EINVAL, "%s: rejected (r=%d)", name, r);
	is_str(err, msg, name);
}

static void accepts(const char *section, const char *text, struct conf *c, const char *name)
{
	int r = load(c, section, text);

	if (!ok(r == 0, "%s: accepted", name))
		printf("#   error: %s\n", err);
}

static void test_defaults(void)
{
	struct conf c;

	memset(&c, 0x5a, sizeof(c));
	is_int(ias_cfg_defaults(tab, N, &c, err, sizeof(err)), 0, "defaults apply");
	is_str(c.name, "agent", "default string");
	is_str(c.state_dir, "/var/lib/ias", "default path");
	is_str(c.spare_path, "", "NULL default is empty");
	is_int(c.port, 4791, "default uint32");
	is_int(c.small, 7, "default uint8");
	is_int(c.big, 0, "default uint64");
	ok(c.enabled, "default bool");
	is_int(c.mode, MODE_DRY_RUN, "default enum");
	is_int(c.block_duration, 3600000, "default duration 1h");
	is_int(c.poll, 250, "default duration 250ms");
	is_int(c.allow.n, 2, "default list count");
	is_str(c.allow.item[0], "init", "default list item 0");
	is_str(c.allow.item[1], "sshd", "default list item 1");
}

static void test_basic(void)
{
	struct conf c;

	accepts(NULL,
		"# a comment\n"
		"\n"
		"   \t\n"
		"name = node7\n"
		"port=18515\n"
		"\tsmall   =   255   \n"
		"big = 18446744073709551615\n"
		"enabled = off # trailing comment\n"
		"mode = enforce\n"
		"block_duration = 1h30m\n"
		"allow = a ,b,  c d  \n"
		"state_dir = /srv/ias#1",
		&c, "plain file without final newline");
	is_str(c.name, "node7", "string value");
	is_int(c.port, 18515, "uint without blanks around =");
	is_int(c.small, 255, "uint8 at its type maximum, blanks trimmed");
	ok(c.big == UINT64_MAX, "uint64 maximum");
	ok(!c.enabled, "bool off with a trailing comment");
	is_int(c.mode, MODE_ENFORCE, "enum");
	is_int(c.block_duration, 5400000, "duration 1h30m");
	is_int(c.allow.n, 3, "list of three");
	is_str(c.allow.item[0], "a", "list item trimmed");
	is_str(c.allow.item[2], "c d", "list item keeps inner blank");
	is_str(c.state_dir, "/srv/ias#1", "# not after a blank is part of the value");
	is_int(c.poll, 250, "unset key keeps its default");

	accepts(NULL, "name = # only a comment\n", &c, "value that is only a comment");
	is_str(c.name, "", "comment after = gives an empty value");
	accepts(NULL, "name =\n", &c, "empty value");
	is_str(c.name, "", "empty string");
	accepts(NULL, "port = 0x12b7\n", &c, "hex uint");
	is_int(c.port, 0x12b7, "hex value");
	accepts(NULL, "name = a  b c\n", &c, "inner blanks in unquoted value");
	is_str(c.name, "a  b c", "inner blanks kept");
}

static void test_quoting(void)
{
	struct conf c;

	accepts(NULL, "name = \"a \\\"b\\\" \\\\ # c\"  # comment\n", &c, "quoted value");
	is_str(c.name, "a \"b\" \\ # c", "escapes and # inside quotes");
	accepts(NULL, "name = \"  padded  \"\n", &c, "quoted blanks");
	is_str(c.name, "  padded  ", "blanks kept inside quotes");
	accepts(NULL, "name = \"\"\n", &c, "quoted empty");
	is_str(c.name, "", "quoted empty string");
	accepts(NULL, "port = \"80\"\n", &c, "quoted number");
	is_int(c.port, 80, "quoted number parses");
	fails(NULL, "name = \"abc\n", "t.conf:1: name: missing closing quote", "missing quote");
	fails(NULL, "\nname = \"a\\nb\"\n",
	      "t.conf:2: name: unknown escape in quoted value (use \\\" or \\\\)", "bad escape");
	fails(NULL, "name = \"a\" b\n", "t.conf:1: name: text after the closing quote",
	      "text after quote");
	fails(NULL, "name = \"a\\\n", "t.conf:1: name: unknown escape in quoted value (use \\\" or \\\\)",
	      "backslash at end of line");
}

static void test_syntax(void)
{
	fails(NULL, "a\n", "t.conf:1: a: expected = after the key", "key without =");
	fails(NULL, "= 5\n", "t.conf:1: expected key = value", "no key");
	fails(NULL, "Name = x\n", "t.conf:1: bad key \"Name\" (use a-z, 0-9 and _)", "upper-case key");
	fails(NULL, "na-me = x\n", "t.conf:1: bad key \"na-me\" (use a-z, 0-9 and _)", "dash in key");
	fails(NULL, "name x = y\n", "t.conf:1: name: expected = after the key", "two words");
	fails(NULL, "# c\nbogus = 1\n", "t.conf:2: bogus: unknown key", "unknown key");
	fails("sema", "bogus = 1\n",
	      "t.conf:1: bogus: unknown key (in the part before any section or in [sema])",
	      "unknown key with a section");
	fails(NULL, "port = 1\nname = x\nport = 2\n",
	      "t.conf:3: port: set twice (first at line 1)", "duplicate key");
	fails(NULL, "[sema\n", "t.conf:1: section header without closing ]", "open section");
	fails(NULL, "[Sema]\n", "t.conf:1: bad section name \"Sema\" (use a-z, 0-9 and _)",
	      "bad section name");
	fails(NULL, "[]\n", "t.conf:1: bad section name \"\" (use a-z, 0-9 and _)", "empty section");
	fails(NULL, "[sema] x\n", "t.conf:1: text after section header", "junk after section");
	fails(NULL, "name = a\r\n", "t.conf:1: carriage return (convert the file to Unix line ends)",
	      "CRLF");
	fails(NULL, "name = a\x01\n", "t.conf:1: control character 0x01", "control character");
	{
		struct conf c;
		const char text[] = "port = 1\nname = a\0b\n";
		int r;

		memset(&c, 0, sizeof(c));
		ias_cfg_defaults(tab, N, &c, err, sizeof(err));
		r = ias_cfg_load_buf(tab, N, &c, NULL, "t.conf", text, sizeof(text) - 1, err,
				     sizeof(err));
		is_int(r, -EINVAL, "NUL byte rejected");
		is_str(err, "t.conf:2: NUL byte", "NUL byte message");
	}
	{
		struct conf c;
		char *big = malloc(IAS_CFG_FILE_MAX + 2);
		char line[IAS_CFG_LINE_MAX + 32];
		int r;

		memset(big, '#', IAS_CFG_FILE_MAX + 1);
		big[IAS_CFG_FILE_MAX + 1] = '\0';
		ias_cfg_defaults(tab, N, &c, err, sizeof(err));
		r = ias_cfg_load_buf(tab, N, &c, NULL, "t.conf", big, IAS_CFG_FILE_MAX + 1, err,
				     sizeof(err));
		is_int(r, -EFBIG, "file over 1 MiB rejected");
		is_str(err, "t.conf: file is larger than 1048576 bytes", "file size message");
		r = ias_cfg_load_buf(tab, N, &c, NULL, "t.conf", big, IAS_CFG_FILE_MAX, err,
				     sizeof(err));
		is_int(r, -EINVAL, "1 MiB single line rejected as a long line");
		free(big);

		memset(line, 0, sizeof(line));
		memcpy(line, "name = ", 7);
		memset(line + 7, 'x', IAS_CFG_LINE_MAX - 7);
		r = ias_cfg_load_buf(tab, N, &c, NULL, "t.conf", line, strlen(line), err,
				     sizeof(err));
		is_int(r, -EINVAL, "line of exactly 4096 bytes parses (value too long)");
		is_str(err, "t.conf:1: name: value longer than 2000 bytes", "4096-byte line: value limit");
		strcat(line, "x\n");
		r = ias_cfg_load_buf(tab, N, &c, NULL, "t.conf", line, strlen(line), err,
				     sizeof(err));
		is_str(err, "t.conf:1: line longer than 4096 bytes", "line of 4097 bytes rejected");
	}
}

static void test_sections(void)
{
	struct conf c;

	accepts("sema",
		"port = 1\n"
		"[sem]\n"
		"port = 2\n"
		"whatever_sem_knows = \"x\"\n"
		"[sema]\n"
		"name = mine\n"
		"[analyzer]\n"
		"name = theirs\n",
		&c, "own section and others");
	is_int(c.port, 1, "global key applies");
	is_str(c.name, "mine", "own section applies, later other section skipped");

	accepts("sem", "port = 1\n[sema]\nport = 5\n[sem]\nname = x\n", &c, "as another daemon");
	is_int(c.port, 1, "other daemon's section skipped");
	is_str(c.name, "x", "second daemon sees its own section");

	accepts(NULL, "port = 3\n[sema]\nbogus = 1\n", &c, "no section: only the global part");
	is_int(c.port, 3, "global part applies with section NULL");

	fails("sema", "[sem]\nbad line\n", "t.conf:2: bad: expected = after the key",
	      "other section still syntax-checked");
	fails("sema", "[sem]\nname = \"x\n", "t.conf:2: name: missing closing quote",
	      "quote error in another section");
	fails("sema", "port = 1\n[sema]\nport = 2\n", "t.conf:3: port: set twice (first at line 1)",
	      "global and own section count as one scope");
	fails("sema", "[sema]\nport = 1\n[sem]\n[sema]\nport = 2\n",
	      "t.conf:5: port: set twice (first at line 2)", "section opened twice");
	accepts("sema", "  [sema]   # comment\nport = 9\n", &c, "indented header with comment");
	is_int(c.port, 9, "indented header works");
}

static void test_values(void)
{
	struct conf c;

	/* unsigned */
	fails(NULL, "port = -1\n", "t.conf:1: port: \"-1\" is not an unsigned number", "negative");
	fails(NULL, "port = +1\n", "t.conf:1: port: \"+1\" is not an unsigned number", "plus sign");
	fails(NULL, "port = 12x\n", "t.conf:1: port: \"12x\" is not an unsigned number",
	      "trailing junk");
	fails(NULL, "port = 1 2\n", "t.conf:1: port: \"1 2\" is not an unsigned number", "two numbers");
	fails(NULL, "port =\n", "t.conf:1: port: \"\" is not an unsigned number", "empty number");
	fails(NULL, "port = 0x\n", "t.conf:1: port: \"0x\" is not an unsigned number", "bare 0x");
	fails(NULL, "port = 0\n", "t.conf:1: port: \"0\" is out of range (1 to 65535)", "below min");
	fails(NULL, "port = 65536\n", "t.conf:1: port: \"65536\" is out of range (1 to 65535)",
	      "above max");
	fails(NULL, "small = 256\n", "t.conf:1: small: \"256\" is out of range (0 to 255)",
	      "above type max");
	fails(NULL, "big = 18446744073709551616\n",
	      "t.conf:1: big: \"18446744073709551616\" is out of range (0 to 18446744073709551615)",
	      "64-bit overflow");
	fails(NULL, "big = 99999999999999999999x\n",
	      "t.conf:1: big: \"99999999999999999999x\" is not an unsigned number",
	      "overflow with junk is junk");
	/* bool */
	accepts(NULL, "enabled = TRUE\n", &c, "TRUE");
	ok(c.enabled, "TRUE is true");
	accepts(NULL, "enabled = 0\n", &c, "0");
	ok(!c.enabled, "0 is false");
	accepts(NULL, "enabled = On\n", &c, "On");
	ok(c.enabled, "On is true");
	fails(NULL, "enabled = maybe\n",
	      "t.conf:1: enabled: \"maybe\" is not a boolean (use yes or no)", "bad bool");
	/* enum */
	accepts(NULL, "mode = off\n", &c, "enum first");
	is_int(c.mode, MODE_OFF, "enum off");
	fails(NULL, "mode = Enforce\n",
	      "t.conf:1: mode: \"Enforce\" is not one of: off, dry_run, enforce", "bad enum");
	/* durations */
	accepts(NULL, "poll = 1d\n", &c, "days");
	is_int(c.poll, 86400000, "1d");
	accepts(NULL, "poll = 2h\n", &c, "hours");
	is_int(c.poll, 7200000, "2h");
	accepts(NULL, "poll = 5m\n", &c, "minutes");
	is_int(c.poll, 300000, "5m");
	accepts(NULL, "poll = 30s\n", &c, "seconds");
	is_int(c.poll, 30000, "30s");
	accepts(NULL, "poll = 1m500ms\n", &c, "minutes and ms");
	is_int(c.poll, 60500, "1m500ms");
	accepts(NULL, "poll = 0\n", &c, "bare zero");
	is_int(c.poll, 0, "0");
	fails(NULL, "block_duration = 5x\n",
	      "t.conf:1: block_duration: \"5x\" is not a duration (use ms, s, m, h or d)",
	      "bad unit");
	fails(NULL, "block_duration = 5\n",
	      "t.conf:1: block_duration: \"5\" is not a duration (use ms, s, m, h or d)",
	      "missing unit");
	fails(NULL, "block_duration = -5s\n",
	      "t.conf:1: block_duration: \"-5s\" is not a duration (use ms, s, m, h or d)",
	      "negative duration");
	fails(NULL, "block_duration = 5 s\n",
	      "t.conf:1: block_duration: \"5 s\" is not a duration (use ms, s, m, h or d)",
	      "blank inside duration");
	fails(NULL, "block_duration = 1sec\n",
	      "t.conf:1: block_duration: \"1sec\" is not a duration (use ms, s, m, h or d)",
	      "long unit name");
	fails(NULL, "block_duration = 500ms\n",
	      "t.conf:1: block_duration: \"500ms\" is out of range (1s to 1d)", "below min");
	fails(NULL, "block_duration = 25h\n",
	      "t.conf:1: block_duration: \"25h\" is out of range (1s to 1d)", "above max");
	fails(NULL, "poll = 213503982335d\n",
	      "t.conf:1: poll: \"213503982335d\" is out of range (0 to 18446744073709551615ms)",
	      "duration overflow");
	fails(NULL, "poll = 99999999999999999999999ms\n",
	      "t.conf:1: poll: \"99999999999999999999999ms\" is out of range (0 to 18446744073709551615ms)",
	      "duration digits overflow");
	/* paths and strings */
	fails(NULL, "state_dir = var/lib\n",
	      "t.conf:1: state_dir: \"var/lib\" is not an absolute path", "relative path");
	accepts(NULL, "state_dir =\n", &c, "empty path");
	is_str(c.state_dir, "", "empty path means unset");
	fails(NULL, "name = a\tb\n", "t.conf:1: name: control character in \"a\\x09b\"",
	      "tab in a string value");
	fails(NULL, "name = 0123456789012345678901234567890123\n",
	      "t.conf:1: name: \"0123456789012345678901234567890123\" is too long (at most 31 bytes)",
	      "string too long");
	accepts(NULL, "name = 0123456789012345678901234567890\n", &c, "string of 31 bytes");
	is_int(strlen(c.name), 31, "31 bytes fit");
}

static void test_lists(void)
{
	struct conf c;
	char text[8192];
	int i, o;

	accepts(NULL, "allow =\n", &c, "empty list");
	is_int(c.allow.n, 0, "empty list has no items");
	accepts(NULL, "allow = \"x#1, y\"\n", &c, "quoted list");
	is_int(c.allow.n, 2, "quoted list count");
	is_str(c.allow.item[0], "x#1", "quoted list item with #");
	fails(NULL, "allow = a,,b\n", "t.conf:1: allow: empty item in list", "empty item");
	fails(NULL, "allow = a,\n", "t.conf:1: allow: empty item in list", "trailing comma");
	o = snprintf(text, sizeof(text), "allow = ");
	for (i = 0; i < IAS_CFG_LIST_MAX; i++)
		o += snprintf(text + o, sizeof(text) - (size_t)o, "%si%d", i ? "," : "", i);
	snprintf(text + o, sizeof(text) - (size_t)o, "\n");
	accepts(NULL, text, &c, "32 items");
	is_int(c.allow.n, 32, "32 items stored");
	is_str(c.allow.item[31], "i31", "last item");
	snprintf(text + o, sizeof(text) - (size_t)o, ",one_more\n");
	fails(NULL, text, "t.conf:1: allow: too many items (at most 32)", "33 items");
	o = snprintf(text, sizeof(text), "allow = a, ");
	memset(text + o, 'y', IAS_CFG_ITEM_MAX);
	o += IAS_CFG_ITEM_MAX;
	snprintf(text + o, sizeof(text) - (size_t)o, "\n");
	{
		struct conf c2;
		int r = load(&c2, NULL, text);

		is_int(r, -EINVAL, "item of 128 bytes rejected");
		ok(strstr(err, "t.conf:1: allow: item \"yyy") == err &&
		   strstr(err, "is too long (at most 127 bytes)"), "item too long message: %s", err);
	}
	o = snprintf(text, sizeof(text), "allow = ");
	for (i = 0; i < 20; i++) {
		memset(text + o, 'a' + i, 99);
		o += 99;
		text[o++] = ',';
	}
	snprintf(text + o - 1, sizeof(text) - (size_t)o + 1, "\n");
	fails(NULL, text, "t.conf:1: allow: list longer than 2000 bytes", "list over 2000 bytes");
	fails(NULL, "allow = a, b\x7f\n", "t.conf:1: control character 0x7f", "DEL in a list");
}

static void same(const struct conf *a, const struct conf *b, const char *what)
{
	size_t i;
	int eq = strcmp(a->name, b->name) == 0 && strcmp(a->state_dir, b->state_dir) == 0 &&
		 strcmp(a->spare_path, b->spare_path) == 0 && a->port == b->port &&
		 a->small == b->small && a->big == b->big && a->enabled == b->enabled &&
		 a->mode == b->mode && a->block_duration == b->block_duration &&
		 a->poll == b->poll && a->allow.n == b->allow.n;

	eq = eq && strcmp(a->note, b->note) == 0;
	for (i = 0; eq && i < a->allow.n; i++)
		eq = strcmp(a->allow.item[i], b->allow.item[i]) == 0;
	ok(eq, "%s: reloaded values are identical", what);
}

static void round_trip(const struct conf *src, const char *section, const char *what)
{
	struct conf back;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	ias_cfg_print(tab, N, src, section, f);
	fclose(f);
	memset(&back, 0, sizeof(back));
	ias_cfg_defaults(tab, N, &back, err, sizeof(err));
	r = ias_cfg_load_buf(tab, N, &back, section, "printed", text, len, err, sizeof(err));
	if (!ok(r == 0, "%s: printed configuration loads back", what)) {
		printf("#   %s\n", err);
		fputs(text, stdout);
	}
	same(src, &back, what);
	free(text);
}

static void test_print(void)
{
	struct conf c;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int i;

	ias_cfg_defaults(tab, N, &c, err, sizeof(err));
	round_trip(&c, NULL, "defaults, no section");
	round_trip(&c, "sema", "defaults, section");

	accepts(NULL,
		"name = \"  q\\\"uo#te\\\\ \"\n"
		"state_dir = \"/a b/#c\"\n"
		"port = 65535\nsmall = 0\nbig = 18446744073709551615\n"
		"enabled = no\nmode = off\nblock_duration = 23h59m59s999ms\npoll = 90s\n"
		"allow = \"x # y, \\\"q\\\", b\\\\s\"\n",
		&c, "awkward values");
	is_int(c.allow.n, 3, "awkward list");
	is_str(c.allow.item[1], "\"q\"", "quotes inside a list item");
	round_trip(&c, NULL, "awkward values, no section");
	round_trip(&c, "sema", "awkward values, section");

	memset(c.note, '"', IAS_CFG_VALUE_MAX);
	c.note[IAS_CFG_VALUE_MAX] = '\0';
	is_int(ias_cfg_set(tab, N, &c, "note", c.note, err, sizeof(err)), 0,
	       "value of 2000 quotes accepted");
	round_trip(&c, "sema", "longest value, every byte escaped");
	{
		char longer[IAS_CFG_VALUE_MAX + 2];

		memset(longer, 'a', IAS_CFG_VALUE_MAX + 1);
		longer[IAS_CFG_VALUE_MAX + 1] = '\0';
		is_int(ias_cfg_set(tab, N, &c, "note", longer, err, sizeof(err)), -EINVAL,
		       "value of 2001 bytes rejected");
		is_str(err, "note: value longer than 2000 bytes", "value limit message");
	}
	for (i = 0; i < IAS_CFG_LIST_MAX; i++) {
		memset(c.allow.item[i], i % 2 ? '#' : '"', IAS_CFG_ITEM_MAX - 1);
		c.allow.item[i][IAS_CFG_ITEM_MAX - 1] = '\0';
	}
	c.allow.n = IAS_CFG_LIST_MAX;
	f = open_memstream(&text, &len);
	ias_cfg_print(tab, N, &c, "sema", f);
	fclose(f);
	ok(strstr(text, "# allow: current value cannot be printed\n") != NULL,
	   "a list set by the program beyond the line limit is not printed");
	free(text);
	text = NULL;

	memset(&c, 0, sizeof(c));
	c.port = 1;
	c.mode = MODE_ENFORCE;
	c.block_duration = 1000;
	round_trip(&c, "sema", "zeroed values");

	f = open_memstream(&text, &len);
	ias_cfg_print(tab, N, &c, "sema", f);
	fclose(f);
	ok(strstr(text, "[sema]\n") != NULL, "print writes the section header");
	ok(strstr(text, "# How long a block lasts\n# second help line\n") != NULL,
	   "multi-line help printed as comments");
	ok(strstr(text, "# default: 1h\nblock_duration = 1s\n") != NULL, "default shown, value set");
	ok(strstr(text, "allow = \"\"\n") != NULL, "empty list printed as \"\"");
	free(text);
}

static void test_set(void)
{
	struct conf c;

	ias_cfg_defaults(tab, N, &c, err, sizeof(err));
	is_int(ias_cfg_set(tab, N, &c, "block_duration", "10m", err, sizeof(err)), 0, "set ok");
	is_int(c.block_duration, 600000, "set value");
	is_int(ias_cfg_set(tab, N, &c, "block_duration", "5x", err, sizeof(err)), -EINVAL,
	       "set bad value");
	is_str(err, "block_duration: \"5x\" is not a duration (use ms, s, m, h or d)",
	       "set message names the key, no line");
	is_int(c.block_duration, 600000, "failed set leaves the value");
	is_int(ias_cfg_set(tab, N, &c, "nope", "1", err, sizeof(err)), -EINVAL, "set unknown");
	is_str(err, "\"nope\": unknown key", "set unknown message");
	is_int(ias_cfg_set(tab, N, &c, "name", "a\nb", err, sizeof(err)), -EINVAL,
	       "set string with newline");
	is_str(err, "name: control character in \"a\\x0ab\"", "control character message");
	is_int(ias_cfg_set_arg(tab, N, &c, "port=99", err, sizeof(err)), 0, "set_arg");
	is_int(c.port, 99, "set_arg value");
	is_int(ias_cfg_set_arg(tab, N, &c, " name = x y", err, sizeof(err)), 0, "set_arg blanks");
	is_str(c.name, "x y", "set_arg drops blanks around the value");
	is_int(ias_cfg_set_arg(tab, N, &c, "port", err, sizeof(err)), -EINVAL, "set_arg without =");
	is_str(err, "\"port\": expected key=value", "set_arg message");
	is_int(ias_cfg_set_arg(tab, N, &c, "allow=a,b,c", err, sizeof(err)), 0, "set_arg list");
	is_int(c.allow.n, 3, "set_arg list count");
}

static void test_files(void)
{
	char dir[] = "/tmp/ias-cfg-XXXXXX", path[256], want[512];
	struct conf c;
	FILE *f;
	int r;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/ias.conf", dir);
	ias_cfg_defaults(tab, N, &c, err, sizeof(err));
	r = ias_cfg_load_file(tab, N, &c, "sema", path, 1, err, sizeof(err));
	is_int(r, 0, "missing file with missing_ok");
	is_int(c.port, 4791, "missing file keeps defaults");
	r = ias_cfg_load_file(tab, N, &c, "sema", path, 0, err, sizeof(err));
	is_int(r, -ENOENT, "missing file without missing_ok");
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	is_str(err, want, "missing file message");

	f = fopen(path, "w");
	fputs("port = 7\n[sema]\nmode = enforce\n\n# x\nblock_duration = 5x\n", f);
	fclose(f);
	r = ias_cfg_load_file(tab, N, &c, "sema", path, 0, err, sizeof(err));
	is_int(r, -EINVAL, "bad file");
	snprintf(want, sizeof(want),
		 "%s:6: block_duration: \"5x\" is not a duration (use ms, s, m, h or d)", path);
	is_str(err, want, "file error names FILE:LINE and the key");
	is_int(c.port, 7, "lines before the error were applied");

	f = fopen(path, "w");
	fputs("port = 8\n[sema]\nmode = enforce\n", f);
	fclose(f);
	ias_cfg_defaults(tab, N, &c, err, sizeof(err));
	is_int(ias_cfg_load_file(tab, N, &c, "sema", path, 0, err, sizeof(err)), 0, "good file");
	is_int(c.port, 8, "file value");
	is_int(c.mode, MODE_ENFORCE, "file section value");

	r = ias_cfg_load_file(tab, N, &c, "sema", dir, 1, err, sizeof(err));
	is_int(r, -EINVAL, "directory rejected");
	snprintf(want, sizeof(want), "%s: not a regular file", dir);
	is_str(err, want, "directory message");

	unlink(path);
	rmdir(dir);
}

struct badconf {
	uint32_t a;
	uint32_t b;
};

static void test_bad_tables(void)
{
	struct badconf bc;
	const struct ias_cfg_opt dup[] = {
		IAS_CFG_U(struct badconf, a, 0, 10, "1", "x"),
		{ .key = "a", .type = IAS_CFG_UINT, .offset = offsetof(struct badconf, b),
		  .size = sizeof(uint32_t) },
	};
	const struct ias_cfg_opt baddef[] = {
		IAS_CFG_U(struct badconf, a, 0, 10, "11", "x"),
	};
	const struct ias_cfg_opt badsize[] = {
		{ .key = "a", .type = IAS_CFG_UINT, .offset = 0, .size = 3 },
	};
	const struct ias_cfg_opt badkey[] = {
		{ .key = "A", .type = IAS_CFG_UINT, .offset = 0, .size = 4 },
	};

	is_int(ias_cfg_defaults(dup, 2, &bc, err, sizeof(err)), -EINVAL, "duplicate table key");
	is_str(err, "configuration table: a: listed twice", "duplicate table key message");
	is_int(ias_cfg_defaults(baddef, 1, &bc, err, sizeof(err)), -EINVAL, "bad default");
	is_str(err, "configuration table: default: a: \"11\" is out of range (0 to 10)",
	       "bad default message");
	is_int(ias_cfg_defaults(badsize, 1, &bc, err, sizeof(err)), -EINVAL, "bad size");
	is_int(ias_cfg_defaults(badkey, 1, &bc, err, sizeof(err)), -EINVAL, "bad table key");
	is_int(ias_cfg_load_buf(tab, N, &bc, "Bad", "t", "", 0, err, sizeof(err)), -EINVAL,
	       "bad section argument");
}

int main(void)
{
	test_defaults();
	test_basic();
	test_quoting();
	test_syntax();
	test_sections();
	test_values();
	test_lists();
	test_print();
	test_set();
	test_files();
	test_bad_tables();
	return tap_done();
}
