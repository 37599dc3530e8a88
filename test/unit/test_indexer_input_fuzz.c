/* Unit tests: the indexer's readers of outside input never crash, hang or
 * leak on bad input, and say what is wrong and where (run under
 * ASan+UBSan, whose leak check fails the program). Seeded mutations
 * (test_mutate.h) of valid inputs, and each valid input cut at every
 * length, go to:
 *  - the indexer's configuration (cfg_load on ix_sections, then
 *    ix_settings_check and ix_check, as main.c's load() does): loaded, or
 *    refused with "file:line: reason"; a loaded one's --check-config dump
 *    loads back to the same dump;
 *  - the rules loader (rules_load, rules_load_string) with etc/rules.ini:
 *    loaded, or refused with "file:line: reason";
 *  - Elasticsearch _bulk answers (bulk_resp_parse): a verdict per item, or
 *    the whole answer refused; an item reported done or duplicate only when
 *    the answer says so (its own status 2xx or 409, or a top-level
 *    "errors":false, which bulk_resp.h documents as every item done);
 *  - collector records (jparse and jscan_object): the same verdict, and
 *    the members the indexer asks jscan_object for are the tree's.
 * The collector's readers are in test_collector_input_fuzz.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/metrics.h"
#include "common/strbuf.h"
#include "indexer/bulk_resp.h"
#include "indexer/ix.h"
#include "indexer/jparse.h"
#include "indexer/rules.h"
#include "indexer/settings.h"
#include "test_mutate.h"

static int setup(void **state)
{
    return fuzz_tmp_setup();
}

static int teardown(void **state)
{
    static const char *const files[] = {"pw", "ca.pem", "cert.pem", "key.pem"};
    char p[160];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", fuzz_dir, files[i]);
        unlink(p);
    }
    unlink(fuzz_input);
    rmdir(fuzz_dir);
    lf_metrics_reset(); /* the rules' series */
    return 0;
}

/* ---- the indexer's configuration --------------------------------------- */

static const char conf_seed[] =
    "[indexer]\nformat = json\nshutdown_timeout = 10s\nmax_buffered_bytes = 16MiB\n"
    "[kafka]\nbrokers = k1:9092, k2:9092\ntopics = nginx, app-json,\n    ^java.*\n"
    "group_id = logferry\nauto_offset_reset = earliest\ndlq_topic = logferry-dlq\n"
    "session_timeout = 45s\nheartbeat_interval = 3s\nqueue_bytes = 4MiB\n"
    "rdkafka.client.id = ix\nrdkafka.fetch.wait.max.ms = 100\nrdkafka.linger.ms = 5\n"
    "[elasticsearch]\nurls = http://127.0.0.1:9200, https://es2:9200/\nop_type = create\n"
    "bulk_bytes = 5MiB\nbulk_count = 5000\nbulk_linger = 100ms\nmax_inflight = 4\n"
    "compression = gzip\ngzip_level = 3\ntimeout = 1m30s\nretry_initial = 100ms\n"
    "retry_max = 30s\nversion = 8\ntls_verify = false\n"
    "[log]\nlevel = warn\nsyslog = off\nratelimit = 5s\n"
    "[http]\nlisten = 127.0.0.1:9521\n";

/* The files a configuration names (checked at load): made in fuzz_dir. */
static void conf_files_seed(strbuf *sb)
{
    static const char *const files[][2] = {{"pw", "secret\n"}, {"ca.pem", "x\n"},
                                           {"cert.pem", "x\n"}, {"key.pem", "x\n"}};
    char p[160];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", fuzz_dir, files[i][0]);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(files[i][1], f);
        fclose(f);
    }
    sb_reset(sb);
    sb_printf(sb, "[kafka]\ntopics = a\n[elasticsearch]\nurls = https://es:9200\n"
                  "username = ix\npassword_file = %s/pw\nca_file = %s/ca.pem\n"
                  "client_cert = %s/cert.pem\nclient_key = %s/key.pem\n",
              fuzz_dir, fuzz_dir, fuzz_dir, fuzz_dir);
}

