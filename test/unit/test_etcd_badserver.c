/* etcd client against a fake gateway (libmicrohttpd in its own threads)
 * that answers what a real etcd never would, or rarely does: bad JSON, bad
 * base64, HTTP errors, oversized answers, garbage on the watch stream, a
 * stream that ends, a watch never created, auth without a token, 401s.
 * Each must end in a BACKOFF/AUTH_FAILED report naming the problem: never
 * a crash, a hang or a silent success. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include "common/strbuf.h"
#include <unistd.h>
#include "common/curl_ev.h"
#include "common/etcd.h"

/* ---- the fake server ---- */

static struct {
    int         range_status, range2_status, auth_status, watch_status;
    const char *range_body, *range2_body, *auth_body, *watch_body;
    bool        watch_hold;              /* keep the stream open after the body */
    atomic_int  n_range, n_watch, n_auth;
    atomic_bool stop;
    char        range_authz[128];
} srv;

typedef struct conn { strbuf up; } conn;
typedef struct stream { const char *body; size_t len; } stream;

static ssize_t watch_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream *s = cls;
    if (pos < s->len) {
        size_t n = s->len - (size_t)pos < max ? s->len - (size_t)pos : max;
        memcpy(buf, s->body + pos, n);
        return (ssize_t)n;
    }
    if (!srv.watch_hold || atomic_load(&srv.stop))
        return MHD_CONTENT_READER_END_OF_STREAM;
    struct timespec ts = {0, 10 * 1000 * 1000}; /* thread per connection: may block */
    nanosleep(&ts, NULL);
    return 0;
}

static void stream_free(void *cls)
{
    free(cls);
}

static enum MHD_Result reply(struct MHD_Connection *c, int status, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *up,
                               size_t *up_size, void **con_cls)
{
    if (!*con_cls) {
        *con_cls = calloc(1, sizeof(conn));
        return MHD_YES;
    }
    conn *cn = *con_cls;
    if (*up_size) {
        sb_append(&cn->up, up, *up_size);
        *up_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/v3/auth/authenticate") == 0) {
        atomic_fetch_add(&srv.n_auth, 1);
        return reply(c, srv.auth_status, srv.auth_body);
    }
    if (strcmp(url, "/v3/kv/range") == 0) {
        int n = atomic_fetch_add(&srv.n_range, 1);
        const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        snprintf(srv.range_authz, sizeof srv.range_authz, "%s", a ? a : "");
        if (n > 0 && srv.range2_body)
            return reply(c, srv.range2_status, srv.range2_body);
        return reply(c, srv.range_status, srv.range_body);
    }
    if (strcmp(url, "/v3/watch") == 0) {
        atomic_fetch_add(&srv.n_watch, 1);
        if (srv.watch_status != 200)
            return reply(c, srv.watch_status, srv.watch_body);
        stream *s = calloc(1, sizeof *s);
        s->body = srv.watch_body;
        s->len = strlen(srv.watch_body);
        struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 256,
                                                                   watch_reader, s, stream_free);
        enum MHD_Result rc = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return rc;
    }
    return reply(c, 404, "{}");
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    conn *cn = *con_cls;
    if (cn) {
        sb_free(&cn->up);
        free(cn);
        *con_cls = NULL;
    }
}

static struct MHD_Daemon *daemon_;
static char endpoint[64];

static int group_setup(void **st)
{
    daemon_ = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                                   MHD_USE_ERROR_LOG,
                               0, NULL, NULL, handler, NULL, MHD_OPTION_NOTIFY_COMPLETED,
                               completed, NULL, MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
    if (!daemon_)
        return -1;
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%u", (unsigned)i->port);
    return 0;
}

static int group_teardown(void **st)
{
    atomic_store(&srv.stop, true);
    MHD_stop_daemon(daemon_);
    return 0;
}

/* ---- the client side ---- */

static struct {
    int  backoffs, auth_failed, snapshots, watching;
    char why[600];
    size_t snap_n;
    char snap_key[64], snap_val[64];
    int  n_ev;
    lf_etcd_event_type ev_type[8];
    char ev_key[8][64], ev_val[8][64];
    int64_t ev_rev[8];
} obs;

