/* rec_pass (a record sent as written) against rec_decode + jprint (the
 * tree's way): on generated records, the same records pass, and for those
 * the document is the same JSON (parsed and printed back, byte for byte),
 * with the same _id, flags and @timestamp. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "indexer/jparse.h"
#include "indexer/jprint.h"
#include "indexer/record.h"
#include "test_rng.h"


static char long_id[700];

/* Members that matter to the indexer (its @timestamp and event.id, spelled
 * every way a producer may), and others it must carry unchanged. */
static const char *member(void)
{
    static const char *const m[] = {
        "\"@timestamp\":\"2026-01-02T03:04:05Z\"",
        "\"@timestamp\":\"2026-01-02T03:04:05.5+02:00\"",
        "\"@timestamp\":1700000000",
        "\"@timestamp\":{\"a\":1}",
        "\"@timestamp\":\"not a date\"",
        "\"@timestamp\":\"2026-01-02T03:04:05.123456789012345678901234567890Z\"", /* long */
        "\"@timestamp\":\"2026-01-02T03:04:05\\u002e5Z\"",
        "\"\\u0040timestamp\":\"2026-05-05T00:00:00Z\"",   /* escaped key: still @timestamp */
        "\"@timestamp\\u0000x\":\"2026-06-06T00:00:00Z\"", /* the tree's key ends at the NUL */
        "\"@timestampx\":\"2026-07-07T00:00:00Z\"",
        "\"event\":{\"id\":\"abc-1\"}",
        "\"event\":{\"id\":\"\"}",
        "\"event\":{\"id\":7}",
        "\"event\":{\"kind\":\"x\",\"id\":\"second-member\"}",
        "\"event\":\"not an object\"",
        "\"event\":{\"i\\u0064\":\"escaped-inner-key\"}",
        "\"event\":{\"id\":\"q\\\"uote \\u00e9 \\/ \\ud83d\\ude00\"}",
        "\"eve\\u006et\":{\"id\":\"escaped-key\"}",
        "\"event\" : { \"id\" : \"spaced\" }",
        NULL, /* long_id */
        "\"message\":\"GET \\\"/x\\\" caf\xc3\xa9 \\u0000 end \\t\"",
        "\"n\":[1.0,1e2,-0,12345678901234567890,1e400,0.1,-1.5E-3]",
        "\"nested\":{\"a\":{\"b\":[true,false,null,{},[]]}}",
        "\"tags\":[\"x\"]",
        "\"log\":{\"offset\":5,\"file\":{\"path\":\"/var/log/a.log\"}}",
        "\"\":\"\"",
    };
    unsigned i = below(sizeof m / sizeof *m);
    return m[i] ? m[i] : long_id;
}

static const char *ws(void)
{
    static const char *const w[] = {"", "", "", "", " ", "\t", "  \t", "\n", "\r\n"};
    unsigned i = below(sizeof w / sizeof *w);
    /* line breaks rarely: a record on several lines takes the tree's way */
    return i >= 7 && below(4) ? "" : w[i];
}

static void gen(strbuf *sb)
{
    sb_reset(sb);
    switch (below(20)) {
    case 0: sb_puts(sb, below(2) ? "[1,{\"a\":2}]" : "\"just a string\""); return;
    case 1: sb_puts(sb, "plain text, not JSON"); return;
    default: break;
    }
    sb_puts(sb, ws());
    sb_putc(sb, '{');
    for (unsigned n = below(7), i = 0; i < n; i++) {
        if (i)
            sb_putc(sb, ',');
        sb_puts(sb, ws());
        sb_puts(sb, member());
        sb_puts(sb, ws());
    }
    sb_putc(sb, '}');
    sb_puts(sb, ws());
    if (!below(12) && sb->len > 2)
        sb->len -= 1 + below(2); /* cut: not JSON any more */
    sb->buf[sb->len] = '\0';
}

static char *print(const cJSON *c)
{
    strbuf sb = STRBUF_INIT;
    if (c)
        jprint(&sb, c);
    else
        sb_puts(&sb, "(none)");
    return sb.buf; /* caller frees */
}

static struct {
    size_t passed, declined;
} st;

