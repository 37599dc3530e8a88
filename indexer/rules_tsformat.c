/* rules_tsformat: the `timestamp` action's formats and time zones.
 * Formats: ISO8601, UNIX (seconds, fractions allowed), UNIX_MS, EPOCH
 * (seconds or milliseconds, told apart by size), or a
 * strptime(3) format, extended with %f (fraction of a second, any number of
 * digits). A value without a zone is taken in the rule's `timezone`. */
#include "indexer/rules_internal.h"
#include "indexer/rules_time.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Conversions glibc's strptime knows, plus our f. E and O are modifiers. */
static const char STRPTIME_CODES[] = "aAbBhcCdDeFgGHIjmMnprRsStTuUVwWxXyYzZ%f";

int tsformat_init(tsformat *f, const char *text, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    if (!strcasecmp(text, "ISO8601")) {
        f->kind = TSF_ISO8601;
        return 0;
    }
    if (!strcasecmp(text, "UNIX")) {
        f->kind = TSF_UNIX;
        return 0;
    }
    if (!strcasecmp(text, "UNIX_MS")) {
        f->kind = TSF_UNIX_MS;
        return 0;
    }
    if (!strcasecmp(text, "EPOCH")) {
        f->kind = TSF_EPOCH;
        return 0;
    }
    if (!strchr(text, '%')) {
        snprintf(err, errlen,
                 "unknown timestamp format \"%.80s\" (ISO8601, UNIX, UNIX_MS, EPOCH or a strptime "
                 "format with %% codes)", text);
        return -1;
    }
    for (const char *p = text; *p; p++) {
        if (*p != '%')
            continue;
        p++;
        if (*p == 'E' || *p == 'O')
            p++;
        if (!*p || !strchr(STRPTIME_CODES, *p)) {
            snprintf(err, errlen, "unknown timestamp format code %%%c in \"%.80s\"",
                     *p ? *p : ' ', text);
            return -1;
        }
    }
    f->kind = TSF_STRPTIME;
    f->fast = rt_strptime_knows(text);
    f->clf = !strcmp(text, "%d/%b/%Y:%H:%M:%S %z");
    /* Cut at each %f (but not %%f). */
    const char *start = text;
    for (const char *p = text;; p++) {
        if (*p == '%' && p[1] == '%') {
            p++;
            continue;
        }
        if (*p && !(*p == '%' && p[1] == 'f'))
            continue;
        char **np = realloc(f->parts, (f->nparts + 1) * sizeof *np);
        if (!np)
            abort();
        f->parts = np;
        f->parts[f->nparts] = strndup(start, (size_t)(p - start));
        if (!f->parts[f->nparts])
            abort();
        f->nparts++;
        if (!*p)
            break;
        p++; /* skip the f */
        start = p + 1;
    }
    return 0;
}

void tsformat_free(tsformat *f)
{
    for (size_t i = 0; i < f->nparts; i++) {
        free(f->parts[i]);
        f->parts[i] = NULL;
    }
    free(f->parts);
    f->parts = NULL;
    f->nparts = 0;
}

static int parse_offset(const char *s, int *off)
{
    if (!strcasecmp(s, "UTC") || !strcasecmp(s, "Z") || !strcasecmp(s, "GMT")) {
        *off = 0;
        return 0;
    }
    if (*s != '+' && *s != '-')
        return -1;
    int sign = *s == '-' ? -1 : 1;
    const char *p = s + 1;
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
        return -1;
    int h = (p[0] - '0') * 10 + (p[1] - '0'), m = 0;
    p += 2;
    if (*p == ':')
        p++;
    if (*p) {
        if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) || p[2])
            return -1;
        m = (p[0] - '0') * 10 + (p[1] - '0');
    }
    if (h > 23 || m > 59)
        return -1;
    *off = sign * (h * 3600 + m * 60);
    return 0;
}

/* A zone name is good when the tz database has a TZif file for it: glibc
 * silently falls back to UTC for a misspelt TZ, which would shift every
 * timestamp without a word. */
static bool zone_exists(const char *name)
{
    if (name[0] == '/' || strstr(name, ".."))
        return false;
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    char magic[4];
    bool ok = fread(magic, 1, 4, fp) == 4 && !memcmp(magic, "TZif", 4);
    fclose(fp);
    return ok;
}

