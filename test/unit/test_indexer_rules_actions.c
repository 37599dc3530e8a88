/* Unit tests: each action (parse json/regex/kv, timestamp, set, rename,
 * remove, convert, tag), including every failure path: a failure tags the
 * record and leaves it as it was, and never drops it. */
#include "test_indexer_rules_util.h"

#include <time.h>

#include "common/metrics.h"
#include "indexer/rules_internal.h"

#define KEEP RULES_KEEP

/* ---- parse = json ------------------------------------------------------- */

static void test_parse_json_merge(void **state)
{
    (void)state;
    const char *r = "[rule j]\nparse = json\n";
    one(r, "t", "{\"message\":\"{\\\"a\\\":1,\\\"b\\\":{\\\"c\\\":true},\\\"host\\\":\\\"x\\\"}\","
                "\"host\":{\"name\":\"h\"},\"keep\":1}",
        "{\"message\":\"{\\\"a\\\":1,\\\"b\\\":{\\\"c\\\":true},\\\"host\\\":\\\"x\\\"}\","
        "\"host\":\"x\",\"keep\":1,\"a\":1,\"b\":{\"c\":true}}", KEEP, NULL);
    /* the decoded message replaces the source */
    one(r, "t", "{\"message\":\"{\\\"message\\\":\\\"inner\\\"}\"}", "{\"message\":\"inner\"}",
        KEEP, NULL);
}

static void test_parse_json_target_and_field(void **state)
{
    (void)state;
    one("[rule j]\nparse = json\nfield = raw.body\ntarget = parsed.body\n", "t",
        "{\"raw\":{\"body\":\"[1,2,{\\\"x\\\":null}]\"}}",
        "{\"raw\":{\"body\":\"[1,2,{\\\"x\\\":null}]\"},\"parsed\":{\"body\":[1,2,{\"x\":null}]}}",
        KEEP, NULL);
}

static void test_parse_json_failures(void **state)
{
    (void)state;
    const char *r = "[rule j]\nparse = json\n";
    const char *bad[] = {
        "{\"message\":\"{not json\"}",
        "{\"message\":\"{\\\"a\\\":1} trailing\"}",
        "{\"message\":\"[1,2]\"}",          /* merging needs an object */
        "{\"message\":\"\"}",
        "{\"message\":{\"already\":\"object\"}}", /* not a string */
        "{\"other\":1}",                    /* no message at all */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *want = cJSON_Parse(bad[i]);
        cJSON *tags = cJSON_AddArrayToObject(want, "tags");
        cJSON_AddItemToArray(tags, cJSON_CreateString("_parse_failure:j"));
        char *w = cJSON_PrintUnformatted(want);
        one(r, "t", bad[i], w, KEEP, NULL);
        free(w);
        cJSON_Delete(want);
    }
    /* a target that is a scalar is not overwritten */
    one("[rule j]\nparse = json\ntarget = t\n", "t", "{\"message\":\"{}\",\"t\":5}", NULL, KEEP,
        NULL);
}

/* ---- parse = regex ------------------------------------------------------ */

static void test_parse_regex_groups(void **state)
{
    (void)state;
#define RX "[rule re]\nparse = regex\n" \
           "pattern = ^(?<client__ip>\\S+) (?<http__method>[A-Z]+)(?: (?<opt>\\d+))?" \
           " (?<message>.*)$\n"
    const char *r = RX;
    one(r, "t", "{\"message\":\"1.2.3.4 GET rest of it\"}",
        "{\"message\":\"rest of it\",\"client\":{\"ip\":\"1.2.3.4\"},\"http\":{\"method\":\"GET\"}}",
        KEEP, NULL);
    /* an optional group that took part */
    one(r, "t", "{\"message\":\"h POST 42 x\"}",
        "{\"message\":\"x\",\"client\":{\"ip\":\"h\"},\"http\":{\"method\":\"POST\"},\"opt\":\"42\"}",
        KEEP, NULL);
    /* no match: tagged, untouched */
    one(r, "t", "{\"message\":\"nope\"}",
        "{\"message\":\"nope\",\"tags\":[\"_parse_failure:re\"]}", KEEP, NULL);
    /* tags already there: appended once, a scalar becomes the first item */
    one(r, "t", "{\"message\":\"nope\",\"tags\":\"old\"}",
        "{\"message\":\"nope\",\"tags\":[\"old\",\"_parse_failure:re\"]}", KEEP, NULL);
    one(RX "[rule again]\nparse = regex\npattern = ^(?<x>\\d+)$\n", "t",
        "{\"message\":\"nope\",\"tags\":[\"_parse_failure:re\"]}",
        "{\"message\":\"nope\",\"tags\":[\"_parse_failure:re\",\"_parse_failure:again\"]}", KEEP,
        NULL);
}