static void on_snapshot(void *ud, const lf_etcd_kv *kvs, size_t n, int64_t rev)
{
    obs.snapshots++;
    obs.snap_n = n;
    if (n) {
        snprintf(obs.snap_key, sizeof obs.snap_key, "%s", kvs[0].key);
        snprintf(obs.snap_val, sizeof obs.snap_val, "%s", kvs[0].value);
    }
}

static void on_events(void *ud, const lf_etcd_event *ev, size_t n, int64_t rev)
{
    for (size_t i = 0; i < n && obs.n_ev < 8; i++, obs.n_ev++) {
        obs.ev_type[obs.n_ev] = ev[i].type;
        snprintf(obs.ev_key[obs.n_ev], 64, "%s", ev[i].kv.key);
        snprintf(obs.ev_val[obs.n_ev], 64, "%s", ev[i].kv.value ? ev[i].kv.value : "(null)");
        obs.ev_rev[obs.n_ev] = ev[i].kv.mod_revision;
    }
}

static void on_state(void *ud, lf_etcd_state s, const char *ep, const char *why)
{
    if (s == LF_ETCD_BACKOFF || s == LF_ETCD_AUTH_FAILED) {
        if (s == LF_ETCD_BACKOFF)
            obs.backoffs++;
        else
            obs.auth_failed++;
        snprintf(obs.why, sizeof obs.why, "%s", why ? why : "");
    } else if (s == LF_ETCD_WATCHING) {
        obs.watching++;
    }
}

static void tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    if (obs.backoffs + obs.auth_failed > 0)
        ev_break(loop, EVBREAK_ALL);
}

static void deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
    ev_break(loop, EVBREAK_ALL);
}

static const char *pwfile;

/* Runs a client until its first failure report (or 5 s). */
static lf_etcd_stats run(size_t max_bytes, bool auth)
{
    memset(&obs, 0, sizeof obs);
    atomic_store(&srv.n_range, 0);
    atomic_store(&srv.n_watch, 0);
    atomic_store(&srv.n_auth, 0);
    srv.range_authz[0] = '\0';
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    lf_curl_ev *curl = NULL;
    lf_etcd *e = NULL;
    char err[256];
    assert_int_equal(lf_curl_ev_new(&curl, loop, err, sizeof err), 0);
    const char *eps[] = { endpoint };
    lf_etcd_opts o = { .endpoints = eps, .n_endpoints = 1, .request_timeout_ms = 300,
                       .backoff_min_ms = 50, .backoff_max_ms = 100,
                       .max_response_bytes = max_bytes };
    if (auth) {
        o.username = "root";
        o.password_file = pwfile;
    }
    assert_int_equal(lf_etcd_new(&e, loop, curl, &o, err, sizeof err), 0);
    const char *pfx[] = { "/a/" };
    lf_etcd_cbs cbs = { on_snapshot, on_events, on_state };
    assert_int_equal(lf_etcd_follow(e, pfx, 1, &cbs, NULL, err, sizeof err), 0);
    ev_timer t, d;
    ev_timer_init(&t, tick, 0.01, 0.01);
    ev_timer_init(&d, deadline, 5., 0.);
    ev_timer_start(loop, &t);
    ev_timer_start(loop, &d);
    ev_run(loop, 0);
    lf_etcd_stats st;
    lf_etcd_stats_get(e, &st);
    lf_etcd_free(e);
    lf_curl_ev_free(curl);
    ev_loop_destroy(loop);
    return st;
}

#define OK_RANGE "{\"header\":{\"revision\":\"5\"},\"kvs\":[{\"key\":\"L2EvMQ==\",\"value\":\"dg==\",\"mod_revision\":\"4\"}],\"count\":\"1\"}"
#define CREATED "{\"result\":{\"header\":{\"revision\":\"5\"},\"created\":true}}\n"

