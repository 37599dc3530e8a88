/* curl_ev: concurrent transfers against a local libmicrohttpd server
 * (running in its own thread), errors, and cancellation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/curl_ev.h"
#include "common/strbuf.h"

#define NX 8

static struct MHD_Daemon *mhd;
static int mhd_port;

/* Answers "/n/<k>" with a body that names k, repeated so that bodies span
 * several reads. */
static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version,
                              const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls; (void)method; (void)version; (void)upload; (void)upload_size; (void)con_cls;
    strbuf b = STRBUF_INIT;
    int status = MHD_HTTP_OK;
    if (strncmp(url, "/n/", 3) == 0) {
        for (int i = 0; i < 2000; i++)
            sb_printf(&b, "body-%s-%d\n", url + 3, i);
    } else {
        status = MHD_HTTP_NOT_FOUND;
        sb_puts(&b, "nope\n");
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(b.len, b.buf,
                                                             MHD_RESPMEM_MUST_COPY);
    sb_free(&b);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                           answer, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    if (!mhd)
        return -1;
    mhd_port = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    MHD_stop_daemon(mhd);
    curl_global_cleanup();
    return 0;
}

typedef struct req {
    CURL    *easy;
    strbuf   body;
    int      calls;
    CURLcode res;
    long     status;
} req;

static size_t on_write(char *p, size_t sz, size_t n, void *ud)
{
    req *r = ud;
    sb_append(&r->body, p, sz * n);
    return sz * n;
}

static int pending;
static struct ev_loop *test_loop;

static void on_done(CURL *easy, CURLcode res, void *ud)
{
    req *r = ud;
    assert_ptr_equal(easy, r->easy);
    r->calls++;
    r->res = res;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status);
    if (--pending == 0)
        ev_break(test_loop, EVBREAK_ALL);
}

static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w; (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

/* Runs the loop until all expected callbacks fired, or 10 s passed. */
static void run_loop(struct ev_loop *loop)
{
    ev_timer deadline;
    ev_timer_init(&deadline, on_deadline, 10., 0.);
    ev_timer_start(loop, &deadline);
    ev_run(loop, 0);
    ev_timer_stop(loop, &deadline);
}

/* r for http://127.0.0.1:port/path (path without its leading /). */
static void req_init(req *r, int port, const char *path)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s", port, path);
    memset(r, 0, sizeof(*r));
    r->easy = curl_easy_init();
    curl_easy_setopt(r->easy, CURLOPT_URL, url);
    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    r->res = (CURLcode)-1;
}

static void req_free(req *r)
{
    curl_easy_cleanup(r->easy);
    r->easy = NULL;
    sb_free(&r->body);
}

/* Starts r's transfer on c, done → on_done. */
static void add(lf_curl_ev *c, req *r)
{
    char err[256];
    if (lf_curl_ev_add(c, r->easy, on_done, r, err, sizeof(err)))
        fail_msg("lf_curl_ev_add: %s", err);
}

/* A new loop (also test_loop) with a curl_ev on it in *c. */
static struct ev_loop *loop_new(lf_curl_ev **c)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    char err[256];
    test_loop = loop;
    assert_int_equal(lf_curl_ev_new(c, loop, err, sizeof(err)), 0);
    return loop;
}

/* A loopback TCP socket on a port the kernel picks (in *port); listening
 * (with this backlog) when backlog > 0. */
static int loopback_socket(int backlog, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    if (backlog > 0)
        assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void test_concurrent_transfers(void **state)
{
    (void)state;
    char err[256];
    lf_curl_ev *c;
    struct ev_loop *loop = loop_new(&c);
    req r[NX];
    for (int i = 0; i < NX; i++) {
        char path[32];
        snprintf(path, sizeof(path), "n/%d", i);
        req_init(&r[i], mhd_port, path);
        add(c, &r[i]);
    }
    /* Adding the same handle twice is refused. */
    assert_int_equal(lf_curl_ev_add(c, r[0].easy, on_done, &r[0], err, sizeof(err)), -1);
    assert_int_equal(lf_curl_ev_running(c), NX);
    pending = NX;
    run_loop(loop);
    assert_int_equal(pending, 0);
    assert_int_equal(lf_curl_ev_running(c), 0);
    for (int i = 0; i < NX; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].res, CURLE_OK);
        assert_int_equal(r[i].status, 200);
        strbuf want = STRBUF_INIT;
        for (int j = 0; j < 2000; j++)
            sb_printf(&want, "body-%d-%d\n", i, j);
        assert_int_equal(r[i].body.len, want.len);
        assert_memory_equal(r[i].body.buf, want.buf, want.len);
        sb_free(&want);
    }
    /* The same handles can be reused for a second round (pooled conns). */
    for (int i = 0; i < NX; i++) {
        sb_reset(&r[i].body);
        add(c, &r[i]);
    }
    pending = NX;
    run_loop(loop);
    assert_int_equal(pending, 0);
    for (int i = 0; i < NX; i++) {
        assert_int_equal(r[i].calls, 2);
        assert_int_equal(r[i].res, CURLE_OK);
        char last[32];
        snprintf(last, sizeof(last), "body-%d-1999\n", i);
        assert_true(r[i].body.len > strlen(last));
        assert_string_equal(r[i].body.buf + r[i].body.len - strlen(last), last);
        req_free(&r[i]);
    }
    lf_curl_ev_free(c);
    ev_loop_destroy(loop);
}

