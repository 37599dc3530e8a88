#include "indexer/es.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "common/curl_ev.h"
#include "common/strbuf.h"

/* Asked for to keep answers small; positions of items stay aligned. */
#define BULK_QUERY "/_bulk?filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason"
#define MAX_ANSWER (64u << 20) /* a bulk answer bigger than this is refused */
/* libcurl sends a body through an upload buffer, one send() per fill: at
 * its default 64 KiB a 5 MiB bulk body took ~80 send() calls and as many
 * loop wakeups for the socket turning writable, system calls that cost
 * where entering the kernel is dear (the bench VM). A request's buffer is
 * its body's size up to this (libcurl's bounds: 16 KiB to 2 MiB): at most
 * 1 MiB more per easy handle (max_inflight + 1 of them). */
#define SEND_BUFFER_MAX (1L << 20)
/* Answers are read in pieces of libcurl's receive buffer (16 KiB by
 * default, one recv() each); bulk answers are tens to hundreds of KiB. */
#define RECV_BUFFER (256L << 10)

typedef struct es_url {
    char  *root;      /* without trailing '/' */
    char  *bulk;      /* root + BULK_QUERY */
    double down_until;
} es_url;

typedef struct es_req {
    struct es_req *next;   /* free list */
    struct es_req *all;    /* every request ever made, for es_free */
    bool           detect; /* a GET / */
    es_client     *c;
    CURL          *easy;
    strbuf         resp;
    char           errbuf[CURL_ERROR_SIZE];
    es_cb          cb;
    void          *ud;
    size_t         url;
    double         started;
    bool           too_big;
    es_body        body;    /* streamed request body */
} es_req;

struct es_client {
    struct ev_loop   *loop;
    const ix_es_conf *conf;
    lf_curl_ev       *cev;
    es_url           *urls;
    size_t            nurls, next_url;
    es_req           *free_reqs;
    es_req           *all_reqs;
    int               inflight;
    char             *password;
    char             *apikey_hdr;
    es_flavor         flavor;
    char              version[32];
};

static int read_secret(const char *path, char **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        buf[--n] = '\0';
    if (!n) {
        snprintf(err, errlen, "%s: empty", path);
        return -1;
    }
    *out = strdup(buf);
    return *out ? 0 : -1;
}

int es_check_conf(const ix_es_conf *conf, char *err, size_t errlen)
{
    /* each message names the option too: "password_file: PATH: reason"
     * (a path alone, or an empty one, does not say what to fix) */
    char *s = NULL, why[400];
    if (conf->password_file && read_secret(conf->password_file, &s, why, sizeof why)) {
        snprintf(err, errlen, "password_file: %s", why);
        return -1;
    }
    free(s);
    s = NULL;
    if (conf->api_key_file && read_secret(conf->api_key_file, &s, why, sizeof why)) {
        snprintf(err, errlen, "api_key_file: %s", why);
        return -1;
    }
    free(s);
    const char *files[] = {conf->ca_file, conf->client_cert, conf->client_key};
    static const char *const names[] = {"ca_file", "client_cert", "client_key"};
    for (size_t i = 0; i < 3; i++)
        if (files[i] && access(files[i], R_OK)) {
            snprintf(err, errlen, "%s: %s: %s", names[i], files[i], strerror(errno));
            return -1;
        }
    return 0;
}

int es_new(es_client **out, struct ev_loop *loop, const ix_es_conf *conf, char *err, size_t errlen)
{
    es_client *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->loop = loop;
    c->conf = conf;
    if (lf_curl_ev_new(&c->cev, loop, err, errlen))
        goto err;
    curl_multi_setopt(lf_curl_ev_multi(c->cev), CURLMOPT_MAX_HOST_CONNECTIONS, (long)conf->max_inflight + 1);
    c->urls = calloc(conf->urls.n, sizeof *c->urls);
    if (!c->urls)
        goto oom;
    c->nurls = conf->urls.n;
    for (size_t i = 0; i < c->nurls; i++) {
        const char *u = conf->urls.v[i];
        size_t n = strlen(u);
        while (n && u[n - 1] == '/')
            n--;
        c->urls[i].root = strndup(u, n);
        c->urls[i].bulk = malloc(n + sizeof BULK_QUERY);
        if (!c->urls[i].root || !c->urls[i].bulk)
            goto oom;
        memcpy(c->urls[i].bulk, u, n);
        memcpy(c->urls[i].bulk + n, BULK_QUERY, sizeof BULK_QUERY);
    }
    if (conf->password_file && read_secret(conf->password_file, &c->password, err, errlen))
        goto err;
    if (conf->api_key_file) {
        char *key = NULL;
        if (read_secret(conf->api_key_file, &key, err, errlen))
            goto err;
        c->apikey_hdr = malloc(strlen(key) + 32);
        if (c->apikey_hdr)
            sprintf(c->apikey_hdr, "Authorization: ApiKey %s", key);
        free(key);
        if (!c->apikey_hdr)
            goto oom;
    }
    if (!strcmp(conf->version, "7"))
        c->flavor = ES_7;
    else if (!strcmp(conf->version, "8"))
        c->flavor = ES_8;
    else if (!strcmp(conf->version, "opensearch"))
        c->flavor = ES_OPENSEARCH;
    *out = c;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
err:
    es_free(c);
    return -1;
}

