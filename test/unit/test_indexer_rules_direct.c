/* Rules run without a tree (rules_direct.c, record_direct.c) against the
 * same rules on the tree (rules_direct_enable(false)): for every record,
 * rec_document must give the same bytes, verdict, index, reason, rule,
 * _id and flags, whichever way each record went. Records are generated
 * access-log lines in every shape the shipped regex knows (optional groups
 * unset, escapes, non-ASCII, a \u0000), inside envelopes whose members
 * meet the rules' fields in every type; rules use every action a plan
 * follows, and some it does not. */
#include "test_indexer_rules_util.h"

#include "common/strbuf.h"
#include "indexer/jarena.h"
#include "indexer/record_doc.h"
#include "indexer/record.h"
#include "test_rng.h"

#define PICK(a) (a)[below(sizeof(a) / sizeof *(a))]

/* Plans of every shape the direct way follows, and a few it declines. */
static const char extra_rules[] =
    "[rule d1]\n"
    "topics = t-d1\n"
    "parse = regex\n"
    "pattern = (?J)^(?<w__a>[a-z]+) (?<n>-?\\d+(?:\\.\\d+)?) (?<b>\\S+)(?: (?<w__c>\\S+))?$\n"
    "pattern = (?J)^(?<w>[a-z]+)-(?<n>\\S+)(?: (?<n>\\d+))?$\n"
    "pattern = ^(?<t>\\d{10}) (?<u>.*)$\n"
    "convert.n = float\n"
    "convert.b = bool\n"
    "convert.w.c = string\n"
    "convert.t = int\n"
    "timestamp = t\n"
    "timestamp_format = UNIX\n"
    "remove = w\n"
    "[rule d1-index]\n"
    "topics = t-d1\n"
    "index = d1-%Y.%m\n"
    "stop = true\n"
    "[rule d1-never]\n"
    "topics = t-d1\n"
    "set.never = 1\n"
    "[rule d2]\n"
    "topics = t-d2\n"
    "index = Bad-Index-%Y\n"
    "[rule d3]\n" /* a condition on @timestamp: the tree's way */
    "topics = t-d3\n"
    "if = exists @timestamp\n"
    "parse = regex\n"
    "pattern = ^(?<x>\\S+)\n"
    "[rule d5]\n"
    "topics = t-d5\n"
    "if = exists message and not (message == \"skip\")\n"
    "parse = regex\n"
    "pattern = ^(?<w__a>[a-z]+) (?<n>-?\\d+)(?: (?<lvl>\\S+))?\n"
    "convert.n = int\n"
    "tag = parsed, p2\n"
    "[rule d5-drop]\n"
    "topics = t-d5\n"
    "if = n > 900 or lvl == \"drop\" or w.a =~ /^zz/\n"
    "drop = true\n"
    "[rule d5-tag]\n"
    "topics = t-d5\n"
    "if = host.name == \"h1\" or process.pid >= 12 or log.offset == 7 or w == \"x\"\n"
    "tag = host1, parsed\n"
    "index = d5-%Y\n"
    "[rule d5-stop]\n"
    "topics = t-d5\n"
    "if = lvl == \"stop\" or exists gone\n"
    "stop = true\n"
    "[rule d5-str]\n" /* a number back to text: the tree's way (its string once leaked) */
    "topics = t-d5\n"
    "if = lvl == \"str\"\n"
    "convert.n = string\n"
    "[rule d5-after]\n"
    "topics = t-d5\n"
    "tag = after\n"
    "[rule d6]\n" /* a field whose object another pattern's field removed */
    "topics = t-d6\n"
    "parse = regex\n"
    "pattern = ^A (?<a__b>\\S+)$\n"
    "pattern = ^B (?<a>\\S+)$\n"
    "remove = a\n"
    "timestamp = a.b\n"
    "timestamp_format = UNIX\n"
    "convert.a.b = int\n"
    "[rule d7-early]\n" /* a tag before the parse: an entry in some records only */
    "topics = t-d7\n"
    "if = message =~ /^[a-m]/\n"
    "tag = early\n"
    "[rule d7]\n"
    "topics = t-d7\n"
    "parse = regex\n"
    "pattern = ^(?<w__a>[a-z]+) (?<n>-?\\d+)(?: (?<lvl>\\S+))?\n"
    "convert.n = int\n"
    "[rule d8]\n" /* removes and a timestamp after a condition and a tag */
    "topics = t-d8\n"
    "parse = regex\n"
    "pattern = ^(?<w__a>[a-z]+) (?<n>-?\\d+)(?: (?<message>\\S+))?\n"
    "convert.n = int\n"
    "[rule d8-tag]\n"
    "topics = t-d8\n"
    "tag = t8\n"
    "[rule d8-ts]\n"
    "topics = t-d8\n"
    "timestamp = n\n"
    "timestamp_format = UNIX\n"
    "[rule d8-rm]\n"
    "topics = t-d8\n"
    "if = n > 5 or message == \"rm\"\n"
    "remove = w.a, message\n"
    "[rule d8-notag]\n" /* the same without the tag */
    "topics = t-d9\n"
    "parse = regex\n"
    "pattern = ^(?<w__a>[a-z]+) (?<n>-?\\d+)(?: (?<message>\\S+))?\n"
    "convert.n = int\n"
    "timestamp = n\n"
    "timestamp_format = UNIX\n"
    "[rule d9-rm]\n"
    "topics = t-d9\n"
    "if = n > 5 or message == \"rm\"\n"
    "remove = w.a, message\n"
    "[rule d10]\n" /* @timestamp set twice, a tag between: replaced where it is */
    "topics = t-d10\n"
    "parse = regex\n"
    "pattern = ^(?<w>[a-z]+) (?<t>\\d+)\n"
    "timestamp = t\n"
    "timestamp_format = UNIX\n"
    "tag = mid\n"
    "[rule d10b]\n"
    "topics = t-d10\n"
    "timestamp = t\n"
    "timestamp_format = UNIX_MS\n"
    "[rule d4]\n" /* a group's field in the way of another's: the tree's way */
    "topics = t-d4\n"
    "parse = regex\n"
    "pattern = ^(?<y>\\S+) (?<y__z>\\S+)\n";