/* The callback may start the next transfer on the same handle at once. */
static lf_curl_ev *chain_c;
static void on_done_readd(CURL *easy, CURLcode res, void *ud)
{
    req *r = ud;
    char err[256];
    r->calls++;
    r->res = res;
    if (r->calls < 3) {
        sb_reset(&r->body);
        assert_int_equal(lf_curl_ev_add(chain_c, easy, on_done_readd, r, err, sizeof(err)), 0);
    } else {
        ev_break(test_loop, EVBREAK_ALL);
    }
}

static void test_readd_from_callback(void **state)
{
    (void)state;
    char err[256];
    struct ev_loop *loop = loop_new(&chain_c);
    req r;
    req_init(&r, mhd_port, "n/x");
    assert_int_equal(lf_curl_ev_add(chain_c, r.easy, on_done_readd, &r, err, sizeof(err)), 0);
    run_loop(loop);
    assert_int_equal(r.calls, 3);
    assert_int_equal(r.res, CURLE_OK);
    assert_true(r.body.len > 0);
    assert_non_null(strstr(sb_str(&r.body), "body-x-1999\n"));
    req_free(&r);
    lf_curl_ev_free(chain_c);
    chain_c = NULL;
    ev_loop_destroy(loop);
}

/* A port nobody listens on: bind, note the port, close. */
static int dead_port(void)
{
    int port;
    close(loopback_socket(0, &port));
    return port;
}

static void test_connection_refused(void **state)
{
    (void)state;
    lf_curl_ev *c;
    struct ev_loop *loop = loop_new(&c);
    req bad, good;
    req_init(&bad, dead_port(), "n/1");
    req_init(&good, mhd_port, "n/2");
    add(c, &bad);
    add(c, &good);
    pending = 2;
    run_loop(loop);
    assert_int_equal(pending, 0);
    assert_int_equal(bad.calls, 1);
    assert_int_equal(bad.res, CURLE_COULDNT_CONNECT);
    assert_int_equal(good.calls, 1);
    assert_int_equal(good.res, CURLE_OK);
    req_free(&bad);
    req_free(&good);
    lf_curl_ev_free(c);
    ev_loop_destroy(loop);
}

/* A transfer to a server that accepts connections but never answers is
 * removed: its callback never fires, the others complete, and freeing
 * with a transfer still in flight is clean. */
static void test_remove_without_callback(void **state)
{
    (void)state;
    int silent_port;
    int lfd = loopback_socket(8, &silent_port); /* accepts, never answers */
    lf_curl_ev *c;
    struct ev_loop *loop = loop_new(&c);
    req hang, hang2, good;
    req_init(&hang, silent_port, "");
    req_init(&hang2, silent_port, "");
    req_init(&good, mhd_port, "n/3");
    add(c, &hang);
    add(c, &hang2);
    add(c, &good);
    pending = 1;
    run_loop(loop); /* returns when good is done */
    assert_int_equal(good.calls, 1);
    assert_int_equal(good.res, CURLE_OK);
    assert_int_equal(lf_curl_ev_running(c), 2);
    lf_curl_ev_remove(c, hang.easy);
    assert_int_equal(lf_curl_ev_running(c), 1);
    lf_curl_ev_remove(c, hang.easy); /* not running any more: no-op */
    /* Give the loop another transfer to finish so removed state is exercised. */
    add(c, &good);
    pending = 1;
    run_loop(loop);
    assert_int_equal(good.calls, 2);
    assert_int_equal(hang.calls, 0);
    assert_int_equal(hang2.calls, 0);
    /* hang2 still in flight: free aborts it without a callback. */
    lf_curl_ev_free(c);
    assert_int_equal(hang2.calls, 0);
    req_free(&hang);
    req_free(&hang2);
    req_free(&good);
    close(lfd);
    ev_loop_destroy(loop);
}

/* A per-transfer timeout in milliseconds fires through the ev_timer and
 * reports CURLE_OPERATION_TIMEDOUT, well before a whole second passes. */
static void test_timeout_ms(void **state)
{
    (void)state;
    int silent_port;
    int lfd = loopback_socket(8, &silent_port); /* accepts, never answers */
    lf_curl_ev *c;
    struct ev_loop *loop = loop_new(&c);
    req r;
    req_init(&r, silent_port, "");
    curl_easy_setopt(r.easy, CURLOPT_TIMEOUT_MS, 300L);
    ev_now_update(loop);
    ev_tstamp t0 = ev_now(loop);
    add(c, &r);
    pending = 1;
    run_loop(loop);
    ev_now_update(loop);
    double took = ev_now(loop) - t0;
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.res, CURLE_OPERATION_TIMEDOUT);
    assert_true(took >= 0.25 && took < 3.0);
    req_free(&r);
    lf_curl_ev_free(c);
    close(lfd);
    ev_loop_destroy(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_transfers),
        cmocka_unit_test(test_readd_from_callback),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_remove_without_callback),
        cmocka_unit_test(test_timeout_ms),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
