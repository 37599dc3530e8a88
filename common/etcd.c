/* etcd: v3 JSON-gateway client following key prefixes (see etcd.h).
 *
 * One cycle: [authenticate] → range prefix 0 (its header.revision R becomes
 * the snapshot revision) → range the other prefixes at R → snapshot → one
 * watch stream per prefix from R+1 → events until something fails. A
 * failure first marks the client FAILING (callbacks of transfers still in
 * flight are ignored from then on), then a 0 s timer tears every transfer
 * down outside libcurl's call stack and schedules the next cycle. */
#include "common/etcd.h"
#include "common/strbuf.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum st { ST_IDLE, ST_AUTH, ST_RANGE, ST_WATCH_CREATE, ST_WATCHING, ST_FAILING, ST_BACKOFF };
enum kind { K_AUTH, K_RANGE, K_WATCH };

typedef struct req {
    lf_etcd   *e;
    CURL      *easy;
    int        kind;
    size_t     idx;            /* prefix index (range, watch) */
    bool       active;         /* added to curl_ev, not finished */
    bool       created;        /* watch: got its "created" answer */
    bool       too_big;
    bool       compacted;      /* watch: canceled as compacted */
    struct curl_slist *hdrs;
    strbuf     body;           /* request body */
    strbuf     resp;           /* unary answer, or error body of a watch */
    strbuf     line;           /* watch: the incomplete line so far */
    char       abort_why[512]; /* watch: why the write callback gave up */
    char       curlerr[CURL_ERROR_SIZE]; /* libcurl's detailed message */
} req;

typedef struct kvbuf {
    char   *k, *v;
    size_t  kl, vl;
    int64_t mod;
} kvbuf;

struct lf_etcd {
    struct ev_loop *loop;
    lf_curl_ev     *curl;
    /* options (owned copies) */
    char   **endpoints;
    size_t   n_endpoints;
    char    *username, *password_file, *ca_file, *cert_file, *key_file;
    int64_t  connect_timeout_ms, request_timeout_ms, keepalive_idle_s, keepalive_intvl_s;
    int64_t  keepalive_count;
    int64_t  backoff_min_ms, backoff_max_ms, watch_idle_timeout_ms;
    bool     progress_notify;
    size_t   max_bytes;
    /* what we follow */
    char   **prefixes, **ends;
    size_t  *prefix_len, *end_len;
    size_t   n_prefixes;
    lf_etcd_cbs cbs;
    void    *ud;
    /* state */
    int      st;
    size_t   ep;               /* current endpoint */
    char    *token;
    bool     immediate_used;   /* one immediate retry (re-auth, compaction) until WATCHING */
    bool     next_immediate;   /* after FAILING: start again without backoff */
    bool     next_auth_failed; /* after FAILING: report AUTH_FAILED, long delay */
    unsigned attempt;          /* failures since the last WATCHING */
    int64_t  snap_rev;
    size_t   n_created;
    kvbuf   *snap;
    size_t   n_snap, cap_snap;
    req      unary;
    req     *watches;          /* n_prefixes */
    ev_timer step;             /* next step / backoff */
    ev_timer deadline;         /* watch creation deadline, idle watchdog */
    uint64_t rnd;
    char     why[512];
    lf_etcd_stats stats;
};

/* ---- small helpers (base64 and prefix ends: etcd_codec.c) ---- */

static uint64_t rnd_next(lf_etcd *e)
{
    /* xorshift64*: jitter only, no need for a strong generator. */
    e->rnd ^= e->rnd >> 12;
    e->rnd ^= e->rnd << 25;
    e->rnd ^= e->rnd >> 27;
    return e->rnd * 2685821657736338717ULL;
}

static int64_t json_int64(const cJSON *j)
{
    /* int64 fields come as strings; accept numbers too. Absent = 0. */
    if (cJSON_IsString(j) && j->valuestring)
        return strtoll(j->valuestring, NULL, 10);
    if (cJSON_IsNumber(j))
        return (int64_t)j->valuedouble;
    return 0;
}

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void set_why(lf_etcd *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_why(lf_etcd *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->why, sizeof e->why, fmt, ap);
    va_end(ap);
}

static const char *cur_ep(const lf_etcd *e)
{
    return e->endpoints[e->ep];
}

static void notify(lf_etcd *e, lf_etcd_state s, const char *why)
{
    if (e->cbs.on_state)
        e->cbs.on_state(e->ud, s, cur_ep(e), why);
}

/* "HTTP 400: etcdserver: ... (code 3)" from a gateway error body. */
static void http_error(char *out, size_t outlen, long status, const strbuf *body)
{
    cJSON *j = body->len ? cJSON_ParseWithLength(body->buf, body->len) : NULL;
    const cJSON *m = j ? cJSON_GetObjectItemCaseSensitive(j, "message") : NULL;
    const cJSON *c = j ? cJSON_GetObjectItemCaseSensitive(j, "code") : NULL;
    if (cJSON_IsString(m))
        snprintf(out, outlen, "HTTP %ld: %.300s (code %d)", status, m->valuestring,
                 cJSON_IsNumber(c) ? c->valueint : 0);
    else
        snprintf(out, outlen, "HTTP %ld: %.200s", status, body->len ? sb_str(body) : "(no body)");
    cJSON_Delete(j);
}

