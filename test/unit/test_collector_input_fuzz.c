/* Unit tests: the collector's readers of outside input never crash, hang
 * or leak on bad input, and say what is wrong and where (run under
 * ASan+UBSan, whose leak check fails the program). Seeded mutations
 * (test_mutate.h) of valid inputs, and each valid input cut at every
 * length, go to:
 *  - the INI reader (common/inifile.c) with the packaged collector.ini,
 *    indexer.ini and rules.ini: every key and header is reported with a
 *    line that exists, in order, and a refusal (the reader's or the
 *    callback's) is "file:line: reason";
 *  - the collector's configuration (collector_conf_load): loaded, or
 *    refused with "file:line: reason"; a loaded one's --check-config dump
 *    loads back to the same dump;
 *  - etcd source values (source_conf_from_json): a complete source, or a
 *    reason; an accepted value read back as the C string the collector
 *    keeps and caches (etcd_sources' good_raw) is the same source;
 *  - etcd keys and values through etcd_sources (events, rejections, the
 *    cache): each put runs or is rejected with a reason, and the cache
 *    brings back the set that ran;
 *  - the gateway's base64 (lf_etcd_b64_decode): refused, or the bytes.
 * The gateway's JSON answers are parsed inside common/etcd.c only, behind
 * HTTP (test_etcd_badserver.c sends it bad ones). The indexer's readers
 * are in test_indexer_input_fuzz.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/conf.h"
#include "collector/etcd_sources.h"
#include "collector/source.h"
#include "common/config.h"
#include "common/etcd.h"
#include "common/inifile.h"
#include "common/strbuf.h"
#include "test_mutate.h"

static int setup(void **state)
{
    return fuzz_tmp_setup();
}

static int teardown(void **state)
{
    char p[160];
    unlink(fuzz_input);
    snprintf(p, sizeof p, "%s/cache/sources.json", fuzz_dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/cache", fuzz_dir);
    rmdir(p);
    rmdir(fuzz_dir);
    return 0;
}

static const char *const ini_seeds[] = {"etc/collector.ini", "etc/indexer.ini", "etc/rules.ini"};

/* ---- the INI reader ---------------------------------------------------- */

typedef struct ini_rec {
    int  max_line, last_line;
    long calls, fail_at; /* the callback refuses its fail_at-th call (-1: never) */
    bool bad;
} ini_rec;

static int ini_cb(void *user, const char *section, const char *key, const char *value, int line,
                  char *err, size_t errlen)
{
    ini_rec *r = user;
    /* a line that exists, in file order; header xor key with its value */
    if (line < 1 || line > r->max_line || line < r->last_line || !section ||
        (key == NULL) != (value == NULL)) {
        fprintf(stderr, "# callback: line %d (of %d, last %d) section %p key %p value %p\n", line,
                r->max_line, r->last_line, (void *)section, (void *)key, (void *)value);
        r->bad = true;
    }
    r->last_line = line;
    if (r->calls++ == r->fail_at) {
        snprintf(err, errlen, "no");
        return -1;
    }
    return 0;
}

static const char *ini_join(void *user, const char *section, const char *key)
{
    return key[0] && key[strlen(key) - 1] == 's' ? "," : NULL; /* "paths", "topics" */
}

/* One input through ini_read_file (and ini_read_string when it has no NUL). */
static void ini_one(const char *p, size_t n, long fail_at)
{
    int lines = mut_lines(p, n), line;
    char err[600];
    fuzz_guard("INI text", p, n);
    for (int way = 0; way < 2; way++) {
        if (way == 1 && memchr(p, '\0', n))
            break; /* ini_read_string reads a C string */
        ini_rec r = {.max_line = lines, .fail_at = fail_at};
        int rc;
        memset(err, 0x55, sizeof err);
        if (way == 0) {
            fuzz_write_input(p, n);
            rc = ini_read_file_ex(fuzz_input, ini_cb, ini_join, &r, err, sizeof err);
        } else {
            char *text = strndup(p, n);
            assert_non_null(text);
            rc = ini_read_string_ex("fuzz.ini", text, ini_cb, ini_join, &r, err, sizeof err);
            free(text);
        }
        const char *name = way == 0 ? fuzz_input : "fuzz.ini";
        bool ok = !r.bad && (rc == 0 || rc == -1);
        if (rc != 0 && !mut_err_names_line(err, name, lines, &line))
            ok = false;
        if (rc == 0 && fail_at >= 0 && r.calls > fail_at)
            ok = false; /* the callback's refusal was lost */
        if (!ok) {
            fprintf(stderr, "# ini_read_%s: rc %d err \"%.300s\"\n", way ? "string" : "file", rc,
                    rc ? err : "");
            mut_dump("input", p, n, 2000);
            fail();
        }
    }
    fuzz_unguard();
}

