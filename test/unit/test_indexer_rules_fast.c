/* Unit tests: the rules engine's fast paths give what the general paths
 * give, on many inputs (valid, invalid, edge dates, odd shapes):
 *   - rt_parse_clf (nginx/apache "%d/%b/%Y:%H:%M:%S %z") against the
 *     strptime-style parser, through ts_parse with and without it;
 *   - regex groups set through shared parent objects (rregex nodes)
 *     against each group set from the target on its own (rpath_set),
 *     compared as printed JSON (member order included);
 *   - the default index and @timestamp caches of a rules set used for a
 *     run of records against a fresh set per record;
 *   - @timestamp rewritten in place keeps its place among the members;
 *   - rt_format_iso8601 reads back exactly where rt_iso8601_exact says so,
 *     and gives what rt_format_iso8601_day (date kept per day) gives;
 *   - obj_child finds keys that share prefixes. */
#include "test_indexer_rules_util.h"

#include "common/metrics.h"
#include "indexer/rules_internal.h"
#include "indexer/rules_time.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

#define PICK(a) ((a)[rnd() % (sizeof(a) / sizeof((a)[0]))])

/* ---- rt_parse_clf ------------------------------------------------------- */

static int fast_hits;

/* ts_parse of s with the CLF fast path on and off: same answer. */
static void clf_same(const char *s)
{
    char err[128];
    tsformat fast, slow;
    assert_int_equal(tsformat_init(&fast, "%d/%b/%Y:%H:%M:%S %z", err, sizeof err), 0);
    assert_int_equal(tsformat_init(&slow, "%d/%b/%Y:%H:%M:%S %z", err, sizeof err), 0);
    assert_true(fast.clf);
    slow.clf = false;
    rtz z;
    assert_int_equal(rtz_init(&z, "+02:00", err, sizeof err), 0);
    cJSON *v = cJSON_CreateString(s);
    int64_t a = 1, b = 2;
    int ra = ts_parse(&fast, &z, v, 0, &a), rb = ts_parse(&slow, &z, v, 0, &b);
    if (ra != rb || (ra == 0 && a != b))
        fail_msg("\"%s\": fast path rc %d ms %lld, general rc %d ms %lld", s, ra, (long long)a,
                 rb, (long long)b);
    int64_t local;
    int off;
    if (rt_parse_clf(s, &local, &off) == 0) {
        fast_hits++;
        assert_int_equal(rb, 0); /* what the fast path takes, the general takes */
    }
    cJSON_Delete(v);
    tsformat_free(&fast);
    tsformat_free(&slow);
    rtz_free(&z);
}