static void set(int rs, const char *rb, int ws, const char *wb, bool hold)
{
    srv.range_status = rs;
    srv.range_body = rb;
    srv.range2_body = NULL;
    srv.watch_status = ws;
    srv.watch_body = wb;
    srv.watch_hold = hold;
}

static void expect_why(const char *needle)
{
    if (!strstr(obs.why, needle))
        fail_msg("why \"%s\" lacks \"%s\"", obs.why, needle);
}

static void test_range_not_json(void **st)
{
    set(200, "this is not json", 200, "", false);
    lf_etcd_stats s = run(0, false);
    assert_int_equal(obs.backoffs, 1);
    expect_why("range /a/: unexpected answer: this is not json");
    assert_int_equal(obs.snapshots, 0);
    assert_int_equal(s.reconnects, 1);
}

static void test_range_http_error(void **st)
{
    set(500, "{\"error\":\"boom\",\"message\":\"boom\",\"code\":13}", 200, "", false);
    run(0, false);
    expect_why("HTTP 500: boom (code 13)");
    set(503, "<html>busy</html>", 200, "", false);
    run(0, false);
    expect_why("HTTP 503: <html>busy</html>");
}

static void test_range_bad_kv(void **st)
{
    set(200, "{\"header\":{\"revision\":\"5\"},\"kvs\":[{\"key\":\"!!!\"}]}", 200, "", false);
    run(0, false);
    expect_why("bad kv");
    assert_int_equal(obs.snapshots, 0);
    set(200, "{\"header\":{\"revision\":\"5\"},\"kvs\":[],\"more\":true}", 200, "", false);
    run(0, false);
    expect_why("unexpected answer");
    set(200, "{\"kvs\":[]}", 200, "", false); /* no revision */
    run(0, false);
    expect_why("unexpected answer");
}

static void test_range_too_big(void **st)
{
    static char big[4096];
    memset(big, ' ', sizeof big - 1);
    memcpy(big, OK_RANGE, strlen(OK_RANGE));
    set(200, big, 200, "", false);
    run(1024, false);
    expect_why("larger than max_response_bytes (1024)");
    assert_int_equal(obs.snapshots, 0);
}

static void test_watch_garbage(void **st)
{
    set(200, OK_RANGE, 200, CREATED "garbage\n", true);
    run(0, false);
    assert_int_equal(obs.snapshots, 1);
    assert_int_equal(obs.snap_n, 1);
    assert_string_equal(obs.snap_key, "/a/1");
    assert_string_equal(obs.snap_val, "v");
    expect_why("watch /a/: unexpected data: garbage");
}

static void test_watch_events_then_end(void **st)
{
    set(200, OK_RANGE, 200,
        CREATED
        "{\"result\":{\"header\":{\"revision\":\"7\"},\"events\":["
        "{\"kv\":{\"key\":\"L2EvMg==\",\"mod_revision\":\"6\"}},"
        "{\"type\":\"DELETE\",\"kv\":{\"key\":\"L2EvMQ==\",\"mod_revision\":\"7\"}}]}}\r\n"
        "\n{\"result\":{\"header\":{\"revision\":\"8\"}}}\n", /* progress notify */
        false);
    lf_etcd_stats s = run(0, false);
    assert_int_equal(obs.watching, 1);
    assert_int_equal(obs.n_ev, 2);
    assert_int_equal(obs.ev_type[0], LF_ETCD_PUT); /* no "type" = PUT */
    assert_string_equal(obs.ev_key[0], "/a/2");
    assert_string_equal(obs.ev_val[0], "");         /* no "value" = empty */
    assert_int_equal(obs.ev_rev[0], 6);
    assert_int_equal(obs.ev_type[1], LF_ETCD_DELETE);
    assert_string_equal(obs.ev_key[1], "/a/1");
    assert_string_equal(obs.ev_val[1], "(null)");
    expect_why("stream closed by the server");
    assert_int_equal(s.revision, 8);
    assert_int_equal(s.events, 2);
}

static void test_watch_never_created(void **st)
{
    set(200, OK_RANGE, 200, "", true);
    run(0, false);
    expect_why("watch not created within 300 ms");
}

