#include "collector/discovery.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/conf.h"
#include "collector/etcd_sources.h"
#include "collector/etcd_why.h"
#include "common/curl_ev.h"
#include "common/etcd.h"
#include "common/log.h"
#include "common/metrics.h"

struct discovery {
    struct ev_loop *loop;
    collector      *col;
    source_conf    *stat;      /* static sources (owned) */
    size_t          nstat;
    source_conf    *dyn;       /* last set from etcd (owned) */
    size_t          ndyn;
    lf_curl_ev     *curl;
    lf_etcd        *etcd;
    etcd_sources   *es;
    lf_metric      *m_rejected;
    lf_series      *m_connected, *m_active;
    lf_series      *m_revision, *m_reconnects, *m_auth_failures;
};

/* The client keeps cumulative counters; the metrics follow them by adding
 * the difference, so they stay counters (never go down) across calls. */
static void counter_follow(lf_series *s, uint64_t total)
{
    double have = lf_series_value(s);
    if ((double)total > have)
        lf_counter_add(s, (double)total - have);
}

/* Called from the etcd callbacks: every state change (reconnects, auth
 * failures) and every applied source set (revision) passes through them. */
static void etcd_metrics_update(discovery *d)
{
    if (!d->etcd)
        return;
    lf_etcd_stats st;
    lf_etcd_stats_get(d->etcd, &st);
    lf_gauge_set(d->m_revision, (double)st.revision);
    counter_follow(d->m_reconnects, st.reconnects);
    counter_follow(d->m_auth_failures, st.auth_failures);
}

static void set_free(source_conf *v, size_t n)
{
    collector_sources_free(v, n);
}

static void apply(discovery *d)
{
    size_t n = 0;
    source_conf *all = calloc(d->nstat + d->ndyn + 1, sizeof *all);
    if (!all) {
        LF_ERR("discovery", "out of memory merging sources");
        return;
    }
    /* Shallow copies: the arrays keep ownership. */
    for (size_t i = 0; i < d->nstat; i++)
        all[n++] = d->stat[i];
    for (size_t i = 0; i < d->ndyn; i++) {
        bool shadowed = false;
        for (size_t j = 0; j < d->nstat; j++)
            if (strcmp(d->stat[j].name, d->dyn[i].name) == 0)
                shadowed = true;
        if (shadowed) {
            LF_WARN("discovery", "etcd source ignored, a [source] section has its name source=%s "
                    "origin=%s", d->dyn[i].name, d->dyn[i].origin ? d->dyn[i].origin : "?");
            continue;
        }
        all[n++] = d->dyn[i];
    }
    int skipped = collector_apply_sources(d->col, all, n);
    free(all);
    lf_gauge_set(d->m_active, (double)collector_source_count(d->col));
    LF_INFO("discovery", "sources applied running=%zu static=%zu etcd=%zu rejected=%d",
            collector_source_count(d->col), d->nstat, d->ndyn, skipped);
}

static void on_sources(void *ud, const source_conf *set, size_t n)
{
    discovery *d = ud;
    source_conf *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        if (source_conf_copy(&v[i], &set[i]) < 0) {
            set_free(v, i);
            LF_ERR("discovery", "out of memory copying etcd sources");
            return;
        }
    }
    set_free(d->dyn, d->ndyn);
    d->dyn = v;
    d->ndyn = n;
    apply(d);
    etcd_metrics_update(d);
}

static void on_reject(void *ud, const char *key, const char *reason, const char *msg, bool kept)
{
    discovery *d = ud;
    LF_ERR("discovery", "etcd source rejected key=%s reason=%s %s: %s", key, reason,
           kept ? "(the last good version keeps running)" : "(not running)", msg);
    lf_counter_add(lf_series_of(d->m_rejected, reason), 1);
    etcd_metrics_update(d);
}

static void on_state(void *ud, lf_etcd_state st, const char *endpoint, const char *why)
{
    discovery *d = ud;
    lf_gauge_set(d->m_connected, st == LF_ETCD_WATCHING ? 1 : 0);
    etcd_metrics_update(d);
    if (st == LF_ETCD_WATCHING)
        LF_INFO("discovery", "etcd watching endpoint=%s", endpoint ? endpoint : "?");
    else if (st == LF_ETCD_BACKOFF || st == LF_ETCD_AUTH_FAILED) {
        char fields[1200];
        etcd_why_fields(fields, sizeof fields, endpoint, why);
        LF_WARN("discovery", "etcd %s endpoint=%s %s (keeping the last good sources)",
                st == LF_ETCD_AUTH_FAILED ? "authentication failed" : "unavailable",
                endpoint ? endpoint : "?", fields);
    }
}