static void test_clf_matches_general(void **state)
{
    (void)state;
    static const char *const days[] = {"00", "01", "09", "10", "28", "29", "30", "31", "32",
                                       "99", " 5", "5/", "1"};
    static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
                                       "Aug", "Sep", "Oct", "Nov", "Dec", "nov", "NOV",
                                       "nOv", "Foo", "November", "Ma", "Sept"};
    static const char *const years[] = {"0000", "0001", "1900", "1969", "1970", "2000",
                                        "2023", "2024", "2100", "2400", "9999", "202",
                                        "20266", "-202"};
    static const char *const hours[] = {"00", "09", "12", "23", "24", "99", "7", " 7"};
    static const char *const mins[] = {"00", "30", "59", "60", "5"};
    static const char *const secs[] = {"00", "10", "59", "60", "61", "62", "5"};
    static const char *const seps[] = {" ", " ", " ", "", "  ", "\t", "\n"};
    static const char *const offs[] = {
        "+0000", "-0000", "+0100", "-0100", "+0530", "-0530", "+0545", "-1200", "+1200",
        "+1400", "-2359", "+2359", "+2400", "-2400", "+0060", "+0099", "+01:00", "-05:30",
        "Z",     "+01",   "+1",    "0100",  "+01000", "+0100 ", "+0100\t", "+0100x", "",
        "UTC",   "+ 100", "+01a0"};
    int n = 0;
    /* every field value with the others fixed at a plain value */
    char s[128];
    for (size_t i = 0; i < sizeof days / sizeof *days; i++, n++) {
        snprintf(s, sizeof s, "%s/Nov/2026:16:21:10 +0100", days[i]);
        clf_same(s);
    }
    for (size_t i = 0; i < sizeof mons / sizeof *mons; i++, n++) {
        snprintf(s, sizeof s, "25/%s/2026:16:21:10 +0100", mons[i]);
        clf_same(s);
    }
    for (size_t i = 0; i < sizeof offs / sizeof *offs; i++, n++) {
        snprintf(s, sizeof s, "25/Nov/2026:16:21:10 %s", offs[i]);
        clf_same(s);
    }
    /* leap days and month ends, in leap and other years, at the day's
     * edges and across the offset's date line */
    static const char *const edge[] = {
        "29/Feb/2024:00:00:00 +0000", "29/Feb/2023:12:00:00 +0000", "29/Feb/2100:12:00:00 -0000",
        "29/Feb/2000:23:59:59 -1200", "30/Feb/2024:00:00:00 +0000", "31/Feb/2024:00:00:00 +1400",
        "31/Apr/2026:10:00:00 +0530", "31/Dec/2026:23:59:60 -1200", "01/Jan/1970:00:00:00 +0000",
        "01/Jan/1970:00:00:00 +0001", "31/Dec/1969:23:59:59 -0000", "01/Jan/0000:00:00:00 +2359",
        "31/Dec/9999:23:59:61 -2359", "01/Mar/2024:00:00:00 +0100", "28/Feb/1900:23:59:59 +0000",
    };
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++, n++)
        clf_same(edge[i]);
    /* random combinations of good and bad fields */
    for (int i = 0; i < 20000; i++, n++) {
        snprintf(s, sizeof s, "%s/%s/%s:%s:%s:%s%s%s", PICK(days), PICK(mons), PICK(years),
                 PICK(hours), PICK(mins), PICK(secs), PICK(seps), PICK(offs));
        clf_same(s);
    }
    /* every prefix, and single-byte changes, of good ones */
    const char *good = "07/Aug/2026:03:04:05 -0930";
    for (size_t len = 0; len <= strlen(good); len++, n++) {
        snprintf(s, sizeof s, "%.*s", (int)len, good);
        clf_same(s);
    }
    static const char junk[] = "0123456789/:+- \tZzAaNnOoVv\x01\xff";
    for (int i = 0; i < 5000; i++, n++) {
        snprintf(s, sizeof s, "%02u/%s/%04u:%02u:%02u:%02u %c%02u%02u", rnd() % 32 + 1,
                 PICK(mons), rnd() % 10000, rnd() % 25, rnd() % 61, rnd() % 62,
                 rnd() % 2 ? '+' : '-', rnd() % 25, rnd() % 61);
        if (rnd() % 2)
            s[rnd() % strlen(s)] = junk[rnd() % (sizeof junk - 1)];
        clf_same(s);
    }
    /* the fast path is taken for most well-formed values (not vacuous) */
    if (fast_hits < 1000)
        fail_msg("fast path taken %d times only", fast_hits);
    print_message("fast path taken %d of %d\n", fast_hits, n);
    assert_true(n > 25000);
    /* and gives the documented answers */
    int64_t local;
    int off;
    assert_int_equal(rt_parse_clf("25/Nov/2026:16:21:10 +0100", &local, &off), 0);
    assert_int_equal(off, 3600);
    assert_int_equal(local - off * 1000LL, 1795620070000LL); /* 2026-11-25T15:21:10Z */
    assert_int_equal(rt_parse_clf("29/Feb/2024:00:00:00 -1200", &local, &off), 0);
    assert_int_equal(off, -43200);
    assert_int_equal(local, 1709164800000LL);
    for (int m = 0; m < 12; m++) { /* every month is taken by the fast path */
        snprintf(s, sizeof s, "01/%s/2026:00:00:00 +0000", mons[m]);
        assert_int_equal(rt_parse_clf(s, &local, &off), 0);
        assert_int_equal(local, rt_days_from_civil(2026, (unsigned)m + 1, 1) * 86400000);
    }
    assert_int_equal(rt_parse_clf("25/nov/2026:16:21:10 +0100", &local, &off), 1);
    assert_int_equal(rt_parse_clf("25/Nov/2026:16:21:10 +01:00", &local, &off), 1);
}

/* ---- regex groups through shared parents -------------------------------- */

static char *applied(rparse *p, const char *doc_json, const rmatch *m, int *rc)
{
    cJSON *doc = cJSON_Parse(doc_json);
    assert_non_null(doc);
    *rc = rparse_apply(p, doc, m);
    char *out = cJSON_PrintUnformatted(doc);
    assert_non_null(out);
    cJSON_Delete(doc);
    return out;
}