static int gw_code(const strbuf *body)
{
    cJSON *j = body->len ? cJSON_ParseWithLength(body->buf, body->len) : NULL;
    const cJSON *c = j ? cJSON_GetObjectItemCaseSensitive(j, "code") : NULL;
    int code = cJSON_IsNumber(c) ? c->valueint : -1;
    cJSON_Delete(j);
    return code;
}

/* ---- failure handling ---- */

static void step_cb(struct ev_loop *loop, ev_timer *w, int revents);

static void schedule(lf_etcd *e, double secs)
{
    ev_timer_stop(e->loop, &e->step);
    ev_timer_set(&e->step, secs, 0.);
    ev_timer_start(e->loop, &e->step);
}

/* Marks the cycle failed; the teardown happens on the next loop pass. */
static void fail(lf_etcd *e, bool immediate, bool auth_failed)
{
    if (e->st == ST_FAILING || e->st == ST_BACKOFF)
        return;
    e->st = ST_FAILING;
    e->next_immediate = immediate;
    e->next_auth_failed = auth_failed;
    ev_timer_stop(e->loop, &e->deadline);
    schedule(e, 0.);
}

static void req_stop(lf_etcd *e, req *r)
{
    if (r->active) {
        lf_curl_ev_remove(e->curl, r->easy);
        r->active = false;
    }
}

static void snap_clear(lf_etcd *e)
{
    for (size_t i = 0; i < e->n_snap; i++) {
        free(e->snap[i].k);
        e->snap[i].k = NULL;
        free(e->snap[i].v);
        e->snap[i].v = NULL;
    }
    e->n_snap = 0;
}

static void teardown(lf_etcd *e)
{
    req_stop(e, &e->unary);
    for (size_t i = 0; i < e->n_prefixes; i++)
        req_stop(e, &e->watches[i]);
    snap_clear(e);
    ev_timer_stop(e->loop, &e->deadline);
}

/* ---- requests ---- */

static size_t unary_write(char *p, size_t sz, size_t nm, void *ud)
{
    req *r = ud;
    size_t n = sz * nm;
    if (r->resp.len + n > r->e->max_bytes) {
        r->too_big = true;
        return 0;
    }
    sb_append(&r->resp, p, n);
    return n;
}

static size_t watch_write(char *p, size_t sz, size_t nm, void *ud);
static void req_done(CURL *easy, CURLcode rc, void *ud);

/* libcurl 7.88 has no CURLOPT_TCP_KEEPCNT; the kernel default (9 probes)
 * would take minutes to give up on a silent peer. */
static int sockopt_cb(void *ud, curl_socket_t fd, curlsocktype purpose)
{
    req *r = ud;
    int cnt = (int)r->e->keepalive_count;
    if (purpose == CURLSOCKTYPE_IPCXN)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
    return CURL_SOCKOPT_OK;
}

static int req_start(lf_etcd *e, req *r, const char *path, cJSON *body)
{
    char url[1024];
    char *txt = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!txt) {
        set_why(e, "out of memory building a request");
        return -1;
    }
    sb_reset(&r->body);
    sb_puts(&r->body, txt);
    free(txt);
    sb_reset(&r->resp);
    sb_reset(&r->line);
    r->too_big = false;
    r->compacted = false;
    r->created = false;
    r->abort_why[0] = '\0';
    curl_slist_free_all(r->hdrs);
    r->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    if (r->hdrs && e->token) {
        strbuf h = STRBUF_INIT;
        sb_printf(&h, "Authorization: %s", e->token);
        struct curl_slist *n = curl_slist_append(r->hdrs, sb_str(&h));
        sb_free(&h);
        if (!n) {
            curl_slist_free_all(r->hdrs);
            r->hdrs = NULL;
        } else {
            r->hdrs = n;
        }
    }
    if (!r->hdrs) {
        set_why(e, "out of memory building headers");
        return -1;
    }
    snprintf(url, sizeof url, "%s%s", cur_ep(e), path);
    CURL *c = r->easy;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    r->curlerr[0] = '\0';
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curlerr);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body.buf);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)r->body.len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->hdrs);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)e->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, (long)e->keepalive_idle_s);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, (long)e->keepalive_intvl_s);
    curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
    curl_easy_setopt(c, CURLOPT_SOCKOPTDATA, r);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (e->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, e->ca_file);
    if (e->cert_file)
        curl_easy_setopt(c, CURLOPT_SSLCERT, e->cert_file);
    if (e->key_file)
        curl_easy_setopt(c, CURLOPT_SSLKEY, e->key_file);
    if (r->kind == K_WATCH) {
        /* A watch is endless: no total timeout; keepalive (and the idle
         * watchdog) notice a dead peer. */
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, watch_write);
    } else {
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)e->request_timeout_ms);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, unary_write);
    }
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    char cerr[256] = "";
    if (lf_curl_ev_add(e->curl, c, req_done, r, cerr, sizeof cerr) != 0) {
        set_why(e, "cannot start request to %s: %s", url, cerr);
        return -1;
    }
    r->active = true;
    return 0;
}