static void req_destroy(es_req *r)
{
    if (r->easy)
        curl_easy_cleanup(r->easy);
    sb_free(&r->resp);
    free(r);
}

void es_free(es_client *c)
{
    if (!c)
        return;
    lf_curl_ev_free(c->cev); /* aborts transfers, no callbacks */
    c->cev = NULL;
    es_req *r;
    while ((r = c->all_reqs)) {
        c->all_reqs = r->all;
        struct curl_slist *h = NULL;
        curl_easy_getinfo(r->easy, CURLINFO_PRIVATE, (char **)&h);
        curl_slist_free_all(h);
        req_destroy(r);
    }
    c->free_reqs = NULL;
    for (size_t i = 0; i < c->nurls; i++) {
        free(c->urls[i].root);
        free(c->urls[i].bulk);
    }
    free(c->urls);
    c->urls = NULL;
    if (c->password)
        memset(c->password, 0, strlen(c->password));
    free(c->password);
    c->password = NULL;
    free(c->apikey_hdr);
    c->apikey_hdr = NULL;
    free(c);
}

es_flavor es_flavor_of(const es_client *c) { return c->flavor; }
const char *es_version(const es_client *c) { return c->version; }
int es_inflight(const es_client *c) { return c->inflight; }

int es_parse_root(const char *body, size_t len, es_flavor *fl, char *ver, size_t verlen,
                  char *err, size_t errlen)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
    cJSON *num = cJSON_GetObjectItemCaseSensitive(v, "number");
    if (!cJSON_IsString(num)) {
        snprintf(err, errlen, "GET / answer has no version.number");
        cJSON_Delete(root);
        return -1;
    }
    cJSON *dist = cJSON_GetObjectItemCaseSensitive(v, "distribution");
    int major = atoi(num->valuestring);
    snprintf(ver, verlen, "%s", num->valuestring);
    if (cJSON_IsString(dist) && !strcmp(dist->valuestring, "opensearch"))
        *fl = ES_OPENSEARCH;
    else if (major >= 8)
        *fl = ES_8;
    else if (major == 7)
        *fl = ES_7;
    else {
        snprintf(err, errlen, "Elasticsearch %s is not supported (7.x, 8.x, OpenSearch)", num->valuestring);
        cJSON_Delete(root);
        return -1;
    }
    cJSON_Delete(root);
    return 0;
}

static size_t on_write(char *p, size_t sz, size_t n, void *ud)
{
    es_req *r = ud;
    size_t len = sz * n;
    if (r->resp.len + len > MAX_ANSWER) {
        r->too_big = true;
        return 0; /* aborts the transfer */
    }
    sb_append(&r->resp, p, len);
    return len;
}

/* The next url in turn that is not marked down; if all are, the one that
 * comes back first (never none: a request always goes somewhere). */
static size_t pick_url(es_client *c)
{
    double now = ev_time();
    size_t best = c->next_url % c->nurls;
    for (size_t k = 0; k < c->nurls; k++) {
        size_t i = (c->next_url + k) % c->nurls;
        if (c->urls[i].down_until <= now) {
            c->next_url = i + 1;
            return i;
        }
        if (c->urls[i].down_until < c->urls[best].down_until)
            best = i;
    }
    c->next_url = best + 1;
    return best;
}

static void on_done(CURL *easy, CURLcode res, void *ud)
{
    es_req *r = ud;
    es_client *c = r->c;
    es_answer a = {0};
    a.url = c->urls[r->url].root;
    a.secs = ev_time() - r->started;
    if (res == CURLE_OK) {
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &a.status);
    } else {
        a.error = r->too_big ? "answer too big" : (r->errbuf[0] ? r->errbuf : curl_easy_strerror(res));
        /* Only a failure to reach the node marks it down: a timeout on a
         * slow bulk says nothing about the other nodes' state. */
        if (res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST ||
            res == CURLE_SSL_CONNECT_ERROR || res == CURLE_GOT_NOTHING ||
            res == CURLE_SEND_ERROR || res == CURLE_RECV_ERROR)
            c->urls[r->url].down_until = ev_time() + c->conf->url_down_ms / 1000.0;
    }
    a.body = sb_str(&r->resp);
    a.len = r->resp.len;
    if (r->detect && a.status >= 200 && a.status < 300 && !strcmp(c->conf->version, "auto")) {
        char perr[160];
        es_flavor fl;
        if (es_parse_root(a.body, a.len, &fl, c->version, sizeof c->version, perr, sizeof perr) == 0)
            c->flavor = fl;
    }
    c->inflight--;
    r->cb(r->ud, &a);
    /* back to the pool only now: the answer's body lives in r->resp */
    struct curl_slist *h = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&h);
    curl_slist_free_all(h);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
    sb_reset(&r->resp);
    r->cb = NULL;
    r->next = c->free_reqs;
    c->free_reqs = r;
}

