/* etcd-probe: follows etcd prefixes with the lf_etcd client and prints what
 * it sees, one line each (for test/e2e/etcd_client.sh):
 *   state NAME ENDPOINT t=MONOTONIC_MS [why]
 *   snapshot rev=R n=N          then N lines: kv KEY VALUE
 *   event put|del KEY [VALUE] rev=R
 *   stats reconnects=.. compactions=.. auth_failures=.. revision=.. connected=0|1
 * Options: --endpoint URL (repeatable) --prefix P (repeatable)
 *   --user NAME --password-file F --backoff-min MS --backoff-max MS
 *   --idle-timeout MS --progress --cacert F --cert F --key F
 *   --hold-after-snapshot FILE: the first snapshot callback blocks until FILE
 *     exists, 60 s at most (lets a test compact etcd between the range and
 *     the watch).
 * SIGTERM/SIGINT: frees everything and exits 0 (leak checks). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "common/curl_ev.h"
#include "common/etcd.h"

static const char *hold_file;
static lf_etcd *client;

static const char *state_name(lf_etcd_state s)
{
    switch (s) {
    case LF_ETCD_CONNECTING:  return "CONNECTING";
    case LF_ETCD_WATCHING:    return "WATCHING";
    case LF_ETCD_BACKOFF:     return "BACKOFF";
    case LF_ETCD_AUTH_FAILED: return "AUTH_FAILED";
    }
    return "?";
}

static void print_stats(void)
{
    lf_etcd_stats st;
    lf_etcd_stats_get(client, &st);
    printf("stats reconnects=%llu compactions=%llu auth_failures=%llu revision=%lld "
           "connected=%d snapshots=%llu events=%llu\n",
           (unsigned long long)st.reconnects, (unsigned long long)st.compactions,
           (unsigned long long)st.auth_failures, (long long)st.revision, st.connected ? 1 : 0,
           (unsigned long long)st.snapshots, (unsigned long long)st.events);
}

static void on_snapshot(void *ud, const lf_etcd_kv *kvs, size_t n, int64_t rev)
{
    printf("snapshot rev=%lld n=%zu\n", (long long)rev, n);
    for (size_t i = 0; i < n; i++)
        printf("kv %s %s\n", kvs[i].key, kvs[i].value);
    print_stats();
    if (hold_file) {
        printf("holding\n");
        fflush(stdout);
        /* at most 60 s: a test that never releases us must not hang */
        for (int i = 0; i < 3000 && access(hold_file, F_OK) != 0; i++) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        hold_file = NULL;
    }
}

static void on_events(void *ud, const lf_etcd_event *ev, size_t n, int64_t rev)
{
    for (size_t i = 0; i < n; i++) {
        if (ev[i].type == LF_ETCD_PUT)
            printf("event put %s %s rev=%lld\n", ev[i].kv.key, ev[i].kv.value,
                   (long long)ev[i].kv.mod_revision);
        else
            printf("event del %s rev=%lld\n", ev[i].kv.key, (long long)ev[i].kv.mod_revision);
    }
}

static void on_state(void *ud, lf_etcd_state s, const char *ep, const char *why)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    printf("state %s %s t=%lld%s%s\n", state_name(s), ep,
           (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, why ? " " : "", why ? why : "");
    print_stats();
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    ev_break(loop, EVBREAK_ALL);
}

int main(int argc, char **argv)
{
    const char *eps[8], *pfx[8];
    size_t neps = 0, npfx = 0;
    lf_etcd_opts o = {0};
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--progress") == 0) {
            o.progress_notify = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "etcd-probe: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--endpoint") == 0 && neps < 8) eps[neps++] = v;
        else if (strcmp(a, "--prefix") == 0 && npfx < 8) pfx[npfx++] = v;
        else if (strcmp(a, "--user") == 0) o.username = v;
        else if (strcmp(a, "--password-file") == 0) o.password_file = v;
        else if (strcmp(a, "--backoff-min") == 0) o.backoff_min_ms = atoll(v);
        else if (strcmp(a, "--backoff-max") == 0) o.backoff_max_ms = atoll(v);
        else if (strcmp(a, "--idle-timeout") == 0) o.watch_idle_timeout_ms = atoll(v);
        else if (strcmp(a, "--connect-timeout") == 0) o.connect_timeout_ms = atoll(v);
        else if (strcmp(a, "--cacert") == 0) o.ca_file = v;
        else if (strcmp(a, "--cert") == 0) o.cert_file = v;
        else if (strcmp(a, "--key") == 0) o.key_file = v;
        else if (strcmp(a, "--hold-after-snapshot") == 0) hold_file = v;
        else {
            fprintf(stderr, "etcd-probe: unknown option %s\n", a);
            return 2;
        }
    }
    o.endpoints = eps;
    o.n_endpoints = neps;
    struct ev_loop *loop = EV_DEFAULT;
    char err[512];
    lf_curl_ev *curl = NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (lf_curl_ev_new(&curl, loop, err, sizeof err) != 0 ||
        lf_etcd_new(&client, loop, curl, &o, err, sizeof err) != 0) {
        fprintf(stderr, "etcd-probe: %s\n", err);
        lf_curl_ev_free(curl);
        return 1;
    }
    lf_etcd_cbs cbs = { on_snapshot, on_events, on_state };
    if (lf_etcd_follow(client, pfx, npfx, &cbs, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "etcd-probe: %s\n", err);
        lf_etcd_free(client);
        lf_curl_ev_free(curl);
        return 1;
    }
    ev_signal sterm, sint;
    ev_signal_init(&sterm, on_signal, SIGTERM);
    ev_signal_init(&sint, on_signal, SIGINT);
    ev_signal_start(loop, &sterm);
    ev_signal_start(loop, &sint);
    ev_run(loop, 0);
    printf("exiting\n");
    lf_etcd_free(client);
    client = NULL;
    lf_curl_ev_free(curl);
    curl_global_cleanup();
    ev_loop_destroy(loop);
    return 0;
}
