/* etcd_sources: merging _all and host keys, rejections by reason, the last
 * good version kept, the atomic cache and its use while etcd is down.
 * Most cases feed snapshots/events directly; the last one runs the module
 * against a real etcd (skipped when /usr/bin/etcd is missing). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>
#include "collector/etcd_sources.h"
#include "common/curl_ev.h"

#define PFX "/lf"
#define ALL PFX "/collect/_all/"
#define HOST PFX "/collect/web1/"

typedef struct rec {
    int          calls;          /* on_sources */
    size_t       n;
    char         names[16][64];
    char         topics[16][64];
    char         origins[16][128];
    int          rejects;
    char         last_key[256], last_reason[16], last_msg[600];
    bool         last_kept;
    int          cache_errors, cache_infos;
    char         last_cache[600];
    int          states;
} rec;

static void on_sources(void *ud, const source_conf *set, size_t n)
{
    rec *r = ud;
    r->calls++;
    r->n = n;
    for (size_t i = 0; i < n && i < 16; i++) {
        snprintf(r->names[i], sizeof r->names[i], "%s", set[i].name);
        snprintf(r->topics[i], sizeof r->topics[i], "%s", set[i].topic);
        snprintf(r->origins[i], sizeof r->origins[i], "%s", set[i].origin);
    }
}

static void on_reject(void *ud, const char *key, const char *reason, const char *msg, bool kept)
{
    rec *r = ud;
    r->rejects++;
    snprintf(r->last_key, sizeof r->last_key, "%s", key);
    snprintf(r->last_reason, sizeof r->last_reason, "%s", reason);
    snprintf(r->last_msg, sizeof r->last_msg, "%s", msg);
    r->last_kept = kept;
}

static void on_cache(void *ud, bool error, const char *msg)
{
    rec *r = ud;
    if (error)
        r->cache_errors++;
    else
        r->cache_infos++;
    snprintf(r->last_cache, sizeof r->last_cache, "%s", msg);
}

static void on_state(void *ud, lf_etcd_state st, const char *ep, const char *why)
{
    ((rec *)ud)->states++;
}

static char tmp[256];
static char *allowed_v[1];
static cfg_list allowed = { allowed_v, 1 };
static char allowed_glob[300];

static int setup(void **st)
{
    snprintf(tmp, sizeof tmp, "/tmp/lf-etcdsrc.XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    char *r = realpath(tmp, NULL);
    snprintf(tmp, sizeof tmp, "%s", r);
    free(r);
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/logs", tmp);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/state", tmp);
    mkdir(p, 0700);
    snprintf(allowed_glob, sizeof allowed_glob, "%s/logs/**", tmp);
    allowed_v[0] = allowed_glob;
    return 0;
}

static pid_t etcd_pid; /* killed in teardown even when a test failed midway */

