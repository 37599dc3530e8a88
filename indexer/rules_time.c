#include "indexer/rules_time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Howard Hinnant's days_from_civil: exact for every proleptic Gregorian date,
 * no tables, no time zone database. */
int64_t rt_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

int rt_parse_iso8601(const char *s, int default_off_s, int64_t *ms_out)
{
    int64_t local;
    bool has_off;
    int off;
    if (rt_parse_iso8601_local(s, &local, &has_off, &off) != 0)
        return -1;
    *ms_out = local - (int64_t)(has_off ? off : default_off_s) * 1000;
    return 0;
}

int rt_parse_iso8601_local(const char *s, int64_t *local_ms, bool *has_off, int *off_s)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, off = 0;
    *has_off = false;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
            return -1;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &sec))
                return -1;
            if (*p == '.' || *p == ',') {
                p++;
                int n = 0, frac = 0;
                while (*p >= '0' && *p <= '9') {
                    if (n < 3)
                        frac = frac * 10 + (*p - '0');
                    n++;
                    p++;
                }
                if (n == 0)
                    return -1;
                for (int i = n; i < 3; i++)
                    frac *= 10;
                ms = frac;
            }
        }
        if (h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi || sec || ms)))
            return -1;
        if (sec == 60) /* leap second: folded onto the next second's start */
            sec = 59, ms = 999;
        if (*p == 'Z' || *p == 'z') {
            p++;
            off = 0;
            *has_off = true;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
            if (digits(&p, 2, &oh))
                return -1;
            if (*p == ':') {
                p++;
                if (digits(&p, 2, &om))
                    return -1;
            } else if (*p >= '0' && *p <= '9') {
                if (digits(&p, 2, &om))
                    return -1;
            }
            if (oh > 23 || om > 59)
                return -1;
            off = sign * (oh * 3600 + om * 60);
            *has_off = true;
        }
    }
    if (*p)
        return -1;
    int64_t days = rt_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec;
    *local_ms = secs * 1000 + ms;
    *off_s = off;
    return 0;
}

static int two(const char *p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

static bool all_digits(const char *p, int n)
{
    for (int i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* Position 0..11 of a month abbreviation as servers write it ("Nov"), -1
 * for any other spelling (the general parser takes those). */
static int month_abbr(const char *s)
{
    static const char ABBR[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int i;
    switch (s[0]) { /* the candidates by first letter, then one check */
    case 'J': i = s[1] == 'a' ? 0 : s[2] == 'n' ? 5 : 6; break;
    case 'F': i = 1; break;
    case 'M': i = s[2] == 'r' ? 2 : 4; break;
    case 'A': i = s[1] == 'p' ? 3 : 7; break;
    case 'S': i = 8; break;
    case 'O': i = 9; break;
    case 'N': i = 10; break;
    case 'D': i = 11; break;
    default: return -1;
    }
    return s[1] == ABBR[i][1] && s[2] == ABBR[i][2] ? i : -1;
}

int rt_parse_clf(const char *s, int64_t *local_ms, int *off_s)
{
    /* 0123456789012345678901234 5
     * 25/Nov/2026:16:21:10 +0100\0 */
    if (!all_digits(s, 2) || s[2] != '/')
        return 1;
    int mon = month_abbr(s + 3);
    if (mon < 0 || s[6] != '/' || !all_digits(s + 7, 4) || s[11] != ':' ||
        !all_digits(s + 12, 2) || s[14] != ':' || !all_digits(s + 15, 2) || s[17] != ':' ||
        !all_digits(s + 18, 2) || s[20] != ' ' || (s[21] != '+' && s[21] != '-') ||
        !all_digits(s + 22, 4) || s[26] != '\0')
        return 1;
    int d = two(s), y = two(s + 7) * 100 + two(s + 9), h = two(s + 12), mi = two(s + 15),
        sec = two(s + 18), oh = two(s + 22), om = two(s + 24);
    /* the general parser's bounds (%d takes 31/Feb and moves on to March;
     * %S takes 60 and 61, counted as 59) */
    if (d < 1 || d > 31 || h > 23 || mi > 59 || sec > 61 || oh > 23 || om > 59)
        return 1;
    if (sec > 59)
        sec = 59;
    int64_t days = rt_days_from_civil(y, (unsigned)mon + 1, (unsigned)d);
    *local_ms = (days * 86400 + h * 3600 + mi * 60 + sec) * 1000;
    *off_s = (s[21] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    return 0;
}

/* Hinnant's civil_from_days, the inverse of rt_days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void rt_civil(int64_t ms, rt_tm *t)
{
    int64_t s = rt_floor_div(ms, 1000);
    t->ms = (int)(ms - s * 1000);
    int64_t days = rt_floor_div(s, 86400);
    int64_t sod = s - days * 86400;
    t->days = days;
    civil_from_days(days, &t->year, &t->mon, &t->mday);
    t->hour = (int)(sod / 3600);
    t->min = (int)(sod / 60 % 60);
    t->sec = (int)(sod % 60);
}

static char *put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

size_t rt_format_iso8601(int64_t ms, char *buf, size_t len)
{
    rt_tm t;
    rt_civil(ms, &t);
    if (t.year < 0 || t.year > 9999 || len < 25) {
        snprintf(buf, len, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)t.year, t.mon,
                 t.mday, t.hour, t.min, t.sec, t.ms);
        return len ? strlen(buf) : 0;
    }
    char *p = buf;
    p = put2(p, (unsigned)(t.year / 100));
    p = put2(p, (unsigned)(t.year % 100));
    *p++ = '-';
    p = put2(p, t.mon);
    *p++ = '-';
    p = put2(p, t.mday);
    *p++ = 'T';
    p = put2(p, (unsigned)t.hour);
    *p++ = ':';
    p = put2(p, (unsigned)t.min);
    *p++ = ':';
    p = put2(p, (unsigned)t.sec);
    *p++ = '.';
    *p++ = (char)('0' + t.ms / 100);
    p = put2(p, (unsigned)(t.ms % 100));
    *p++ = 'Z';
    *p = '\0';
    return 24;
}

size_t rt_format_iso8601_day(int64_t ms, rt_daytext *c, char *buf, size_t len)
{
    if (!rt_iso8601_exact(ms) || len < 25)
        return rt_format_iso8601(ms, buf, len);
    int64_t day = rt_floor_div(ms, 86400000);
    if (!c->valid || c->day != day) {
        char full[40];
        rt_format_iso8601(day * 86400000, full, sizeof full);
        memcpy(c->date, full, sizeof c->date);
        c->day = day;
        c->valid = true;
    }
    memcpy(buf, c->date, sizeof c->date); /* "2026-11-25T" */
    unsigned msod = (unsigned)(ms - day * 86400000);
    char *p = buf + sizeof c->date;
    p = put2(p, msod / 3600000);
    *p++ = ':';
    p = put2(p, msod / 60000 % 60);
    *p++ = ':';
    p = put2(p, msod / 1000 % 60);
    *p++ = '.';
    *p++ = (char)('0' + msod % 1000 / 100);
    p = put2(p, msod % 100);
    *p++ = 'Z';
    *p = '\0';
    return 24;
}

bool rt_iso8601_exact(int64_t ms)
{
    /* 0000-01-01 and 10000-01-01 in days since the epoch */
    return ms >= -719528LL * 86400000 && ms < 2932897LL * 86400000;
}

int64_t rt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