static const char *ips[] = {"203.0.113.7", "2001:db8::1", "-", "10.0.0.1"};
static const char *users[] = {"-", "alice", "b\\\"ob", "caf\\u00e9"};
static const char *times[] = {"25/Nov/2026:16:21:10 +0100", "01/Jan/2026:00:00:00 +0000",
                              "31/Dec/1999:23:59:59 -0830", "99/Zzz/2026:99:99:99 +0000"};
static const char *requests[] = {
    "GET /a?b=1 HTTP/1.1", "POST /api/v1/x HTTP/2.0", "BAD", "", "GET /caf\\u00e9 HTTP/1.0",
    "GET /\\\\path\\ttab HTTP/1.1", "get /lower HTTP/1.1",
};
static const char *statuses[] = {"200", "404", "500", "2000"};
static const char *sizes[] = {"612", "-", "0", "12345678901234567890"};
static const char *quoted[] = {"\\\"-\\\"", "\\\"https://x.org/\\\"", "\\\"\\\"",
                               "\\\"curl/8.4.0 \\\\u00e9\\\""};

static const char *d5s[] = {
    "alpha 12 info", "beta 950", "zz 3", "alpha 1 drop", "alpha 2 stop", "skip", "x y",
    "gamma -4", "alpha 7 after", "alpha 5 str",
};

static const char *d6s[] = {"A 1700000000", "B 1700000000", "A x", "B y"};
static const char *d8s[] = {"alpha 1700000000", "beta 3", "gamma 4 rm", "zz 1700000001 x",
                            "delta 2"};

static const char *others[] = {
    "alpha 12 yes extra", "alpha -3.5 off", "beta 7 maybe", "gamma-9 8", "gamma-x",
    "1764087670 rest of it", "9999999999 far", "\\u0000 nul first", "a\\u0000b 1 on",
    "", "plain words here",
};

static const char *syslogs[] = {
    "<34>1 2026-11-25T16:21:10.003Z host1 app 1234 ID47 - caf\\u00e9 message",
    "<165>1 2026-11-25T16:21:10Z - - - - [ex@1 a=\\\"b\\\"] body",
    "<13>1 - - - - - -",
    "<34>Nov 25 16:21:10 web1 sshd[42]: Accepted publickey",
    "Nov  5 01:02:03 web1 cron: job",
    "2026-11-25T16:21:10+01:00 web1 app[7]: iso time",
    "<999>Nov 25 16:21:10 web1 x: bad priority",
    "Feb 30 16:21:10 web1 x: no such day",
    "not syslog at all",
};