static long conf_loaded, conf_refused;

/* An error about a section the file does not have has no line to name:
 * "file: [kind] ...", and the file indeed has no [kind]. */
static bool section_missing(const char *err, const char *name)
{
    size_t nl = strlen(name);
    if (strncmp(err, name, nl) || strncmp(err + nl, ": [", 3))
        return false;
    const char *kind = err + nl + 3, *close = strchr(kind, ']');
    if (!close)
        return false;
    char k[64];
    snprintf(k, sizeof k, "%.*s", (int)(close - kind), kind);
    cfg *c = NULL;
    char e[600];
    if (cfg_load(&c, name, ix_sections, e, sizeof e) != 0)
        return false;
    cfg_section *s = cfg_section_get(c, k);
    bool missing = s && s->line == 0;
    cfg_free(c);
    return missing;
}

/* main.c's load() without the rules (they have their own test below). */
static int ix_conf_load(cfg **out, const char *path, char *err, size_t errlen)
{
    if (cfg_load(out, path, ix_sections, err, errlen))
        return -1;
    if (ix_settings_check(*out, err, errlen) || ix_check(*out, err, errlen)) {
        cfg_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static void conf_one(const char *p, size_t n)
{
    cfg *c = NULL;
    char err[1024];
    int line;
    fuzz_write_input(p, n);
    err[0] = '\0';
    fuzz_guard("indexer configuration", p, n);
    if (ix_conf_load(&c, fuzz_input, err, sizeof err) != 0) {
        fuzz_unguard();
        conf_refused++;
        if (!mut_err_names_line(err, fuzz_input, mut_lines(p, n), &line) &&
            !section_missing(err, fuzz_input)) {
            fprintf(stderr, "# indexer configuration refused: \"%s\"\n", err);
            mut_dump("input", p, n, 5000);
            fail();
        }
        return;
    }
    conf_loaded++;
    mut_check_dump_loads_back(c, ix_sections, p, n);
    cfg_free(c);
    fuzz_unguard();
}

static void conf_feed(const char *p, size_t n, bool mutated)
{
    (void)mutated;
    conf_one(p, n);
}

static void test_indexer_conf(void **state)
{
    strbuf seeds[3] = {STRBUF_INIT, STRBUF_INIT, STRBUF_INIT};
    mut_read_file(&seeds[0], "etc/indexer.ini");
    sb_append(&seeds[1], conf_seed, sizeof conf_seed - 1);
    conf_files_seed(&seeds[2]);
    fuzz_seed(0x1DE7E4C0F16F0001ULL);
    long inputs = 0;
    for (int s = 0; s < 3; s++) {
        conf_loaded = conf_refused = 0;
        inputs += mut_feed_seed(seeds[s].buf, seeds[s].len, 1500, "[", conf_feed, &conf_loaded);
        print_message("# indexer conf seed %d: %ld loaded, %ld refused\n", s, conf_loaded,
                      conf_refused);
        assert_true(conf_loaded > 100 && conf_refused > 100);
    }
    print_message("# indexer conf: %ld inputs\n", inputs);
    for (int s = 0; s < 3; s++)
        sb_free(&seeds[s]);
}

/* ---- the rules loader -------------------------------------------------- */

static long rules_loaded, rules_refused;

/* What etc/rules.ini does not use: conditions, kv, set/tag/index/drop/stop,
 * match_limit, named zones and strptime formats, continuation lines. */
static const char rules_seed[] =
    "[rule kv]\ntopics = app*, web-?\nif = exists message and not (level == \"debug\" or n > 10)\n"
    "if = message =~ /^[a-z]+=/ and status != 200 and size <= 1e3\nparse = kv\nfield = message\n"
    "target = kv\nkv_separator = \"=\"\nkv_delimiter = \" \"\nconvert.kv.n = int\n"
    "convert.kv.ok = bool\nrename.kv.msg = message\nremove = kv.secret, kv.token\n"
    "set.service.name = %{kv.app}-%{host.name}\nset.copy = %{kv.n}\ntag = kv, parsed\n"
    "index = logs-%{service.name}-%Y.%m.%d\nmatch_limit = 10000\n"
    "[rule when]\ntopics = app*\nparse = regex\npattern = ^(?<when>\\d{2}/\\w{3}/\\d{4}:\\d{2}:\\d{2}:\\d{2}\n"
    "    (?:\\.\\d+)?) (?<rest>.*)$\npattern = ^(?<rest>.*)$\ntimestamp = when\n"
    "timestamp_format = %d/%b/%Y:%H:%M:%S.%f, UNIX_MS, EPOCH, ISO8601\ntimezone = Europe/Paris\n"
    "[rule offset]\nif = ts !~ /x/\ntimestamp = ts\ntimestamp_format = UNIX\ntimezone = +02:00\n"
    "convert.ratio = float\nconvert.code = string\n"
    "[rule drop-debug]\nif = level == debug or level == \"trace\"\ndrop = true\n"
    "[rule last]\ntopics = *\nstop = yes\n";

static void rules_one(const char *p, size_t n, bool from_file)
{
    rules *r = (rules *)1;
    char err[1024];
    int line, rc;
    const char *name = from_file ? fuzz_input : "rules-fuzz.ini";
    err[0] = '\0';
    fuzz_guard("rules file", p, n);
    if (from_file) {
        fuzz_write_input(p, n);
        rc = rules_load(&r, fuzz_input, NULL, err, sizeof err);
    } else {
        char *text = strndup(p, n);
        assert_non_null(text);
        rc = rules_load_string(&r, name, text, err, sizeof err);
        n = strlen(text); /* what the loader saw */
        free(text);
    }
    if (rc != 0) {
        fuzz_unguard();
        rules_refused++;
        if (r != NULL || !mut_err_names_line(err, name, mut_lines(p, n), &line)) {
            fprintf(stderr, "# rules refused: \"%s\"\n", err);
            mut_dump("input", p, n, 9000);
            fail();
        }
        return;
    }
    rules_loaded++;
    assert_non_null(r);
    /* a loaded set runs: a record through every topic the packaged rules name */
    static const char *const topics[] = {"nginx", "syslog", "app", "java", "other"};
    const char *topic = topics[below(5)];
    cJSON *doc = cJSON_Parse("{\"@timestamp\":\"2026-11-25T16:21:10.123Z\",\"message\":"
                             "\"203.0.113.7 - - [25/Nov/2026:16:21:10 +0000] \\\"GET / HTTP/1.1\\\""
                             " 200 2 \\\"-\\\" \\\"x\\\"\",\"level\":\"info\"}");
    rules_result res;
    rules_apply(r, topic, doc, &res);
    assert_true(res.verdict == RULES_KEEP || res.verdict == RULES_DROP || res.verdict == RULES_DLQ);
    char *out = cJSON_PrintUnformatted(doc);
    assert_non_null(out);
    free(out);
    cJSON_Delete(doc);
    rules_free(r);
    fuzz_unguard();
}

static void test_rules_load(void **state)
{
    strbuf seeds[2] = {STRBUF_INIT, STRBUF_INIT}, m = STRBUF_INIT;
    mut_read_file(&seeds[0], "etc/rules.ini");
    sb_append(&seeds[1], rules_seed, sizeof rules_seed - 1);
    fuzz_seed(0x2B1E52B1E52B0001ULL);
    long inputs = 0;
    for (int s = 0; s < 2; s++) {
        const strbuf *seed = &seeds[s];
        rules_loaded = rules_refused = 0;
        rules_one(seed->buf, seed->len, true);
        assert_int_equal(rules_loaded, 1); /* the seeds are valid */
        /* cut at every length of the small seed; the packaged file at each
         * line end and every 7th byte (compiling its patterns is the
         * costly part) */
        for (size_t cut = 0; cut <= seed->len; cut++) {
            if (s == 0 && cut < seed->len && seed->buf[cut] != '\n' && cut % 7)
                continue;
            rules_one(seed->buf, cut, cut % 2);
            inputs++;
        }
        for (long i = 0; i < fuzz_iters(1500); i++, inputs++) {
            sb_reset(&m);
            sb_append(&m, seed->buf, seed->len);
            mutate(&m, "(");
            rules_one(m.buf, m.len, below(2));
        }
        print_message("# rules seed %d: %ld loaded, %ld refused\n", s, rules_loaded,
                      rules_refused);
        assert_true(rules_loaded > 100 && rules_refused > 100);
    }
    print_message("# rules: %ld inputs\n", inputs);
    sb_free(&seeds[0]);
    sb_free(&seeds[1]);
    sb_free(&m);
}

/* ---- Elasticsearch _bulk answers --------------------------------------- */

static const char *const bulk_seeds[] = {
    /* filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason */
    "{\"errors\":true,\"items\":[{\"create\":{\"status\":201}},{\"create\":{\"status\":409,"
    "\"error\":{\"type\":\"version_conflict_engine_exception\",\"reason\":\"[1]: version conflict\"}}},"
    "{\"create\":{\"status\":429,\"error\":{\"type\":\"es_rejected_execution_exception\",\"reason\":\"queue\"}}},"
    "{\"create\":{\"status\":400,\"error\":{\"type\":\"mapper_parsing_exception\",\"reason\":\"failed to parse field [n]\"}}},"
    "{\"create\":{\"status\":503,\"error\":\"unavailable\"}}]}",
    "{\"errors\":false,\"items\":[{\"create\":{\"status\":201}},{\"create\":{\"status\":201}},"
    "{\"create\":{\"status\":201}},{\"create\":{\"status\":201}},{\"create\":{\"status\":201}}]}",
    /* unfiltered, as Elasticsearch 8 writes it */
    "{\"took\":30,\"errors\":true,\"items\":[{\"create\":{\"_index\":\"logs-nginx-2026.11.25\","
    "\"_id\":\"0f1e-123\",\"_version\":1,\"result\":\"created\",\"_shards\":{\"total\":2,"
    "\"successful\":1,\"failed\":0},\"_seq_no\":0,\"_primary_term\":1,\"status\":201}},"
    "{\"index\":{\"_index\":\"i\",\"_id\":\"2\",\"status\":200}},"
    "{\"create\":{\"_index\":\"i\",\"_id\":\"3\",\"status\":409,\"error\":{\"type\":\"x\",\"reason\":\"y\"}}},"
    "{\"create\":{\"_index\":\"i\",\"_id\":\"4\",\"status\":500,\"error\":{\"type\":\"x\",\"reason\":\"y\"}}},"
    "{\"create\":{\"_index\":\"i\",\"_id\":\"5\",\"status\":404,\"error\":{\"type\":\"x\",\"reason\":\"y\"}}}]}",
    "{\"took\":3, \"errors\" : false,\n \"items\" : [ {\"create\":{\"status\":201}},"
    "{\"create\":{\"status\":201}}, {\"create\":{\"status\":201}}, {\"create\":{\"status\":201}},"
    "{\"create\":{\"status\":201}} ]}\n",
};

/* Whether the answer says every item is done: the oracle, with cJSON,
 * independent of bulk_resp.c. Elasticsearch writes "errors" before
 * "items", once every item is done, so the text before the first "items",
 * completed, must be a JSON object whose own "errors" is false (and says
 * nothing else: no second "errors"). */
static bool errors_false_at_top(const char *p, size_t n)
{
    const char *items = memmem(p, n, "\"items\"", 7);
    if (!items)
        return false;
    strbuf t = STRBUF_INIT;
    sb_append(&t, p, (size_t)(items - p));
    sb_puts(&t, "\"items\":0}");
    cJSON *j = cJSON_ParseWithLength(t.buf, t.len);
    sb_free(&t);
    bool yes = false;
    if (cJSON_IsObject(j)) {
        int f = 0, other = 0;
        for (const cJSON *c = j->child; c; c = c->next)
            if (c->string && !strcmp(c->string, "errors"))
                cJSON_IsFalse(c) ? f++ : other++;
        yes = f > 0 && other == 0;
    }
    cJSON_Delete(j);
    return yes;
}

/* Whether the whole answer is a JSON object whose "items" array has n
 * entries, each an object whose one member holds a numeric "status": an
 * answer bulk_resp.h says is read item by item, never refused. */
static int item_status(const cJSON *root, size_t i, bool *has);
static bool answer_is_whole(const char *p, size_t len, size_t n)
{
    cJSON *j = cJSON_ParseWithLength(p, len);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items");
    bool yes = cJSON_IsObject(j) && cJSON_IsArray(items) && (size_t)cJSON_GetArraySize(items) == n;
    for (size_t i = 0; yes && i < n; i++)
        item_status(j, i, &yes);
    cJSON_Delete(j);
    return yes;
}

/* What bulk_resp.h asks of an answer that says "errors":false, whose items
 * it does not read: one `"status":` key per action (the text cannot stand
 * inside a string, whose quotes are escaped), then the items' ']' and the
 * answer's '}' last. */
static bool one_status_each(const char *p, size_t len, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i + 9 <= len; i++)
        k += !memcmp(p + i, "\"status\":", 9);
    const char *tail = "}]";
    size_t t = 0;
    for (size_t i = len; i > 0 && t < 2; i--) {
        char c = p[i - 1];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
            continue;
        if (c != tail[t++])
            return false;
    }
    return t == 2 && k == n;
}

static int item_status(const cJSON *root, size_t i, bool *has)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(root, "items");
    const cJSON *it = cJSON_GetArrayItem(items, (int)i);
    const cJSON *res = cJSON_IsObject(it) ? it->child : NULL;
    const cJSON *st = cJSON_IsObject(res) ? cJSON_GetObjectItemCaseSensitive(res, "status") : NULL;
    *has = cJSON_IsNumber(st);
    return *has ? st->valueint : 0;
}