static void test_regex_nodes_match_plain(void **state)
{
    (void)state;
    static const struct { const char *re; bool by_node; } pats[] = {
        {"^(?<source__address>\\S+) \\S+ (?:-|(?<user__name>\\S+)) \\[(?<access_time>[^\\]]+)\\]"
         " \"(?:(?<http__request__method>[A-Z]+) (?<url__original>\\S+) HTTP/(?<http__version>"
         "[0-9.]+)|(?<http__request__line>[^\"]*))\" (?<http__response__status_code>\\d{3})"
         " (?:-|(?<http__response__body__bytes>\\d+))(?: \"(?:-|(?<http__request__referrer>"
         "[^\"]*))\" \"(?:-|(?<user_agent__original>[^\"]*))\")?", true},
        {"^(?<a__b>\\S+) (?<a__c__d>\\S+) (?<a__c__e>\\S+)(?: (?<x>\\S+))?$", true},
        {"^(?<a__c__d>\\S+) (?<message>\\S+) (?<a__b>\\S+)(?: (?<a__c__e__f>\\S+))?$", true},
        {"^(?<a>\\S+) (?<a__b>\\S+)", false},
        {"^(?<a__b>\\S+) (?<a>\\S+)", false},
        {"^(?<a__c__d>\\S+) (?<a__c>\\S+)", false},
        {"(?J)^(?:(?<a__b>x+)|(?<a__b>y+)) (?<a__c>\\S+)", true},
        {"^(?<x>\\S+)(?: (?<y>\\S+))?", true},
    };
    static const char *const msgs[] = {
        "203.0.113.7 - alice [25/Nov/2026:16:21:10 +0100] \"GET /a?b=1 HTTP/1.1\" 200 612 "
        "\"-\" \"curl/8.4.0\"",
        "203.0.113.7 - - [25/Nov/2026:16:21:10 +0100] \"\\x16\\x03\" 400 - \"r\" \"-\"",
        "1 2 3", "1 2 3 4", "xx 2", "yy 3", "x", "",
    };
    static const char *const rests[] = {
        "",
        ",\"a\":\"scalar\"",
        ",\"a\":{\"c\":5}",
        ",\"a\":{\"b\":\"old\",\"z\":1},\"x\":\"keep\"",
        ",\"a\":{\"c\":{\"e\":[1],\"d\":null}},\"http\":{\"version\":\"0.9\",\"response\":7}",
        ",\"source\":{\"address\":{\"ip\":1}},\"user\":{},\"url\":[1]",
        ",\"message\":{\"dup\":1}",
    };
    static const char *const targets[] = {NULL, "t", "a.c", "message.sub"};
    char err[256];
    int compared = 0, differing_docs = 0;
    for (size_t pi = 0; pi < sizeof pats / sizeof *pats; pi++) {
        uint32_t pairs = 0;
        rregex rx;
        if (rregex_init(&rx, pats[pi].re, &pairs, err, sizeof err) != 0)
            fail_msg("pattern %zu: %s", pi, err);
        if (rx.by_node != pats[pi].by_node)
            fail_msg("pattern %zu: by_node %d, want %d", pi, rx.by_node, pats[pi].by_node);
        rmatch m = {pcre2_match_data_create(pairs, NULL), pcre2_match_context_create(NULL)};
        assert_non_null(m.md);
        for (size_t ti = 0; ti < sizeof targets / sizeof *targets; ti++) {
            rparse p;
            memset(&p, 0, sizeof p);
            p.kind = PARSE_REGEX;
            assert_int_equal(rpath_init(&p.field, "message", err, sizeof err), 0);
            if (targets[ti]) {
                p.has_target = true;
                assert_int_equal(rpath_init(&p.target, targets[ti], err, sizeof err), 0);
            }
            p.re = &rx;
            p.nre = 1;
            for (size_t mi = 0; mi < sizeof msgs / sizeof *msgs; mi++) {
                for (size_t ri = 0; ri < sizeof rests / sizeof *rests; ri++) {
                    cJSON *msg = cJSON_CreateString(msgs[mi]);
                    char *mj = cJSON_PrintUnformatted(msg);
                    cJSON_Delete(msg);
                    char doc[2048];
                    snprintf(doc, sizeof doc, "{\"k\":0,\"message\":%s%s}", mj, rests[ri]);
                    free(mj);
                    bool by_node = rx.by_node;
                    int rc1, rc2;
                    char *out1 = applied(&p, doc, &m, &rc1);
                    rx.by_node = false;
                    char *out2 = applied(&p, doc, &m, &rc2);
                    rx.by_node = by_node;
                    if (rc1 != rc2 || strcmp(out1, out2) != 0)
                        fail_msg("pattern %zu target %s on %s:\n  nodes rc %d %s\n  plain rc %d "
                                 "%s", pi, targets[ti] ? targets[ti] : "-", doc, rc1, out1, rc2,
                                 out2);
                    compared++;
                    differing_docs += strcmp(out1, doc) != 0;
                    free(out1);
                    free(out2);
                }
            }
            p.re = NULL;
            p.nre = 0;
            rparse_free(&p);
        }
        pcre2_match_data_free(m.md);
        pcre2_match_context_free(m.ctx);
        rregex_free(&rx);
    }
    assert_true(compared > 1500);
    assert_true(differing_docs > 500); /* most runs did set something */
}