static void test_ini_reader(void **state)
{
    strbuf seed = STRBUF_INIT, m = STRBUF_INIT;
    long inputs = 0;
    fuzz_seed(0x1F1E1D1C1B1A1918ULL);
    for (size_t s = 0; s < sizeof ini_seeds / sizeof *ini_seeds; s++) {
        mut_read_file(&seed, ini_seeds[s]);
        ini_one(seed.buf, seed.len, -1); /* the packaged file itself */
        /* cut at every length, now and then with the callback refusing */
        for (size_t cut = 0; cut <= seed.len; cut++, inputs++)
            ini_one(seed.buf, cut, cut % 7 == 0 ? (long)below(20) : -1);
        for (long i = 0; i < fuzz_iters(1200); i++, inputs++) {
            sb_reset(&m);
            sb_append(&m, seed.buf, seed.len);
            mutate(&m, "[");
            ini_one(m.buf, m.len, below(4) ? -1 : (long)below(40));
        }
    }
    print_message("# ini reader: %ld inputs\n", inputs);
    sb_free(&seed);
    sb_free(&m);
}

/* ---- the collector's configuration ------------------------------------ */

/* Every section and option kind, [source] sections with all their keys. */
static const char conf_seed[] =
    "[collector]\nstate_dir = /var/lib/logferry\nhost_name = web-1\nregistry_flush = 1s\n"
    "watch = auto\npoll_interval = 250ms\nread_buffer = 64KiB\nmax_open_files = 1024\n"
    "close_inactive = 1h2m3s4ms\nmax_line_bytes = 1MiB\nclean_inactive = 72h\n"
    "[kafka]\nbrokers = k1:9092,k2:9092\ncompression = zstd\nqueue_max_bytes = 4MiB\n"
    "linger = 10ms\nrdkafka.client.id = collector\nrdkafka.socket.keepalive.enable = true\n"
    "[log]\nlevel = debug\nsyslog = no\nratelimit = 0\n"
    "[http]\nlisten = 127.0.0.1:9520\n"
    "[etcd]\nendpoints = http://e1:2379,\n    http://e2:2379\nprefix = /logferry\n"
    "allowed_paths = /var/log/**, /srv/*/logs/*.log\nprogress_notify = on\n"
    "[source nginx]\npaths = /var/log/nginx/access.log, /var/log/nginx/*.log\n"
    "exclude = *.gz\ntopic = nginx\nstart = beginning\nmust_exist = true\n"
    "fields = service=nginx, env = prod\nformat = raw\n"
    "[source java.app-1]\npaths = /srv/app/logs/*.log\ntopic = java\n"
    "multiline_start = ^\\d{4}-\\d{2}-\\d{2}\n    [ T]\\d{2}:\\d{2} ; a comment\n"
    "multiline_max_lines = 500\nmultiline_timeout = 2s\n";

static long conf_loaded, conf_refused;

static void conf_one(const char *p, size_t n)
{
    cfg *c = NULL;
    char err[1024];
    int line;
    fuzz_write_input(p, n);
    err[0] = '\0';
    fuzz_guard("collector configuration", p, n);
    int rc = collector_conf_load(&c, fuzz_input, err, sizeof err);
    if (rc != 0) {
        fuzz_unguard();
        conf_refused++;
        if (!mut_err_names_line(err, fuzz_input, mut_lines(p, n), &line)) {
            fprintf(stderr, "# collector_conf_load: \"%s\" (out %p)\n", err, (void *)c);
            mut_dump("input", p, n, 3000);
            fail();
        }
        return;
    }
    conf_loaded++;
    assert_non_null(c);
    source_conf *set = NULL;
    size_t ns = 0;
    assert_int_equal(collector_conf_sources(c, &set, &ns, err, sizeof err), 0);
    collector_sources_free(set, ns);
    mut_check_dump_loads_back(c, collector_sections, p, n);
    cfg_free(c);
    fuzz_unguard();
}

static void conf_feed(const char *p, size_t n, bool mutated)
{
    (void)mutated;
    conf_one(p, n);
}