static int teardown(void **st)
{
    if (etcd_pid > 0) {
        kill(etcd_pid, SIGKILL);
        waitpid(etcd_pid, NULL, 0);
        etcd_pid = 0;
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static etcd_sources *mk(rec *r, const char *host, bool cache)
{
    char sd[300];
    snprintf(sd, sizeof sd, "%s/state", tmp);
    etcd_sources_opts o = { PFX, host, &allowed, cache ? sd : NULL };
    etcd_sources_cbs cbs = { on_sources, on_reject, on_state, on_cache };
    etcd_sources *s = NULL;
    char err[256];
    assert_int_equal(etcd_sources_new(&s, &o, &cbs, r, err, sizeof err), 0);
    return s;
}

/* a value for source paths under the test's allowed dir */
static char *val(const char *topic, const char *sub)
{
    static char buf[4][512];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, 512, "{\"paths\":[\"%s/logs/%s/*.log\"],\"topic\":\"%s\"}", tmp, sub, topic);
    return b;
}

static lf_etcd_kv kv(const char *k, const char *v)
{
    lf_etcd_kv x = { k, strlen(k), v, v ? strlen(v) : 0, 1 };
    return x;
}

static void put(etcd_sources *s, const char *k, const char *v)
{
    lf_etcd_event e = { LF_ETCD_PUT, kv(k, v) };
    etcd_sources_on_events(s, &e, 1, 10);
}

static void del(etcd_sources *s, const char *k)
{
    lf_etcd_event e = { LF_ETCD_DELETE, kv(k, NULL) };
    etcd_sources_on_events(s, &e, 1, 11);
}

static void test_merge_host_wins(void **st)
{
    rec r = {0};
    etcd_sources *s = mk(&r, "web1", false);
    lf_etcd_kv kvs[] = { kv(ALL "nginx", val("all-nginx", "n")), kv(HOST "nginx", val("host-nginx", "n")),
                         kv(ALL "app", val("app", "a")) };
    etcd_sources_on_snapshot(s, kvs, 3, 5);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.names[0], "app"); /* sorted by name */
    assert_string_equal(r.names[1], "nginx");
    assert_string_equal(r.topics[1], "host-nginx");
    assert_string_equal(r.origins[1], "etcd:" HOST "nginx");
    /* deleting the host key falls back to _all */
    del(s, HOST "nginx");
    assert_int_equal(r.calls, 2);
    assert_string_equal(r.topics[1], "all-nginx");
    /* deleting _all's removes the source */
    del(s, ALL "nginx");
    assert_int_equal(r.calls, 3);
    assert_int_equal(r.n, 1);
    /* a put of the same value changes nothing: no call */
    put(s, ALL "app", val("app", "a"));
    assert_int_equal(r.calls, 3);
    /* a host key for a new name adds it */
    put(s, HOST "zz", val("zz", "z"));
    assert_int_equal(r.calls, 4);
    assert_int_equal(r.n, 2);
    etcd_sources_stats stt;
    etcd_sources_stats_get(s, &stt);
    assert_int_equal(stt.active, 2);
    assert_int_equal(stt.revision, 10);
    etcd_sources_free(s);
}

static void test_rejections(void **st)
{
    rec r = {0};
    etcd_sources *s = mk(&r, "web1", false);
    lf_etcd_kv kvs[] = { kv(ALL "good", val("g", "g")) };
    etcd_sources_on_snapshot(s, kvs, 1, 5);
    assert_int_equal(r.calls, 1);

    put(s, ALL "bad1", "{not json");
    assert_int_equal(r.rejects, 1);
    assert_string_equal(r.last_reason, "json");
    assert_string_equal(r.last_key, ALL "bad1");
    assert_non_null(strstr(r.last_msg, "invalid JSON"));
    assert_false(r.last_kept);

    put(s, ALL "bad2", "{\"paths\":[\"/x\"],\"topic\":7}");
    assert_string_equal(r.last_reason, "field");
    assert_non_null(strstr(r.last_msg, "\"topic\""));

    char v[600];
    snprintf(v, sizeof v, "{\"paths\":[\"%s/logs/a.log\"]}", tmp);
    put(s, ALL "bad3", v);
    assert_string_equal(r.last_reason, "field");
    assert_non_null(strstr(r.last_msg, "topic\": missing"));

    put(s, ALL "bad4", "{\"paths\":[\"/etc/*\"],\"topic\":\"t\"}");
    assert_string_equal(r.last_reason, "path");
    assert_non_null(strstr(r.last_msg, "/etc/* is outside allowed_paths"));

    char t[PATH_MAX], l[PATH_MAX];
    snprintf(t, sizeof t, "%s/state", tmp);
    snprintf(l, sizeof l, "%s/logs/escape", tmp);
    assert_int_equal(symlink(t, l), 0);
    snprintf(v, sizeof v, "{\"paths\":[\"%s/logs/escape/*\"],\"topic\":\"t\"}", tmp);
    put(s, ALL "bad5", v);
    assert_string_equal(r.last_reason, "path");
    assert_non_null(strstr(r.last_msg, "resolves to"));

    put(s, ALL "a/b", val("t", "x"));
    assert_string_equal(r.last_reason, "name");
    put(s, ALL "sp ace", val("t", "x"));
    assert_string_equal(r.last_reason, "name");
    assert_int_equal(r.rejects, 7);

    /* the good source never moved */
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.n, 1);
    etcd_sources_stats stt;
    etcd_sources_stats_get(s, &stt);
    assert_int_equal(stt.rejected_keys, 7);

    /* a new snapshot with the same bad values: not reported again */
    lf_etcd_kv kvs2[] = { kv(ALL "good", val("g", "g")), kv(ALL "bad1", "{not json"),
                          kv(ALL "bad4", "{\"paths\":[\"/etc/*\"],\"topic\":\"t\"}") };
    etcd_sources_on_snapshot(s, kvs2, 3, 20);
    assert_int_equal(r.rejects, 7);
    etcd_sources_stats_get(s, &stt);
    assert_int_equal(stt.rejected_keys, 2); /* the others are gone from etcd */
    etcd_sources_free(s);
}

