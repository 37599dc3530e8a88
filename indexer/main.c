/* logferry-indexer: consumes Kafka, applies rules, writes Elasticsearch
 * (DESIGN.md §1-2). main() only wires the parts: configuration, logging,
 * the pipeline (ix.c), the metrics endpoint, signals and sd_notify. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ev.h>

#include "common/config.h"
#include "common/daemon.h"
#include "common/exit_watchdog.h"
#include "common/http.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/restart_pending.h"
#include "indexer/ix.h"
#include "indexer/jarena.h"
#include "indexer/rules.h"
#include "indexer/settings.h"
#if __has_include("indexer/rules_cli.h")
#include "indexer/rules_cli.h"
#define HAVE_RULES_CLI 1
#endif

#define PROG "logferry-indexer"
#define DEFAULT_CONFIG "/etc/logferry/indexer.ini"

static const char *opt_test_rules, *opt_rules, *opt_topic, *opt_man;
static const lf_opt_extra extra_opts[] = {
    {"test-rules", 0, "Read records on stdin, print each resulting document with its index (no Kafka, no Elasticsearch).", &opt_test_rules},
    {"rules", 1, "With --test-rules: the rules file instead of the configuration's (its rules_dir still applies).", &opt_rules},
    {"topic", 1, "With --test-rules: the topic the records are taken to come from (default: stdin).", &opt_topic},
    {"man-options", 0, "Print the configuration options as man(7) source (for logferry.ini(5)).", &opt_man},
    {NULL, 0, NULL, NULL},
};

typedef struct app {
    struct ev_loop *loop;
    const char     *config_path;
    const char     *log_level_arg;
    cfg            *conf;      /* as started: the pipeline's, what a reload compares with */
    ix             *x;
    lf_http        *http;
    lf_signals     *sig;
    lf_series      *m_pending; /* indexer_config_restart_pending */
    ev_timer        trim;
    bool            stopping;
} app;

/* Hands the heap's free pages back to the kernel (see the mallopt calls
 * in main: big buffers stay on the heap and the heap is not trimmed per
 * free, for speed). What librdkafka's fetch buffers, libcurl's and ours
 * leave free between live blocks stays resident otherwise: in the bench
 * the peak RSS went from 60-64 MiB (one run 80) to 54-59 MiB with it,
 * for no CPU that could be measured. malloc_trim also releases free pages
 * inside the heap, not only at its top. */
#define TRIM_EVERY 0.5 /* seconds */

static void on_trim(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    malloc_trim(0);
}

static int log_level_of(const app *a, const cfg *c)
{
    const ix_log_conf *lc = cfg_get(c, "log");
    int lvl = lf_log_parse_level(a->log_level_arg ? a->log_level_arg : lc->level);
    return lvl < 0 ? LF_LOG_INFO : lvl;
}

static int load(cfg **out, rules **rl, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    *rl = NULL;
    if (cfg_load(out, path, ix_sections, err, errlen))
        return -1;
    if (ix_settings_check(*out, err, errlen) || ix_check(*out, err, errlen))
        goto err;
    const ix_main_conf *mc = cfg_get(*out, "indexer");
    if (rules_load(rl, mc->rules, mc->rules_dir, err, errlen))
        goto err;
    return 0;
err:
    cfg_free(*out);
    *out = NULL;
    return -1;
}

static void on_stopped(void *ud)
{
    app *a = ud;
    ev_break(a->loop, EVBREAK_ALL);
}

static void on_stop(void *ud)
{
    app *a = ud;
    if (a->stopping) { /* a second signal: give up on in-flight work now */
        LF_WARN("indexer", "second stop signal: exiting without waiting");
        ev_break(a->loop, EVBREAK_ALL);
        return;
    }
    a->stopping = true;
    lf_notify("STOPPING=1");
    /* shutdown_timeout for the in-flight work (ix_stop), as long again for
     * librdkafka to commit, leave the group and stop its threads: with
     * Kafka gone longer than its metadata lives, it never does
     * (exit_watchdog.h) */
    const ix_main_conf *mc = cfg_get(a->conf, "indexer");
    double bound = 2 * (mc->shutdown_timeout_ms / 1000.0);
    if (lf_exit_watchdog_arm(bound, "librdkafka's close", mc->pidfile, 0) != 0)
        LF_WARN("indexer", "shutdown: no watchdog thread; the shutdown has no bound");
    ix_stop(a->x, on_stopped, a);
}

/* What a reload applies: the rules (ix_set_rules, from the file's rules
 * and rules_dir) and the whole of [log] (lf_log_init). The pipeline keeps
 * the rest of the configuration it was started with. */
static const lf_live_key live_keys[] = {
    {"indexer", "rules"}, {"indexer", "rules_dir"}, {"log", NULL}, {NULL, NULL},
};

/* SIGHUP: rules and [log] change at run time, other changes are named as
 * waiting for a restart; a broken file is reported and everything stays
 * as it was. */
static void on_reload(void *ud)
{
    app *a = ud;
    char err[1024];
    cfg *c = NULL;
    rules *rl = NULL;
    lf_notify("RELOADING=1");
    if (load(&c, &rl, a->config_path, err, sizeof err)) {
        LF_ERR("indexer", "reload failed, keeping the running configuration and rules: %s", err);
        lf_notify("READY=1");
        return;
    }
    const ix_log_conf *lc = cfg_get(c, "log");
    lf_log_init(PROG, log_level_of(a, c), lc->syslog, (int)lc->ratelimit_ms);
    size_t nrules = rules_count(rl);
    ix_set_rules(a->x, rl); /* takes rl */
    int pending = lf_restart_pending(a->conf, c, live_keys, a->m_pending);
    cfg_free(c); /* the pipeline keeps pointers into the first configuration */
    LF_INFO("indexer", "reloaded rules=%zu applied=\"rules, [log]\" restart_pending=%d", nrules,
            pending);
    lf_notify("READY=1");
}

