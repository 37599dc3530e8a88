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

/* Fills body; returns the HTTP status. content_type defaults to text/plain. */
typedef int (*lf_http_handler)(void *ud, const char *path, const char *query,
                               strbuf *body, const char **content_type);
/* Returns 0 when healthy, else -1 with the reason in buf. */
typedef int (*lf_health_cb)(void *ud, char *buf, size_t len);

/* listen: "127.0.0.1:9520", "[::1]:9520", ":9520" (all addresses), or
 * "off"/"" (returns 0 with *out = NULL). Port 0 = pick a free one. */
int  lf_http_start(lf_http **out, struct ev_loop *loop, const char *listen,
                   char *err, size_t errlen);
int  lf_http_port(const lf_http *h);  /* the bound port */
void lf_http_set_health(lf_http *h, lf_health_cb cb, void *ud);
/* path must match exactly (e.g. "/status"). */
int  lf_http_route(lf_http *h, const char *path, lf_http_handler fn, void *ud);
void lf_http_stop(lf_http *h);        /* NULL ok; frees */

#endif
