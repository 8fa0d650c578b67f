/* Logging for the daemons and tools. Messages go to stderr; when stderr is
 * connected to the journal (systemd sets JOURNAL_STREAM) each line carries a
 * syslog priority prefix so journald files it at the right level. */
#ifndef IAS_COMMON_LOG_H
#define IAS_COMMON_LOG_H

#include <syslog.h>

void ias_log_init(const char *ident, int max_level);
void ias_log_set_level(int max_level);
int ias_log_level(void);
/* Parse "err", "warning", "info" or "debug"; -1 if unknown. */
int ias_log_level_parse(const char *s);

__attribute__((format(printf, 3, 4)))
void ias_log(int level, const char *func, const char *fmt, ...);

#define log_err(...)   ias_log(LOG_ERR, __func__, __VA_ARGS__)
#define log_warn(...)  ias_log(LOG_WARNING, __func__, __VA_ARGS__)
#define log_notice(...) ias_log(LOG_NOTICE, __func__, __VA_ARGS__)
#define log_info(...)  ias_log(LOG_INFO, __func__, __VA_ARGS__)
#define log_debug(...) ias_log(LOG_DEBUG, __func__, __VA_ARGS__)

#endif
