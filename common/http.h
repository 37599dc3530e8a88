/* http: the metrics endpoint, on libmicrohttpd driven by the daemon's libev
 * loop (MHD's epoll fd watched by an ev_io, plus an ev_timer for MHD's
 * timeouts; no MHD threads, so handlers run on the loop thread and may read
 * daemon state without locks).
 * Routes: GET /metrics (Prometheus text), GET /healthz (200 "ok" or 503 with
 * the reason from the health callback), plus routes a daemon adds. */
#ifndef LF_HTTP_H
#define LF_HTTP_H
#include <stddef.h>
#include <ev.h>
#include "common/strbuf.h"

typedef struct lf_http lf_http;

/* Fills body; returns the HTTP status. content_type defaults to
 * "text/plain; charset=utf-8". path is decoded; query is the raw
 * (percent-encoded) text after '?', "" when none. Runs on the loop thread.
 * Only GET and HEAD reach handlers (others get 405; HEAD sends no body). */
typedef int (*lf_http_handler)(void *ud, const char *path, const char *query,
                               strbuf *body, const char **content_type);
/* Returns 0 when healthy, else -1 with the reason in buf. */
typedef int (*lf_health_cb)(void *ud, char *buf, size_t len);

/* listen: "127.0.0.1:9520", "[::1]:9520", ":9520" (all addresses), or
 * "off"/"" (returns 0 with *out = NULL). Port 0 = pick a free one. A host
 * name is resolved once (first address). ":port" is one dual-stack socket
 * (IPv4-only where the kernel has no IPv6). Errors name the value:
 * 'listen "127.0.0.1:9520": bind: Address already in use'. At most 32
 * connections; idle ones close after 10 s. */
int  lf_http_start(lf_http **out, struct ev_loop *loop, const char *listen,
                   char *err, size_t errlen);
int  lf_http_port(const lf_http *h);  /* the bound port; -1 for NULL */
void lf_http_set_health(lf_http *h, lf_health_cb cb, void *ud);
/* path must match exactly (e.g. "/status"). Registering a path again
 * replaces its handler; a route may override /metrics or /healthz.
 * 0, or -1 when out of memory. */
int  lf_http_route(lf_http *h, const char *path, lf_http_handler fn, void *ud);
void lf_http_stop(lf_http *h);        /* NULL ok; frees */

#endif