static cJSON *key_range_json(lf_etcd *e, size_t i)
{
    cJSON *o = cJSON_CreateObject();
    char *k = lf_etcd_b64_encode(e->prefixes[i], e->prefix_len[i]);
    char *r = lf_etcd_b64_encode(e->ends[i], e->end_len[i]);
    if (!o || !k || !r || !cJSON_AddStringToObject(o, "key", k) ||
        !cJSON_AddStringToObject(o, "range_end", r)) {
        cJSON_Delete(o);
        o = NULL;
    }
    free(k);
    free(r);
    return o;
}

static void start_range(lf_etcd *e, size_t i);
static void start_watches(lf_etcd *e);

static void start_auth(lf_etcd *e)
{
    e->st = ST_AUTH;
    /* The password is read at each authentication, so a rotated file is
     * picked up without a restart, and never kept in memory longer. */
    FILE *f = fopen(e->password_file, "r");
    if (!f) {
        set_why(e, "cannot read password_file %s: %s", e->password_file, strerror(errno));
        fail(e, false, true);
        return;
    }
    char pw[4096];
    if (!fgets(pw, sizeof pw, f))
        pw[0] = '\0';
    fclose(f);
    pw[strcspn(pw, "\r\n")] = '\0';
    if (!pw[0]) {
        set_why(e, "password_file %s is empty", e->password_file);
        fail(e, false, true);
        return;
    }
    cJSON *b = cJSON_CreateObject();
    if (b && (!cJSON_AddStringToObject(b, "name", e->username) ||
              !cJSON_AddStringToObject(b, "password", pw))) {
        cJSON_Delete(b);
        b = NULL;
    }
    memset(pw, 0, sizeof pw);
    e->unary.kind = K_AUTH;
    if (!b) {
        set_why(e, "out of memory");
        fail(e, false, false);
        return;
    }
    if (req_start(e, &e->unary, "/v3/auth/authenticate", b) != 0)
        fail(e, false, false);
    /* the body held the password: wiped once the request is done (req_done) */
}

static void start_cycle(lf_etcd *e)
{
    e->snap_rev = 0;
    e->n_created = 0;
    snap_clear(e);
    /* After an immediate restart (compaction, re-authentication) this is
     * the only report of why. */
    notify(e, LF_ETCD_CONNECTING, e->next_immediate && e->why[0] ? e->why : NULL);
    e->next_immediate = false;
    if (e->username && !e->token)
        start_auth(e);
    else
        start_range(e, 0);
}

static void start_range(lf_etcd *e, size_t i)
{
    e->st = ST_RANGE;
    cJSON *b = key_range_json(e, i);
    /* Later prefixes at the first one's revision: one consistent snapshot. */
    if (b && i > 0 && !cJSON_AddNumberToObject(b, "revision", (double)e->snap_rev)) {
        cJSON_Delete(b);
        b = NULL;
    }
    if (!b) {
        set_why(e, "out of memory");
        fail(e, false, false);
        return;
    }
    e->unary.kind = K_RANGE;
    e->unary.idx = i;
    if (req_start(e, &e->unary, "/v3/kv/range", b) != 0)
        fail(e, false, false);
}

static void deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    lf_etcd *e = w->data;
    if (e->st == ST_WATCH_CREATE)
        set_why(e, "%s: watch not created within %" PRId64 " ms", cur_ep(e), e->request_timeout_ms);
    else if (e->st == ST_WATCHING)
        set_why(e, "%s: no data on the watch for %" PRId64 " ms", cur_ep(e), e->watch_idle_timeout_ms);
    else
        return;
    fail(e, false, false);
}

static void start_watches(lf_etcd *e)
{
    e->st = ST_WATCH_CREATE;
    e->n_created = 0;
    for (size_t i = 0; i < e->n_prefixes; i++) {
        cJSON *cr = key_range_json(e, i);
        cJSON *b = cJSON_CreateObject();
        if (!cr || !b || !cJSON_AddNumberToObject(cr, "start_revision", (double)(e->snap_rev + 1)) ||
            (e->progress_notify && !cJSON_AddBoolToObject(cr, "progress_notify", 1))) {
            cJSON_Delete(cr);
            cJSON_Delete(b);
            set_why(e, "out of memory");
            fail(e, false, false);
            return;
        }
        cJSON_AddItemToObject(b, "create_request", cr);
        req *w = &e->watches[i];
        w->kind = K_WATCH;
        w->idx = i;
        if (req_start(e, w, "/v3/watch", b) != 0) {
            fail(e, false, false);
            return;
        }
    }
    ev_timer_stop(e->loop, &e->deadline);
    ev_timer_set(&e->deadline, (double)e->request_timeout_ms / 1000.0, 0.);
    ev_timer_start(e->loop, &e->deadline);
}