static void test_last_good_kept(void **st)
{
    rec r = {0};
    etcd_sources *s = mk(&r, "web1", false);
    lf_etcd_kv kvs[] = { kv(ALL "app", val("v1", "a")) };
    etcd_sources_on_snapshot(s, kvs, 1, 5);
    put(s, ALL "app", "{\"paths\":[\"/etc/*\"],\"topic\":\"v2\"}");
    assert_int_equal(r.rejects, 1);
    assert_true(r.last_kept);
    assert_int_equal(r.calls, 1); /* v1 keeps running */
    assert_string_equal(r.topics[0], "v1");
    put(s, ALL "app", val("v3", "a"));
    assert_int_equal(r.calls, 2);
    assert_string_equal(r.topics[0], "v3");
    /* host key that never was good: the _all version keeps running */
    put(s, HOST "app", "{\"paths\":5}");
    assert_false(r.last_kept);
    assert_int_equal(r.calls, 2);
    assert_string_equal(r.topics[0], "v3");
    etcd_sources_free(s);
}

static void test_cache(void **st)
{
    rec r = {0};
    char path[PATH_MAX], tmpf[PATH_MAX];
    snprintf(path, sizeof path, "%s/state/sources.json", tmp);
    snprintf(tmpf, sizeof tmpf, "ls %s/state/ | grep -q tmp", tmp);
    unlink(path);
    etcd_sources *s = mk(&r, "web1", true);
    lf_etcd_kv kvs[] = { kv(ALL "app", val("app", "a")), kv(HOST "db", val("db", "d")),
                         kv(ALL "bad", "{") };
    etcd_sources_on_snapshot(s, kvs, 3, 5);
    etcd_sources_free(s);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_not_equal(system(tmpf), 0); /* no temp file left */
    assert_int_equal(sb.st_mode & 077, 0);

    /* restart with etcd down: the cached set is delivered on the first failure */
    rec r2 = {0};
    s = mk(&r2, "web1", true);
    assert_int_equal(r2.cache_infos, 1);
    assert_non_null(strstr(r2.last_cache, "2 cached source value(s) loaded"));
    assert_int_equal(r2.calls, 0); /* not before etcd had a chance */
    etcd_sources_on_state(s, LF_ETCD_CONNECTING, "http://x", NULL);
    assert_int_equal(r2.calls, 0);
    etcd_sources_on_state(s, LF_ETCD_BACKOFF, "http://x", "Couldn't connect to server");
    assert_int_equal(r2.calls, 1);
    assert_int_equal(r2.n, 2);
    assert_string_equal(r2.names[0], "app");
    assert_string_equal(r2.names[1], "db");
    etcd_sources_stats stt;
    etcd_sources_stats_get(s, &stt);
    assert_true(stt.from_cache);
    etcd_sources_on_state(s, LF_ETCD_BACKOFF, "http://x", "again");
    assert_int_equal(r2.calls, 1);
    assert_int_equal(r2.states, 3); /* passed through */
    /* etcd back with a bad value for a cached key: the cached good one stays */
    lf_etcd_kv kvs2[] = { kv(ALL "app", "{\"paths\":[\"/etc/*\"],\"topic\":\"x\"}") };
    etcd_sources_on_snapshot(s, kvs2, 1, 30);
    assert_true(r2.last_kept);
    assert_int_equal(r2.calls, 2); /* db is gone */
    assert_int_equal(r2.n, 1);
    assert_string_equal(r2.topics[0], "app");
    etcd_sources_stats_get(s, &stt);
    assert_false(stt.from_cache);
    etcd_sources_free(s);

    /* a cache written for another host is ignored, with a message */
    rec r3 = {0};
    s = mk(&r3, "web2", true);
    assert_int_equal(r3.cache_errors, 1);
    assert_non_null(strstr(r3.last_cache, "host_name web1, ignored"));
    etcd_sources_on_state(s, LF_ETCD_BACKOFF, "http://x", "down");
    assert_int_equal(r3.calls, 1);
    assert_int_equal(r3.n, 0);
    etcd_sources_free(s);

    /* a corrupt cache is ignored with a message */
    FILE *f = fopen(path, "w");
    fputs("{\"version\":1,", f);
    fclose(f);
    rec r4 = {0};
    s = mk(&r4, "web1", true);
    assert_int_equal(r4.cache_errors, 1);
    assert_non_null(strstr(r4.last_cache, "not a source cache"));
    etcd_sources_free(s);

    /* an unwritable state dir is reported, not fatal */
    rec r5 = {0};
    etcd_sources_opts o = { PFX, "web1", &allowed, "/dev/null/nope" };
    etcd_sources_cbs cbs = { on_sources, on_reject, NULL, on_cache };
    char err[256];
    assert_int_equal(etcd_sources_new(&s, &o, &cbs, &r5, err, sizeof err), 0);
    assert_int_equal(r5.cache_errors, 1); /* cannot even look for a cache */
    assert_non_null(strstr(r5.last_cache, "cannot read"));
    etcd_sources_on_snapshot(s, kvs, 1, 5);
    assert_int_equal(r5.calls, 1);
    assert_int_equal(r5.cache_errors, 2);
    assert_non_null(strstr(r5.last_cache, "cannot write"));
    etcd_sources_free(s);
}