static void test_parse_regex_patterns_in_order(void **state)
{
    (void)state;
    const char *r = "[rule re]\nparse = regex\n"
                    "pattern = ^(?<kind>A)(?<n>\\d)\n"
                    "pattern = ^(?<kind>[A-Z])(?<rest>.*)\n"
                    "target = p\n";
    one(r, "t", "{\"message\":\"A1\"}", "{\"message\":\"A1\",\"p\":{\"kind\":\"A\",\"n\":\"1\"}}",
        KEEP, NULL);
    one(r, "t", "{\"message\":\"Bxy\"}",
        "{\"message\":\"Bxy\",\"p\":{\"kind\":\"B\",\"rest\":\"xy\"}}", KEEP, NULL);
    one(r, "t", "{\"message\":\"1\"}", "{\"message\":\"1\",\"tags\":[\"_parse_failure:re\"]}", KEEP,
        NULL);
}

static void test_parse_regex_conflict_and_field(void **state)
{
    (void)state;
    /* a group whose path runs through a string: tagged, the string stays */
    one("[rule re]\nparse = regex\npattern = (?<host__name>\\w+)\n", "t",
        "{\"message\":\"web1\",\"host\":\"h\"}",
        "{\"message\":\"web1\",\"host\":\"h\",\"tags\":[\"_parse_failure:re\"]}", KEEP, NULL);
    /* a number field is not parsed */
    one("[rule re]\nparse = regex\nfield = n\npattern = (?<d>\\d)\n", "t", "{\"n\":5}",
        "{\"n\":5,\"tags\":[\"_parse_failure:re\"]}", KEEP, NULL);
    /* many groups (beyond the on-stack array) */
    char text[4096] = "[rule many]\nparse = regex\npattern = ^";
    char want[4096] = "{\"message\":\"";
    char msg[200] = "";
    for (int i = 0; i < 70; i++) {
        snprintf(text + strlen(text), sizeof text - strlen(text), "(?<g%d>.)", i);
        msg[i] = (char)('a' + i % 26);
    }
    msg[70] = '\0';
    strcat(text, "\n");
    snprintf(want + strlen(want), sizeof want - strlen(want), "%s\"", msg);
    for (int i = 0; i < 70; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), ",\"g%d\":\"%c\"", i, msg[i]);
    strcat(want, "}");
    char in[300];
    snprintf(in, sizeof in, "{\"message\":\"%s\"}", msg);
    /* the pattern line is too long for one INI line: build it with
     * continuation lines of 60 bytes */
    char joined[8192] = "";
    const char *pat = strstr(text, "pattern = ") + 10;
    strcat(joined, "[rule many]\nparse = regex\npattern = ");
    size_t len = strlen(pat) - 1;
    for (size_t off = 0; off < len; off += 60) {
        if (off)
            strcat(joined, "\n  ");
        strncat(joined, pat + off, len - off < 60 ? len - off : 60);
    }
    strcat(joined, "\n");
    one(joined, "t", in, want, KEEP, NULL);
}

