/* See note.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/note.h"

void ias_note_add(struct ias_note *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (!n->buf || !n->cap)
		return;
	if (n->used && n->used + 2 < n->cap) {
		memcpy(n->buf + n->used, "; ", 3);
		n->used += 2;
	}
	if (n->used + 1 >= n->cap)
		return;
	va_start(ap, fmt);
	w = vsnprintf(n->buf + n->used, n->cap - n->used, fmt, ap);
	va_end(ap);
	if (w > 0)
		n->used = (size_t)w < n->cap - n->used ? n->used + (size_t)w : n->cap - 1;
}
