/* A bounded note built from parts separated by "; " (release notes, what a
 * mechanism did). It truncates rather than overflows and stays
 * NUL-terminated; a note over a NULL or empty buffer takes nothing. */
#ifndef IAS_COMMON_NOTE_H
#define IAS_COMMON_NOTE_H

#include <stddef.h>

struct ias_note {
	char *buf;
	size_t cap, used;
};

__attribute__((format(printf, 2, 3)))
void ias_note_add(struct ias_note *n, const char *fmt, ...);

#endif