/* ---- caches across records ---------------------------------------------- */

static const char CACHE_RULES[] =
    "[rule web]\n"
    "topics = web*, Web*\n"
    "timestamp = t\n"
    "timestamp_format = %d/%b/%Y:%H:%M:%S %z\n"
    "timestamp_format = ISO8601\n"
    "[rule idx]\n"
    "topics = custom\n"
    "index = x-%Y.%m.%d\n";

/* One rules set applied to a run of records (its caches warm) gives, record
 * by record, what a fresh set gives. */
static void test_caches_match_fresh(void **state)
{
    (void)state;
    static const char *const topics[] = {"web", "web", "web-2", "Web App", "other", "-x",
                                         "custom", "", "webÿ"};
    static const char *const tss[] = {
        "", ",\"@timestamp\":\"2026-11-25T16:21:10.000Z\"",
        ",\"@timestamp\":\"2026-11-25T16:21:10.000Z\"", ",\"@timestamp\":\"2026-11-26T00:00:00.000Z\"",
        ",\"@timestamp\":\"2026-11-25T23:59:59.999+01:00\"", ",\"@timestamp\":5",
        ",\"@timestamp\":\"2026-11-25T16:21:10.000\"", ",\"@timestamp\":\"1969-12-31T23:59:59Z\"",
    };
    static const char *const ts[] = {
        "", ",\"t\":\"25/Nov/2026:16:21:10 +0100\"", ",\"t\":\"25/Nov/2026:16:21:10 +0100\"",
        ",\"t\":\"26/Nov/2026:00:30:00 +0100\"", ",\"t\":\"25/nov/2026:16:21:10 +01:00\"",
        ",\"t\":\"2026-11-24T10:00:00Z\"", ",\"t\":\"bad\"", ",\"t\":\"31/Dec/9999:23:30:00 -0100\"",
        ",\"t\":\"01/Jan/0000:00:30:00 +0100\"", ",\"t\":\"29/Feb/2024:00:00:00 -1200\"",
    };
    char err[256];
    rules *shared = NULL;
    assert_int_equal(rules_load_string(&shared, "c.ini", CACHE_RULES, err, sizeof err), 0);
    char longtopic[300];
    memset(longtopic, 'w', sizeof longtopic - 1);
    longtopic[sizeof longtopic - 1] = '\0';
    int64_t day0 = rt_now_ms() / 86400000;
    for (int i = 0; i < 3000; i++) {
        const char *topic = rnd() % 50 ? PICK(topics) : longtopic;
        char doc[512];
        snprintf(doc, sizeof doc, "{\"message\":\"m\"%s,\"n\":%d%s}", PICK(tss), i, PICK(ts));
        rules *fresh = NULL;
        assert_int_equal(rules_load_string(&fresh, "c.ini", CACHE_RULES, err, sizeof err), 0);
        rules_result r1, r2;
        cJSON *d1 = apply(shared, topic, doc, &r1);
        cJSON *d2 = apply(fresh, topic, doc, &r2);
        char *o1 = cJSON_PrintUnformatted(d1), *o2 = cJSON_PrintUnformatted(d2);
        /* (a record without a time that parses goes to today's index: a
         * difference is only allowed if the day changed meanwhile) */
        if ((r1.verdict != r2.verdict || strcmp(r1.index, r2.index) ||
             strcmp(r1.reason, r2.reason) || strcmp(o1, o2)) &&
            rt_now_ms() / 86400000 == day0)
            fail_msg("record %d topic \"%.20s\" %s:\n  shared %d %s %s %s\n  fresh  %d %s %s %s",
                     i, topic, doc, r1.verdict, r1.index, r1.reason, o1, r2.verdict, r2.index,
                     r2.reason, o2);
        /* and the default index is the one of the resulting @timestamp, read
         * by a set that has seen nothing (no rules, cold caches) */
        if (strcmp(topic, "custom") != 0) {
            rules *none = NULL;
            assert_int_equal(rules_load_string(&none, "n.ini", "", err, sizeof err), 0);
            rules_result r3;
            cJSON *d3 = apply(none, topic, o1, &r3);
            if ((r3.verdict != r1.verdict || strcmp(r3.index, r1.index)) &&
                rt_now_ms() / 86400000 == day0)
                fail_msg("record %d topic \"%.20s\" %s: index %d %s, from the result %d %s", i,
                         topic, doc, r1.verdict, r1.index, r3.verdict, r3.index);
            cJSON_Delete(d3);
            rules_free(none);
        }
        free(o1);
        free(o2);
        cJSON_Delete(d1);
        cJSON_Delete(d2);
        rules_free(fresh);
    }
    rules_free(shared);
}

