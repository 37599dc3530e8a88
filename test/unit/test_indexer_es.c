/* es: GET / answers → flavour (7.x, 8.x, OpenSearch), refusals; secret
 * files for --check-config; the cJSON arena used per record; bulk bodies
 * sent whole, streamed in big pieces, to a local libmicrohttpd server. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>

#include "indexer/es.h"
#include "indexer/jarena.h"

static void flavours(void **st)
{
    struct { const char *body; es_flavor fl; const char *ver; } ok[] = {
        {"{\"name\":\"n\",\"version\":{\"number\":\"8.11.1\",\"build_flavor\":\"default\"},\"tagline\":\"You Know, for Search\"}", ES_8, "8.11.1"},
        {"{\"version\":{\"number\":\"7.17.9\"}}", ES_7, "7.17.9"},
        {"{\"version\":{\"number\":\"9.0.0\"}}", ES_8, "9.0.0"},
        {"{\"version\":{\"distribution\":\"opensearch\",\"number\":\"2.11.0\"}}", ES_OPENSEARCH, "2.11.0"},
        {"{\"version\":{\"distribution\":\"opensearch\",\"number\":\"1.3.0\"}}", ES_OPENSEARCH, "1.3.0"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        es_flavor fl = ES_UNKNOWN;
        char ver[32], err[128];
        assert_int_equal(es_parse_root(ok[i].body, strlen(ok[i].body), &fl, ver, sizeof ver, err, sizeof err), 0);
        assert_int_equal(fl, ok[i].fl);
        assert_string_equal(ver, ok[i].ver);
    }
    const char *bad[] = {"", "<html>", "{}", "{\"version\":{}}", "{\"version\":{\"number\":6}}",
                         "{\"version\":{\"number\":\"6.8.0\"}}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        es_flavor fl = ES_UNKNOWN;
        char ver[32], err[128] = "";
        assert_int_equal(es_parse_root(bad[i], strlen(bad[i]), &fl, ver, sizeof ver, err, sizeof err), -1);
        assert_true(err[0]);
        assert_int_equal(fl, ES_UNKNOWN);
    }
}

static void secrets_checked(void **st)
{
    ix_es_conf c;
    memset(&c, 0, sizeof c);
    char err[256];
    assert_int_equal(es_check_conf(&c, err, sizeof err), 0);
    c.password_file = "/nonexistent/pw";
    assert_int_equal(es_check_conf(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/pw"));
    char path[] = "/tmp/ix-test-secret-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\n \n", 3), 3); /* only whitespace: empty */
    close(fd);
    c.password_file = path;
    assert_int_equal(es_check_conf(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty"));
    FILE *f = fopen(path, "w");
    fputs("s3cret\n", f);
    fclose(f);
    assert_int_equal(es_check_conf(&c, err, sizeof err), 0);
    c.ca_file = "/nonexistent/ca.pem";
    assert_int_equal(es_check_conf(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "ca.pem"));
    unlink(path);
}

static void arena_window(void **st)
{
    jarena_install();
    cJSON *outside = cJSON_Parse("{\"kept\":[1,2,3]}"); /* plain malloc */
    size_t over = jarena_overflows();
    for (int round = 0; round < 3; round++) {
        jarena_begin();
        cJSON *doc = cJSON_Parse("{\"a\":\"b\",\"n\":{\"m\":[1,2,{\"x\":\"y\"}]}}");
        assert_non_null(doc);
        cJSON_AddStringToObject(doc, "added", "v");
        char *s = cJSON_PrintUnformatted(doc);
        assert_string_equal(s, "{\"a\":\"b\",\"n\":{\"m\":[1,2,{\"x\":\"y\"}]},\"added\":\"v\"}");
        cJSON_free(s);
        cJSON_Delete(doc);
        jarena_end();
    }
    /* bigger than the chunk: falls back to malloc, still freed right */
    size_t big = (size_t)2 << 20;
    char *text = malloc(big + 16);
    text[0] = '"';
    memset(text + 1, 'z', big);
    strcpy(text + 1 + big, "\"");
    jarena_begin();
    cJSON *s = cJSON_Parse(text);
    assert_true(cJSON_IsString(s));
    cJSON_Delete(s);
    jarena_end();
    assert_true(jarena_overflows() > over);
    free(text);
    char *o = cJSON_PrintUnformatted(outside);
    assert_string_equal(o, "{\"kept\":[1,2,3]}");
    cJSON_free(o);
    cJSON_Delete(outside);
    cJSON_InitHooks(NULL);
}

/* ---- bulk bodies against a local server ----------------------------- */

static uint32_t fnv(uint32_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static unsigned char body_byte(size_t i) { return (unsigned char)('a' + (i * 7 + i / 4093) % 26); }

/* What the server received (its own thread: under the lock). */
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static size_t seen_len;
static uint32_t seen_hash;
#define ANSWER_LEN ((size_t)300 << 10) /* over libcurl's default 16 KiB receive buffer */

static enum MHD_Result bulk_answer(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version,
                                   const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls; (void)url; (void)method; (void)version;
    static int started;
    if (!*con_cls) { /* headers only: the body comes in the next calls */
        *con_cls = &started;
        pthread_mutex_lock(&seen_mu);
        seen_len = 0;
        seen_hash = 2166136261u;
        pthread_mutex_unlock(&seen_mu);
        return MHD_YES;
    }
    if (*upload_size) {
        pthread_mutex_lock(&seen_mu);
        seen_hash = fnv(seen_hash, (const unsigned char *)upload, *upload_size);
        seen_len += *upload_size;
        pthread_mutex_unlock(&seen_mu);
        *upload_size = 0;
        return MHD_YES;
    }
    char *a = malloc(ANSWER_LEN);
    for (size_t i = 0; i < ANSWER_LEN; i++)
        a[i] = (char)body_byte(i);
    struct MHD_Response *r = MHD_create_response_from_buffer(ANSWER_LEN, a, MHD_RESPMEM_MUST_FREE);
    enum MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}

typedef struct src {
    size_t len, off;
    unsigned reads;  /* read callbacks */
    size_t   most;   /* most bytes asked for at once */
} src;

static size_t src_read(void *ud, char *buf, size_t n)
{
    src *s = ud;
    s->reads++;
    if (n > s->most)
        s->most = n;
    size_t k = 0;
    for (; k < n && s->off < s->len; k++, s->off++)
        buf[k] = (char)body_byte(s->off);
    return k;
}

static void src_rewind(void *ud) { ((src *)ud)->off = 0; }

static long got_status;
static size_t got_len;
static uint32_t got_hash;

static void on_answer(void *ud, const es_answer *a)
{
    got_status = a->status;
    got_len = a->len;
    got_hash = fnv(2166136261u, (const unsigned char *)a->body, a->len);
    ev_break(ud, EVBREAK_ALL);
}

static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w; (void)revents;
    got_status = -1;
    ev_break(loop, EVBREAK_ALL);
}

static void run_request(struct ev_loop *loop)
{
    got_status = 0;
    ev_timer deadline;
    ev_timer_init(&deadline, on_deadline, 20., 0.);
    ev_timer_start(loop, &deadline);
    ev_run(loop, 0);
    ev_timer_stop(loop, &deadline);
}

static uint32_t expected_hash(size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = body_byte(i);
        h = fnv(h, &b, 1);
    }
    return h;
}

