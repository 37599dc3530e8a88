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
 * reuse (lf_curl_ev_add again) or clean it up inside the callback, and may
 * add or remove other transfers there; it must not call lf_curl_ev_free.
 * CURLOPT_PRIVATE stays free for the caller (we keep our own table).
 * result is the transfer's CURLcode (CURLE_OK also for HTTP 4xx/5xx: read
 * CURLINFO_RESPONSE_CODE). Callbacks run only from the ev loop, never from
 * inside lf_curl_ev_add. */
typedef void (*lf_curl_done_cb)(CURL *easy, CURLcode result, void *ud);

int   lf_curl_ev_new(lf_curl_ev **out, struct ev_loop *loop, char *err, size_t errlen);
/* Starts a transfer (on the next loop iteration). 0 or -1 with err; adding
 * a handle that is already running is an error. */
int   lf_curl_ev_add(lf_curl_ev *c, CURL *easy, lf_curl_done_cb cb, void *ud,
                     char *err, size_t errlen);
/* Aborts a transfer without calling its callback (shutdown, cancel). A
 * handle not running is ignored. */
void  lf_curl_ev_remove(lf_curl_ev *c, CURL *easy);
int   lf_curl_ev_running(const lf_curl_ev *c); /* transfers in progress */
CURLM *lf_curl_ev_multi(lf_curl_ev *c);        /* for curl_multi_setopt */
void  lf_curl_ev_free(lf_curl_ev *c);           /* aborts all; NULL ok */

#endif