static int snap_push(lf_etcd *e, const cJSON *kv)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(kv, "key");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(kv, "value");
    if (!cJSON_IsString(k))
        return -1;
    kvbuf b = {0};
    b.k = lf_etcd_b64_decode(k->valuestring, strlen(k->valuestring), &b.kl);
    /* an empty value is omitted like every zero field */
    b.v = cJSON_IsString(v) ? lf_etcd_b64_decode(v->valuestring, strlen(v->valuestring), &b.vl)
                            : strdup("");
    b.mod = json_int64(cJSON_GetObjectItemCaseSensitive(kv, "mod_revision"));
    if (!b.k || !b.v) {
        free(b.k);
        free(b.v);
        return -1;
    }
    if (e->n_snap == e->cap_snap) {
        size_t nc = e->cap_snap ? e->cap_snap * 2 : 64;
        kvbuf *ns = realloc(e->snap, nc * sizeof *ns);
        if (!ns) {
            free(b.k);
            free(b.v);
            return -1;
        }
        e->snap = ns;
        e->cap_snap = nc;
    }
    e->snap[e->n_snap++] = b;
    return 0;
}

static void deliver_snapshot(lf_etcd *e)
{
    lf_etcd_kv *kvs = e->n_snap ? calloc(e->n_snap, sizeof *kvs) : NULL;
    if (e->n_snap && !kvs) {
        set_why(e, "out of memory");
        fail(e, false, false);
        return;
    }
    for (size_t i = 0; i < e->n_snap; i++) {
        kvs[i].key = e->snap[i].k;
        kvs[i].key_len = e->snap[i].kl;
        kvs[i].value = e->snap[i].v;
        kvs[i].value_len = e->snap[i].vl;
        kvs[i].mod_revision = e->snap[i].mod;
    }
    if (e->snap_rev > e->stats.revision)
        e->stats.revision = e->snap_rev;
    e->stats.snapshots++;
    if (e->cbs.on_snapshot)
        e->cbs.on_snapshot(e->ud, kvs, e->n_snap, e->snap_rev);
    free(kvs);
    snap_clear(e);
}

static void on_auth_done(lf_etcd *e, long status)
{
    req *r = &e->unary;
    if (status != 200) {
        char msg[400];
        http_error(msg, sizeof msg, status, &r->resp);
        /* gRPC InvalidArgument (3) on authenticate = wrong name/password
         * (or auth not enabled): retrying fast will not help. */
        bool bad_cred = status == 400 && gw_code(&r->resp) == 3;
        set_why(e, "%s: authentication as %s failed: %s", cur_ep(e), e->username, msg);
        fail(e, false, bad_cred);
        return;
    }
    cJSON *j = cJSON_ParseWithLength(r->resp.buf, r->resp.len);
    const cJSON *t = j ? cJSON_GetObjectItemCaseSensitive(j, "token") : NULL;
    if (!cJSON_IsString(t) || !t->valuestring[0] || strpbrk(t->valuestring, "\r\n")) {
        set_why(e, "%s: authenticate answered without a usable token", cur_ep(e));
        cJSON_Delete(j);
        fail(e, false, false);
        return;
    }
    free(e->token);
    e->token = strdup(t->valuestring);
    cJSON_Delete(j);
    if (!e->token) {
        set_why(e, "out of memory");
        fail(e, false, false);
        return;
    }
    start_range(e, 0);
}

/* A 401, or an auth-related cancel: the token expired or was revoked. */
static void token_rejected(lf_etcd *e, const char *msg)
{
    free(e->token);
    e->token = NULL;
    if (e->username && !e->immediate_used) {
        e->immediate_used = true;
        set_why(e, "%s: token rejected (%s), authenticating again", cur_ep(e), msg);
        fail(e, true, false);
    } else {
        set_why(e, "%s: %s", cur_ep(e), msg);
        fail(e, false, e->username != NULL);
    }
}