/* Members around the message, the rules' and others, in every type. */
static const char *members[] = {
    "\"@timestamp\":\"2026-01-02T03:04:05Z\"", "\"@timestamp\":17",
    "\"@timestamp\":\"2026-01-02T03:04:05.000Z\"", "\"@timestamp\":\"\\u0032026-01-02T03:04:05Z\"",
    "\"tags\":[\"pre\"]", "\"http\":{\"version\":\"1.0\"}", "\"source\":\"x\"", "\"w\":{\"a\":1}",
    "\"n\":3", "\"log\":{\"file\":{\"path\":\"/a\"},\"offset\":7}", "\"host\":{\"name\":\"h1\"}",
    "\"event\":{\"id\":\"ev-1\"}", "\"event\":{\"id\":5}", "\"agent\":{\"v\":1.5e3,\"n\":-0.0}",
    "\"big\":[1.0,12345678901234567890,{\"d\":[]}]", "\"s\\u0070ace\" : \"escaped key\"",
    "\"message2\":\"m\"", "\"process\":{\"pid\":\"12\"}", "\"process\":{\"title\":\"t\"}",
    "\"host\":{\"hostname\":\"h0\"}", "\"log\":\"flat\"", "\"log\":{}",
    "\"tags\":\"parsed\"", "\"tags\":[\"parsed\",7]", "\"tags\":{\"o\":1}", "\"gone\":1",
    "\"url\":{\"domain\":\"x.org\"}", "\"user\":null",
};

static void gen(strbuf *sb, bool words, bool syslog, bool d5, bool d6, bool d8)
{
    sb_reset(sb);
    sb_puts(sb, "{");
    unsigned before = below(3);
    for (unsigned i = 0; i < before; i++) {
        sb_puts(sb, PICK(members));
        sb_puts(sb, ",");
    }
    unsigned shape = words ? 2 + below(4) : below(10);
    if (shape == 0) {
        sb_puts(sb, "\"message\":17");
    } else if (shape == 1) {
        sb_puts(sb, "\"nomessage\":true");
    } else if (d5 && shape < 8) {
        sb_printf(sb, "\"message\":\"%s\"", PICK(d5s));
    } else if (d6 && shape < 8) {
        sb_printf(sb, "\"message\":\"%s\"", PICK(d6s));
    } else if (d8 && shape < 9) {
        sb_printf(sb, "\"message\":\"%s\"", PICK(d8s));
    } else if (syslog && shape < 7) {
        sb_printf(sb, "\"message\":\"%s\"", PICK(syslogs));
    } else if (shape < 5) {
        sb_printf(sb, "\"message\":\"%s\"", PICK(others));
    } else {
        sb_printf(sb, "\"message\":\"%s - %s [%s] \\\"%s\\\" %s %s", PICK(ips), PICK(users),
                  PICK(times), PICK(requests), PICK(statuses), PICK(sizes));
        if (below(4))
            sb_printf(sb, " %s %s", PICK(quoted), PICK(quoted));
        sb_puts(sb, "\"");
    }
    for (unsigned n = below(5); n; n--) {
        sb_puts(sb, below(6) ? "," : " , ");
        sb_puts(sb, PICK(members));
    }
    sb_puts(sb, "}");
}

static struct {
    size_t direct, other, d1, d2, d5, d6, d7, d8, d10, sys, dropped;
    size_t planned; /* records that took the way rules_explain planned */
} st;

