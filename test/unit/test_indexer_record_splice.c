/* Records decoded by members (rec_splice_*, the named members only) against
 * the whole tree (rec_decode + jprint), through the same rules: the shipped
 * rules.ini and rules that use every action, on generated records whose
 * named members come in every type. Same verdict, index, reason, _id and
 * flags, and the same document (order aside: a member the rules removed
 * and set again stays in its place here, the tree puts it last). */
#include "test_indexer_rules_util.h"

#include "common/strbuf.h"
#include "indexer/jparse.h"
#include "indexer/jarena.h"
#include "indexer/jprint.h"
#include "indexer/record_doc.h"
#include "indexer/record.h"
#include "test_rng.h"

#define PICK(a) (a)[below(sizeof(a) / sizeof *(a))]

/* Rules using every action and condition, on topics of their own. */
static const char extra_rules[] =
    "[rule all]\n"
    "topics = t-all\n"
    "if = exists message and not (lvl == \"skip\")\n"
    "parse = regex\n"
    "pattern = ^(?<a__b>\\w+) (?<c>\\w+)(?: (?<num>\\d+))?(?: (?<when>\\S+))?\n"
    "timestamp = when\n"
    "set.labels.env = %{c}-x\n"
    "set.copy = %{a}\n"
    "set.n = 5\n"
    "rename.a.b = moved.here\n"
    "remove = host, gone\n"
    "convert.num = int\n"
    "convert.flag = bool\n"
    "tag = t1, t2\n"
    "index = idx-%{c}-%Y.%m\n"
    "[rule drop]\n"
    "topics = t-all\n"
    "if = c == \"drop\" or num > 900\n"
    "drop = true\n"
    "[rule kv]\n"
    "topics = t-kv\n"
    "parse = kv\n"
    "target = kv\n"
    "rename.kv.user = user.name\n"
    "stop = true\n"
    "[rule after-stop]\n"
    "topics = t-kv\n"
    "set.never = 1\n"
    "[rule badindex]\n"
    "topics = t-bad\n"
    "index = %{c}\n";

static const char *messages[] = {
    "203.0.113.7 - alice [25/Nov/2026:16:21:10 +0100] \\\"GET /a?b=1 HTTP/1.1\\\" 200 612 \\\"-\\\" \\\"curl/8.4.0\\\"",
    "203.0.113.7 - - [25/Nov/2026:16:21:10 +0000] \\\"BAD\\\" 400 - \\\"-\\\" \\\"-\\\"",
    "<34>1 2026-11-25T16:21:10.003Z host app 1234 ID47 - caf\\u00e9 message",
    "Nov 25 16:21:10 web1 sshd[42]: Accepted publickey",
    "2026-11-25 16:21:10,123 ERROR [main] com.x.Y - boom\\njava.lang.IllegalStateException: bad\\n\\tat x.Y(Y.java:1)",
    "{\\\"time\\\":\\\"2026-11-25T16:21:10.123+01:00\\\",\\\"level\\\":\\\"error\\\",\\\"msg\\\":\\\"payment\\\",\\\"order\\\":42}",
    "{\\\"ts\\\":1764087670,\\\"message\\\":\\\"inner\\\"}",
    "alpha beta 12 2026-11-25T16:21:10Z",
    "alpha drop",
    "x y 950",
    "one two three",
    "user=bob level=info msg=\\\"quoted value\\\" k=v",
    "",
    "\\u0000 nul first",
};

/* Members the rules name, in every type they can meet, and others. */
static const char *members[] = {
    "\"@timestamp\":\"2026-01-02T03:04:05Z\"", "\"@timestamp\":17", "\"@timestamp\":\"junk\"",
    "\"tags\":[\"pre\"]", "\"tags\":\"solo\"", "\"tags\":[\"t1\"]",
    "\"http\":{\"version\":\"1.0\",\"keep\":true}", "\"http\":\"not an object\"",
    "\"url\":{\"domain\":\"x.org\"}", "\"user\":null", "\"user\":{\"id\":7}",
    "\"labels\":{\"team\":\"a\"}", "\"a\":{\"keep\":1}", "\"a\":[1,2]", "\"moved\":5",
    "\"gone\":{\"x\":1}", "\"num\":\"77\"", "\"flag\":\"yes\"", "\"c\":\"pre\"", "\"lvl\":\"skip\"",
    "\"json\":{\"old\":true}", "\"kv\":{\"pre\":1}", "\"log\":{\"level\":\"x\",\"file\":{\"path\":\"/a\"}}",
    "\"host\":{\"name\":\"h1\",\"ip\":[\"10.0.0.1\"]}", "\"event\":{\"id\":\"ev-1\",\"kind\":\"k\"}",
    "\"agent\":{\"v\":1.5e3,\"n\":-0.0}", "\"n\":[1.0,12345678901234567890,{\"d\":[]}]",
    "\"s\\u0070ace\" : \"escaped key\"", "\"process\":{\"pid\":\"12\"}",
};

