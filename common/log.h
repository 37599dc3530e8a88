/* log: "component: what happened key=value ..." lines to stderr or syslog.
 * Repeats of the same message (same component and format) within
 * `ratelimit_ms` are counted, not printed, once LF_LOG_BURST of them were
 * printed in that window, and summarised as
 * "component: (N similar messages suppressed)" when the window ends: at the
 * next lf_log call of any message, or lf_log_flush_suppressed() (call it
 * from a periodic timer so a summary is not held back indefinitely).
 *
 * stderr line format: [TIMESTAMP LEVEL ]component: message
 *  - "<N>" (syslog priority, as sd-daemon(3)) first when stderr is the
 *    journal ($JOURNAL_STREAM names fd 2's device:inode), so the journal
 *    keeps the level;
 *  - an ISO 8601 UTC timestamp with milliseconds and the level word only
 *    when stderr is a terminal (the journal and supervisors add their own).
 * Thread-safe (librdkafka may log from its threads). */
#ifndef LF_LOG_H
#define LF_LOG_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum { LF_LOG_ERR = 0, LF_LOG_WARN = 1, LF_LOG_INFO = 2, LF_LOG_DEBUG = 3 };

#define LF_LOG_BURST 5 /* messages per key per window before suppressing */

extern int lf_log_level_cur;

/* ident: program name for syslog. level: LF_LOG_*. use_syslog: false =
 * stderr (systemd's journal adds timestamps; we add none there, but do when
 * stderr is a terminal). ratelimit_ms: 0 disables rate limiting.
 * May be called again (e.g. after a reload) to change any of these. */
void lf_log_init(const char *ident, int level, bool use_syslog, int ratelimit_ms);
int  lf_log_parse_level(const char *s); /* "error|warn|info|debug" -> level, -1 */
const char *lf_log_level_name(int level);
void lf_log(int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* lf_log without the rate limit, for a set of lines that one action of
 * the operator's asks for and that must all be seen, however many share a
 * format (a reload's changes that wait for a restart). */
void lf_log_unlimited(int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints the summaries of rate-limit windows that have ended. */
void lf_log_flush_suppressed(void);

/* Test hooks: write stderr-mode lines to f (NULL = stderr again; decorations
 * off for anything but stderr), read time from now_ms (NULL = monotonic
 * clock), set the burst (0 = LF_LOG_BURST). */
void lf_log_set_stream(FILE *f);
void lf_log_set_clock(int64_t (*now_ms)(void));
void lf_log_set_burst(int burst);

/* Debug text is built only when debug is on. */
#define LF_DEBUG(comp, ...) \
    do { if (lf_log_level_cur >= LF_LOG_DEBUG) lf_log(LF_LOG_DEBUG, comp, __VA_ARGS__); } while (0)
#define LF_INFO(comp, ...)  lf_log(LF_LOG_INFO, comp, __VA_ARGS__)
#define LF_WARN(comp, ...)  lf_log(LF_LOG_WARN, comp, __VA_ARGS__)
#define LF_ERR(comp, ...)   lf_log(LF_LOG_ERR, comp, __VA_ARGS__)

#endif