static void test_watch_line_too_long(void **st)
{
    static char body[8192];
    size_t n = (size_t)snprintf(body, sizeof body, "%s{\"result\":{\"x\":\"", CREATED);
    memset(body + n, 'x', 3000);
    body[n + 3000] = '\0';
    set(200, OK_RANGE, 200, body, true);
    run(1024, false);
    expect_why("a message larger than max_response_bytes (1024)");
}

static void test_watch_http_error_and_cancel(void **st)
{
    set(200, OK_RANGE, 404, "{\"error\":\"nope\",\"message\":\"Not Found\",\"code\":5}", false);
    run(0, false);
    expect_why("watch /a/: HTTP 404: Not Found (code 5)");
    set(200, OK_RANGE, 200,
        CREATED "{\"result\":{\"canceled\":true,\"cancel_reason\":\"some reason\"}}\n", true);
    run(0, false);
    expect_why("watch /a/ canceled: some reason");
    set(200, OK_RANGE, 200, "{\"error\":{\"grpc_code\":14,\"message\":\"unavailable\"}}\n", true);
    run(0, false);
    expect_why("watch /a/: unavailable");
}

static void test_auth(void **st)
{
    char path[] = "/tmp/lf-etcd-pw.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "pw\n", 3), 3);
    close(fd);
    pwfile = path;

    /* a token is sent bare in Authorization */
    srv.auth_status = 200;
    srv.auth_body = "{\"header\":{},\"token\":\"tok1.2\"}";
    set(200, OK_RANGE, 200, "", false);
    run(0, true);
    assert_string_equal(srv.range_authz, "tok1.2");
    assert_int_equal(obs.snapshots, 1);

    /* 401 once: re-authenticate at once and go on */
    set(401, "{\"error\":\"etcdserver: invalid auth token\",\"message\":\"etcdserver: invalid auth token\",\"code\":16}",
        200, "", false);
    srv.range2_status = 200;
    srv.range2_body = OK_RANGE;
    run(0, true);
    assert_int_equal(atomic_load(&srv.n_auth), 2);
    assert_int_equal(obs.snapshots, 1);
    expect_why("stream closed by the server"); /* the first failure is the end of the watch */

    /* 401 right after a fresh token: not a loop, an auth failure */
    set(401, "{\"message\":\"etcdserver: invalid auth token\",\"code\":16}", 200, "", false);
    lf_etcd_stats s = run(0, true);
    assert_int_equal(obs.auth_failed, 1);
    assert_int_equal(atomic_load(&srv.n_auth), 2);
    expect_why("invalid auth token");
    assert_int_equal(s.auth_failures, 1);

    /* wrong password */
    srv.auth_status = 400;
    srv.auth_body = "{\"message\":\"etcdserver: authentication failed, invalid user ID or password\",\"code\":3}";
    run(0, true);
    assert_int_equal(obs.auth_failed, 1);
    expect_why("authentication as root failed: HTTP 400: etcdserver: authentication failed");

    /* no token in a 200 */
    srv.auth_status = 200;
    srv.auth_body = "{\"header\":{}}";
    run(0, true);
    assert_int_equal(obs.backoffs, 1);
    expect_why("without a usable token");

    /* unreadable / empty password file */
    pwfile = "/nonexistent/pw";
    run(0, true);
    assert_int_equal(obs.auth_failed, 1);
    expect_why("cannot read password_file /nonexistent/pw");
    assert_int_equal(atomic_load(&srv.n_auth), 0);
    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    pwfile = path;
    run(0, true);
    expect_why("is empty");
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_not_json),
        cmocka_unit_test(test_range_http_error),
        cmocka_unit_test(test_range_bad_kv),
        cmocka_unit_test(test_range_too_big),
        cmocka_unit_test(test_watch_garbage),
        cmocka_unit_test(test_watch_events_then_end),
        cmocka_unit_test(test_watch_never_created),
        cmocka_unit_test(test_watch_line_too_long),
        cmocka_unit_test(test_watch_http_error_and_cancel),
        cmocka_unit_test(test_auth),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