static void gen(strbuf *sb)
{
    sb_reset(sb);
    sb_puts(sb, "{\"message\":\"");
    sb_puts(sb, PICK(messages));
    sb_putc(sb, '"');
    for (unsigned n = below(8); n; n--) {
        sb_puts(sb, below(6) ? "," : " , ");
        sb_puts(sb, PICK(members));
    }
    sb_putc(sb, '}');
    if (!below(4)) { /* message not first */
        const char *m = PICK(members);
        char *rest = strdup(sb->buf + 1);
        sb_reset(sb);
        sb_putc(sb, '{');
        sb_puts(sb, m);
        sb_putc(sb, ',');
        sb_puts(sb, rest);
        free(rest);
    }
}

static struct {
    size_t spliced, declined, unknown, same_order;
} st;

/* Objects' members sorted by key, stably (duplicate keys keep their
 * order), at every level: two documents that differ only in member order
 * then print the same. */
static void canon(cJSON *o)
{
    if (!o)
        return;
    for (cJSON *c = o->child; c; c = c->next)
        canon(c);
    if (!cJSON_IsObject(o) || !o->child)
        return;
    cJSON *sorted = NULL;
    while (o->child) {
        cJSON *c = cJSON_DetachItemViaPointer(o, o->child);
        cJSON **at = &sorted; /* after every member with a key <= c's */
        while (*at && strcmp((*at)->string, c->string) <= 0)
            at = &(*at)->next;
        c->next = *at;
        *at = c;
    }
    for (cJSON *c = sorted, *n; c; c = n) {
        n = c->next;
        c->next = c->prev = NULL;
        cJSON_AddItemToArray(o, c); /* appends, keeping c's key */
    }
}

static void both_ways(rules *ra, rules *rb, const char *topic, const char *val, int64_t ts_ms)
{
    rec_in in = {.topic = topic, .partition = 1, .offset = 9, .value = val, .len = strlen(val),
                 .ts_ms = ts_ms};
    char id1[REC_ID_MAX + 1], id2[REC_ID_MAX + 1], err[128];
    unsigned f1, f2;
    const char *const *names;
    size_t nnames, nwritten;
    int known = rules_fields(rb, topic, &names, &nnames, &nwritten);
    if (known != 1) {
        st.unknown++;
        return;
    }
    static rec_splice sp;
    cJSON *mini = NULL;
    int r = rec_splice_begin(&sp, &in, REC_FMT_AUTO, names, nnames, nwritten, &mini, id2,
                             &f2);
    assert_true(r >= 0);
    if (r == 0) {
        st.declined++;
        cJSON_Delete(mini);
        return;
    }
    st.spliced++;
    /* the tree's way */
    cJSON *doc = NULL;
    assert_int_equal(rec_decode(&in, REC_FMT_AUTO, &doc, id1, &f1, err, sizeof err), 0);
    rules_result a, b;
    rules_apply(ra, topic, doc, &a);
    rules_apply(rb, topic, mini, &b);
    assert_int_equal(a.verdict, b.verdict);
    assert_string_equal(a.index, b.index);
    assert_string_equal(a.reason, b.reason);
    assert_string_equal(id1, id2);
    assert_int_equal(f1, f2);
    if (a.verdict != RULES_DROP) {
        strbuf ta = STRBUF_INIT, tb = STRBUF_INIT;
        jprint(&ta, doc);
        rec_splice_print(&sp, mini, &tb);
        assert_null(memchr(tb.buf, '\n', tb.len));
        cJSON *pa = NULL, *pb = NULL;
        assert_int_equal(jparse(ta.buf, ta.len, &pa, NULL, 0), 0);
        assert_int_equal(jparse(tb.buf, tb.len, &pb, err, sizeof err), 0);
        sb_reset(&tb);
        jprint(&tb, pb);
        st.same_order += !strcmp(ta.buf, tb.buf); /* mostly the tree's order too */
        canon(pa);
        canon(pb);
        strbuf ca = STRBUF_INIT, cb = STRBUF_INIT;
        jprint(&ca, pa);
        jprint(&cb, pb);
        if (strcmp(ca.buf, cb.buf)) {
            fprintf(stderr, "# topic %s\n# from: %s\n# tree: %s\n# sent: %s\n", topic, val, ta.buf,
                    tb.buf); /* tb: what was sent, parsed and printed back */
            fail();
        }
        sb_free(&ca);
        sb_free(&cb);
        cJSON_Delete(pa);
        cJSON_Delete(pb);
        sb_free(&ta);
        sb_free(&tb);
    }
    cJSON_Delete(doc);
    cJSON_Delete(mini);
}