static long bulk_ok, bulk_refused, bulk_fast;

static void bulk_one(const char *p, size_t n, size_t expected)
{
    /* an exact copy: a read past the end is the sanitizers' */
    char *body = malloc(n ? n : 1);
    assert_non_null(body);
    memcpy(body, p, n);
    bulk_resp r;
    char err[200];
    err[0] = '\0';
    fuzz_guard("bulk answer", p, n);
    int rc = bulk_resp_parse(&r, body, n, expected, err, sizeof err);
    bool ok = true;
    if (rc != 0) {
        bulk_refused++;
        ok = rc == -1 && err[0] && !r.root && !r.items && !r.n;
        if (!ok)
            fprintf(stderr, "# refused without a reason, or not cleaned: \"%s\"\n", err);
        /* and for a reason: a whole answer is never refused */
        if (ok && answer_is_whole(body, n, expected)) {
            fprintf(stderr, "# a whole answer refused: \"%s\"\n", err);
            ok = false;
        }
    } else {
        bulk_ok++;
        size_t sum = r.counts[0] + r.counts[1] + r.counts[2] + r.counts[3];
        ok = r.n == expected && r.items && sum == expected;
        /* the items need not be read when errors is false, but there must
         * be one per action (else a record would count as indexed that no
         * item acknowledged) */
        bool all = errors_false_at_top(body, n) && one_status_each(body, n, expected);
        bulk_fast += all;
        cJSON *root = all ? NULL : cJSON_ParseWithLength(body, n);
        for (size_t i = 0; ok && i < r.n; i++) {
            const br_item *it = &r.items[i];
            if (it->cls != bulk_item_class(it->status)) {
                fprintf(stderr, "# item %zu: status %d classified %d\n", i, it->status, it->cls);
                ok = false;
            }
            if (all)
                continue;
            bool has;
            int st = item_status(root, i, &has);
            if (!has || st != it->status) {
                fprintf(stderr, "# item %zu: status %d, the answer's %s%d\n", i, it->status,
                        has ? "" : "(none) ", st);
                ok = false;
            }
            /* the error's texts are read (the sanitizers check them) */
            if (it->type)
                ok = ok && strlen(it->type) < n;
            if (it->reason)
                ok = ok && strlen(it->reason) < n;
        }
        if (!ok)
            fprintf(stderr, "# taken: %zu items of %zu expected, counts %zu %zu %zu %zu\n", r.n,
                    expected, r.counts[0], r.counts[1], r.counts[2], r.counts[3]);
        cJSON_Delete(root);
        bulk_resp_free(&r);
    }
    if (!ok) {
        mut_dump("answer", p, n, 3000);
        free(body);
        fail();
    }
    free(body);
    fuzz_unguard();
}