static void both_ways(rules *ra, rules *rb, const char *topic, const char *val, int64_t ts_ms)
{
    static rec_splice sa, sb;
    static strbuf oa = STRBUF_INIT, ob = STRBUF_INIT;
    rec_in in = {.topic = topic, .partition = 2, .offset = 41, .value = val, .len = strlen(val),
                 .ts_ms = ts_ms};
    rec_doc a, b;
    char err[128];
    jarena_begin();
    assert_int_equal(rec_document(ra, topic, &in, REC_FMT_AUTO, &sa, &oa, &a, err, sizeof err), 0);
    assert_int_equal(rec_document(rb, topic, &in, REC_FMT_AUTO, &sb, &ob, &b, err, sizeof err), 0);
    assert_int_not_equal(b.how, RULES_WAY_DIRECT);
    /* the planned way is the one rec_document takes, and a record only leaves it
     * for a slower one (declined by the plan: members; not JSON: whole) */
    rules_way way = rules_explain(ra, topic, NULL, 0);
    st.planned += way == a.how;
    if (way != a.how && a.how != RULES_WAY_WHOLE)
        assert_true(way == RULES_WAY_DIRECT && a.how == RULES_WAY_MEMBERS);
    if (a.how == RULES_WAY_DIRECT) {
        st.direct++;
        st.d1 += !strcmp(topic, "t-d1");
        st.d2 += !strcmp(topic, "t-d2");
        st.sys += !strcmp(topic, "syslog");
        st.d5 += !strcmp(topic, "t-d5");
        st.d6 += !strcmp(topic, "t-d6");
        st.d7 += !strcmp(topic, "t-d7");
        st.d8 += !strcmp(topic, "t-d8") || !strcmp(topic, "t-d9");
        st.d10 += !strcmp(topic, "t-d10");
        st.dropped += a.res.verdict == RULES_DROP;
        assert_int_equal(b.how, RULES_WAY_MEMBERS);
    } else {
        st.other++;
        assert_int_equal(a.how, b.how);
    }
    assert_int_equal(a.res.verdict, b.res.verdict);
    assert_string_equal(a.res.index, b.res.index);
    assert_string_equal(a.res.reason, b.res.reason);
    assert_true(a.res.rule == b.res.rule ||
                (a.res.rule && b.res.rule && !strcmp(a.res.rule, b.res.rule)));
    assert_string_equal(a.id, b.id);
    assert_int_equal(a.flags, b.flags);
    if (a.len != b.len || (a.len && memcmp(a.src, b.src, a.len))) {
        fprintf(stderr, "# topic %s ts %lld\n# from: %s\n# tree: %.*s\n# text: %.*s\n", topic,
                (long long)ts_ms, val, (int)b.len, b.src ? b.src : "", (int)a.len,
                a.src ? a.src : "");
        fail();
    }
    jarena_end();
}

static void same_bytes_as_the_tree(void **state)
{
    (void)state;
    jarena_install();
    rng_seed(0x9E3779B97F4A7C15ULL);
    rules *ra, *rb;
    load_shipped_twice(extra_rules, &ra, &rb);
    rules_direct_enable(rb, false);
    static const char *topics[] = {"nginx", "apache2", "t-d1", "t-d2", "t-d3", "t-d4",
                                   "t-d5", "t-d6", "syslog", "other"};
    strbuf sb = STRBUF_INIT;
    for (int i = 0; i < 40000; i++) {
        const char *topic = PICK(topics);
        gen(&sb, !strcmp(topic, "t-d1") && below(4), !strcmp(topic, "syslog"),
            !strcmp(topic, "t-d5"), !strcmp(topic, "t-d6"), false);
        both_ways(ra, rb, topic, sb.buf, below(5) ? 1764087670123 : -1);
    }
    fprintf(stderr, "# %zu records without a tree (t-d1 %zu, t-d2 %zu, t-d5 %zu, %zu of them "
            "dropped, t-d6 %zu, syslog %zu), %zu the other ways\n", st.direct, st.d1, st.d2,
            st.d5, st.dropped, st.d6, st.sys, st.other);
    assert_true(st.direct > 4000 && st.d1 > 500 && st.d2 > 300 && st.d5 > 1000 &&
                st.dropped > 100 && st.d6 > 500 && st.sys > 500 && st.other > 8000);
    fprintf(stderr, "# %zu took the way rules_explain planned for their topic\n", st.planned);
    assert_true(st.planned > 20000);
    for (size_t i = 0; i < rules_count(ra); i++) /* drops counted once, by the same rule */
        assert_int_equal(rules_dropped(ra, i), rules_dropped(rb, i));
    rules_free(ra);
    rules_free(rb);
    sb_free(&sb);
}

/* The same, with the topic kept for runs of records, as a partition's
 * records come: a plan lives as long as its topic's run, and the entries
 * it keeps per shape (pattern, groups set, the record's members) serve the
 * next records of that shape. Among them are records whose own objects
 * (http, url, w) the pattern writes into, whose entries depend on their
 * members and must not be kept. */