static void test_parse_regex_match_limit(void **state)
{
    (void)state;
    /* catastrophic backtracking: bounded, counted as no match (tagged) */
    char in[200];
    snprintf(in, sizeof in, "{\"message\":\"%.60sb\"}",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    char want[300];
    snprintf(want, sizeof want, "{\"message\":\"%.60sb\",\"tags\":[\"_parse_failure:re\"]}",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    time_t t0 = time(NULL);
    one("[rule re]\nparse = regex\npattern = ^(?<x>(a|aa)+)+$\n", "t", in, want, KEEP, NULL);
    one("[rule re]\nmatch_limit = 1000\nparse = regex\npattern = ^(?<x>(a|aa)+)+$\n", "t", in,
        want, KEEP, NULL);
    /* the same in a condition: no match, so the rule does not apply */
    one("[rule c]\nif = message =~ /^((a|aa)+)+$/\nset.hit = 1\n", "t", in, in, KEEP, NULL);
    assert_true(time(NULL) - t0 < 20);
    /* a normal pattern under a small limit still matches */
    one("[rule re]\nmatch_limit = 1000\nparse = regex\npattern = ^(?<x>a+)b$\n", "t",
        "{\"message\":\"aab\"}", "{\"message\":\"aab\",\"x\":\"aa\"}", KEEP, NULL);
    load_fails("[rule re]\nmatch_limit = 5\nset.x = 1\n", "t.ini:2: match_limit: a number");
    load_fails("[rule re]\nmatch_limit = lots\nset.x = 1\n", "t.ini:2: match_limit: a number");
}

/* ---- parse = kv --------------------------------------------------------- */

static void test_parse_kv(void **state)
{
    (void)state;
    one("[rule kv]\nparse = kv\n", "t",
        "{\"message\":\"a=1  b=two c=\\\"x y \\\\\\\"z\\\\\\\"\\\" lone d= e='q r'\"}",
        "{\"message\":\"a=1  b=two c=\\\"x y \\\\\\\"z\\\\\\\"\\\" lone d= e='q r'\","
        "\"a\":\"1\",\"b\":\"two\",\"c\":\"x y \\\"z\\\"\",\"d\":\"\",\"e\":\"q r\"}", KEEP, NULL);
    one("[rule kv]\nparse = kv\nkv_separator = :\nkv_delimiter = \"; \"\ntarget = kv\n", "t",
        "{\"message\":\"user: bob; id:7;  role : admin\"}",
        "{\"message\":\"user: bob; id:7;  role : admin\","
        "\"kv\":{\"user\":\"bob\",\"id\":\"7\",\"role\":\"admin\"}}", KEEP, NULL);
    one("[rule kv]\nparse = kv\nkv_delimiter = ,\n", "t", "{\"message\":\"a=1,b=2,,c=3\"}",
        "{\"message\":\"a=1,b=2,,c=3\",\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}", KEEP, NULL);
    /* no pair at all: tagged */
    one("[rule kv]\nparse = kv\n", "t", "{\"message\":\"just words =x\"}",
        "{\"message\":\"just words =x\",\"tags\":[\"_parse_failure:kv\"]}", KEEP, NULL);
    one("[rule kv]\nparse = kv\n", "t", "{\"message\":\"\"}",
        "{\"message\":\"\",\"tags\":[\"_parse_failure:kv\"]}", KEEP, NULL);
}

/* ---- timestamp ---------------------------------------------------------- */

static void ts_case(const char *rule_extra, const char *value_json, const char *want_ts)
{
    char text[600], in[300], want[300];
    snprintf(text, sizeof text, "[rule ts]\ntimestamp = t\n%s", rule_extra);
    snprintf(in, sizeof in, "{\"t\":%s}", value_json);
    if (want_ts)
        snprintf(want, sizeof want, "{\"t\":%s,\"@timestamp\":\"%s\"}", value_json, want_ts);
    else
        snprintf(want, sizeof want, "{\"t\":%s,\"tags\":[\"_timestamp_failure:ts\"]}", value_json);
    one(text, "t", in, want, KEEP, NULL);
}

static void test_timestamp_iso8601(void **state)
{
    (void)state;
    ts_case("", "\"2026-11-25T16:21:10Z\"", "2026-11-25T16:21:10.000Z");
    ts_case("", "\"2026-11-25T16:21:10.123456+01:00\"", "2026-11-25T15:21:10.123Z");
    ts_case("", "\"2026-11-25 16:21:10,5-0230\"", "2026-11-25T18:51:10.500Z");
    ts_case("", "\"2026-11-25T16:21\"", "2026-11-25T16:21:00.000Z");
    ts_case("", "\"2024-02-29\"", "2024-02-29T00:00:00.000Z");
    ts_case("", "\"2026-12-31T23:59:60Z\"", "2026-12-31T23:59:59.999Z");
    ts_case("timezone = +05:30\n", "\"2026-11-25T16:21:10\"", "2026-11-25T10:51:10.000Z");
    ts_case("timezone = +05:30\n", "\"2026-11-25T16:21:10Z\"", "2026-11-25T16:21:10.000Z");
    /* failures */
    ts_case("", "\"2023-02-29T00:00:00Z\"", NULL);
    ts_case("", "\"2026-13-01\"", NULL);
    ts_case("", "\"2026-11-25T25:00:00Z\"", NULL);
    ts_case("", "\"2026-11-25T16:21:10Zjunk\"", NULL);
    ts_case("", "\"yesterday\"", NULL);
    ts_case("", "1764087670", NULL);
}

static void test_timestamp_epoch(void **state)
{
    (void)state;
    ts_case("timestamp_format = UNIX\n", "1764087670", "2025-11-25T16:21:10.000Z");
    ts_case("timestamp_format = UNIX\n", "\"1764087670.25\"", "2025-11-25T16:21:10.250Z");
    ts_case("timestamp_format = UNIX\n", "-1.5", "1969-12-31T23:59:58.500Z");
    ts_case("timestamp_format = UNIX_MS\n", "1764087670123", "2025-11-25T16:21:10.123Z");
    ts_case("timestamp_format = EPOCH\n", "1764087670123", "2025-11-25T16:21:10.123Z");
    ts_case("timestamp_format = EPOCH\n", "1764087670.5", "2025-11-25T16:21:10.500Z");
    ts_case("timestamp_format = UNIX\n", "\"12abc\"", NULL);
    ts_case("timestamp_format = UNIX\n", "\"\"", NULL);
    ts_case("timestamp_format = UNIX\n", "true", NULL);
    ts_case("timestamp_format = UNIX\n", "1e300", NULL);
}

static void test_timestamp_strptime(void **state)
{
    (void)state;
    ts_case("timestamp_format = %d/%b/%Y:%H:%M:%S %z\n", "\"25/Nov/2026:16:21:10 +0100\"",
            "2026-11-25T15:21:10.000Z");
    ts_case("timestamp_format = %Y-%m-%d %H:%M:%S,%f\n", "\"2026-11-25 16:21:10,7\"",
            "2026-11-25T16:21:10.700Z");
    ts_case("timestamp_format = %Y-%m-%d %H:%M:%S.%f\ntimezone = -03:00\n",
            "\"2026-11-25 16:21:10.123999\"", "2026-11-25T19:21:10.123Z");
    /* formats are tried in order */
    ts_case("timestamp_format = ISO8601\ntimestamp_format = %Y%m%d\n", "\"20261125\"",
            "2026-11-25T00:00:00.000Z");
    /* trailing text or a missing %f is a failure */
    ts_case("timestamp_format = %Y-%m-%d\n", "\"2026-11-25 junk\"", NULL);
    ts_case("timestamp_format = %H:%M:%S.%f\n", "\"10:00:00.\"", NULL);
    ts_case("timestamp_format = %Y-%m-%d\n", "20261125", NULL);
    /* %% is a literal percent, not a %f cut */
    ts_case("timestamp_format = %Y%%f%m\n", "\"2026%f11\"", "2026-11-01T00:00:00.000Z");
}

/* rt_strptime (the fast path) agrees with glibc's strptime on what it
 * handles: same fields, same end, same refusals. */
static void test_rt_strptime_matches_glibc(void **state)
{
    (void)state;
    static const struct { const char *fmt, *in; } cases[] = {
        {"%d/%b/%Y:%H:%M:%S %z", "25/Nov/2026:16:21:10 +0100"},
        {"%d/%b/%Y:%H:%M:%S %z", "25/nov/2026:16:21:10 -0530"},
        {"%d/%b/%Y:%H:%M:%S %z", "5/November/2026:6:1:0 +00:00"},
        {"%d/%b/%Y:%H:%M:%S %z", "25/Nov/2026:16:21:10 Z"},
        {"%d/%b/%Y:%H:%M:%S %z", "25/Nov/2026:16:21:10"},
        {"%d/%b/%Y:%H:%M:%S %z", "32/Nov/2026:16:21:10 +0100"},
        {"%d/%b/%Y:%H:%M:%S %z", "25/Foo/2026:16:21:10 +0100"},
        {"%b %d %H:%M:%S", "Nov  5 16:21:10"},
        {"%b %e %T", "Feb 29 00:00:60"},
        {"%Y-%m-%d %H:%M:%S", "2026-11-25 16:21:10"},
        {"%Y-%m-%d %H:%M:%S", "2026-13-25 16:21:10"},
        {"%Y-%m-%d %H:%M:%S", "2026-11-25 24:00:00"},
        {"%Y-%m-%dT%H:%M:%S", "2026-1-2T3:4:5"},
        {"%F %R", "2026-11-25 16:21"},
        {"%D %I:%M %p", "11/25/26 04:21 PM"},
        {"%D %I:%M %p", "11/25/69 12:00 am"},
        {"%a, %d %b %Y %H:%M:%S", "Wed, 25 Nov 2026 16:21:10"},
        {"%A %B %d", "wednesday NOVEMBER 25"},
        {"%Y%m%d%H%M%S", "20261125162110"},
        {"%H:%M:%S%%", "16:21:10%"},
        {"%H:%M:%S%n%Y", "16:21:10 \t 2026"},
        {"%Y-%m-%d", "2026-11-25trailing"},
        {"%Y-%m-%d", "x2026-11-25"},
        {"%Y-%m-%d", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tm a, b;
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        a.tm_gmtoff = b.tm_gmtoff = 12345;
        assert_true(rt_strptime_knows(cases[i].fmt));
        const char *ea = rt_strptime(cases[i].in, cases[i].fmt, &a);
        const char *eb = strptime(cases[i].in, cases[i].fmt, &b);
        if (ea != eb || (ea && (a.tm_year != b.tm_year || a.tm_mon != b.tm_mon ||
                                a.tm_mday != b.tm_mday || a.tm_hour != b.tm_hour ||
                                a.tm_min != b.tm_min || a.tm_sec != b.tm_sec ||
                                a.tm_gmtoff != b.tm_gmtoff)))
            fail_msg("\"%s\" on \"%s\": ours %s %d-%d-%d %d:%d:%d off %ld, glibc %s %d-%d-%d "
                     "%d:%d:%d off %ld", cases[i].fmt, cases[i].in, ea ? ea : "NULL", a.tm_year,
                     a.tm_mon, a.tm_mday, a.tm_hour, a.tm_min, a.tm_sec, a.tm_gmtoff,
                     eb ? eb : "NULL", b.tm_year, b.tm_mon, b.tm_mday, b.tm_hour, b.tm_min,
                     b.tm_sec, b.tm_gmtoff);
    }
    assert_false(rt_strptime_knows("%Y %j"));
    assert_false(rt_strptime_knows("%s"));
    assert_false(rt_strptime_knows("%Z"));
}

static void test_timestamp_no_year(void **state)
{
    (void)state;
    /* RFC 3164: no year. This year, unless more than a week ahead. */
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char val[64], want[64];
    time_t past = now - 3 * 86400;
    struct tm p;
    gmtime_r(&past, &p);
    strftime(val, sizeof val, "\"%b %e %H:%M:%S\"", &p);
    strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S.000Z", &p);
    ts_case("timestamp_format = %b %d %H:%M:%S\n", val, want);
    /* ten days ahead: more than a week in the future, so last year; when
     * that crosses New Year, the date this year is in the past: this year */
    time_t ahead = now + 10 * 86400;
    struct tm a;
    gmtime_r(&ahead, &a);
    strftime(val, sizeof val, "\"%b %d %H:%M:%S\"", &a);
    int year = a.tm_year == tm.tm_year ? tm.tm_year + 1900 - 1 : tm.tm_year + 1900;
    char fmt[64];
    snprintf(fmt, sizeof fmt, "%d-%%m-%%dT%%H:%%M:%%S.000Z", year);
    strftime(want, sizeof want, fmt, &a);
    ts_case("timestamp_format = %b %d %H:%M:%S\n", val, want);
}

/* rules_ts_text keeps the last text a rule read with what it made: the
 * next record with that text gets the same time, a record of another rule
 * (another zone) or with a longer or shorter text its own. */
static void test_timestamp_same_text_kept(void **state)
{
    (void)state;
    rules *r = load_ok("[rule utc]\ntopics = c\ntimestamp = t\n"
                       "[rule plus2]\ntopics = b\ntimestamp = t\ntimezone = +02:00\n"
                       "[rule clf]\ntopics = a\ntimestamp = t\n"
                       "timestamp_format = %d/%b/%Y:%H:%M:%S %z\n");
    static const struct {
        const char *topic, *t, *want;
    } recs[] = {
        {"c", "2024-01-02T03:04:05", "2024-01-02T03:04:05.000Z"},
        {"c", "2024-01-02T03:04:05", "2024-01-02T03:04:05.000Z"},
        {"b", "2024-01-02T03:04:05", "2024-01-02T01:04:05.000Z"}, /* another rule */
        {"c", "2024-01-02T03:04:05", "2024-01-02T03:04:05.000Z"},
        {"c", "2024-01-02T03:04:05.5", "2024-01-02T03:04:05.500Z"}, /* longer */
        {"c", "2024-01-02T03:04:05", "2024-01-02T03:04:05.000Z"},  /* shorter */
        {"c", "2024-01-02T03:04:06", "2024-01-02T03:04:06.000Z"},
        {"a", "25/Nov/2026:00:00:00 +0100", "2026-11-24T23:00:00.000Z"},
        {"a", "25/Nov/2026:00:00:00 +0100", "2026-11-24T23:00:00.000Z"},
        {"a", "25/Nov/2026:00:00:00 +0200", "2026-11-24T22:00:00.000Z"},
        {"a", "25/Nov/2026:00:00:0x +0200", NULL}, /* not parsed, not kept */
        {"a", "25/Nov/2026:00:00:00 +0200", "2026-11-24T22:00:00.000Z"},
    };
    for (size_t i = 0; i < sizeof recs / sizeof *recs; i++) {
        char in[200], want[300];
        snprintf(in, sizeof in, "{\"t\":\"%s\"}", recs[i].t);
        if (recs[i].want)
            snprintf(want, sizeof want, "{\"t\":\"%s\",\"@timestamp\":\"%s\"}", recs[i].t,
                     recs[i].want);
        else
            snprintf(want, sizeof want, "{\"t\":\"%s\",\"tags\":[\"_timestamp_failure:clf\"]}",
                     recs[i].t);
        rules_result res;
        cJSON *doc = apply(r, recs[i].topic, in, &res);
        expect_doc(doc, want);
        cJSON_Delete(doc);
    }
    rules_free(r);
}

static void test_timestamp_named_zone(void **state)
{
    (void)state;
    const char *z = "timestamp_format = %Y-%m-%d %H:%M:%S\ntimezone = Europe/Paris\n";
    ts_case(z, "\"2026-01-15 12:00:00\"", "2026-01-15T11:00:00.000Z");   /* CET */
    ts_case(z, "\"2026-07-15 12:00:00\"", "2026-07-15T10:00:00.000Z");   /* CEST */
    /* several records in one rules set: the one-hour cache must follow */
    rules *r = load_ok("[rule ts]\ntimestamp = t\ntimestamp_format = ISO8601\n"
                       "timezone = America/New_York\n");
    const char *in[] = {"2026-03-08T01:30:00", "2026-03-08T03:30:00", "2026-03-08T01:59:59",
                        "2026-03-08T01:30:00-05:00"};
    const char *want[] = {"2026-03-08T06:30:00.000Z", "2026-03-08T07:30:00.000Z",
                          "2026-03-08T06:59:59.000Z", "2026-03-08T06:30:00.000Z"};
    for (size_t i = 0; i < 4; i++) {
        char doc[100];
        snprintf(doc, sizeof doc, "{\"t\":\"%s\"}", in[i]);
        rules_result res;
        cJSON *d = apply(r, "x", doc, &res);
        assert_string_equal(cJSON_GetObjectItem(d, "@timestamp")->valuestring, want[i]);
        cJSON_Delete(d);
    }
    rules_free(r);
    /* The hour clocks go back (02:00-03:00 twice in Paris on 2026-10-25) is
     * its first time, CEST, whichever hour was converted before; the hour
     * they go forward (02:00-03:00 skipped on 2026-03-29) is moved an hour
     * later (02:30 CET is 03:30 CEST). Each after a summer and a winter
     * hour, which the zone's one-hour cache then holds. */
    r = load_ok("[rule ts]\ntimestamp = t\ntimestamp_format = ISO8601\ntimezone = Europe/Paris\n");
    static const char *const dst[][2] = {
        {"2026-10-25T01:30:00", "2026-10-24T23:30:00.000Z"},
        {"2026-10-25T02:30:00", "2026-10-25T00:30:00.000Z"},
        {"2026-10-25T03:30:00", "2026-10-25T02:30:00.000Z"},
        {"2026-10-25T02:30:00", "2026-10-25T00:30:00.000Z"},
        {"2026-10-25T02:00:00", "2026-10-25T00:00:00.000Z"},
        {"2026-10-25T02:59:59", "2026-10-25T00:59:59.000Z"},
        {"2026-03-29T01:30:00", "2026-03-29T00:30:00.000Z"},
        {"2026-03-29T02:30:00", "2026-03-29T01:30:00.000Z"},
        {"2026-03-29T03:30:00", "2026-03-29T01:30:00.000Z"},
        {"2026-03-29T02:30:00", "2026-03-29T01:30:00.000Z"},
    };
    cases_in_order(r, "x", "t", dst, sizeof dst / sizeof *dst, false);
    rules_free(r);
    /* the process's TZ is put back */
    const char *tz = getenv("TZ");
    assert_true(tz == NULL || strcmp(tz, "America/New_York") != 0);
}

static void test_timestamp_missing_field(void **state)
{
    (void)state;
    /* nothing to read is not a failure */
    one("[rule ts]\ntimestamp = t\n", "x", "{\"a\":1}", "{\"a\":1}", KEEP, NULL);
}

/* ---- set / rename / remove / convert / tag ------------------------------ */

static void test_set(void **state)
{
    (void)state;
    one("[rule s]\nset.service.name = nginx\nset.label = %{service.name} on %{host} (%{n}, %{b}, "
        "%{o}, %{nope}) 100%\n", "t", "{\"host\":\"web1\",\"n\":1.5,\"b\":false,\"o\":{\"k\":[1]}}",
        "{\"host\":\"web1\",\"n\":1.5,\"b\":false,\"o\":{\"k\":[1]},\"service\":{\"name\":\"nginx\"},"
        "\"label\":\"nginx on web1 (1.5, false, {\\\"k\\\":[1]}, ) 100%\"}", KEEP, NULL);
    /* exactly %{field}: a typed copy, deep; absent: nothing set */
    one("[rule s]\nset.copy = %{o}\nset.num = %{n}\nset.none = %{nope}\n", "t",
        "{\"n\":7,\"o\":{\"a\":[1,{\"b\":null}]}}",
        "{\"n\":7,\"o\":{\"a\":[1,{\"b\":null}]},\"copy\":{\"a\":[1,{\"b\":null}]},\"num\":7}",
        KEEP, NULL);
    /* replaces an existing value, even an object */
    one("[rule s]\nset.a = x\n", "t", "{\"a\":{\"b\":1}}", "{\"a\":\"x\"}", KEEP, NULL);
    /* through a scalar: refused and tagged */
    one("[rule s]\nset.a.b = x\n", "t", "{\"a\":\"s\"}",
        "{\"a\":\"s\",\"tags\":[\"_set_failure:s\"]}", KEEP, NULL);
    /* large integers print as integers */
    one("[rule s]\nset.s = %{n}!\n", "t", "{\"n\":1764087670123}",
        "{\"n\":1764087670123,\"s\":\"1764087670123!\"}", KEEP, NULL);
}

static void test_rename(void **state)
{
    (void)state;
    one("[rule r]\nrename.a.b = c.d.e\n", "t", "{\"a\":{\"b\":[1],\"x\":1}}",
        "{\"a\":{\"x\":1},\"c\":{\"d\":{\"e\":[1]}}}", KEEP, NULL);
    one("[rule r]\nrename.nope = x\n", "t", "{\"a\":1}", "{\"a\":1}", KEEP, NULL);
    /* onto an existing value: replaced */
    one("[rule r]\nrename.a = b\n", "t", "{\"a\":1,\"b\":2}", "{\"b\":1}", KEEP, NULL);
    /* through a scalar: refused, the value stays where it was, tagged */
    one("[rule r]\nrename.a = b.c\n", "t", "{\"a\":1,\"b\":2}",
        "{\"a\":1,\"b\":2,\"tags\":[\"_set_failure:r\"]}", KEEP, NULL);
    /* into itself */
    one("[rule r]\nrename.a = a.inner\n", "t", "{\"a\":\"v\"}", "{\"a\":{\"inner\":\"v\"}}", KEEP,
        NULL);
}

static void test_remove_and_tag(void **state)
{
    (void)state;
    one("[rule r]\nremove = a, b.c, nope, d.e.f\ntag = x, y\ntag = x\n", "t",
        "{\"a\":1,\"b\":{\"c\":2,\"k\":3},\"d\":\"s\"}",
        "{\"b\":{\"k\":3},\"d\":\"s\",\"tags\":[\"x\",\"y\"]}", KEEP, NULL);
}

static void conv(const char *type, const char *in, const char *out)
{
    char text[200], src[200], want[200];
    snprintf(text, sizeof text, "[rule c]\nconvert.v.w = %s\n", type);
    snprintf(src, sizeof src, "{\"v\":{\"w\":%s}}", in);
    if (out)
        snprintf(want, sizeof want, "{\"v\":{\"w\":%s}}", out);
    else
        snprintf(want, sizeof want, "{\"v\":{\"w\":%s},\"tags\":[\"_convert_failure:c\"]}", in);
    one(text, "t", src, want, KEEP, NULL);
}

static void test_convert(void **state)
{
    (void)state;
    conv("int", "\"42\"", "42");
    conv("int", "\" -7 \"", "-7");
    conv("int", "\"3.9\"", "3");
    conv("int", "3.9", "3");
    conv("int", "true", "1");
    conv("int", "\"12x\"", NULL);
    conv("int", "\"\"", NULL);
    conv("int", "{}", NULL);
    conv("int", "null", NULL);
    conv("float", "\"1.5e3\"", "1500");
    conv("float", "\"0.25\"", "0.25");
    conv("float", "2", "2");
    conv("float", "\"nan\"", NULL);
    conv("float", "\"1e999\"", NULL);
    conv("bool", "\"yes\"", "true");
    conv("bool", "\"OFF\"", "false");
    conv("bool", "\"1\"", "true");
    conv("bool", "0", "false");
    conv("bool", "2.5", "true");
    conv("bool", "true", "true");
    conv("bool", "\"maybe\"", NULL);
    conv("bool", "[]", NULL);
    conv("string", "42", "\"42\"");
    conv("string", "0.5", "\"0.5\"");
    conv("string", "false", "\"false\"");
    conv("string", "\"s\"", "\"s\"");
    conv("string", "{\"a\":1}", NULL);
    /* absent: nothing to do, no tag */
    one("[rule c]\nconvert.x = int\n", "t", "{}", "{}", KEEP, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_json_merge),
        cmocka_unit_test(test_parse_json_target_and_field),
        cmocka_unit_test(test_parse_json_failures),
        cmocka_unit_test(test_parse_regex_groups),
        cmocka_unit_test(test_parse_regex_patterns_in_order),
        cmocka_unit_test(test_parse_regex_conflict_and_field),
        cmocka_unit_test(test_parse_regex_match_limit),
        cmocka_unit_test(test_parse_kv),
        cmocka_unit_test(test_timestamp_iso8601),
        cmocka_unit_test(test_timestamp_epoch),
        cmocka_unit_test(test_timestamp_strptime),
        cmocka_unit_test(test_rt_strptime_matches_glibc),
        cmocka_unit_test(test_timestamp_no_year),
        cmocka_unit_test(test_timestamp_same_text_kept),
        cmocka_unit_test(test_timestamp_named_zone),
        cmocka_unit_test(test_timestamp_missing_field),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_rename),
        cmocka_unit_test(test_remove_and_tag),
        cmocka_unit_test(test_convert),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    lf_metrics_reset();
    return rc;
}