int rtz_init(rtz *z, const char *text, char *err, size_t errlen)
{
    memset(z, 0, sizeof *z);
    z->cache_hour = INT64_MIN;
    if (parse_offset(text, &z->off_s) == 0) {
        z->fixed = true;
        return 0;
    }
    if (!zone_exists(text)) {
        snprintf(err, errlen,
                 "unknown time zone \"%.80s\" (UTC, +HH:MM, or a tz database name such as "
                 "Europe/Paris)", text);
        return -1;
    }
    z->name = strdup(text);
    if (!z->name)
        abort();
    return 0;
}

void rtz_free(rtz *z)
{
    free(z->name);
    z->name = NULL;
}

/* Offset east of UTC in effect at UTC second u (TZ set to the zone). */
static long utc_offset(time_t u)
{
    struct tm tm;
    return localtime_r(&u, &tm) ? tm.tm_gmtoff : 0;
}

/* Offset east of UTC in effect at a local clock time in zone z. glibc has
 * no per-call zone, so TZ is switched around the look-ups and put back;
 * the one-hour cache makes that rare (once an hour of log time).
 *
 * A local time an offset change repeats (the hour clocks go back) is read
 * as its first occurrence, with the offset before the change; one the
 * change skips (the hour clocks go forward), with the offset before it
 * too, i.e. moved later by the gap: what java.time and Elasticsearch do.
 * The offsets a day before and after are the candidates; an instant is
 * the local time's if the zone has that offset there. (mktime with
 * tm_isdst = -1 settled the repeated hour by its previous conversion, so
 * one text gave two times depending on the record before it.) */
static int zone_offset(rtz *z, int64_t local_s)
{
    if (z->fixed)
        return z->off_s;
    int64_t hour = rt_floor_div(local_s, 3600);
    if (hour == z->cache_hour)
        return z->cache_off;
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    setenv("TZ", z->name, 1);
    tzset();
    time_t lt = (time_t)(hour * 3600);
    long before = utc_offset(lt - 86400), after = utc_offset(lt + 86400);
    bool is_before = utc_offset(lt - before) == before, is_after = utc_offset(lt - after) == after;
    /* only after's: past the change; else the offset before it (both
     * hold in a repeated hour, neither in a skipped one) */
    long off = is_after && !is_before ? after : before;
    if (saved) {
        setenv("TZ", saved, 1);
        free(saved);
    } else {
        unsetenv("TZ");
    }
    tzset();
    z->cache_hour = hour;
    z->cache_off = (int)off;
    return (int)off;
}

static int from_local(int64_t local_ms, bool has_off, int off, rtz *z, int64_t *ms)
{
    if (!has_off)
        off = z ? zone_offset(z, rt_floor_div(local_ms, 1000)) : 0;
    *ms = local_ms - (int64_t)off * 1000;
    return 0;
}

static bool number_of(const cJSON *v, double *d)
{
    if (cJSON_IsNumber(v)) {
        *d = v->valuedouble;
        return isfinite(*d);
    }
    if (!cJSON_IsString(v) || !*v->valuestring)
        return false;
    const char *s = v->valuestring;
    for (const char *c = s; *c; c++)
        if (!isdigit((unsigned char)*c) && *c != '.' && *c != '-' && *c != '+')
            return false;
    char *end;
    errno = 0;
    *d = strtod(s, &end);
    return !*end && errno == 0 && isfinite(*d);
}

static const char *const MONTHS[12] = {"January", "February", "March", "April", "May", "June",
                                        "July", "August", "September", "October", "November",
                                        "December"};
static const char *const DAYS[7] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday",
                                    "Friday", "Saturday"};

bool rt_strptime_knows(const char *fmt)
{
    for (const char *p = fmt; *p; p++) {
        if (*p != '%')
            continue;
        p++;
        if (!*p || !strchr("YmdeHMSyIpbBhaAzTFDRnt%f", *p))
            return false;
    }
    return true;
}