static void on_range_done(lf_etcd *e, long status)
{
    req *r = &e->unary;
    if (status != 200) {
        char msg[400];
        http_error(msg, sizeof msg, status, &r->resp);
        if (status == 401) {
            token_rejected(e, msg);
            return;
        }
        set_why(e, "%s: range %s failed: %s", cur_ep(e), e->prefixes[r->idx], msg);
        fail(e, false, false);
        return;
    }
    cJSON *j = cJSON_ParseWithLength(r->resp.buf, r->resp.len);
    const cJSON *hdr = j ? cJSON_GetObjectItemCaseSensitive(j, "header") : NULL;
    int64_t rev = json_int64(hdr ? cJSON_GetObjectItemCaseSensitive(hdr, "revision") : NULL);
    const cJSON *kvs = j ? cJSON_GetObjectItemCaseSensitive(j, "kvs") : NULL;
    if (!j || rev <= 0 || (kvs && !cJSON_IsArray(kvs)) ||
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "more"))) {
        set_why(e, "%s: range %s: unexpected answer: %.200s", cur_ep(e), e->prefixes[r->idx],
                sb_str(&r->resp));
        cJSON_Delete(j);
        fail(e, false, false);
        return;
    }
    if (r->idx == 0)
        e->snap_rev = rev;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, kvs) {
        if (snap_push(e, kv) != 0) {
            set_why(e, "%s: range %s: bad kv in answer", cur_ep(e), e->prefixes[r->idx]);
            cJSON_Delete(j);
            fail(e, false, false);
            return;
        }
    }
    cJSON_Delete(j);
    if (r->idx + 1 < e->n_prefixes) {
        start_range(e, r->idx + 1);
        return;
    }
    deliver_snapshot(e);
    if (e->st == ST_RANGE)
        start_watches(e);
}

/* libcurl's generic text plus its detailed one ("SSL certificate problem:
 * ..."), into r->abort_why (free once the transfer is over). */
static const char *curl_msg(req *r, CURLcode rc)
{
    if (r->curlerr[0] && strcmp(r->curlerr, curl_easy_strerror(rc)) != 0)
        snprintf(r->abort_why, sizeof r->abort_why, "%s (%s)", curl_easy_strerror(rc), r->curlerr);
    else
        snprintf(r->abort_why, sizeof r->abort_why, "%s", curl_easy_strerror(rc));
    return r->abort_why;
}

static void req_done(CURL *easy, CURLcode rc, void *ud)
{
    req *r = ud;
    lf_etcd *e = r->e;
    r->active = false;
    if (r->kind == K_AUTH) /* the body held the password */
        memset(r->body.buf, 0, r->body.len);
    if (e->st == ST_FAILING || e->st == ST_BACKOFF || e->st == ST_IDLE)
        return;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (r->kind == K_WATCH) {
        if (r->abort_why[0])
            set_why(e, "%s", r->abort_why);
        else if (rc != CURLE_OK)
            set_why(e, "%s: watch %s: %s", cur_ep(e), e->prefixes[r->idx], curl_msg(r, rc));
        else if (status != 200) {
            char msg[400];
            http_error(msg, sizeof msg, status, &r->resp);
            set_why(e, "%s: watch %s: %s", cur_ep(e), e->prefixes[r->idx], msg);
        } else
            set_why(e, "%s: watch %s: stream closed by the server", cur_ep(e), e->prefixes[r->idx]);
        fail(e, false, false);
        return;
    }
    if (rc != CURLE_OK) {
        if (r->too_big)
            set_why(e, "%s: answer larger than max_response_bytes (%zu)", cur_ep(e), e->max_bytes);
        else
            set_why(e, "%s: %s", cur_ep(e), curl_msg(r, rc));
        fail(e, false, false);
        return;
    }
    if (r->kind == K_AUTH)
        on_auth_done(e, status);
    else
        on_range_done(e, status);
}

/* ---- watch stream ---- */

static int watch_events(lf_etcd *e, req *r, const cJSON *evs, int64_t rev)
{
    int n = cJSON_GetArraySize(evs);
    if (n <= 0)
        return 0;
    lf_etcd_event *ev = calloc((size_t)n, sizeof *ev);
    if (!ev) {
        snprintf(r->abort_why, sizeof r->abort_why, "out of memory");
        return -1;
    }
    int i = 0, rc = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, evs) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "type");
        const cJSON *kv = cJSON_GetObjectItemCaseSensitive(it, "kv");
        const cJSON *k = kv ? cJSON_GetObjectItemCaseSensitive(kv, "key") : NULL;
        const cJSON *v = kv ? cJSON_GetObjectItemCaseSensitive(kv, "value") : NULL;
        /* PUT is the zero value of the type and therefore omitted. */
        ev[i].type = cJSON_IsString(t) && strcmp(t->valuestring, "DELETE") == 0 ? LF_ETCD_DELETE
                                                                               : LF_ETCD_PUT;
        if (!cJSON_IsString(k) ||
            !(ev[i].kv.key = lf_etcd_b64_decode(k->valuestring, strlen(k->valuestring),
                                                &ev[i].kv.key_len))) {
            rc = -1;
            break;
        }
        if (ev[i].type == LF_ETCD_PUT) {
            if (cJSON_IsString(v))
                ev[i].kv.value = lf_etcd_b64_decode(v->valuestring, strlen(v->valuestring),
                                                    &ev[i].kv.value_len);
            else
                ev[i].kv.value = strdup("");
            if (!ev[i].kv.value) {
                i++;
                rc = -1;
                break;
            }
        }
        ev[i].kv.mod_revision = json_int64(cJSON_GetObjectItemCaseSensitive(kv, "mod_revision"));
        if (ev[i].kv.mod_revision > rev)
            rev = ev[i].kv.mod_revision;
        i++;
    }
    if (rc == 0) {
        if (rev > e->stats.revision)
            e->stats.revision = rev;
        e->stats.events += (uint64_t)n;
        if (e->cbs.on_events)
            e->cbs.on_events(e->ud, ev, (size_t)n, e->stats.revision);
    } else {
        snprintf(r->abort_why, sizeof r->abort_why, "%s: watch %s: malformed event", cur_ep(e),
                 e->prefixes[r->idx]);
    }
    for (int j = 0; j < n; j++) {
        free((char *)ev[j].kv.key);
        free((char *)ev[j].kv.value);
    }
    free(ev);
    return rc;
}

