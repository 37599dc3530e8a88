/* es: the Elasticsearch/OpenSearch HTTP client of the indexer.
 *
 * libcurl multi on the libev loop (common/curl_ev.h), easy handles reused so
 * connections stay open; several urls used round robin, a url that failed
 * to connect is skipped for `url_down` (failover); GET / tells the flavour
 * (7.x, 8.x, OpenSearch) and so the headers to send; basic auth or an API
 * key read from files; TLS verification on unless configured off; an empty
 * `Expect:` header (libcurl would otherwise wait for 100-continue on bodies
 * over 1 MiB and get 417 from Elasticsearch). The client retries nothing:
 * it reports each answer to its caller, who decides. */
#ifndef LF_INDEXER_ES_H
#define LF_INDEXER_ES_H
#include <stdbool.h>
#include <stddef.h>
#include <ev.h>
#include "indexer/settings.h"

typedef struct es_client es_client;

typedef enum { ES_UNKNOWN = 0, ES_7, ES_8, ES_OPENSEARCH } es_flavor;

typedef struct es_answer {
    long        status;  /* HTTP status; 0 = no answer (see error) */
    const char *body;    /* NUL-terminated, valid during the callback */
    size_t      len;
    const char *error;   /* transport error text when status == 0 */
    const char *url;     /* which node answered (or failed) */
    double      secs;    /* request duration */
} es_answer;

typedef void (*es_cb)(void *ud, const es_answer *a);

/* Reads password/API key files now (errors name the file). conf must
 * outlive the client. */
int  es_new(es_client **out, struct ev_loop *loop, const ix_es_conf *conf, char *err, size_t errlen);
/* Checks what es_new would read (secret files, TLS files), without I/O
 * beyond that. */
int  es_check_conf(const ix_es_conf *conf, char *err, size_t errlen);
void es_free(es_client *c); /* aborts requests without callbacks; NULL ok */

/* GET / on the next url; on a 2xx JSON answer the flavour is set before cb
 * runs. Also when version is configured (then only a reachability check). */
int  es_detect(es_client *c, es_cb cb, void *ud, char *err, size_t errlen);
es_flavor   es_flavor_of(const es_client *c);
const char *es_version(const es_client *c); /* "8.11.1" or "" */
/* Parses a GET / answer: 0 and flavour + version, or -1 + err. */
int  es_parse_root(const char *body, size_t len, es_flavor *fl, char *ver, size_t verlen,
                   char *err, size_t errlen);

/* POST /_bulk with body (borrowed until cb runs). 0, or -1 + err when the
 * request could not be started (cb is then not called). */
int  es_bulk(es_client *c, const char *body, size_t len, bool gzip, es_cb cb, void *ud,
             char *err, size_t errlen);
/* Same with the body read piecewise (no copy of a big batch): read fills
 * up to n bytes and returns how many; rewind starts over (curl may need to
 * resend the body). src borrowed until cb runs. */
typedef struct es_body {
    size_t   len;
    size_t (*read)(void *src, char *buf, size_t n);
    void   (*rewind)(void *src);
    void    *src;
} es_body;
int  es_bulk_stream(es_client *c, const es_body *body, es_cb cb, void *ud, char *err, size_t errlen);
int  es_inflight(const es_client *c);

#endif