static void same_bytes_over_topic_runs(void **state)
{
    (void)state;
    jarena_install();
    rng_seed(0x243F6A8885A308D3ULL);
    memset(&st, 0, sizeof st);
    rules *ra, *rb;
    load_shipped_twice(extra_rules, &ra, &rb);
    rules_direct_enable(rb, false);
    static const char *topics[] = {"nginx", "t-d1", "t-d5", "t-d6", "t-d7", "t-d8", "t-d9",
                                   "t-d10", "syslog"};
    strbuf sb = STRBUF_INIT;
    const char *topic = topics[0];
    for (int i = 0; i < 40000; i++) {
        if (!below(40))
            topic = PICK(topics);
        gen(&sb, !strcmp(topic, "t-d1") && below(4), !strcmp(topic, "syslog"),
            !strcmp(topic, "t-d5") || !strcmp(topic, "t-d7"), !strcmp(topic, "t-d6"),
            !strcmp(topic, "t-d8") || !strcmp(topic, "t-d9") || !strcmp(topic, "t-d10"));
        both_ways(ra, rb, topic, sb.buf, below(5) ? 1764087670123 : -1);
    }
    fprintf(stderr, "# over topic runs: %zu records without a tree (t-d1 %zu, t-d5 %zu, "
            "t-d6 %zu, t-d7 %zu, t-d8/9 %zu, t-d10 %zu, syslog %zu), %zu the other ways\n",
            st.direct, st.d1, st.d5, st.d6, st.d7, st.d8, st.d10, st.sys, st.other);
    assert_true(st.direct > 8000 && st.d1 > 1000 && st.d5 > 1000 && st.d6 > 1000 &&
                st.d7 > 1000 && st.d8 > 1000 && st.d10 > 500 && st.sys > 1000);
    rules_free(ra);
    rules_free(rb);
    sb_free(&sb);
}

