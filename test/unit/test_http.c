/* http: the endpoint on an ev loop, scraped by the real curl command run as
 * a child process while the loop serves it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/http.h"
#include "common/metrics.h"

extern char **environ;

typedef struct reply {
    int    status;      /* of the last response */
    strbuf raw;         /* everything curl printed */
    const char *body;   /* into raw: after the last header block */
    int    curl_rc;
} reply;

static void on_pipe(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    reply *r = w->data;
    char buf[4096];
    ssize_t n = read(w->fd, buf, sizeof(buf));
    if (n > 0) {
        sb_append(&r->raw, buf, (size_t)n);
        return;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    ev_io_stop(loop, w);
    ev_break(loop, EVBREAK_ALL);
}

static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w; (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

/* Runs curl (argv without the program name) to completion while the loop
 * serves, and parses the last status line and body of its -i output. */
static void run_curl(struct ev_loop *loop, reply *r, const char *const *args)
{
    const char *argv[32] = {"curl", "-sS", "-i", "--max-time", "10", "-H", "Expect:"};
    int n = 7;
    for (int i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    memset(r, 0, sizeof(*r));
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    pid_t pid;
    assert_int_equal(posix_spawnp(&pid, "curl", &fa, NULL, (char *const *)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    ev_io io;
    ev_io_init(&io, on_pipe, p[0], EV_READ);
    io.data = r;
    ev_io_start(loop, &io);
    ev_timer deadline;
    ev_timer_init(&deadline, on_deadline, 20., 0.);
    ev_timer_start(loop, &deadline);
    ev_run(loop, 0);
    ev_timer_stop(loop, &deadline);
    ev_io_stop(loop, &io);
    close(p[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    r->curl_rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    /* Last response: find the last "HTTP/" status line. */
    const char *s = sb_str(&r->raw), *last = NULL;
    for (const char *q = s; (q = strstr(q, "HTTP/1.")); q++)
        if (q == s || q[-1] == '\n')
            last = q;
    r->status = last ? atoi(last + 9) : -1;
    const char *hdr_end = last ? strstr(last, "\r\n\r\n") : NULL;
    r->body = hdr_end ? hdr_end + 4 : "";
}

static void get(struct ev_loop *loop, reply *r, const char *url)
{
    const char *args[] = {url, NULL};
    run_curl(loop, r, args);
}

static char *url_of(const lf_http *h, const char *path)
{
    static char buf[256];
    snprintf(buf, sizeof(buf), "http://127.0.0.1:%d%s", lf_http_port(h), path);
    return buf;
}

typedef struct fixture {
    struct ev_loop *loop;
    lf_http        *h;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char err[256];
    f->loop = ev_loop_new(EVFLAG_AUTO);
    if (lf_http_start(&f->h, f->loop, "127.0.0.1:0", err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    lf_http_stop(f->h);
    ev_loop_destroy(f->loop);
    free(f);
    lf_metrics_reset();
    return 0;
}

static void test_metrics_scrape(void **state)
{
    fixture *f = *state;
    assert_true(lf_http_port(f->h) > 0);
    lf_metric *m = lf_counter_new("lines_total", "Lines.", "source");
    lf_counter_add(lf_series_of(m, "nginx"), 7);
    reply r;
    get(f->loop, &r, url_of(f->h, "/metrics"));
    assert_int_equal(r.curl_rc, 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(sb_str(&r.raw), "Content-Type: text/plain; version=0.0.4"));
    assert_string_equal(r.body, "# HELP logferry_lines_total Lines.\n"
                                "# TYPE logferry_lines_total counter\n"
                                "logferry_lines_total{source=\"nginx\"} 7\n");
    sb_free(&r.raw);

    /* HEAD: headers only. */
    const char *head[] = {"-I", url_of(f->h, "/metrics"), NULL};
    run_curl(f->loop, &r, head);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "");
    sb_free(&r.raw);
}

static int healthy;
static int health_cb(void *ud, char *buf, size_t len)
{
    assert_ptr_equal(ud, &healthy);
    if (healthy)
        return 0;
    snprintf(buf, len, "kafka: all brokers down");
    return -1;
}

static void test_healthz(void **state)
{
    fixture *f = *state;
    reply r;
    get(f->loop, &r, url_of(f->h, "/healthz"));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok\n");
    sb_free(&r.raw);

    lf_http_set_health(f->h, health_cb, &healthy);
    healthy = 0;
    get(f->loop, &r, url_of(f->h, "/healthz"));
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "kafka: all brokers down\n");
    sb_free(&r.raw);

    healthy = 1;
    get(f->loop, &r, url_of(f->h, "/healthz"));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok\n");
    sb_free(&r.raw);
}

static void test_not_found_and_method(void **state)
{
    fixture *f = *state;
    reply r;
    get(f->loop, &r, url_of(f->h, "/nope"));
    assert_int_equal(r.status, 404);
    sb_free(&r.raw);
    get(f->loop, &r, url_of(f->h, "/metrics/"));
    assert_int_equal(r.status, 404);
    sb_free(&r.raw);

    const char *post[] = {"-X", "POST", "--data", "x=1", url_of(f->h, "/metrics"), NULL};
    run_curl(f->loop, &r, post);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(sb_str(&r.raw), "Allow: GET, HEAD"));
    sb_free(&r.raw);
    const char *del[] = {"-X", "DELETE", url_of(f->h, "/healthz"), NULL};
    run_curl(f->loop, &r, del);
    assert_int_equal(r.status, 405);
    sb_free(&r.raw);
}

static int route_calls;
static int status_route(void *ud, const char *path, const char *query,
                        strbuf *body, const char **content_type)
{
    route_calls++;
    sb_printf(body, "{\"ud\":\"%s\",\"path\":\"%s\",\"query\":\"%s\"}\n",
              (const char *)ud, path, query);
    *content_type = "application/json";
    return 200;
}

static int teapot_route(void *ud, const char *path, const char *query,
                        strbuf *body, const char **content_type)
{
    (void)ud; (void)path; (void)query; (void)content_type;
    return 418; /* empty body, default content type */
}

static void test_custom_routes(void **state)
{
    fixture *f = *state;
    assert_int_equal(lf_http_route(f->h, "/status", status_route, "u1"), 0);
    assert_int_equal(lf_http_route(f->h, "/tea", teapot_route, NULL), 0);
    reply r;
    get(f->loop, &r, url_of(f->h, "/status?verbose=1&x=a%20b"));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(sb_str(&r.raw), "Content-Type: application/json"));
    assert_string_equal(r.body, "{\"ud\":\"u1\",\"path\":\"/status\",\"query\":\"verbose=1&x=a%20b\"}\n");
    sb_free(&r.raw);

    /* Re-registering replaces the handler; no query gives "". */
    assert_int_equal(lf_http_route(f->h, "/status", status_route, "u2"), 0);
    get(f->loop, &r, url_of(f->h, "/status"));
    assert_string_equal(r.body, "{\"ud\":\"u2\",\"path\":\"/status\",\"query\":\"\"}\n");
    sb_free(&r.raw);

    get(f->loop, &r, url_of(f->h, "/tea"));
    assert_int_equal(r.status, 418);
    assert_string_equal(r.body, "");
    sb_free(&r.raw);

    /* Several requests on one kept-alive connection. */
    route_calls = 0;
    char u1[256], u2[256], u3[256];
    snprintf(u1, sizeof(u1), "%s", url_of(f->h, "/status"));
    snprintf(u2, sizeof(u2), "%s", url_of(f->h, "/healthz"));
    snprintf(u3, sizeof(u3), "%s", url_of(f->h, "/status?n=3"));
    const char *many[] = {u1, u2, u3, NULL};
    run_curl(f->loop, &r, many);
    assert_int_equal(r.curl_rc, 0);
    assert_int_equal(route_calls, 2);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"ud\":\"u2\",\"path\":\"/status\",\"query\":\"n=3\"}\n");
    sb_free(&r.raw);
}

/* A client that sends half a request and stalls does not hold up others:
 * MHD runs non-blocking on the loop. */
static void test_stalled_client(void **state)
{
    fixture *f = *state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons((uint16_t)lf_http_port(f->h))};
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    const char partial[] = "GET /metr";
    assert_int_equal(write(fd, partial, strlen(partial)), (ssize_t)strlen(partial));
    reply r;
    get(f->loop, &r, url_of(f->h, "/healthz"));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok\n");
    sb_free(&r.raw);
    close(fd);
}

static void test_listen_parsing(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    char err[256];
    lf_http *h = (lf_http *)1;
    assert_int_equal(lf_http_start(&h, loop, "off", err, sizeof(err)), 0);
    assert_null(h);
    h = (lf_http *)1;
    assert_int_equal(lf_http_start(&h, loop, "", err, sizeof(err)), 0);
    assert_null(h);
    lf_http_stop(NULL);

    static const char *const bad[] = {"127.0.0.1", "127.0.0.1:", "127.0.0.1:99999",
                                      "127.0.0.1:-1", "127.0.0.1:80x", "[::1]9520",
                                      "::1:9520", "[]:1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(lf_http_start(&h, loop, bad[i], err, sizeof(err)), -1);
        assert_null(h);
        assert_non_null(strstr(err, bad[i])); /* the error names the value */
    }

    /* IPv6 loopback, port 0. */
    reply r;
    char url[128];
    assert_int_equal(lf_http_start(&h, loop, "[::1]:0", err, sizeof(err)), 0);
    snprintf(url, sizeof(url), "http://[::1]:%d/healthz", lf_http_port(h));
    const char *v6[] = {"-g", url, NULL};
    run_curl(loop, &r, v6);
    assert_int_equal(r.status, 200);
    sb_free(&r.raw);

    /* A port in use is refused with the system's reason. */
    char busy[64];
    lf_http *h2 = NULL;
    snprintf(busy, sizeof(busy), "[::1]:%d", lf_http_port(h));
    assert_int_equal(lf_http_start(&h2, loop, busy, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "Address already in use"));
    lf_http_stop(h);

    /* All addresses: reachable over IPv4 and IPv6 loopback. */
    assert_int_equal(lf_http_start(&h, loop, ":0", err, sizeof(err)), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", lf_http_port(h));
    get(loop, &r, url);
    assert_int_equal(r.status, 200);
    sb_free(&r.raw);
    snprintf(url, sizeof(url), "http://[::1]:%d/healthz", lf_http_port(h));
    run_curl(loop, &r, v6);
    assert_int_equal(r.status, 200);
    sb_free(&r.raw);
    lf_http_stop(h);

    /* A name resolves too. */
    assert_int_equal(lf_http_start(&h, loop, "localhost:0", err, sizeof(err)), 0);
    lf_http_stop(h);
    ev_loop_destroy(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_metrics_scrape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_healthz, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found_and_method, setup, teardown),
        cmocka_unit_test_setup_teardown(test_custom_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stalled_client, setup, teardown),
        cmocka_unit_test(test_listen_parsing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