static bool auth_reason(const char *s)
{
    return strstr(s, "auth") || strstr(s, "token") || strstr(s, "user name") ||
           strstr(s, "permission denied");
}

/* One JSON object of the stream. 0 = go on, -1 = abort (r->abort_why set). */
static int watch_line(lf_etcd *e, req *r, const char *p, size_t n)
{
    while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
        n--;
    if (n == 0)
        return 0;
    const char *pfx = e->prefixes[r->idx];
    cJSON *j = cJSON_ParseWithLength(p, n);
    const cJSON *res = j ? cJSON_GetObjectItemCaseSensitive(j, "result") : NULL;
    int rc = 0;
    if (!j || !cJSON_IsObject(res)) {
        const cJSON *er = j ? cJSON_GetObjectItemCaseSensitive(j, "error") : NULL;
        const cJSON *m = cJSON_IsObject(er) ? cJSON_GetObjectItemCaseSensitive(er, "message") : NULL;
        snprintf(r->abort_why, sizeof r->abort_why, "%s: watch %s: %s%.200s", cur_ep(e), pfx,
                 cJSON_IsString(m) ? "" : "unexpected data: ",
                 cJSON_IsString(m) ? m->valuestring : p);
        cJSON_Delete(j);
        return -1;
    }
    const cJSON *hdr = cJSON_GetObjectItemCaseSensitive(res, "header");
    int64_t rev = json_int64(hdr ? cJSON_GetObjectItemCaseSensitive(hdr, "revision") : NULL);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "canceled"))) {
        int64_t crev = json_int64(cJSON_GetObjectItemCaseSensitive(res, "compact_revision"));
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(res, "cancel_reason");
        const char *ws = cJSON_IsString(why) ? why->valuestring : "";
        if (crev > 0) {
            e->stats.compactions++;
            r->compacted = true; /* ranging again at once is the recovery */
            snprintf(r->abort_why, sizeof r->abort_why,
                     "%s: watch %s: revision %" PRId64 " compacted (now %" PRId64 "), ranging again",
                     cur_ep(e), pfx, e->snap_rev + 1, crev);
        } else if (auth_reason(ws)) {
            /* abort_why stays empty: token_rejected decides what happens */
            cJSON_Delete(j);
            token_rejected(e, ws);
            return -1;
        } else {
            snprintf(r->abort_why, sizeof r->abort_why, "%s: watch %s canceled: %.300s",
                     cur_ep(e), pfx, ws[0] ? ws : "(no reason given)");
        }
        cJSON_Delete(j);
        return -1;
    }
    if (rev > e->stats.revision)
        e->stats.revision = rev;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "created")) && !r->created) {
        r->created = true;
        if (++e->n_created == e->n_prefixes && e->st == ST_WATCH_CREATE) {
            e->st = ST_WATCHING;
            e->attempt = 0;
            e->immediate_used = false;
            e->stats.connected = true;
            e->why[0] = '\0';
            ev_timer_stop(e->loop, &e->deadline);
            if (e->watch_idle_timeout_ms > 0) {
                ev_timer_set(&e->deadline, 0., (double)e->watch_idle_timeout_ms / 1000.0);
                ev_timer_again(e->loop, &e->deadline);
            }
            notify(e, LF_ETCD_WATCHING, NULL);
        }
    }
    const cJSON *evs = cJSON_GetObjectItemCaseSensitive(res, "events");
    if (cJSON_IsArray(evs))
        rc = watch_events(e, r, evs, rev);
    cJSON_Delete(j);
    return rc;
}