static void test_bad_host(void **st)
{
    etcd_sources *s;
    char err[256];
    etcd_sources_opts o = { PFX, "_all", &allowed, NULL };
    assert_int_equal(etcd_sources_new(&s, &o, NULL, NULL, err, sizeof err), -1);
    o.host_name = "a/b";
    assert_int_equal(etcd_sources_new(&s, &o, NULL, NULL, err, sizeof err), -1);
    o.host_name = "";
    assert_int_equal(etcd_sources_new(&s, &o, NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "host_name"));
}

/* ---- against a real etcd ---- */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

static char ep[64];

static void ctl(const char *fmt, ...)
{
    char args[1024], cmd[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "ETCDCTL_API=3 etcdctl --endpoints=%s %s >/dev/null 2>&1", ep, args);
    assert_int_equal(system(cmd), 0);
}

static rec *wait_rec;
static int wait_calls;
static void until_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    if (wait_rec->calls >= wait_calls || w->repeat == 0)
        ev_break(loop, EVBREAK_ALL);
}
static void deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    ev_break(loop, EVBREAK_ALL);
}

/* Runs the loop until r->calls reaches `calls` or 10 s pass. */
static void run_until(struct ev_loop *loop, rec *r, int calls)
{
    ev_timer poll, dl;
    wait_rec = r;
    wait_calls = calls;
    ev_timer_init(&poll, until_cb, 0.01, 0.01);
    ev_timer_init(&dl, deadline_cb, 10., 0.);
    ev_timer_start(loop, &poll);
    ev_timer_start(loop, &dl);
    ev_run(loop, 0);
    ev_timer_stop(loop, &poll);
    ev_timer_stop(loop, &dl);
}