/* Which rules have a plan, and what a declined record still gets. */
static void plans(void **state)
{
    (void)state;
    rules *r = load_ok(extra_rules);
    assert_non_null(rules_direct_plan(r, "t-d1"));
    assert_non_null(rules_direct_plan(r, "t-d2"));
    assert_null(rules_direct_plan(r, "t-d3")); /* if on @timestamp */
    assert_non_null(rules_direct_plan(r, "t-d5"));
    assert_null(rules_direct_plan(r, "t-d4")); /* y and y.z */
    assert_null(rules_direct_plan(r, "nothing-selected"));
    rules_direct_enable(r, false);
    assert_null(rules_direct_plan(r, "t-d1"));
    rules_direct_enable(r, true);
    assert_non_null(rules_direct_plan(r, "t-d1"));
    rules_free(r);

    /* set, tag, rename, drop, json and kv parses, a target, a field that is
     * not a group's: none has a plan. rules_explain says which way their
     * records go and why, naming the rule and the line of the action
     * ([rule r] is line 1) */
    static const struct { const char *text, *way, *why; } no[] = {
        {"parse = regex\npattern = (?<a>.)\nset.b = x\n", "members", "rule r (t.ini:4): set needs a tree"},
        {"parse = regex\npattern = (?<a>.)\nrename.a = b\n", "members", "rule r (t.ini:4): rename needs a tree"},
        {"parse = regex\npattern = (?<tags__x>.)\ntag = t\n", "members",
         "rule r (t.ini:2): a group's field in tags, where a tag action adds too, needs a tree"},
        {"tag = t\nparse = regex\npattern = (?<tags>.)\n", "members",
         "rule r (t.ini:3): a group's field in tags, where a tag action adds too, needs a tree"},
        {"if = @timestamp == \"x\"\ntag = t\n", "members",
         "rule r (t.ini:1): an if condition on @timestamp needs a tree"},
        {"parse = json\n", "whole",
         "rule r (t.ini:2): parse = json without a target needs the whole record in a tree (the "
         "fields it adds are known only per record)"},
        {"parse = kv\ntarget = kv\n", "members", "rule r (t.ini:2): parse = kv needs a tree (parse = regex does not)"},
        {"parse = regex\ntarget = t\npattern = (?<a>.)\n", "members", "rule r (t.ini:2): a parse with a target needs a tree"},
        {"parse = regex\npattern = (?<a>.)\nconvert.other = int\n", "members",
         "rule r (t.ini:4): convert of a field the regex parse does not set needs a tree"},
        {"parse = regex\npattern = (?<a>.)\nremove = other\n", "members",
         "rule r (t.ini:4): remove of a field the regex parse does not set needs a tree"},
        {"timestamp = a\n", "members", "rule r (t.ini:2): timestamp of a field no regex parse before it sets needs a tree"},
        {"index = x-%{host.name}\n", "members",
         "rule r (t.ini:2): an index with %{field} needs a tree (date codes alone do not)"},
        {"parse = regex\nfield = log.original\npattern = (?<a>.)\n", "members",
         "rule r (t.ini:2): a parse of a field inside an object needs a tree"},
        {"parse = regex\npattern = (?<a>.)\n[rule second]\nparse = regex\npattern = (?<b>.)\n", "members",
         "rule second (t.ini:5): a second parse needs a tree (one regex parse does not)"},
        {"parse = regex\npattern = (?<y>.)(?<y__z>.)\n", "members",
         "rule r (t.ini:2): pattern 1, whose fields are also objects of other fields, needs a tree"},
    };
    static const char *yes[] = {
        "tag = t\n",
        "if = a == 1\ndrop = true\n",
        "if = exists b.c\nstop = true\n[rule s]\nset.x = 1\n", /* set after a stop that may not run */
        "drop = true\n[rule never]\nset.x = 1\n",              /* set after a drop that always runs */
    };
    char why[300];
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        strbuf t = STRBUF_INIT;
        sb_printf(&t, "[rule r]\n%s", yes[i]);
        rules *x = load_ok(t.buf);
        if (!rules_direct_plan(x, "any") != (i == 2))
            fail_msg("plan or not, wrong for: %s", yes[i]);
        if (i != 2) {
            assert_string_equal(rules_way_name(rules_explain(x, "any", why, sizeof why)), "direct");
            assert_string_equal(why, "");
        }
        rules_free(x);
        sb_free(&t);
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        strbuf t = STRBUF_INIT;
        sb_printf(&t, "[rule r]\n%s", no[i].text);
        rules *x = load_ok(t.buf);
        if (rules_direct_plan(x, "any"))
            fail_msg("a plan for: %s", no[i].text);
        const char *way = rules_way_name(rules_explain(x, "any", why, sizeof why));
        if (strcmp(way, no[i].way) || strcmp(why, no[i].why))
            fail_msg("for: %s\nway=%s why=%s\nwanted way=%s why=%s", no[i].text, way, why,
                     no[i].way, no[i].why);
        /* and the plan's cache is left as it was: the topic still has none */
        assert_null(rules_direct_plan(x, "any"));
        rules_free(x);
        sb_free(&t);
    }
    /* no rule selects the topic; the direct way turned off; no rules */
    r = load_ok("[rule r]\ntopics = web\ntag = t\n");
    assert_string_equal(rules_way_name(rules_explain(r, "db", why, sizeof why)), "none");
    assert_string_equal(why, "");
    rules_direct_enable(r, false);
    assert_string_equal(rules_way_name(rules_explain(r, "web", why, sizeof why)), "members");
    assert_string_equal(why, "the direct way is off");
    rules_free(r);
    assert_string_equal(rules_way_name(rules_explain(NULL, "db", NULL, 0)), "none");
    /* over 48 top-level names: the why names the rule that passed the
     * bound, not the last one */
    strbuf big = STRBUF_INIT;
    sb_printf(&big, "[rule big]\n");
    for (int i = 0; i < 30; i++)
        sb_printf(&big, "set.f%d = x\n", i);
    sb_printf(&big, "[rule rd]\n");
    for (int i = 0; i < 25; i++)
        sb_printf(&big, "if = exists g%d\n", i);
    sb_printf(&big, "tag = t\n[rule last]\ntag = z\n");
    r = load_ok(big.buf);
    assert_string_equal(rules_way_name(rules_explain(r, "any", why, sizeof why)), "whole");
    assert_string_equal(why, "the rules name over 48 top-level fields (passed in rule rd): the whole "
                             "record goes in a tree");
    rules_free(r);
    sb_free(&big);
    /* a short buffer is cut, not overrun (ASan) */
    r = load_ok("[rule r]\nset.a = b\n");
    assert_string_equal(rules_way_name(rules_explain(r, "db", why, 10)), "members");
    assert_string_equal(why, "rule r (t");
    rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plans),
        cmocka_unit_test(same_bytes_as_the_tree),
        cmocka_unit_test(same_bytes_over_topic_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