static size_t watch_write(char *p, size_t sz, size_t nm, void *ud)
{
    req *r = ud;
    lf_etcd *e = r->e;
    size_t n = sz * nm;
    if (e->st == ST_FAILING || e->st == ST_BACKOFF)
        return 0; /* the teardown is coming; stop reading */
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) { /* an error body: keep (bounded) for the message */
        if (r->resp.len < 4096)
            sb_append(&r->resp, p, n < 4096 ? n : 4096);
        return n;
    }
    if (e->st == ST_WATCHING && e->watch_idle_timeout_ms > 0)
        ev_timer_again(e->loop, &e->deadline);
    sb_append(&r->line, p, n);
    size_t start = 0;
    for (;;) {
        char *nl = memchr(r->line.buf + start, '\n', r->line.len - start);
        if (!nl)
            break;
        size_t len = (size_t)(nl - (r->line.buf + start));
        if (watch_line(e, r, r->line.buf + start, len) != 0) {
            if (e->st != ST_FAILING) { /* token_rejected() already failed */
                set_why(e, "%s", r->abort_why);
                fail(e, r->compacted && !e->immediate_used, false);
                if (r->compacted)
                    e->immediate_used = true;
            }
            return 0;
        }
        start += len + 1;
    }
    if (start) {
        memmove(r->line.buf, r->line.buf + start, r->line.len - start);
        r->line.len -= start;
        r->line.buf[r->line.len] = '\0';
    }
    if (r->line.len > e->max_bytes) {
        snprintf(r->abort_why, sizeof r->abort_why,
                 "%s: watch %s: a message larger than max_response_bytes (%zu)", cur_ep(e),
                 e->prefixes[r->idx], e->max_bytes);
        set_why(e, "%s", r->abort_why);
        fail(e, false, false);
        return 0;
    }
    return n;
}

/* ---- the step timer: teardown after failure, backoff, next cycle ---- */

static void step_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    lf_etcd *e = w->data;
    if (e->st == ST_FAILING) {
        teardown(e);
        e->stats.connected = false;
        if (e->next_immediate) {
            e->st = ST_IDLE;
            start_cycle(e);
            return;
        }
        e->stats.reconnects++;
        double ms;
        if (e->next_auth_failed) {
            e->stats.auth_failures++;
            ms = (double)e->backoff_max_ms;
        } else {
            unsigned a = e->attempt < 30 ? e->attempt : 30;
            ms = (double)e->backoff_min_ms * (double)(1u << (a < 20 ? a : 20));
            if (ms > (double)e->backoff_max_ms)
                ms = (double)e->backoff_max_ms;
            e->attempt++;
        }
        /* Jitter in [ms/2, ms): many collectors restarted by one etcd
         * outage must not come back in lockstep. */
        ms = ms / 2 + (double)(rnd_next(e) % 1000000) / 1000000.0 * (ms / 2);
        e->st = ST_BACKOFF;
        notify(e, e->next_auth_failed ? LF_ETCD_AUTH_FAILED : LF_ETCD_BACKOFF, e->why);
        e->ep = (e->ep + 1) % e->n_endpoints;
        schedule(e, ms / 1000.0);
        return;
    }
    if (e->st == ST_BACKOFF || e->st == ST_IDLE) {
        e->st = ST_IDLE;
        start_cycle(e);
    }
}

/* ---- lifecycle ---- */

static void req_init(lf_etcd *e, req *r)
{
    r->e = e;
}

static void req_fini(lf_etcd *e, req *r)
{
    req_stop(e, r);
    if (r->easy)
        curl_easy_cleanup(r->easy);
    r->easy = NULL;
    curl_slist_free_all(r->hdrs);
    r->hdrs = NULL;
    if (r->body.buf)
        memset(r->body.buf, 0, r->body.len);
    sb_free(&r->body);
    sb_free(&r->resp);
    sb_free(&r->line);
}

void lf_etcd_free(lf_etcd *e)
{
    if (!e)
        return;
    ev_timer_stop(e->loop, &e->step);
    ev_timer_stop(e->loop, &e->deadline);
    req_fini(e, &e->unary);
    for (size_t i = 0; e->watches && i < e->n_prefixes; i++)
        req_fini(e, &e->watches[i]);
    free(e->watches);
    e->watches = NULL;
    snap_clear(e);
    free(e->snap);
    e->snap = NULL;
    for (size_t i = 0; i < e->n_endpoints; i++)
        free(e->endpoints[i]);
    free(e->endpoints);
    for (size_t i = 0; i < e->n_prefixes; i++) {
        free(e->prefixes[i]);
        free(e->ends[i]);
    }
    free(e->prefixes);
    free(e->ends);
    free(e->prefix_len);
    free(e->end_len);
    free(e->username);
    free(e->password_file);
    free(e->ca_file);
    free(e->cert_file);
    free(e->key_file);
    free(e->token);
    e->token = NULL;
    free(e);
}

