/* logferry-collector: tails log files into Kafka (DESIGN.md §1-2).
 *   -c FILE          configuration (default /etc/logferry/collector.ini)
 *   --check-config   print the effective configuration and exit (0 / 1)
 *   --man-options    print the option tables as man(7) source (logferry.ini(5))
 *   --status [--json] print per-file progress from the registry and exit
 *   --version, --help
 * Signals: SIGTERM/SIGINT stop (stop reading, wait for Kafka up to
 * shutdown_timeout, write the registry); SIGHUP reloads the file (a bad
 * file is refused and the running configuration stays; sources and [log]
 * are applied, other changes are logged as waiting for a restart and
 * counted in collector_config_restart_pending). Sources come from
 * [source NAME] sections and, with [etcd] endpoints set, from etcd. */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/collector.h"
#include "collector/conf.h"
#include "collector/discovery.h"
#include "collector/status.h"
#include "common/daemon.h"
#include "common/http.h"
#include "common/log.h"
#include "common/restart_pending.h"

#define PROG "logferry-collector"

static const char *opt_man, *opt_status, *opt_json;
static const lf_opt_extra extra_opts[] = {
    {"man-options", 0, "Print the configuration options as man(7) source (for logferry.ini(5)).", &opt_man},
    {"status", 0, "Print each file's progress (acknowledged offset, size, bytes behind) from the registry in state_dir and exit; safe while the collector runs.", &opt_status},
    {"json", 0, "With --status: print JSON.", &opt_json},
    {NULL, 0, NULL, NULL},
};

typedef struct app {
    struct ev_loop *loop;
    const char     *config_path;
    const char     *log_override;
    cfg            *cfg;          /* as started: what a reload compares with */
    collector      *col;
    discovery      *disc;
    lf_http        *http;
    lf_series      *m_pending;    /* collector_config_restart_pending */
    int             rc;
} app;

/* What a reload applies: the static sources (discovery_reload) and the
 * whole of [log] (lf_log_init). The tailer, the producer, the endpoint and
 * discovery's etcd client keep the options they were started with. */
static const lf_live_key live_keys[] = {{"source", NULL}, {"log", NULL}, {NULL, NULL}};

static int log_level_of(const app *a, const cfg *c)
{
    const log_opts *lo = cfg_get(c, "log");
    int lvl = lf_log_parse_level(a->log_override ? a->log_override : lo->level);
    return lvl < 0 ? LF_LOG_INFO : lvl;
}

static void on_stop(void *ud)
{
    app *a = ud;
    LF_INFO("collector", "stopping");
    lf_notify("STOPPING=1");
    if (collector_shutdown(a->col) < 0)
        a->rc = 1;
    ev_break(a->loop, EVBREAK_ALL);
}

static void on_reload(void *ud)
{
    app *a = ud;
    char err[1024];
    cfg *c = NULL;
    lf_notify("RELOADING=1");
    if (collector_conf_load(&c, a->config_path, err, sizeof err) < 0) {
        LF_ERR("config", "reload refused, keeping the running configuration: %s", err);
        lf_notify("READY=1");
        return;
    }
    if (discovery_reload(a->disc, c, err, sizeof err) < 0) {
        LF_ERR("config", "reload refused, keeping the running configuration: %s", err);
        cfg_free(c);
        lf_notify("READY=1");
        return;
    }
    const log_opts *lo = cfg_get(c, "log");
    lf_log_init(PROG, log_level_of(a, c), lo->syslog, (int)lo->ratelimit_ms);
    int pending = lf_restart_pending(a->cfg, c, live_keys, a->m_pending);
    cfg_free(c);
    LF_INFO("config", "reloaded path=%s applied=\"sources, [log]\" restart_pending=%d",
            a->config_path, pending);
    lf_notify("READY=1");
}

static int health(void *ud, char *buf, size_t len)
{
    app *a = ud;
    return collector_health(a->col, buf, len);
}

int main(int argc, char **argv)
{
    lf_args args;
    app a = {0};
    char err[1024];
    if (lf_args_parse(&args, argc, argv, "/etc/logferry/collector.ini", extra_opts) < 0)
        return 2;
    if (args.help) {
        lf_args_usage(stdout, PROG, "Tails log files and ships every line to Kafka.", extra_opts);
        fputs("\nConfiguration file options:\n", stdout);
        cfg_help(collector_sections, stdout);
        return 0;
    }
    if (args.version) {
        lf_print_version(PROG);
        return 0;
    }
    if (opt_man) {
        cfg_help_man(collector_sections, stdout);
        return 0;
    }
    if (opt_json && !opt_status) {
        fprintf(stderr, "%s: --json goes with --status\nTry '%s --help'.\n", PROG, PROG);
        return 2;
    }
    a.config_path = args.config;
    a.log_override = args.log_level;
    if (a.log_override && lf_log_parse_level(a.log_override) < 0) {
        fprintf(stderr, "%s: --log-level %s: expected error, warn, info or debug\n", PROG,
                a.log_override);
        return 2;
    }
    if (collector_conf_load(&a.cfg, a.config_path, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        return 1;
    }
    if (opt_status) {
        const collector_opts *so = cfg_get(a.cfg, "collector");
        int rc = collector_status(so->state_dir, opt_json != NULL, stdout, err, sizeof err);
        if (rc < 0)
            fprintf(stderr, "%s: %s\n", PROG, err);
        cfg_free(a.cfg);
        return rc < 0 ? 1 : 0;
    }
    if (args.check_config) {
        cfg_dump(a.cfg, stdout);
        cfg_free(a.cfg);
        return 0;
    }
    const log_opts *lo = cfg_get(a.cfg, "log");
    lf_log_init(PROG, log_level_of(&a, a.cfg), lo->syslog, (int)lo->ratelimit_ms);

    a.loop = EV_DEFAULT;
    const collector_opts *co = cfg_get(a.cfg, "collector");
    const kafka_opts *ko = cfg_get(a.cfg, "kafka");
    const http_opts *ho = cfg_get(a.cfg, "http");
    if (collector_new(&a.col, a.loop, co, ko, a.config_path, cfg_section_get(a.cfg, "kafka"), err,
                      sizeof err) < 0) {
        LF_ERR("collector", "cannot start: %s", err);
        cfg_free(a.cfg);
        return 1;
    }
    if (lf_http_start(&a.http, a.loop, ho->listen, err, sizeof err) < 0) {
        LF_ERR("http", "cannot listen: %s", err);
        collector_free(a.col);
        cfg_free(a.cfg);
        return 1;
    }
    if (a.http) {
        lf_http_set_health(a.http, health, &a);
        LF_INFO("http", "listening port=%d", lf_http_port(a.http));
    }
    a.m_pending = lf_restart_pending_gauge("collector_config_restart_pending");
    lf_signals *sig = lf_signals_start(a.loop, on_stop, on_reload, &a);
    if (discovery_new(&a.disc, a.loop, a.col, a.cfg, err, sizeof err) < 0) {
        LF_ERR("collector", "cannot start source discovery: %s", err);
        a.rc = 1;
        goto out;
    }
    LF_INFO("collector", "started version=%s config=%s", LF_VERSION, a.config_path);
    lf_notify("READY=1");
    ev_run(a.loop, 0);

out:
    discovery_free(a.disc);
    lf_signals_stop(sig);
    lf_http_stop(a.http);
    collector_free(a.col);
    cfg_free(a.cfg);
    lf_log_flush_suppressed();
    return a.rc;
}
