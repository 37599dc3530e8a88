/* etcd: an etcd v3 client over the HTTP/JSON gateway (etcd 3.4+, /v3/...),
 * driven by libcurl's multi interface on a libev loop (common/curl_ev.h).
 *
 * It follows one or more key prefixes: it ranges them all at one revision
 * (a consistent snapshot), hands the snapshot over, then watches each prefix
 * from snapshot revision + 1 and hands over the events. Any failure (endpoint
 * down, stream closed, compacted revision, token expired, bad answer) closes
 * everything, waits with exponential backoff and jitter, moves on to the
 * next endpoint, and starts again with a fresh range: the consumer always
 * replaces its state wholesale on a snapshot, so nothing can be missed
 * across a gap.
 *
 * Nothing is logged here: state changes and errors go to on_state with a
 * human-readable reason; lf_etcd_stats() gives counters for metrics.
 * Callbacks run on the loop's thread; a callback must not free the client
 * (stop it from a later loop iteration, e.g. an ev_idle or timer). */
#ifndef LF_ETCD_H
#define LF_ETCD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ev.h>
#include "common/curl_ev.h"

typedef struct lf_etcd lf_etcd;

typedef struct lf_etcd_opts {
    /* "http://host:port" or "https://host:port"; tried in turn. Copied. */
    const char *const *endpoints;
    size_t      n_endpoints;
    const char *username;          /* NULL: no auth */
    const char *password_file;     /* read (first line) at each authentication */
    const char *ca_file;           /* TLS: CA bundle to verify the server; NULL = system */
    const char *cert_file;         /* TLS client certificate (PEM) */
    const char *key_file;          /* TLS client key (PEM) */
    int64_t connect_timeout_ms;    /* 0 = 5000 */
    int64_t request_timeout_ms;    /* auth/range; also the wait for a watch's
                                      "created" answer. 0 = 10000 */
    int64_t keepalive_idle_s;      /* TCP keepalive; 0 = 30 */
    int64_t keepalive_intvl_s;     /* 0 = 10 */
    int64_t keepalive_count;       /* unanswered probes before the connection
                                      is dead (TCP_KEEPCNT); 0 = 3. A silent
                                      peer is noticed after idle + count*intvl */
    int64_t backoff_min_ms;        /* first retry delay; 0 = 500 */
    int64_t backoff_max_ms;        /* cap; 0 = 30000 */
    bool    progress_notify;       /* ask the server for progress notifies */
    /* No byte on a watch for this long = a dead stream, reopen everything.
     * Only useful together with progress_notify and a server whose
     * --experimental-watch-progress-notify-interval is below it. 0 = off. */
    int64_t watch_idle_timeout_ms;
    size_t  max_response_bytes;    /* range answer or one watch line; 0 = 64 MiB */
} lf_etcd_opts;

typedef struct lf_etcd_kv {
    const char *key;   size_t key_len;    /* NUL-terminated too */
    const char *value; size_t value_len;  /* NUL-terminated too; NULL for DELETE */
    int64_t     mod_revision;
} lf_etcd_kv;

typedef enum { LF_ETCD_PUT = 0, LF_ETCD_DELETE = 1 } lf_etcd_event_type;

typedef struct lf_etcd_event {
    lf_etcd_event_type type;
    lf_etcd_kv         kv;
} lf_etcd_event;

typedef enum {
    LF_ETCD_CONNECTING = 0,   /* authenticating / ranging */
    LF_ETCD_WATCHING,         /* snapshot delivered, all watches created */
    LF_ETCD_BACKOFF,          /* a failure; `why` says what; retry scheduled */
    LF_ETCD_AUTH_FAILED,      /* wrong user/password (or unreadable password file):
                                 retried at backoff_max_ms, never in a tight loop */
} lf_etcd_state;

typedef struct lf_etcd_cbs {
    /* Every key under the prefixes at `revision`; replaces all earlier state.
     * The arrays are valid during the call only. */
    void (*on_snapshot)(void *ud, const lf_etcd_kv *kvs, size_t n, int64_t revision);
    /* Changes after the snapshot, in order. `revision` is the newest one
     * the client has seen (header.revision). */
    void (*on_events)(void *ud, const lf_etcd_event *ev, size_t n, int64_t revision);
    /* State changes; `why` is a human-readable reason (NULL when none). */
    void (*on_state)(void *ud, lf_etcd_state state, const char *endpoint, const char *why);
} lf_etcd_cbs;

typedef struct lf_etcd_stats {
    bool     connected;        /* state == WATCHING */
    int64_t  revision;         /* newest revision seen */
    uint64_t reconnects;       /* failures that led to a retry */
    uint64_t snapshots;        /* snapshots delivered */
    uint64_t events;           /* events delivered */
    uint64_t compactions;      /* watches canceled as compacted */
    uint64_t auth_failures;
    const char *endpoint;      /* current endpoint */
    const char *last_error;    /* "" when none */
} lf_etcd_stats;

/* Copies opts (strings included). `curl` is shared, not owned. 0, or -1 and err. */
int  lf_etcd_new(lf_etcd **out, struct ev_loop *loop, lf_curl_ev *curl,
                 const lf_etcd_opts *opts, char *err, size_t errlen);
/* Starts following `prefixes` (copied; each must be non-empty); callbacks
 * go to cbs with ud. Once per client. 0, or -1 and err. */
int  lf_etcd_follow(lf_etcd *e, const char *const *prefixes, size_t n,
                    const lf_etcd_cbs *cbs, void *ud, char *err, size_t errlen);
void lf_etcd_stats_get(const lf_etcd *e, lf_etcd_stats *st);
/* Aborts transfers, stops timers, frees. NULL ok. */
void lf_etcd_free(lf_etcd *e);

/* Helpers, exposed for tests and for the gateway's encoding. */
/* Standard base64 with padding; returns a malloc'd NUL-terminated string. */
char *lf_etcd_b64_encode(const void *p, size_t n);
/* Returns malloc'd bytes + NUL (len in *outlen), or NULL on bad input. */
char *lf_etcd_b64_decode(const char *s, size_t n, size_t *outlen);
/* The range_end that makes [prefix, end) a prefix query (last byte + 1,
 * carrying); malloc'd, *outlen set. A prefix of all 0xff gives "\0". */
char *lf_etcd_prefix_end(const char *prefix, size_t n, size_t *outlen);

#endif
