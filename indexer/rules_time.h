/* rules_time: timestamps for the rules engine (internal to indexer/rules*.c).
 * Times are int64 milliseconds since the Unix epoch, UTC. Civil-date
 * arithmetic is done here (no TZ environment, no locale), so results do not
 * depend on the process's time zone. */
#ifndef LF_INDEXER_RULES_TIME_H
#define LF_INDEXER_RULES_TIME_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t rt_days_from_civil(int64_t y, unsigned m, unsigned d);

/* ISO 8601 / RFC 3339: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.frac]]" with
 * 'T' or ' ', zone "Z", "+HH:MM", "+HHMM", "+HH" or none (then
 * `default_off_s`, seconds east of UTC, applies). The whole string must be
 * consumed. 0 on success. */
int rt_parse_iso8601(const char *s, int default_off_s, int64_t *ms_out);

/* The same, giving the parts: local milliseconds (the written clock time
 * as if it were UTC) and whether a zone was written (then *off_s). */
int rt_parse_iso8601_local(const char *s, int64_t *local_ms, bool *has_off, int *off_s);

/* Broken-down UTC time of ms (any year). */
typedef struct rt_tm {
    int64_t  year, days; /* days since the epoch */
    unsigned mon, mday;  /* 1..12, 1..31 */
    int      hour, min, sec, ms;
} rt_tm;
void rt_civil(int64_t ms, rt_tm *t);

/* Formats ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (>= 25 bytes). */
void rt_format_iso8601(int64_t ms, char *buf, size_t len);

/* Current time in ms (CLOCK_REALTIME). */
int64_t rt_now_ms(void);

#endif
