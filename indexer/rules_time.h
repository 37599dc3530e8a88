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

/* The common log format's time, "%d/%b/%Y:%H:%M:%S %z" as nginx and
 * apache write it: "25/Nov/2026:16:21:10 +0100", every field of fixed
 * width, nothing after. 0 and the local milliseconds (the clock time as if
 * it were UTC) and the offset east of UTC; 1 when s has any other shape or
 * a field out of range, for the general strptime-style parser to decide
 * (it takes more: blanks, other spellings of the month, +01:00). Where
 * this says 0, the general parser gives the same time. */
int rt_parse_clf(const char *s, int64_t *local_ms, int *off_s);

/* Broken-down UTC time of ms (any year). */
typedef struct rt_tm {
    int64_t  year, days; /* days since the epoch */
    unsigned mon, mday;  /* 1..12, 1..31 */
    int      hour, min, sec, ms;
} rt_tm;
void rt_civil(int64_t ms, rt_tm *t);

/* a / b rounded down (b > 0): days or seconds of times before the epoch
 * belong to the earlier day or second. */
static inline int64_t rt_floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Formats ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (>= 25 bytes); the
 * length written. */
size_t rt_format_iso8601(int64_t ms, char *buf, size_t len);
/* The same text, with the date part ("2026-11-25T") kept in c for the
 * next call on the same day (c zeroed: empty). */
typedef struct rt_daytext {
    bool    valid;
    int64_t day;     /* days since the epoch of date */
    char    date[11];
} rt_daytext;
size_t rt_format_iso8601_day(int64_t ms, rt_daytext *c, char *buf, size_t len);
/* Whether rt_parse_iso8601 reads rt_format_iso8601's text of ms back as ms
 * (years 0..9999; other years do not parse). */
bool rt_iso8601_exact(int64_t ms);

/* Current time in ms (CLOCK_REALTIME). */
int64_t rt_now_ms(void);

#endif