/* The rules as the daemon would load them: the configuration's rules file
 * (or --rules instead) plus its rules_dir. Without --rules the
 * configuration must load: silently testing no rules would look like a
 * pass. */
static int test_rules(const app *a)
{
#ifdef HAVE_RULES_CLI
    const char *path = opt_rules, *dir = NULL;
    cfg *c = NULL;
    char err[1024];
    if (cfg_load(&c, a->config_path, ix_sections, err, sizeof err) == 0) {
        const ix_main_conf *mc = cfg_get(c, "indexer");
        if (!path)
            path = mc->rules;
        dir = mc->rules_dir;
    } else if (!path) {
        fprintf(stderr, PROG ": --test-rules without --rules needs the configuration: %s\n", err);
        return 1;
    }
    int rc = rules_cli_run_ex(path, dir, opt_topic, stdin, stdout, stderr);
    cfg_free(c);
    return rc;
#else
    (void)a;
    fprintf(stderr, PROG ": --test-rules is not available in this build\n");
    return 2;
#endif
}

int main(int argc, char **argv)
{
    lf_args args;
    if (lf_args_parse(&args, argc, argv, DEFAULT_CONFIG, extra_opts))
        return 2;
    if (args.help) {
        lf_args_usage(stdout, PROG, "consume Kafka and index log records into Elasticsearch", extra_opts);
        fputs("\nConfiguration options:\n", stdout);
        cfg_help(ix_sections, stdout);
        return 0;
    }
    if (args.version) {
        lf_print_version(PROG);
        return 0;
    }
    if (opt_man) {
        cfg_help_man(ix_sections, stdout);
        return 0;
    }
    /* Bulk bodies are megabytes, allocated and freed all the time: keep
     * them on the heap and the heap from being trimmed after every one,
     * rather than paying page faults for each (on_trim gives the free
     * pages back every TRIM_EVERY instead). */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 16 << 20);
    /* librdkafka's threads allocate every fetched message and the loop
     * frees it: one arena instead of one per thread keeps that memory from
     * being spread (and kept) over many heaps. */
    mallopt(M_ARENA_MAX, 1);
    jarena_install();
    app a = {.config_path = args.config, .log_level_arg = args.log_level};
    if (opt_test_rules)
        return test_rules(&a);

    char err[1024];
    rules *rl = NULL;
    if (load(&a.conf, &rl, a.config_path, err, sizeof err)) {
        fprintf(stderr, PROG ": %s\n", err);
        return 1;
    }
    const ix_main_conf *mc = cfg_get(a.conf, "indexer");
    if (args.check_config) {
        cfg_dump(a.conf, stdout);
        printf("; rules: %zu loaded from %s\n", rules_count(rl), mc->rules ? mc->rules : "(none)");
        rules_free(rl);
        cfg_free(a.conf);
        return 0;
    }
    const ix_log_conf *lc = cfg_get(a.conf, "log");
    const ix_http_conf *hc = cfg_get(a.conf, "http");
    lf_log_init(PROG, log_level_of(&a, a.conf), lc->syslog, (int)lc->ratelimit_ms);

    int rc = 1;
    a.loop = ev_default_loop(EVFLAG_AUTO);
    if (mc->pidfile && lf_pidfile_write(mc->pidfile, err, sizeof err)) {
        LF_ERR("indexer", "pidfile: %s", err);
        rules_free(rl);
        goto out;
    }
    if (ix_new(&a.x, a.loop, a.conf, rl, err, sizeof err)) { /* takes rl */
        LF_ERR("indexer", "%s", err);
        goto out;
    }
    if (lf_http_start(&a.http, a.loop, hc->listen, err, sizeof err)) {
        LF_ERR("indexer", "[http] listen %s: %s", hc->listen, err);
        goto out;
    }
    if (a.http)
        lf_http_set_health(a.http, ix_health, a.x);
    a.m_pending = lf_restart_pending_gauge("indexer_config_restart_pending");
    a.sig = lf_signals_start(a.loop, on_stop, on_reload, &a);
    if (ix_start(a.x, err, sizeof err)) {
        LF_ERR("indexer", "%s", err);
        goto out;
    }
    LF_INFO("indexer", "started version=%s http=%s port=%d", LF_VERSION, hc->listen,
            a.http ? lf_http_port(a.http) : 0);
    lf_notify("READY=1");
    ev_timer_init(&a.trim, on_trim, TRIM_EVERY, TRIM_EVERY);
    ev_timer_start(a.loop, &a.trim);
    ev_unref(a.loop); /* the trim timer alone does not keep the loop running */
    ev_run(a.loop, 0);
    ev_ref(a.loop);
    ev_timer_stop(a.loop, &a.trim);
    rc = 0;
out:
    lf_signals_stop(a.sig);
    lf_http_stop(a.http);
    ix_free(a.x);
    lf_exit_watchdog_disarm();
    if (mc->pidfile)
        lf_pidfile_remove(mc->pidfile);
    cfg_free(a.conf);
    lf_metrics_reset();
    return rc;
}