/* The new @timestamp takes the old one's place, whatever its length or
 * type, and is added last when there was none. */
static void test_timestamp_keeps_place(void **state)
{
    (void)state;
    static const struct { const char *in, *out; } cases[] = {
        {"{\"a\":1,\"@timestamp\":\"2000-01-01T00:00:00.000Z\",\"t\":\"2026-11-25T16:21:10Z\"}",
         "{\"a\":1,\"@timestamp\":\"2026-11-25T16:21:10.000Z\",\"t\":\"2026-11-25T16:21:10Z\"}"},
        {"{\"a\":1,\"@timestamp\":\"short\",\"t\":\"2026-11-25T16:21:10Z\"}",
         "{\"a\":1,\"@timestamp\":\"2026-11-25T16:21:10.000Z\",\"t\":\"2026-11-25T16:21:10Z\"}"},
        {"{\"a\":1,\"@timestamp\":\"2000-01-01T00:00:00.000Z and more\",\"t\":\"2026-11-25\"}",
         "{\"a\":1,\"@timestamp\":\"2026-11-25T00:00:00.000Z\",\"t\":\"2026-11-25\"}"},
        {"{\"@timestamp\":7,\"t\":\"2026-11-25T16:21:10Z\"}",
         "{\"@timestamp\":\"2026-11-25T16:21:10.000Z\",\"t\":\"2026-11-25T16:21:10Z\"}"},
        {"{\"@timestamp\":{\"x\":\"2000-01-01T00:00:00.000Z\"},\"t\":\"2026-11-25T16:21:10Z\"}",
         "{\"@timestamp\":\"2026-11-25T16:21:10.000Z\",\"t\":\"2026-11-25T16:21:10Z\"}"},
        {"{\"t\":\"2026-11-25T16:21:10Z\",\"z\":0}",
         "{\"t\":\"2026-11-25T16:21:10Z\",\"z\":0,\"@timestamp\":\"2026-11-25T16:21:10.000Z\"}"},
        {"{\"@timestamp\":\"2000-01-01T00:00:00.000Z\"}",
         "{\"@timestamp\":\"2000-01-01T00:00:00.000Z\"}"}, /* no t: untouched */
        {"{\"@timestamp\":\"2000-01-01T00:00:00.000Z\",\"t\":\"25/Nov/2026\"}",
         "{\"@timestamp\":\"2000-01-01T00:00:00.000Z\",\"t\":\"25/Nov/2026\","
         "\"tags\":[\"_timestamp_failure:r\"]}"},
    };
    rules *r = load_ok("[rule r]\ntimestamp = t\n");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rules_result res;
        cJSON *doc = apply(r, "x", cases[i].in, &res);
        char *out = cJSON_PrintUnformatted(doc);
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("%s\n  got  %s\n  want %s", cases[i].in, out, cases[i].out);
        assert_string_equal(res.index, i == 6 || i == 7 ? "logs-x-2000.01.01" : "logs-x-2026.11.25");
        free(out);
        cJSON_Delete(doc);
    }
    rules_free(r);
}