static void test_real_etcd(void **st)
{
    if (access("/usr/bin/etcd", X_OK) != 0 || access("/usr/bin/etcdctl", X_OK) != 0)
        skip();
    int cp = free_port(), pp = free_port();
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d", cp);
    char data[300], peer[64], cluster[100], log[300];
    snprintf(data, sizeof data, "%s/etcd-data", tmp);
    snprintf(log, sizeof log, "%s/etcd.log", tmp);
    snprintf(peer, sizeof peer, "http://127.0.0.1:%d", pp);
    snprintf(cluster, sizeof cluster, "t=%s", peer);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        FILE *lf = freopen(log, "w", stdout);
        (void)lf;
        dup2(1, 2);
        execl("/usr/bin/etcd", "etcd", "--name", "t", "--data-dir", data, "--listen-client-urls",
              ep, "--advertise-client-urls", ep, "--listen-peer-urls", peer,
              "--initial-advertise-peer-urls", peer, "--initial-cluster", cluster, (char *)NULL);
        _exit(127);
    }
    etcd_pid = pid;
    char probe[400];
    snprintf(probe, sizeof probe, "ETCDCTL_API=3 etcdctl --endpoints=%s endpoint health >/dev/null 2>&1", ep);
    int ok = 0;
    for (int i = 0; i < 200 && !ok; i++) { /* poll readiness with a deadline */
        ok = system(probe) == 0;
        if (!ok) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (!ok)
        fail_msg("etcd did not start");
    ctl("put " ALL "app '%s'", val("app-all", "a"));
    ctl("put " HOST "app '%s'", val("app-host", "a"));
    ctl("put " PFX "/collect/otherhost/x '%s'", val("other", "o"));

    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    lf_curl_ev *curl = NULL;
    lf_etcd *client = NULL;
    char err[256];
    assert_int_equal(lf_curl_ev_new(&curl, loop, err, sizeof err), 0);
    const char *eps[] = { ep };
    lf_etcd_opts eo = { .endpoints = eps, .n_endpoints = 1, .backoff_min_ms = 50,
                        .backoff_max_ms = 200 };
    assert_int_equal(lf_etcd_new(&client, loop, curl, &eo, err, sizeof err), 0);
    rec r = {0};
    etcd_sources *s = mk(&r, "web1", true);
    assert_int_equal(etcd_sources_start(s, client, err, sizeof err), 0);

    run_until(loop, &r, 1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.topics[0], "app-host"); /* host wins, other hosts ignored */

    ctl("del " HOST "app");
    run_until(loop, &r, 2);
    assert_int_equal(r.calls, 2);
    assert_string_equal(r.topics[0], "app-all");

    ctl("put " ALL "db '%s'", val("db", "d"));
    run_until(loop, &r, 3);
    assert_int_equal(r.n, 2);

    ctl("put " ALL "db '{\"paths\":[\"/etc/*\"],\"topic\":\"x\"}'");
    ctl("put " ALL "zz '%s'", val("zz", "z")); /* a marker after the bad put */
    run_until(loop, &r, 4);
    assert_int_equal(r.rejects, 1);
    assert_string_equal(r.last_reason, "path");
    assert_true(r.last_kept);
    assert_int_equal(r.n, 3);

    etcd_sources_free(s);
    s = NULL;
    lf_etcd_free(client);
    client = NULL;

    /* the cache now holds app (_all), db (the good one) and zz; with etcd
     * gone a new instance runs them */
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    etcd_pid = 0;
    rec r2 = {0};
    assert_int_equal(lf_etcd_new(&client, loop, curl, &eo, err, sizeof err), 0);
    s = mk(&r2, "web1", true);
    assert_int_equal(etcd_sources_start(s, client, err, sizeof err), 0);
    run_until(loop, &r2, 1);
    assert_int_equal(r2.calls, 1);
    assert_int_equal(r2.n, 3);
    assert_string_equal(r2.names[0], "app");
    assert_string_equal(r2.topics[1], "db");
    etcd_sources_stats stt;
    etcd_sources_stats_get(s, &stt);
    assert_true(stt.from_cache);
    lf_etcd_free(client);
    etcd_sources_free(s);
    lf_curl_ev_free(curl);
    ev_loop_destroy(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_host_wins),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_last_good_kept),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_bad_host),
        cmocka_unit_test(test_real_etcd),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