/* mostly the count of the request, now and then another */
static void bulk_feed(const char *p, size_t n, bool mutated)
{
    bulk_one(p, n, !mutated || below(8) ? 5 : below(8));
}

static void test_bulk_answers(void **state)
{
    fuzz_seed(0xB01CA5B01CA50001ULL);
    bulk_ok = bulk_refused = bulk_fast = 0;
    long inputs = mut_feed_seeds(bulk_seeds, sizeof bulk_seeds / sizeof *bulk_seeds, 6000,
                                 bulk_feed, &bulk_ok);
    print_message("# bulk answers: %ld inputs, %ld taken (%ld by errors:false), %ld refused\n",
                  inputs, bulk_ok, bulk_fast, bulk_refused);
    assert_true(bulk_ok > 1000 && bulk_refused > 1000);
}

/* ---- collector records: jparse and jscan_object ------------------------ */

static const char *const record_seeds[] = {
    "{\"@timestamp\":\"2026-11-25T16:21:10.123Z\",\"message\":\"203.0.113.7 - - "
    "[25/Nov/2026:16:21:10 +0000] \\\"GET /index.html?q=%22a%22 HTTP/1.1\\\" 200 512 \\\"-\\\" "
    "\\\"curl/8.0\\\"\",\"host\":{\"name\":\"web1\"},\"log\":{\"file\":{\"path\":"
    "\"/var/log/nginx/access.log\"},\"offset\":123456},\"event\":{\"id\":"
    "\"0123456789abcdef0123456789abcdef-123456\"},\"fields\":{\"service\":\"nginx\"}}",
    "{\"@timestamp\":\"2026-11-25T16:21:10.000Z\",\"message\":\"{\\\"level\\\":\\\"warn\\\","
    "\\\"msg\\\":\\\"caf\\u00e9 \xe2\x82\xac \\\\ud83d\\\\ude00\\\",\\\"n\\\":-1.5e3}\\t\xef\xbf\xbd\","
    "\"host\":{\"name\":\"app-2\"},\"log\":{\"file\":{\"path\":\"/srv/app/logs/app.log\"},"
    "\"offset\":0},\"event\":{\"id\":\"ffffffffffffffffffffffffffffffff-0\"},\"fields\":{}}",
    "{\"@timestamp\":\"2026-11-25T16:21:10.5Z\",\"message\":\"2026-11-25 16:21:10,500 ERROR "
    "[main] c.e.App - boom\\njava.lang.IllegalStateException: x\\n\\tat c.e.App.run(App.java:1)\","
    "\"event\":{\"id\":\"a-1\",\"id\":\"a-2\"},\"tags\":[\"t\",null,true,false,0]}",
};

