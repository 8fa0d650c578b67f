/* See log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

static const char *log_ident = "ias";
static int log_max = LOG_INFO;
static int log_journal = -1;

void ias_log_init(const char *ident, int max_level)
{
	log_ident = ident;
	log_max = max_level;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void ias_log_set_level(int max_level)
{
	log_max = max_level;
}

int ias_log_level(void)
{
	return log_max;
}

int ias_log_level_parse(const char *s)
{
	static const struct { const char *name; int level; } names[] = {
		{ "err", LOG_ERR }, { "error", LOG_ERR }, { "warning", LOG_WARNING },
		{ "notice", LOG_NOTICE }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].level;
	return -1;
}

void ias_log(int level, const char *func, const char *fmt, ...)
{
	static const char *const tag[] = {
		"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
	};
	char msg[1024];
	va_list ap;

	if (level > log_max)
		return;
	if (log_journal < 0)
		log_journal = getenv("JOURNAL_STREAM") != NULL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_journal) {
		fprintf(stderr, "<%d>%s: %s\n", level, func, msg);
	} else {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s[%s] %s: %s\n", when, ts.tv_nsec / 1000000,
			log_ident, tag[level & 7], func, msg);
	}
}