static void on_cache(void *ud, bool error, const char *msg)
{
    if (error)
        LF_ERR("discovery", "source cache: %s", msg);
    else
        LF_WARN("discovery", "source cache: %s", msg);
}

static int start_etcd(discovery *d, const cfg *c, char *err, size_t errlen)
{
    const etcd_conf_opts *eo = cfg_get(c, "etcd");
    const collector_opts *co = cfg_get(c, "collector");
    if (!eo || !eo->endpoints.n)
        return 0;
    if (collector_set_allowed(d->col, &eo->allowed_paths) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char host[256] = "";
    if (co->host_name && *co->host_name)
        snprintf(host, sizeof host, "%s", co->host_name);
    else
        gethostname(host, sizeof host - 1);
    if (lf_curl_ev_new(&d->curl, d->loop, err, errlen) < 0)
        return -1;
    lf_etcd_opts o = {
        .endpoints = (const char *const *)eo->endpoints.v,
        .n_endpoints = eo->endpoints.n,
        .username = eo->username,
        .password_file = eo->password_file,
        .ca_file = eo->ca_file,
        .cert_file = eo->cert_file,
        .key_file = eo->key_file,
        .connect_timeout_ms = eo->connect_timeout_ms,
        .request_timeout_ms = eo->request_timeout_ms,
        .backoff_min_ms = eo->backoff_min_ms,
        .backoff_max_ms = eo->backoff_max_ms,
        /* The table's minimum is 1s; round up so "1500ms" does not become 1s. */
        .keepalive_idle_s = (eo->keepalive_idle_ms + 999) / 1000,
        .keepalive_intvl_s = (eo->keepalive_interval_ms + 999) / 1000,
        .keepalive_count = eo->keepalive_count,
        .progress_notify = eo->progress_notify,
        .watch_idle_timeout_ms = eo->watch_idle_timeout_ms,
    };
    if (lf_etcd_new(&d->etcd, d->loop, d->curl, &o, err, errlen) < 0)
        return -1;
    etcd_sources_opts so = {
        .prefix = eo->prefix,
        .host_name = host,
        .allowed_paths = &eo->allowed_paths,
        .state_dir = co->state_dir,
    };
    etcd_sources_cbs cbs = {on_sources, on_reject, on_state, on_cache};
    if (etcd_sources_new(&d->es, &so, &cbs, d, err, errlen) < 0)
        return -1;
    if (etcd_sources_start(d->es, d->etcd, err, errlen) < 0)
        return -1;
    LF_INFO("discovery", "following etcd prefix=%s host=%s endpoints=%zu", eo->prefix, host,
            eo->endpoints.n);
    return 0;
}

int discovery_new(discovery **out, struct ev_loop *loop, collector *col, const cfg *c,
                  char *err, size_t errlen)
{
    discovery *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    d->loop = loop;
    d->col = col;
    d->m_rejected = lf_counter_new("collector_etcd_sources_rejected_total",
                                   "etcd source values refused, by reason", "reason");
    d->m_connected = lf_series_of(lf_gauge_new("collector_etcd_connected",
                                               "1 while the etcd watch is established", NULL));
    d->m_active = lf_series_of(lf_gauge_new("collector_sources", "Sources running", NULL));
    d->m_revision = lf_series_of(lf_gauge_new("collector_etcd_revision",
                                              "Newest etcd revision the collector has seen", NULL));
    d->m_reconnects = lf_series_of(lf_counter_new("collector_etcd_reconnects_total",
                                                  "etcd failures that led to a reconnection", NULL));
    d->m_auth_failures = lf_series_of(lf_counter_new("collector_etcd_auth_failures_total",
                                                     "etcd authentication failures", NULL));
    if (collector_conf_sources(c, &d->stat, &d->nstat, err, errlen) < 0)
        goto err;
    apply(d);
    if (start_etcd(d, c, err, errlen) < 0)
        goto err;
    *out = d;
    return 0;
err:
    discovery_free(d);
    return -1;
}

int discovery_reload(discovery *d, const cfg *c, char *err, size_t errlen)
{
    source_conf *v = NULL;
    size_t n = 0;
    if (collector_conf_sources(c, &v, &n, err, errlen) < 0)
        return -1;
    set_free(d->stat, d->nstat);
    d->stat = v;
    d->nstat = n;
    apply(d);
    return 0;
}

void discovery_free(discovery *d)
{
    if (!d)
        return;
    lf_etcd_free(d->etcd);     /* the client first (etcd_sources.h) */
    d->etcd = NULL;
    etcd_sources_free(d->es);
    d->es = NULL;
    lf_curl_ev_free(d->curl);
    d->curl = NULL;
    set_free(d->stat, d->nstat);
    set_free(d->dyn, d->ndyn);
    free(d);
}
