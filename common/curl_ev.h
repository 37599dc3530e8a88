/* curl_ev: libcurl's multi-socket API on a libev loop (one ev_io per socket,
 * one ev_timer), as in curl's evhiperfifo example, without its exit()s and
 * with timeouts in fractional seconds. */
#ifndef LF_CURL_EV_H
#define LF_CURL_EV_H
#include <stddef.h>
#include <curl/curl.h>
#include <ev.h>

typedef struct lf_curl_ev lf_curl_ev;

/* Called once per finished transfer, after the easy handle was removed from
 * the multi handle. The caller owns the easy handle throughout and may
 * reuse or clean it up inside the callback. */
typedef void (*lf_curl_done_cb)(CURL *easy, CURLcode result, void *ud);

int   lf_curl_ev_new(lf_curl_ev **out, struct ev_loop *loop, char *err, size_t errlen);
/* Starts a transfer. 0 or -1 with err. */
int   lf_curl_ev_add(lf_curl_ev *c, CURL *easy, lf_curl_done_cb cb, void *ud,
                     char *err, size_t errlen);
/* Aborts a transfer without calling its callback (shutdown, cancel). */
void  lf_curl_ev_remove(lf_curl_ev *c, CURL *easy);
int   lf_curl_ev_running(const lf_curl_ev *c); /* transfers in progress */
CURLM *lf_curl_ev_multi(lf_curl_ev *c);        /* for curl_multi_setopt */
void  lf_curl_ev_free(lf_curl_ev *c);           /* aborts all; NULL ok */

#endif