int lf_etcd_new(lf_etcd **out, struct ev_loop *loop, lf_curl_ev *curl,
                const lf_etcd_opts *o, char *err, size_t errlen)
{
    *out = NULL;
    if (!o || o->n_endpoints == 0) {
        snprintf(err, errlen, "etcd: no endpoints");
        return -1;
    }
    if (o->username && !o->password_file) {
        snprintf(err, errlen, "etcd: username set without password_file");
        return -1;
    }
    lf_etcd *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->loop = loop;
    e->curl = curl;
    e->endpoints = calloc(o->n_endpoints, sizeof *e->endpoints);
    if (!e->endpoints)
        goto oom;
    e->n_endpoints = o->n_endpoints;
    for (size_t i = 0; i < o->n_endpoints; i++) {
        const char *ep = o->endpoints[i];
        if (!ep || (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0)) {
            snprintf(err, errlen, "etcd: endpoint \"%s\" must start with http:// or https://",
                     ep ? ep : "");
            goto err;
        }
        size_t l = strlen(ep);
        while (l > 0 && ep[l - 1] == '/') /* "http://h:2379/" → no "//v3" */
            l--;
        if (!(e->endpoints[i] = strndup(ep, l)))
            goto oom;
    }
    if ((o->username && !(e->username = strdup(o->username))) ||
        (o->password_file && !(e->password_file = strdup(o->password_file))) ||
        (o->ca_file && !(e->ca_file = xstrdup(o->ca_file))) ||
        (o->cert_file && !(e->cert_file = xstrdup(o->cert_file))) ||
        (o->key_file && !(e->key_file = xstrdup(o->key_file))))
        goto oom;
    e->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
    e->request_timeout_ms = o->request_timeout_ms > 0 ? o->request_timeout_ms : 10000;
    e->keepalive_idle_s = o->keepalive_idle_s > 0 ? o->keepalive_idle_s : 30;
    e->keepalive_intvl_s = o->keepalive_intvl_s > 0 ? o->keepalive_intvl_s : 10;
    e->keepalive_count = o->keepalive_count > 0 ? o->keepalive_count : 3;
    e->backoff_min_ms = o->backoff_min_ms > 0 ? o->backoff_min_ms : 500;
    e->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : 30000;
    if (e->backoff_max_ms < e->backoff_min_ms)
        e->backoff_max_ms = e->backoff_min_ms;
    e->watch_idle_timeout_ms = o->watch_idle_timeout_ms > 0 ? o->watch_idle_timeout_ms : 0;
    e->progress_notify = o->progress_notify;
    e->max_bytes = o->max_response_bytes ? o->max_response_bytes : (size_t)64 << 20;
    req_init(e, &e->unary);
    if (!(e->unary.easy = curl_easy_init()))
        goto oom;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    e->rnd = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^
             (uint64_t)(uintptr_t)e;
    if (!e->rnd)
        e->rnd = 88172645463325252ULL;
    ev_timer_init(&e->step, step_cb, 0., 0.);
    e->step.data = e;
    ev_timer_init(&e->deadline, deadline_cb, 0., 0.);
    e->deadline.data = e;
    e->stats.last_error = e->why;
    *out = e;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
err:
    lf_etcd_free(e);
    return -1;
}

int lf_etcd_follow(lf_etcd *e, const char *const *prefixes, size_t n,
                   const lf_etcd_cbs *cbs, void *ud, char *err, size_t errlen)
{
    if (e->n_prefixes) {
        snprintf(err, errlen, "etcd: already following");
        return -1;
    }
    if (n == 0) {
        snprintf(err, errlen, "etcd: no prefix to follow");
        return -1;
    }
    e->prefixes = calloc(n, sizeof *e->prefixes);
    e->ends = calloc(n, sizeof *e->ends);
    e->prefix_len = calloc(n, sizeof *e->prefix_len);
    e->end_len = calloc(n, sizeof *e->end_len);
    e->watches = calloc(n, sizeof *e->watches);
    if (!e->prefixes || !e->ends || !e->prefix_len || !e->end_len || !e->watches)
        goto oom;
    e->n_prefixes = n; /* from here on lf_etcd_free releases what is set */
    for (size_t i = 0; i < n; i++) {
        if (!prefixes[i] || !prefixes[i][0]) {
            snprintf(err, errlen, "etcd: empty prefix");
            goto err;
        }
        e->prefix_len[i] = strlen(prefixes[i]);
        if (!(e->prefixes[i] = strdup(prefixes[i])) ||
            !(e->ends[i] = lf_etcd_prefix_end(prefixes[i], e->prefix_len[i], &e->end_len[i])))
            goto oom;
        req_init(e, &e->watches[i]);
        if (!(e->watches[i].easy = curl_easy_init()))
            goto oom;
    }
    e->cbs = *cbs;
    e->ud = ud;
    e->st = ST_IDLE;
    schedule(e, 0.);
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
err:
    /* leave the client unused but freeable */
    for (size_t i = 0; i < n; i++) {
        if (e->prefixes) { free(e->prefixes[i]); }
        if (e->ends) { free(e->ends[i]); }
        if (e->watches) {
            if (e->watches[i].easy)
                curl_easy_cleanup(e->watches[i].easy);
        }
    }
    free(e->prefixes); e->prefixes = NULL;
    free(e->ends); e->ends = NULL;
    free(e->prefix_len); e->prefix_len = NULL;
    free(e->end_len); e->end_len = NULL;
    free(e->watches); e->watches = NULL;
    e->n_prefixes = 0;
    return -1;
}

void lf_etcd_stats_get(const lf_etcd *e, lf_etcd_stats *st)
{
    *st = e->stats;
    st->endpoint = cur_ep(e);
    st->last_error = e->why;
}