static void same_as_the_tree(void **state)
{
    rng_seed(0xD1B54A32D192ED03ULL);
    rules *ra, *rb;
    load_shipped_twice(extra_rules, &ra, &rb);
    static const char *topics[] = {"nginx", "syslog", "app", "java", "t-all", "t-kv", "t-bad",
                                   "other"};
    strbuf sb = STRBUF_INIT;
    for (int i = 0; i < 30000; i++) {
        gen(&sb);
        both_ways(ra, rb, PICK(topics), sb.buf, below(6) ? 1700000000123 : -1);
    }
    fprintf(stderr, "# %zu by members (%zu in the tree's order), %zu declined, %zu topics with "
            "unknown members or no rule\n", st.spliced, st.same_order, st.declined, st.unknown);
    assert_true(st.spliced > 15000 && st.declined > 100 && st.same_order > st.spliced / 2);
    rules_free(ra);
    rules_free(rb);
    sb_free(&sb);
}

/* rec_document, as the daemon and --test-rules call it: which way each
 * record goes, and the exact bytes: a member the rules write is printed
 * where it stood, the others are copied as written (1.0, escapes). */
static void document_paths(void **state)
{
    jarena_install();
    rules *r = load_ok("[rule c]\ntopics = t-conv\nconvert.num = int\n"
                       "[rule j]\ntopics = t-json\nparse = json\n");
    static rec_splice sp;
    strbuf out = STRBUF_INIT;
    char err[128];
    rec_doc d;
    static const char v[] = "{\"a\":1.0,\"num\":\"7\",\"z\":\"caf\\u00e9\"}";
    rec_in in = {.topic = "t", .partition = 0, .offset = 1, .value = v, .len = strlen(v),
                 .ts_ms = -1};
    static const struct {
        const char *topic;
        rules_way how;
        const char *sent; /* NULL: the value itself */
    } cases[] = {
        {"t-conv", RULES_WAY_MEMBERS, "{\"a\":1.0,\"num\":7,\"z\":\"caf\\u00e9\"}"},
        {"t-none", RULES_WAY_NONE, NULL},
        /* parse = json without a target: the whole tree, printed by jprint
         * (there is no message to parse: tagged) */
        {"t-json", RULES_WAY_WHOLE,
         "{\"a\":1,\"num\":\"7\",\"z\":\"caf\u00e9\",\"tags\":[\"_parse_failure:j\"]}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        jarena_begin();
        assert_int_equal(rec_document(r, cases[i].topic, &in, REC_FMT_AUTO, &sp, &out, &d, err,
                                      sizeof err), 0);
        assert_int_equal(d.res.verdict, RULES_KEEP);
        assert_int_equal(d.how, cases[i].how);
        if (cases[i].sent) {
            assert_int_equal(d.len, strlen(cases[i].sent));
            assert_memory_equal(d.src, cases[i].sent, d.len);
        } else {
            assert_ptr_equal(d.src, v); /* not even copied */
            assert_int_equal(d.len, strlen(v));
        }
        jarena_end();
    }
    sb_free(&out);
    rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(document_paths), /* first: it installs jarena's hooks */
        cmocka_unit_test(same_as_the_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