/* A streamed body reaches the server whole, read in pieces of up to
 * 1 MiB (libcurl's default 64 KiB made a 5 MiB body ~80 send() calls),
 * also on an easy handle used again and for a body under libcurl's
 * minimum buffer; a body given whole (gzip's path) too; the answer,
 * bigger than libcurl's default receive buffer, arrives whole. */
static void bulk_bodies(void **st)
{
    (void)st;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
                                              NULL, NULL, bulk_answer, NULL,
                                              MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    assert_non_null(mhd);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT)->port);
    char *urls[] = {url};
    ix_es_conf conf;
    memset(&conf, 0, sizeof conf);
    conf.urls.v = urls;
    conf.urls.n = 1;
    conf.max_inflight = 1;
    conf.timeout_ms = 20000;
    conf.connect_timeout_ms = 5000;
    conf.url_down_ms = 1000;
    conf.version = "7";
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    es_client *c = NULL;
    char err[256];
    assert_int_equal(es_new(&c, loop, &conf, err, sizeof err), 0);

    size_t sizes[] = {(size_t)3 << 20, 100, (size_t)3 << 20 | 12345};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        src s = {.len = sizes[k]};
        es_body body = {s.len, src_read, src_rewind, &s};
        assert_int_equal(es_bulk_stream(c, &body, on_answer, loop, err, sizeof err), 0);
        run_request(loop);
        assert_int_equal(got_status, 200);
        pthread_mutex_lock(&seen_mu);
        assert_int_equal(seen_len, s.len);
        assert_int_equal(seen_hash, expected_hash(s.len));
        pthread_mutex_unlock(&seen_mu);
        assert_int_equal(got_len, ANSWER_LEN);
        assert_int_equal(got_hash, expected_hash(ANSWER_LEN));
        if (s.len > ((size_t)1 << 20)) {
            assert_true(s.most >= ((size_t)512 << 10));
            assert_true(s.reads <= 8);
        }
    }

    size_t whole_len = ((size_t)2 << 20) + 7;
    char *whole = malloc(whole_len);
    for (size_t i = 0; i < whole_len; i++)
        whole[i] = (char)body_byte(i);
    assert_int_equal(es_bulk(c, whole, whole_len, false, on_answer, loop, err, sizeof err), 0);
    run_request(loop);
    assert_int_equal(got_status, 200);
    pthread_mutex_lock(&seen_mu);
    assert_int_equal(seen_len, whole_len);
    assert_int_equal(seen_hash, expected_hash(whole_len));
    pthread_mutex_unlock(&seen_mu);
    free(whole);

    es_free(c);
    ev_loop_destroy(loop);
    MHD_stop_daemon(mhd);
    curl_global_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flavours),
        cmocka_unit_test(secrets_checked),
        cmocka_unit_test(arena_window),
        cmocka_unit_test(bulk_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