/* ---- small pieces ------------------------------------------------------- */

static void test_iso8601_exact_round_trip(void **state)
{
    (void)state;
    const int64_t y0 = -719528LL * 86400000, y10k = 2932897LL * 86400000;
    int64_t edges[] = {y0 - 1, y0, y0 + 1, y10k - 1, y10k, y10k + 1, -1, 0, 1, 951782400000LL,
                       -62167219200001LL, INT64_C(253402300799999), -30610224000000LL};
    for (int i = 0; i < 200000; i++) {
        int64_t ms = i < (int)(sizeof edges / sizeof *edges)
                         ? edges[i]
                         : (int64_t)(((uint64_t)rnd() << 32 | rnd()) % 600000000000000ULL) -
                               300000000000000LL;
        char buf[40];
        size_t len = rt_format_iso8601(ms, buf, sizeof buf);
        assert_int_equal(len, strlen(buf));
        int64_t back = 0;
        int rc = rt_parse_iso8601(buf, 0, &back);
        if (rt_iso8601_exact(ms) ? rc != 0 || back != ms || len != 24 : rc == 0)
            fail_msg("%lld: \"%s\" rc %d back %lld exact %d", (long long)ms, buf, rc,
                     (long long)back, rt_iso8601_exact(ms));
    }
}

/* The date kept between calls gives the text rt_format_iso8601 gives:
 * runs within a day, across midnight, jumps back and forth, years outside
 * 0..9999, buffers too small for the fast path. */
static void test_format_day_cache(void **state)
{
    (void)state;
    rt_daytext c;
    memset(&c, 0, sizeof c);
    const int64_t y0 = -719528LL * 86400000, y10k = 2932897LL * 86400000;
    const int64_t starts[] = {0, -1, 1795564800000LL - 5000, 951782400000LL - 1, y0 - 3, y10k - 3,
                              -86400000, 86400000 - 2};
    int64_t ms = 0;
    for (int i = 0; i < 300000; i++) {
        if (i % 1000 < (int)(sizeof starts / sizeof *starts))
            ms = starts[i % 1000];
        else if (rnd() % 100 == 0)
            ms = (int64_t)(((uint64_t)rnd() << 32 | rnd()) % 600000000000000ULL) - 300000000000000LL;
        else
            ms += (int64_t)(rnd() % 4000) - 1000; /* mostly forward, sometimes back */
        char want[40], got[40];
        size_t wl = rt_format_iso8601(ms, want, sizeof want);
        size_t len = rnd() % 50 ? sizeof got : 24; /* too small: the general path */
        size_t gl = rt_format_iso8601_day(ms, &c, got, len);
        if (len == sizeof got ? gl != wl || strcmp(got, want) != 0
                              : gl != strlen(got) || strncmp(got, want, 23) != 0)
            fail_msg("%lld: \"%s\" (%zu), want \"%s\" (%zu)", (long long)ms, got, gl, want, wl);
    }
}

static void test_obj_child_prefixes(void **state)
{
    (void)state;
    cJSON *o = cJSON_Parse("{\"user\":1,\"user_agent\":2,\"u\":3,\"\":4,\"url\":5,\"us\":6,"
                           "\"usera\":7,\"@timestamp\":8}");
    assert_non_null(o);
    static const struct { const char *key; int want; } cases[] = {
        {"user", 1}, {"user_agent", 2}, {"u", 3}, {"", 4}, {"url", 5}, {"us", 6},
        {"usera", 7}, {"@timestamp", 8}, {"use", 0}, {"user_agen", 0}, {"user_agent_", 0},
        {"users", 0}, {"x", 0}, {"@", 0}, {"U", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const cJSON *c = obj_child(o, cases[i].key);
        if (cases[i].want == 0)
            assert_null(c);
        else if (!c || c->valueint != cases[i].want)
            fail_msg("obj_child \"%s\": %d, want %d", cases[i].key, c ? c->valueint : -1,
                     cases[i].want);
    }
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clf_matches_general),
        cmocka_unit_test(test_regex_nodes_match_plain),
        cmocka_unit_test(test_caches_match_fresh),
        cmocka_unit_test(test_timestamp_keeps_place),
        cmocka_unit_test(test_iso8601_exact_round_trip),
        cmocka_unit_test(test_format_day_cache),
        cmocka_unit_test(test_obj_child_prefixes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    lf_metrics_reset();
    return rc;
}