static long rec_taken, rec_refused;

static void record_one(const char *p, size_t n)
{
    char *rec = malloc(n ? n : 1); /* exact size, for the sanitizers */
    assert_non_null(rec);
    memcpy(rec, p, n);
    fuzz_guard("record", p, n);
    cJSON *tree = NULL;
    char e1[160] = "", e2[160] = "";
    int rc1 = jparse(rec, n, &tree, e1, sizeof e1);
    /* the wants of record_splice.c (event.id) and record_pass.c */
    jscan_member w[5] = {{.key = "@timestamp"}, {.key = "message"}, {.key = "event"},
                         {.key = "id", .parent = 3}, {.key = "fields"}};
    jscan_span sp[4];
    jscan_out o = {.members = sp, .max = 4};
    int rc2 = jscan_object(rec, n, w, 5, &o, e2, sizeof e2);
    bool obj = rc1 == 0 && cJSON_IsObject(tree);
    bool ok = (rc2 == 0) == obj && (rc1 == 0 || (e1[0] && !tree)) && (rc2 == 0 || e2[0]);
    if (!ok)
        fprintf(stderr, "# jparse %d (%s) and jscan_object %d (%s) disagree\n", rc1, e1, rc2, e2);
    if (ok && obj) {
        rec_taken++;
        for (int i = 0; ok && i < 5; i++) {
            const cJSON *in = i == 3 ? cJSON_GetObjectItemCaseSensitive(tree, "event") : tree;
            const cJSON *m = cJSON_IsObject(in) ? cJSON_GetObjectItemCaseSensitive(in, w[i].key) : NULL;
            if (!m != !w[i].val) {
                fprintf(stderr, "# member %s: %s\n", w[i].key, m ? "not found" : "found, not in the tree");
                ok = false;
            } else if (m) {
                cJSON *sub = NULL;
                ok = w[i].val >= rec && w[i].val + w[i].len <= rec + n &&
                     jparse(w[i].val, w[i].len, &sub, NULL, 0) == 0;
                if (ok) {
                    char *a = cJSON_PrintUnformatted(sub), *b = cJSON_PrintUnformatted(m);
                    ok = a && b && !strcmp(a, b);
                    free(a);
                    free(b);
                }
                cJSON_Delete(sub);
                if (!ok)
                    fprintf(stderr, "# member %s: its span is not its value\n", w[i].key);
            }
        }
    } else if (ok) {
        rec_refused++;
        ok = !w[0].val && !w[1].val && !w[2].val && !w[3].val && !w[4].val;
    }
    cJSON_Delete(tree);
    if (!ok) {
        mut_dump("record", p, n, 3000);
        free(rec);
        fail();
    }
    free(rec);
    fuzz_unguard();
}

static void record_feed(const char *p, size_t n, bool mutated)
{
    (void)mutated;
    record_one(p, n);
}

static void test_records(void **state)
{
    fuzz_seed(0x4EC04D5EED000001ULL);
    rec_taken = rec_refused = 0;
    long inputs = mut_feed_seeds(record_seeds, sizeof record_seeds / sizeof *record_seeds, 6000,
                                 record_feed, &rec_taken);
    print_message("# records: %ld inputs, %ld objects, %ld refused\n", inputs, rec_taken,
                  rec_refused);
    assert_true(rec_taken > 1000 && rec_refused > 5000);
}

/* A failed check leaves its input's alarm armed: disarm it. */
static int unguard(void **state)
{
    fuzz_unguard();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_indexer_conf, unguard),
        cmocka_unit_test_teardown(test_rules_load, unguard),
        cmocka_unit_test_teardown(test_bulk_answers, unguard),
        cmocka_unit_test_teardown(test_records, unguard),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