static void test_collector_conf(void **state)
{
    strbuf seeds[2] = {STRBUF_INIT, STRBUF_INIT};
    mut_read_file(&seeds[0], "etc/collector.ini");
    sb_append(&seeds[1], conf_seed, sizeof conf_seed - 1);
    fuzz_seed(0x0C0FFEE0DDF00D01ULL);
    long inputs = 0;
    for (int s = 0; s < 2; s++) {
        conf_loaded = conf_refused = 0;
        inputs += mut_feed_seed(seeds[s].buf, seeds[s].len, 1500, "[", conf_feed, &conf_loaded);
        print_message("# collector conf seed %d: %ld loaded, %ld refused\n", s, conf_loaded,
                      conf_refused);
        assert_true(conf_loaded > 100 && conf_refused > 100);
    }
    print_message("# collector conf: %ld inputs\n", inputs);
    sb_free(&seeds[0]);
    sb_free(&seeds[1]);
}

/* ---- etcd source values ------------------------------------------------ */

static const char *const json_seeds[] = {
    "{\"paths\": [\"/var/log/nginx/*.log\"], \"exclude\": [\"*.gz\"], \"topic\": \"nginx\",\n"
    " \"start\": \"end\", \"fields\": {\"service\": \"nginx\"},\n"
    " \"multiline\": {\"start\": \"^\\\\d{4}-\\\\d{2}-\\\\d{2}\", \"max_lines\": 500, \"timeout_ms\": 2000}}",
    "{\"paths\":[\"/var/log/a.log\",\"/var/log/b/*.log\"],\"topic\":\"app\",\"start\":\"beginning\","
    "\"format\":\"raw\",\"must_exist\":true,\"fields\":{\"env\":\"prod\",\"role\":\"web \\u00e9\\n\"}}",
    "{\"paths\":[\"/var/log/syslog\"],\"topic\":\"syslog\"}",
    "{\"topic\":\"t\",\"paths\":[\"/var/log/x\"],\"multiline\":{\"start\":\"^\\\\S\"},\"exclude\":[]}",
};