static es_req *req_get(es_client *c, char *err, size_t errlen)
{
    es_req *r = c->free_reqs;
    if (r) {
        c->free_reqs = r->next;
        curl_easy_reset(r->easy);
        sb_reset(&r->resp);
    } else {
        r = calloc(1, sizeof *r);
        if (!r || !(r->easy = curl_easy_init())) {
            free(r);
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        r->all = c->all_reqs;
        c->all_reqs = r;
    }
    r->c = c;
    r->next = NULL;
    r->detect = false;
    r->too_big = false;
    r->errbuf[0] = '\0';
    const ix_es_conf *k = c->conf;
    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)k->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)k->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, k->tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, k->tls_verify ? 2L : 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, RECV_BUFFER);
    if (k->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, k->ca_file);
    if (k->client_cert) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, k->client_cert);
        curl_easy_setopt(e, CURLOPT_SSLKEY, k->client_key);
    }
    if (k->username) {
        curl_easy_setopt(e, CURLOPT_USERNAME, k->username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, c->password);
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    }
    return r;
}

static int req_start(es_client *c, es_req *r, struct curl_slist *h, es_cb cb, void *ud,
                     char *err, size_t errlen)
{
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(r->easy, CURLOPT_PRIVATE, (char *)h);
    r->cb = cb;
    r->ud = ud;
    r->started = ev_time();
    if (lf_curl_ev_add(c->cev, r->easy, on_done, r, err, errlen)) {
        curl_slist_free_all(h);
        curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, NULL);
        r->cb = NULL;
        r->next = c->free_reqs;
        c->free_reqs = r;
        return -1;
    }
    c->inflight++;
    return 0;
}

static struct curl_slist *add_auth(es_client *c, struct curl_slist *h)
{
    if (c->apikey_hdr)
        h = curl_slist_append(h, c->apikey_hdr);
    return h;
}

int es_detect(es_client *c, es_cb cb, void *ud, char *err, size_t errlen)
{
    es_req *r = req_get(c, err, errlen);
    if (!r)
        return -1;
    r->url = pick_url(c);
    r->detect = true;
    curl_easy_setopt(r->easy, CURLOPT_URL, c->urls[r->url].root);
    curl_easy_setopt(r->easy, CURLOPT_HTTPGET, 1L);
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    h = add_auth(c, h);
    return req_start(c, r, h, cb, ud, err, errlen);
}

static size_t on_read(char *buf, size_t sz, size_t n, void *ud)
{
    es_req *r = ud;
    return r->body.read(r->body.src, buf, sz * n);
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
    es_req *r = ud;
    if (off != 0 || origin != SEEK_SET)
        return CURL_SEEKFUNC_CANTSEEK;
    r->body.rewind(r->body.src);
    return CURL_SEEKFUNC_OK;
}

static int bulk_start(es_client *c, es_req *r, bool gzip, es_cb cb, void *ud, char *err,
                      size_t errlen);

static void set_send_buffer(CURL *e, size_t body_len)
{
    long n = body_len < (size_t)SEND_BUFFER_MAX ? (long)body_len : SEND_BUFFER_MAX;
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, n); /* libcurl raises it to its minimum */
}

int es_bulk_stream(es_client *c, const es_body *body, es_cb cb, void *ud, char *err, size_t errlen)
{
    es_req *r = req_get(c, err, errlen);
    if (!r)
        return -1;
    r->body = *body;
    curl_easy_setopt(r->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(r->easy, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(r->easy, CURLOPT_READDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(r->easy, CURLOPT_SEEKDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    set_send_buffer(r->easy, body->len);
    return bulk_start(c, r, false, cb, ud, err, errlen);
}

int es_bulk(es_client *c, const char *body, size_t len, bool gzip, es_cb cb, void *ud,
            char *err, size_t errlen)
{
    es_req *r = req_get(c, err, errlen);
    if (!r)
        return -1;
    curl_easy_setopt(r->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    set_send_buffer(r->easy, len);
    return bulk_start(c, r, gzip, cb, ud, err, errlen);
}

static int bulk_start(es_client *c, es_req *r, bool gzip, es_cb cb, void *ud, char *err,
                      size_t errlen)
{
    r->url = pick_url(c);
    curl_easy_setopt(r->easy, CURLOPT_URL, c->urls[r->url].bulk);
    struct curl_slist *h = NULL;
    if (c->flavor == ES_8) {
        /* both or neither (protocols.md §B); never to a 7.x server */
        h = curl_slist_append(h, "Content-Type: application/vnd.elasticsearch+x-ndjson;compatible-with=8");
        h = curl_slist_append(h, "Accept: application/vnd.elasticsearch+json;compatible-with=8");
    } else {
        h = curl_slist_append(h, "Content-Type: application/x-ndjson");
        h = curl_slist_append(h, "Accept: application/json");
    }
    h = curl_slist_append(h, "Expect:");
    if (gzip)
        h = curl_slist_append(h, "Content-Encoding: gzip");
    h = add_auth(c, h);
    return req_start(c, r, h, cb, ud, err, errlen);
}
