/* curl_ev: libcurl multi-socket API on libev (protocols.md §D).
 *
 * libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when
 * to wake it up (CURLMOPT_TIMERFUNCTION); we keep one ev_io per socket and a
 * single ev_timer, and hand events back through curl_multi_socket_action.
 * Finished transfers are collected with curl_multi_info_read after every
 * socket_action call. */
#include "common/curl_ev.h"

#include <stdio.h>
#include <stdlib.h>

/* One in-flight transfer: the easy handle stays the caller's; this only
 * remembers whom to tell when it is done. Kept in a list rather than in
 * CURLOPT_PRIVATE so callers stay free to use CURLOPT_PRIVATE themselves. */
typedef struct xfer {
    CURL           *easy;
    lf_curl_done_cb cb;
    void           *ud;
    struct xfer    *prev, *next;
} xfer;

/* One socket libcurl asked us to watch (attached with curl_multi_assign). */
typedef struct sock {
    ev_io          io;
    curl_socket_t  fd;
    lf_curl_ev    *c;
    struct sock   *prev, *next;
} sock;

struct lf_curl_ev {
    struct ev_loop *loop;
    CURLM          *multi;
    ev_timer        timer;   /* libcurl's timeout */
    xfer           *xfers;
    int             nxfers;
    sock           *socks;   /* so that lf_curl_ev_free can free what
                              * curl_multi_cleanup did not report removed */
};

#define LIST_UNLINK(head, e) do {                       \
        if ((e)->prev) (e)->prev->next = (e)->next;     \
        else (head) = (e)->next;                        \
        if ((e)->next) (e)->next->prev = (e)->prev;     \
        (e)->prev = (e)->next = NULL;                   \
    } while (0)
#define LIST_PUSH(head, e) do {                         \
        (e)->prev = NULL; (e)->next = (head);           \
        if (head) (head)->prev = (e);                   \
        (head) = (e);                                   \
    } while (0)

static xfer *xfer_find(lf_curl_ev *c, CURL *easy)
{
    for (xfer *x = c->xfers; x; x = x->next)
        if (x->easy == easy)
            return x;
    return NULL;
}

/* Reports finished transfers. The callback may add or remove transfers
 * (curl_multi_remove_handle also drops a removed easy's pending message),
 * so each message is looked up afresh. */
static void check_done(lf_curl_ev *c)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode res = msg->data.result;
        xfer *x = xfer_find(c, easy);
        curl_multi_remove_handle(c->multi, easy);
        if (!x)
            continue;
        lf_curl_done_cb cb = x->cb;
        void *ud = x->ud;
        LIST_UNLINK(c->xfers, x);
        c->nxfers--;
        free(x);
        x = NULL;
        /* Last: the callback may re-add this very easy handle. */
        cb(easy, res, ud);
    }
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    lf_curl_ev *c = w->data;
    int running;
    (void)loop;
    (void)revents;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    sock *s = w->data;
    lf_curl_ev *c = s->c;
    curl_socket_t fd = s->fd; /* s may be freed inside socket_action */
    int action = ((revents & EV_READ) ? CURL_CSELECT_IN : 0) |
                 ((revents & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running;
    (void)loop;
    s = NULL;
    curl_multi_socket_action(c->multi, fd, action, &running);
    check_done(c);
}

/* CURLMOPT_TIMERFUNCTION: only (re)arms the timer. Calling libcurl from
 * here is not allowed, so even a 0 ms timeout goes through the loop. */
static int timer_cb(CURLM *multi, long timeout_ms, void *clientp)
{
    lf_curl_ev *c = clientp;
    (void)multi;
    ev_timer_stop(c->loop, &c->timer);
    if (timeout_ms >= 0) {
        ev_timer_set(&c->timer, (double)timeout_ms / 1000.0, 0.);
        ev_timer_start(c->loop, &c->timer);
    }
    return 0;
}

static void sock_free(lf_curl_ev *c, sock *s)
{
    ev_io_stop(c->loop, &s->io);
    LIST_UNLINK(c->socks, s);
    free(s);
}

/* CURLMOPT_SOCKETFUNCTION: keeps one ev_io per socket in step with what
 * libcurl wants to wait for. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *clientp, void *socketp)
{
    lf_curl_ev *c = clientp;
    sock *s = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(c->multi, fd, NULL);
            sock_free(c, s);
            s = NULL;
        }
        return 0;
    }
    int events = ((what & CURL_POLL_IN) ? EV_READ : 0) |
                 ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    if (!s) {
        s = calloc(1, sizeof(*s));
        if (!s)
            return -1; /* libcurl fails the transfer */
        s->fd = fd;
        s->c = c;
        ev_io_init(&s->io, on_io, fd, events);
        s->io.data = s;
        LIST_PUSH(c->socks, s);
        curl_multi_assign(c->multi, fd, s);
    } else {
        ev_io_stop(c->loop, &s->io);
        ev_io_set(&s->io, fd, events);
    }
    if (events)
        ev_io_start(c->loop, &s->io);
    return 0;
}

int lf_curl_ev_new(lf_curl_ev **out, struct ev_loop *loop, char *err, size_t errlen)
{
    *out = NULL;
    lf_curl_ev *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->loop = loop;
    ev_timer_init(&c->timer, on_timer, 0., 0.);
    c->timer.data = c;
    c->multi = curl_multi_init();
    if (!c->multi) {
        snprintf(err, errlen, "curl_multi_init failed");
        goto err;
    }
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    *out = c;
    return 0;
err:
    lf_curl_ev_free(c);
    return -1;
}

int lf_curl_ev_add(lf_curl_ev *c, CURL *easy, lf_curl_done_cb cb, void *ud,
                   char *err, size_t errlen)
{
    if (xfer_find(c, easy)) {
        snprintf(err, errlen, "transfer already running");
        return -1;
    }
    xfer *x = calloc(1, sizeof(*x));
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    x->easy = easy;
    x->cb = cb;
    x->ud = ud;
    /* Adding arms the timer through timer_cb (timeout 0), which starts the
     * transfer from the loop. */
    CURLMcode mc = curl_multi_add_handle(c->multi, easy);
    if (mc != CURLM_OK) {
        snprintf(err, errlen, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        free(x);
        x = NULL;
        return -1;
    }
    LIST_PUSH(c->xfers, x);
    c->nxfers++;
    return 0;
}

void lf_curl_ev_remove(lf_curl_ev *c, CURL *easy)
{
    xfer *x = xfer_find(c, easy);
    if (!x)
        return;
    curl_multi_remove_handle(c->multi, easy);
    LIST_UNLINK(c->xfers, x);
    c->nxfers--;
    free(x);
    x = NULL;
}

int lf_curl_ev_running(const lf_curl_ev *c)
{
    return c->nxfers;
}

CURLM *lf_curl_ev_multi(lf_curl_ev *c)
{
    return c->multi;
}

void lf_curl_ev_free(lf_curl_ev *c)
{
    if (!c)
        return;
    while (c->xfers)
        lf_curl_ev_remove(c, c->xfers->easy);
    if (c->multi) {
        /* May still report pooled connections' sockets as removed. */
        curl_multi_cleanup(c->multi);
        c->multi = NULL;
    }
    while (c->socks)
        sock_free(c, c->socks);
    ev_timer_stop(c->loop, &c->timer);
    free(c);
}
