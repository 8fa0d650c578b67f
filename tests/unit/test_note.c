/* common/note: "; "-separated parts in a bounded buffer. */
#include <string.h>

#include "common/note.h"
#include "tests/unit/tap.h"

int main(void)
{
	char buf[32], small[8];
	struct ias_note n = { buf, sizeof(buf), 0 }, s = { small, sizeof(small), 0 };
	struct ias_note none = { NULL, 0, 0 };

	buf[0] = '\0';
	ias_note_add(&n, "froze %d", 7);
	is_str(buf, "froze 7", "one part");
	ias_note_add(&n, "capped");
	is_str(buf, "froze 7; capped", "parts separated by \"; \"");
	ias_note_add(&n, "%s", "a part too long to fit in what is left");
	ok(strlen(buf) == sizeof(buf) - 1, "truncated to the buffer, NUL-terminated (%zu)", strlen(buf));
	ok(strncmp(buf, "froze 7; capped; a part", 23) == 0, "what fits is kept: %s", buf);
	ias_note_add(&n, "more");
	ok(strlen(buf) == sizeof(buf) - 1, "a full note takes nothing more");
	small[0] = '\0';
	ias_note_add(&s, "abcdef");
	ias_note_add(&s, "x");
	ok(strlen(small) < sizeof(small) && strncmp(small, "abcdef", 6) == 0,
	   "no separator written past the end (%s)", small);
	ias_note_add(&none, "ignored");
	ok(none.used == 0, "a note without a buffer takes nothing");
	return tap_done();
}