static bool str_eq(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

static long json_taken, json_refused;

static void json_one(const char *p, size_t n)
{
    source_conf sc;
    char err[600];
    memset(&sc, 0x5a, sizeof sc);
    err[0] = '\0';
    fuzz_guard("source value", p, n);
    int rc = source_conf_from_json(&sc, "web", "etcd:/logferry/collect/_all/web", p, n, err,
                                   sizeof err);
    bool ok = true;
    if (rc != 0) {
        json_refused++;
        /* a reason, and nothing left to free */
        ok = (rc == -1 || rc == -2) && err[0] && !sc.name && !sc.origin && !sc.topic && !sc.start &&
             !sc.format && !sc.multiline_start && !sc.paths.v && !sc.paths.n &&
             !sc.exclude.v && !sc.exclude.n && !sc.fields.v && !sc.fields.n;
        if (!ok)
            fprintf(stderr, "# refused: rc %d err \"%s\"\n", rc, err);
    } else {
        json_taken++;
        ok = sc.name && !strcmp(sc.name, "web") && sc.origin && sc.topic && sc.topic[0] &&
             sc.paths.n > 0 && sc.start && sc.format;
        for (size_t i = 0; ok && i < sc.paths.n; i++)
            ok = sc.paths.v[i][0] == '/';
        if (!ok)
            fprintf(stderr, "# taken, but not a complete source\n");
        /* The collector keeps and caches a good value as a C string
         * (etcd_sources: good_raw = strndup(raw, len)); read back from
         * there it must be the same source. */
        char *kept = strndup(p, n);
        source_conf again;
        if (ok && source_conf_from_json(&again, "web", "cache", kept, strlen(kept), err,
                                        sizeof err) != 0) {
            fprintf(stderr, "# taken, but the kept C string is refused: %s\n", err);
            ok = false;
        } else if (ok) {
            if (!source_conf_equal(&sc, &again)) {
                fprintf(stderr, "# taken, but the kept C string is another source\n");
                ok = false;
            }
            source_conf_free(&again);
        }
        free(kept);
        source_conf copy;
        assert_int_equal(source_conf_copy(&copy, &sc), 0);
        assert_true(source_conf_equal(&copy, &sc) && str_eq(copy.origin, sc.origin));
        source_conf_free(&copy);
        source_conf_free(&sc);
    }
    if (!ok) {
        mut_dump("value", p, n, 3000);
        fail();
    }
    fuzz_unguard();
}

static void json_feed(const char *p, size_t n, bool mutated)
{
    (void)mutated;
    json_one(p, n);
}

static void test_source_json(void **state)
{
    fuzz_seed(0x50C0DE5EED5EED01ULL);
    json_taken = json_refused = 0;
    long inputs = mut_feed_seeds(json_seeds, sizeof json_seeds / sizeof *json_seeds, 5000,
                                 json_feed, &json_taken);
    print_message("# source values: %ld inputs, %ld taken, %ld refused\n", inputs, json_taken,
                  json_refused);
    assert_true(json_taken > 500 && json_refused > 5000);
}

/* ---- etcd keys and values through etcd_sources ------------------------ */

#define PFX "/lf"

typedef struct es_rec {
    strbuf set;       /* the last set delivered: "name topic\n"... */
    int    calls, rejects;
    bool   bad;
} es_rec;

static void render_set(strbuf *sb, const source_conf *set, size_t n)
{
    sb_reset(sb);
    for (size_t i = 0; i < n; i++) {
        sb_printf(sb, "%s %s %s %s", set[i].name, set[i].topic, set[i].start, set[i].format);
        for (size_t k = 0; k < set[i].paths.n; k++)
            sb_printf(sb, " %s", set[i].paths.v[k]);
        for (size_t k = 0; k < set[i].fields.n; k++)
            sb_printf(sb, " %s", set[i].fields.v[k]);
        sb_printf(sb, " %s\n", set[i].multiline_start ? set[i].multiline_start : "-");
    }
}

static void es_on_sources(void *ud, const source_conf *set, size_t n)
{
    es_rec *r = ud;
    r->calls++;
    render_set(&r->set, set, n);
}

static void es_on_reject(void *ud, const char *key, const char *reason, const char *msg, bool kept)
{
    es_rec *r = ud;
    r->rejects++;
    if (!key || !msg || !msg[0] ||
        (strcmp(reason, ETCD_SOURCES_REASON_JSON) && strcmp(reason, ETCD_SOURCES_REASON_FIELD) &&
         strcmp(reason, ETCD_SOURCES_REASON_PATH) && strcmp(reason, ETCD_SOURCES_REASON_NAME))) {
        fprintf(stderr, "# reject without a reason: key %s reason %s msg \"%s\"\n", key, reason,
                msg);
        r->bad = true;
    }
    /* a value that is not one JSON object is counted as such, whatever
     * cJSON would make of it (a NUL inside, data after it) */
    bool not_json = msg && (!strncmp(msg, "invalid JSON", 12) || !strncmp(msg, "expected a JSON object", 22));
    if (reason && !strcmp(reason, ETCD_SOURCES_REASON_FIELD) && not_json) {
        fprintf(stderr, "# reject labelled %s: \"%s\"\n", reason, msg);
        r->bad = true;
    }
}

static void es_on_cache(void *ud, bool error, const char *msg)
{
    es_rec *r = ud;
    if (error) {
        fprintf(stderr, "# cache: %s\n", msg);
        r->bad = true;
    }
}

static etcd_sources *es_open(es_rec *r, const char *state_dir, const cfg_list *allowed)
{
    etcd_sources_opts o = {PFX, "web1", allowed, state_dir};
    etcd_sources_cbs cbs = {es_on_sources, es_on_reject, NULL, es_on_cache};
    etcd_sources *s = NULL;
    char err[256];
    assert_int_equal(etcd_sources_new(&s, &o, &cbs, r, err, sizeof err), 0);
    return s;
}

static void test_etcd_sources(void **state)
{
    static const char *const keys[] = {
        PFX "/collect/_all/nginx", PFX "/collect/web1/nginx", PFX "/collect/_all/app.v-2",
        PFX "/collect/web1/syslog", PFX "/collect/web2/nginx", PFX "/collect/_all/",
    };
    char sd[128];
    snprintf(sd, sizeof sd, "%s/cache", fuzz_dir);
    assert_int_equal(mkdir(sd, 0700), 0);
    char *allowed_v[] = {"/var/log/**"};
    cfg_list allowed = {allowed_v, 1};
    es_rec r = {STRBUF_INIT, 0, 0, false};
    etcd_sources *s = es_open(&r, sd, &allowed);
    etcd_sources_on_snapshot(s, NULL, 0, 1);
    strbuf key = STRBUF_INIT, val = STRBUF_INIT;
    fuzz_seed(0xE7CDE7CDE7CD0001ULL);
    long puts = 0, rejects = 0;
    for (long i = 0; i < fuzz_iters(3000); i++, puts++) {
        sb_reset(&key);
        sb_puts(&key, keys[below(sizeof keys / sizeof *keys)]);
        if (below(8) == 0)
            mutate(&key, "/");
        sb_reset(&val);
        sb_puts(&val, json_seeds[below(sizeof json_seeds / sizeof *json_seeds)]);
        if (below(4))
            mutate(&val, below(2) ? "[" : "{\"a\":");
        lf_etcd_event ev = {below(10) ? LF_ETCD_PUT : LF_ETCD_DELETE,
                            {key.buf, key.len, val.buf, val.len, i + 2}};
        if (ev.type == LF_ETCD_DELETE)
            ev.kv.value = NULL, ev.kv.value_len = 0;
        int rej = r.rejects;
        fuzz_guard("etcd value", val.buf, val.len);
        etcd_sources_on_events(s, &ev, 1, i + 2);
        fuzz_unguard();
        rejects += r.rejects - rej;
        if (r.bad) {
            mut_dump("key", key.buf, key.len, 300);
            mut_dump("value", val.buf, val.len, 3000);
            fail();
        }
        /* now and then: a collector starting while etcd is down runs,
         * from the cache, the set that ran */
        if (i % 100 == 99) {
            es_rec r2 = {STRBUF_INIT, 0, 0, false};
            etcd_sources *s2 = es_open(&r2, sd, &allowed);
            etcd_sources_on_state(s2, LF_ETCD_BACKOFF, "http://x", "down");
            if (r2.bad || strcmp(sb_str(&r2.set), sb_str(&r.set)) != 0) {
                fprintf(stderr, "# the cache gives another set than the one that ran\n"
                                "# ran:\n%s# from the cache:\n%s", sb_str(&r.set), sb_str(&r2.set));
                mut_dump("last key", key.buf, key.len, 300);
                mut_dump("last value", val.buf, val.len, 3000);
                fail();
            }
            etcd_sources_free(s2);
            sb_free(&r2.set);
        }
    }
    print_message("# etcd_sources: %ld events, %ld rejections, %d sets delivered\n", puts,
                  rejects, r.calls);
    assert_true(rejects > 500 && r.calls > 100);
    etcd_sources_free(s);
    sb_free(&r.set);
    sb_free(&key);
    sb_free(&val);
}

/* ---- the gateway's base64 ---------------------------------------------- */

static void test_etcd_b64(void **state)
{
    strbuf m = STRBUF_INIT;
    unsigned char raw[300];
    long inputs = 0, taken = 0;
    fuzz_seed(0xB64B64B64B640001ULL);
    for (long i = 0; i < fuzz_iters(20000); i++, inputs++) {
        size_t n = below(i % 50 ? 40 : sizeof raw);
        for (size_t k = 0; k < n; k++)
            raw[k] = (unsigned char)below(256);
        char *enc = lf_etcd_b64_encode(raw, n);
        assert_non_null(enc);
        size_t outlen = 12345;
        char *dec = lf_etcd_b64_decode(enc, strlen(enc), &outlen);
        assert_non_null(dec);
        assert_int_equal(outlen, n);
        assert_memory_equal(dec, raw, n);
        assert_int_equal(dec[n], '\0');
        free(dec);
        sb_reset(&m);
        sb_puts(&m, enc);
        free(enc);
        mutate(&m, "=");
        /* an exact copy: a read past the end is the sanitizers' */
        char *copy = malloc(m.len ? m.len : 1);
        memcpy(copy, m.buf, m.len);
        fuzz_guard("base64", m.buf, m.len);
        dec = lf_etcd_b64_decode(copy, m.len, &outlen);
        fuzz_unguard();
        if (dec) {
            taken++;
            /* 3 bytes per 4 characters, less the padding */
            size_t pad = m.len && m.buf[m.len - 1] == '=' ? 1 + (m.len > 1 && m.buf[m.len - 2] == '=') : 0;
            if (m.len % 4 || outlen != m.len / 4 * 3 - pad || dec[outlen] != '\0') {
                mut_dump("base64", m.buf, m.len, 600);
                fail_msg("decoded %zu bytes", outlen);
            }
            free(dec);
        }
        free(copy);
    }
    print_message("# base64: %ld inputs, %ld decoded\n", inputs, taken);
    assert_true(taken > 1000);
    sb_free(&m);
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
        cmocka_unit_test_teardown(test_ini_reader, unguard),
        cmocka_unit_test_teardown(test_collector_conf, unguard),
        cmocka_unit_test_teardown(test_source_json, unguard),
        cmocka_unit_test_teardown(test_etcd_sources, unguard),
        cmocka_unit_test_teardown(test_etcd_b64, unguard),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