/* glibc's get_number: leading blanks, up to n digits, within [lo, hi]. */
static const char *num(const char *s, int lo, int hi, int n, int *out)
{
    while (*s == ' ')
        s++;
    if (!isdigit((unsigned char)*s))
        return NULL;
    int v = 0;
    for (int i = 0; i < n && isdigit((unsigned char)*s); i++)
        v = v * 10 + (*s++ - '0');
    if (v < lo || v > hi)
        return NULL;
    *out = v;
    return s;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* A full or abbreviated (3 letters) name, any case. The first three
 * letters decide (they are unique among months and among days). */
static const char *name(const char *s, const char *const *names, int n, int *out)
{
    if (!s[0] || !s[1] || !s[2])
        return NULL;
    int a = lower((unsigned char)s[0]), b = lower((unsigned char)s[1]),
        c = lower((unsigned char)s[2]);
    for (int i = 0; i < n; i++) {
        const char *nm = names[i];
        if (lower(nm[0]) != a || nm[1] != b || nm[2] != c)
            continue;
        size_t len = strlen(nm);
        *out = i;
        return !strncasecmp(s, nm, len) ? s + len : s + 3;
    }
    return NULL;
}

const char *rt_strptime(const char *s, const char *fmt, struct tm *tm)
{
    int v, pm = -1, hour12 = -1;
    for (const char *f = fmt; *f; f++) {
        if (isspace((unsigned char)*f)) {
            while (isspace((unsigned char)*s))
                s++;
            continue;
        }
        if (*f != '%') {
            if (*s++ != *f)
                return NULL;
            continue;
        }
        switch (*++f) {
        case '%': if (*s++ != '%') return NULL; break;
        case 'n': case 't': while (isspace((unsigned char)*s)) s++; break;
        case 'Y': if (!(s = num(s, 0, 9999, 4, &v))) return NULL; tm->tm_year = v - 1900; break;
        case 'y':
            if (!(s = num(s, 0, 99, 2, &v))) return NULL;
            tm->tm_year = v >= 69 ? v : v + 100;
            break;
        case 'm': if (!(s = num(s, 1, 12, 2, &v))) return NULL; tm->tm_mon = v - 1; break;
        case 'd': case 'e': if (!(s = num(s, 1, 31, 2, &v))) return NULL; tm->tm_mday = v; break;
        case 'H': if (!(s = num(s, 0, 23, 2, &v))) return NULL; tm->tm_hour = v; break;
        case 'I': if (!(s = num(s, 1, 12, 2, &v))) return NULL; hour12 = v % 12; break;
        case 'M': if (!(s = num(s, 0, 59, 2, &v))) return NULL; tm->tm_min = v; break;
        case 'S': if (!(s = num(s, 0, 61, 2, &v))) return NULL; tm->tm_sec = v; break;
        case 'b': case 'B': case 'h':
            if (!(s = name(s, MONTHS, 12, &v))) return NULL;
            tm->tm_mon = v;
            break;
        case 'a': case 'A':
            if (!(s = name(s, DAYS, 7, &v))) return NULL;
            tm->tm_wday = v;
            break;
        case 'p':
            if (!strncasecmp(s, "AM", 2)) pm = 0;
            else if (!strncasecmp(s, "PM", 2)) pm = 1;
            else return NULL;
            s += 2;
            break;
        case 'T': if (!(s = rt_strptime(s, "%H:%M:%S", tm))) return NULL; break;
        case 'R': if (!(s = rt_strptime(s, "%H:%M", tm))) return NULL; break;
        case 'F': if (!(s = rt_strptime(s, "%Y-%m-%d", tm))) return NULL; break;
        case 'D': if (!(s = rt_strptime(s, "%m/%d/%y", tm))) return NULL; break;
        case 'z': {
            while (*s == ' ')
                s++;
            if (*s == 'Z') {
                s++;
                tm->tm_gmtoff = 0;
                break;
            }
            if (*s != '+' && *s != '-')
                return NULL;
            int sign = *s++ == '-' ? -1 : 1, hh, mm = 0;
            if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
                return NULL;
            hh = (s[0] - '0') * 10 + (s[1] - '0');
            s += 2;
            if (*s == ':' && isdigit((unsigned char)s[1]))
                s++;
            if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1])) {
                mm = (s[0] - '0') * 10 + (s[1] - '0');
                s += 2;
            }
            if (hh > 23 || mm > 59)
                return NULL;
            tm->tm_gmtoff = sign * (hh * 3600L + mm * 60L);
            break;
        }
        default:
            return NULL; /* rt_strptime_knows said no: not called */
        }
    }
    if (hour12 >= 0)
        tm->tm_hour = hour12 + (pm == 1 ? 12 : 0);
    else if (pm == 1 && tm->tm_hour < 12)
        tm->tm_hour += 12;
    return s;
}