static void one(const char *val, size_t len, rec_format fmt, const rec_header *h, size_t nh,
                int64_t ts_ms)
{
    rec_in in = {.topic = "app", .partition = 3, .offset = 42, .value = val, .len = len,
                 .hdrs = h, .nhdrs = nh, .ts_ms = ts_ms};
    char id1[REC_ID_MAX + 1], id2[REC_ID_MAX + 1], err[128];
    unsigned f1, f2;
    cJSON *slow = NULL, *tsdoc = NULL;
    assert_int_equal(rec_decode(&in, fmt, &slow, id1, &f1, err, sizeof err), 0);
    strbuf out = STRBUF_INIT;
    const char *doc = NULL;
    size_t dlen = 0;
    int r = rec_pass(&in, fmt, &out, &doc, &dlen, &tsdoc, id2, &f2);
    /* line breaks around the object are whitespace to trim, inside it
     * they would split the NDJSON line */
    size_t b0 = 0, b1 = len;
    while (val && b0 < len && strchr(" \t\r\n", val[b0]) && val[b0])
        b0++;
    while (val && b1 > b0 && strchr(" \t\r\n", val[b1 - 1]) && val[b1 - 1])
        b1--;
    bool passable = val && !rec_is_raw(&in, fmt) && !(f1 & REC_F_NOT_JSON) &&
                    !memchr(val + b0, '\n', b1 - b0) && !memchr(val + b0, '\r', b1 - b0);
    if (r != (passable ? 1 : 0))
        fprintf(stderr, "# rec_pass returned %d for [%.*s] (fmt %d)\n", r, (int)len, val ? val : "",
                (int)fmt);
    assert_int_equal(r, passable ? 1 : 0);
    if (r == 1) {
        st.passed++;
        /* the value's own bytes, or its copy with @timestamp added */
        assert_true((doc >= val && doc + dlen <= val + len) || (doc == out.buf && dlen == out.len));
        assert_null(memchr(doc, '\n', dlen)); /* one NDJSON line */
        cJSON *fast = NULL;
        assert_int_equal(jparse(doc, dlen, &fast, err, sizeof err), 0);
        char *a = print(slow), *b = print(fast);
        if (strcmp(a, b))
            fprintf(stderr, "# tree: %s\n# sent: %s\n# from: %.*s\n", a, b, (int)len, val);
        assert_string_equal(a, b);
        free(a);
        free(b);
        assert_string_equal(id1, id2);
        assert_int_equal(f1, f2);
        /* what names the index: the document's @timestamp member */
        a = print(cJSON_GetObjectItemCaseSensitive(slow, "@timestamp"));
        b = print(cJSON_GetObjectItemCaseSensitive(tsdoc, "@timestamp"));
        assert_string_equal(a, b);
        free(a);
        free(b);
        cJSON_Delete(fast);
    } else {
        st.declined++;
        assert_int_equal(out.len, 0);
    }
    cJSON_Delete(tsdoc);
    cJSON_Delete(slow);
    sb_free(&out);
}

static void same_as_the_tree(void **state)
{
    rng_seed(0x2545F4914F6CDD1DULL);
    memcpy(long_id, "\"event\":{\"id\":\"", 15);
    memset(long_id + 15, 'x', 600);
    memcpy(long_id + 615, "\"}", 3);
    static const rec_header raw_h[] = {{REC_HDR_EVENT_ID, "e-1", 3}, {REC_HDR_HOST, "h", 1}};
    static const rec_header other_h[] = {{"trace", "t", 1}};
    strbuf sb = STRBUF_INIT;
    for (int i = 0; i < 20000; i++) {
        gen(&sb);
        rec_format fmt = below(4) ? REC_FMT_AUTO : below(2) ? REC_FMT_JSON : REC_FMT_RAW;
        unsigned hk = below(6);
        const rec_header *h = hk == 0 ? raw_h : hk == 1 ? other_h : NULL;
        size_t nh = hk == 0 ? 2 : hk == 1 ? 1 : 0;
        one(sb.buf, sb.len, fmt, h, nh, below(5) ? 1700000000123 : -1);
    }
    one(NULL, 0, REC_FMT_AUTO, NULL, 0, 1700000000123); /* a tombstone takes the tree's way */
    fprintf(stderr, "# %zu sent as written, %zu the tree's way\n", st.passed, st.declined);
    assert_true(st.passed > 8000 && st.declined > 4000);
    sb_free(&sb);
}

/* The bytes themselves: spelling kept, @timestamp appended last. */
static void spelling_kept(void **state)
{
    const char *v = " {\"n\":1.0,\"big\":12345678901234567890,\"s\":\"\\u00e9\\/\"} ";
    rec_in in = {.topic = "t", .value = v, .len = strlen(v), .ts_ms = 1700000000123};
    strbuf out = STRBUF_INIT;
    char id[REC_ID_MAX + 1];
    unsigned fl;
    cJSON *ts;
    const char *doc;
    size_t dlen;
    assert_int_equal(rec_pass(&in, REC_FMT_AUTO, &out, &doc, &dlen, &ts, id, &fl), 1);
    assert_true(doc == out.buf && dlen == out.len);
    assert_string_equal(out.buf, "{\"n\":1.0,\"big\":12345678901234567890,\"s\":\"\\u00e9\\/\","
                                 "\"@timestamp\":\"2023-11-14T22:13:20.123Z\"}");
    assert_string_equal(id, "t-0-0");
    assert_int_equal(fl, REC_F_FALLBACK_ID);
    cJSON_Delete(ts);
    sb_reset(&out);
    in.value = "{ }";
    in.len = 3;
    assert_int_equal(rec_pass(&in, REC_FMT_JSON, &out, &doc, &dlen, &ts, id, &fl), 1);
    assert_string_equal(out.buf, "{ \"@timestamp\":\"2023-11-14T22:13:20.123Z\"}");
    cJSON_Delete(ts);
    /* with a @timestamp: the value itself, not a copy, whitespace left out */
    sb_reset(&out);
    in.value = " {\"@timestamp\":\"2026-01-02T03:04:05Z\"}\n";
    in.len = strlen(in.value);
    assert_int_equal(rec_pass(&in, REC_FMT_JSON, &out, &doc, &dlen, &ts, id, &fl), 1);
    assert_ptr_equal(doc, in.value + 1);
    assert_int_equal(dlen, in.len - 2);
    assert_int_equal(out.len, 0);
    cJSON_Delete(ts);
    sb_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_as_the_tree),
        cmocka_unit_test(spelling_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
