/* etcd_sources: which sources this collector runs, discovered from etcd.
 *
 * Keys <prefix>/collect/_all/<name> (every host) and
 * <prefix>/collect/<host_name>/<name> (this host; wins over _all of the same
 * name), values as in DESIGN.md §2. Each value is parsed
 * (source_conf_from_json) and checked against allowed_paths; a rejected
 * value is reported once per distinct value (on_reject, with a reason label
 * for the metric) and the last good version of that key keeps running — or
 * the _all version when a host key never had a good one.
 *
 * The good values are cached in <state_dir>/sources.json (temp file, fsync,
 * rename, fsync of the directory) whenever they change. At start the cache
 * is loaded as the "last good" versions; if etcd fails before the first
 * snapshot, the cached set is delivered so the collector runs while etcd is
 * down. After every snapshot (start, reconnect, compaction) the desired set
 * is recomputed from scratch.
 *
 * on_sources gets the complete desired set, sorted by name, each time it
 * changes (source_conf_equal; origin is not compared). No logging here:
 * everything goes through the callbacks.
 *
 * Use (the collector's main):
 *   lf_curl_ev_new(&curl, loop, ...);
 *   lf_etcd_new(&etcd, loop, curl, &etcd_opts, ...);       // [etcd] section
 *   etcd_sources_new(&es, &(etcd_sources_opts){prefix, host_name,
 *                    &allowed_paths, state_dir}, &cbs, app, ...);
 *   etcd_sources_start(es, etcd, ...);
 *   ... on_sources: INI sources + this set → collector_apply_sources()
 *   shutdown: lf_etcd_free(etcd); etcd_sources_free(es); lf_curl_ev_free(curl);
 * Files a glob expands to should still pass path_file_allowed() when
 * opened: a matched entry may itself be a symlink out of allowed_paths. */
#ifndef LF_COLLECTOR_ETCD_SOURCES_H
#define LF_COLLECTOR_ETCD_SOURCES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/config.h"
#include "common/etcd.h"
#include "collector/source.h"

typedef struct etcd_sources etcd_sources;

typedef struct etcd_sources_opts {
    const char     *prefix;        /* NULL = "/logferry"; no trailing '/' needed */
    const char     *host_name;     /* required; no '/', not "_all" */
    const cfg_list *allowed_paths; /* copied */
    const char     *state_dir;     /* NULL = no cache */
} etcd_sources_opts;

/* Reason labels given to on_reject (a fixed set, for a metric label). */
#define ETCD_SOURCES_REASON_JSON  "json"   /* not JSON, or not an object */
#define ETCD_SOURCES_REASON_FIELD "field"  /* unknown/mistyped/missing field, bad regex */
#define ETCD_SOURCES_REASON_PATH  "path"   /* outside allowed_paths (symlinks resolved) */
#define ETCD_SOURCES_REASON_NAME  "name"   /* key is not <prefix>/collect/<host>/<name> */

typedef struct etcd_sources_cbs {
    /* The complete desired set; valid during the call only (copy what you
     * keep, source_conf_copy). n may be 0. */
    void (*on_sources)(void *ud, const source_conf *set, size_t n);
    /* A rejected value: its key, a reason label, a message naming the field
     * or path. `kept` says whether an earlier good version keeps running. */
    void (*on_reject)(void *ud, const char *key, const char *reason, const char *msg, bool kept);
    /* etcd connection state, passed through from lf_etcd (may be NULL). */
    void (*on_state)(void *ud, lf_etcd_state st, const char *endpoint, const char *why);
    /* The cache could not be read or written (a warning; may be NULL). */
    void (*on_cache)(void *ud, bool error, const char *msg);
} etcd_sources_cbs;

typedef struct etcd_sources_stats {
    size_t  active;          /* sources in the last delivered set */
    size_t  rejected_keys;   /* keys whose current value is rejected */
    bool    from_cache;      /* the delivered set came from the cache (no snapshot yet) */
    int64_t revision;        /* revision of the last applied snapshot/event */
} etcd_sources_stats;

/* Copies opts. Loads <state_dir>/sources.json if present (problems go to
 * on_cache). 0, or -1 and err. */
int  etcd_sources_new(etcd_sources **out, const etcd_sources_opts *o,
                      const etcd_sources_cbs *cbs, void *ud, char *err, size_t errlen);
/* Follows the two prefixes with `client` (not owned; one etcd_sources per
 * client). 0, or -1 and err. */
int  etcd_sources_start(etcd_sources *s, lf_etcd *client, char *err, size_t errlen);
void etcd_sources_stats_get(const etcd_sources *s, etcd_sources_stats *st);
/* Free after the client (lf_etcd_free first), or before starting it. NULL ok. */
void etcd_sources_free(etcd_sources *s);

/* The lf_etcd callbacks, exposed so tests can feed snapshots and events
 * without a server. ud is the etcd_sources. */
void etcd_sources_on_snapshot(void *ud, const lf_etcd_kv *kvs, size_t n, int64_t revision);
void etcd_sources_on_events(void *ud, const lf_etcd_event *ev, size_t n, int64_t revision);
void etcd_sources_on_state(void *ud, lf_etcd_state st, const char *endpoint, const char *why);

#endif