static int parse_strptime(const tsformat *f, rtz *z, const char *s, int64_t now_ms, int64_t *ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = INT_MIN;      /* to see whether the format had a year */
    tm.tm_mday = 1;
    tm.tm_gmtoff = LONG_MIN;   /* to see whether it had a zone (%z) */
    const char *p = s;
    int frac_ms = 0;
    for (size_t i = 0; i < f->nparts; i++) {
        if (i > 0) { /* a %f between parts */
            int n = 0, v = 0;
            while (isdigit((unsigned char)*p)) {
                if (n < 3)
                    v = v * 10 + (*p - '0');
                n++;
                p++;
            }
            if (n == 0)
                return -1;
            for (; n < 3; n++)
                v *= 10;
            frac_ms = v;
        }
        p = f->fast ? rt_strptime(p, f->parts[i], &tm) : strptime(p, f->parts[i], &tm);
        if (!p)
            return -1;
    }
    while (isspace((unsigned char)*p))
        p++;
    if (*p)
        return -1;
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31)
        return -1;
    bool has_off = tm.tm_gmtoff != LONG_MIN;
    int off = has_off ? (int)tm.tm_gmtoff : 0;
    int64_t tod = (int64_t)tm.tm_hour * 3600 + tm.tm_min * 60 + (tm.tm_sec > 59 ? 59 : tm.tm_sec);
    if (tm.tm_year != INT_MIN) {
        int64_t local = (rt_days_from_civil(tm.tm_year + 1900LL, (unsigned)tm.tm_mon + 1,
                                            (unsigned)tm.tm_mday) * 86400 + tod) * 1000 + frac_ms;
        return from_local(local, has_off, off, z, ms);
    }
    /* No year (RFC 3164 syslog): this year, unless that puts the time more
     * than a week ahead (a December line read in January): last year. */
    if (now_ms < 0)
        now_ms = rt_now_ms();
    time_t now = (time_t)(now_ms / 1000);
    struct tm nt;
    gmtime_r(&now, &nt);
    for (int y = nt.tm_year + 1900, k = 0; k < 2; k++, y--) {
        int64_t local = (rt_days_from_civil(y, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday) *
                         86400 + tod) * 1000 + frac_ms;
        from_local(local, has_off, off, z, ms);
        if (*ms <= now_ms + 7LL * 86400 * 1000)
            return 0;
    }
    return 0;
}

int ts_parse(const tsformat *f, rtz *z, const cJSON *v, int64_t now_ms, int64_t *ms)
{
    double d;
    switch (f->kind) {
    case TSF_UNIX:
        if (!number_of(v, &d) || fabs(d) > 1e13)
            return -1;
        *ms = (int64_t)llround(d * 1000.0);
        return 0;
    case TSF_UNIX_MS:
        if (!number_of(v, &d) || fabs(d) > 1e16)
            return -1;
        *ms = (int64_t)llround(d);
        return 0;
    case TSF_EPOCH:
        /* Seconds or milliseconds by size: 1e11 s is the year 5138, 1e11 ms
         * is March 1973, so nothing real is ambiguous. */
        if (!number_of(v, &d) || fabs(d) > 1e16)
            return -1;
        *ms = (int64_t)llround(fabs(d) >= 1e11 ? d : d * 1000.0);
        return 0;
    case TSF_ISO8601: {
        if (!cJSON_IsString(v))
            return -1;
        int64_t local;
        bool has_off;
        int off;
        if (rt_parse_iso8601_local(v->valuestring, &local, &has_off, &off) != 0)
            return -1;
        return from_local(local, has_off, off, z, ms);
    }
    case TSF_STRPTIME:
        if (!cJSON_IsString(v))
            return -1;
        if (f->clf) { /* web servers' own shape; anything else: below */
            int64_t local;
            int off;
            if (rt_parse_clf(v->valuestring, &local, &off) == 0)
                return from_local(local, true, off, z, ms);
        }
        return parse_strptime(f, z, v->valuestring, now_ms, ms);
    }
    return -1;
}
