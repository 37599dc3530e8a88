/* log: "component: what happened key=value ..." lines to stderr or syslog.
 * Repeats of the same message (same component and format) within
 * `ratelimit_ms` are counted, not printed, and summarised as
 * "(N similar messages suppressed)" when the window ends. */
#ifndef LF_LOG_H
#define LF_LOG_H
#include <stdbool.h>

enum { LF_LOG_ERR = 0, LF_LOG_WARN = 1, LF_LOG_INFO = 2, LF_LOG_DEBUG = 3 };

extern int lf_log_level_cur;

/* ident: program name for syslog. level: LF_LOG_*. use_syslog: false =
 * stderr (systemd's journal adds timestamps; we add none there, but do when
 * stderr is a terminal). ratelimit_ms: 0 disables rate limiting. */
void lf_log_init(const char *ident, int level, bool use_syslog, int ratelimit_ms);
int  lf_log_parse_level(const char *s); /* "error|warn|info|debug" -> level, -1 */
void lf_log(int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Debug text is built only when debug is on. */
#define LF_DEBUG(comp, ...) \
    do { if (lf_log_level_cur >= LF_LOG_DEBUG) lf_log(LF_LOG_DEBUG, comp, __VA_ARGS__); } while (0)
#define LF_INFO(comp, ...)  lf_log(LF_LOG_INFO, comp, __VA_ARGS__)
#define LF_WARN(comp, ...)  lf_log(LF_LOG_WARN, comp, __VA_ARGS__)
#define LF_ERR(comp, ...)   lf_log(LF_LOG_ERR, comp, __VA_ARGS__)

#endif
