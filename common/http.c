/* http: libmicrohttpd in external-epoll mode on the daemon's libev loop.
 *
 * MHD runs no threads of its own: its epoll fd is watched by one ev_io, and
 * one ev_timer follows MHD_get_timeout; both call MHD_run, which never
 * blocks. We open the listening socket ourselves so that a bad address or
 * a port in use gives a precise error, and so that port 0 can be read back. */
#include "common/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/metrics.h"

/* Bounds for the endpoint: a handful of scrapers, never a crowd. */
#define HTTP_MAX_CONNECTIONS 32
#define HTTP_CONN_TIMEOUT_S  10

typedef struct route {
    char           *path;
    lf_http_handler fn;
    void           *ud;
    struct route   *next;
} route;

struct lf_http {
    struct ev_loop    *loop;
    struct MHD_Daemon *mhd;
    int                port;
    ev_io              io;    /* MHD's epoll fd */
    ev_timer           timer; /* MHD's next timeout */
    lf_health_cb       health;
    void              *health_ud;
    route             *routes;
};

static void rearm(lf_http *h)
{
    MHD_UNSIGNED_LONG_LONG ms;
    ev_timer_stop(h->loop, &h->timer);
    if (MHD_get_timeout(h->mhd, &ms) == MHD_YES) {
        ev_timer_set(&h->timer, (double)ms / 1000.0, 0.);
        ev_timer_start(h->loop, &h->timer);
    }
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    lf_http *h = w->data;
    (void)loop;
    (void)revents;
    MHD_run(h->mhd);
    rearm(h);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    lf_http *h = w->data;
    (void)loop;
    (void)revents;
    MHD_run(h->mhd);
    rearm(h);
}

/* Keeps the raw request URI (with its query string, which MHD's url
 * argument lacks) as the request's context. */
static void *uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    return strdup(uri ? uri : "");
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

/* Takes ownership of body's memory. */
static enum MHD_Result reply(struct MHD_Connection *conn, int status, strbuf *body,
                             const char *content_type, const char *allow)
{
    size_t len = 0;
    char *buf = sb_detach(body, &len);
    struct MHD_Response *r = buf
        ? MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE)
        : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(buf);
        return MHD_NO; /* MHD closes the connection */
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            content_type ? content_type : "text/plain; charset=utf-8");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    lf_http *h = cls;
    strbuf body = STRBUF_INIT;
    (void)version;
    (void)upload_data;
    (void)upload_data_size;

    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        sb_puts(&body, "method not allowed\n");
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, &body, NULL, "GET, HEAD");
    }
    const char *raw = *con_cls;
    const char *q = raw ? strchr(raw, '?') : NULL;
    const char *query = q ? q + 1 : "";

    for (route *r = h->routes; r; r = r->next) {
        if (strcmp(r->path, url) == 0) {
            const char *ct = NULL;
            int status = r->fn(r->ud, url, query, &body, &ct);
            return reply(conn, status, &body, ct, NULL);
        }
    }
    if (strcmp(url, "/metrics") == 0) {
        lf_metrics_render(&body);
        return reply(conn, MHD_HTTP_OK, &body, "text/plain; version=0.0.4; charset=utf-8", NULL);
    }
    if (strcmp(url, "/healthz") == 0) {
        char why[512] = "";
        if (h->health && h->health(h->health_ud, why, sizeof(why)) != 0) {
            sb_puts(&body, why[0] ? why : "unhealthy");
            sb_putc(&body, '\n');
            return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, &body, NULL, NULL);
        }
        sb_puts(&body, "ok\n");
        return reply(conn, MHD_HTTP_OK, &body, NULL, NULL);
    }
    sb_puts(&body, "not found\n");
    return reply(conn, MHD_HTTP_NOT_FOUND, &body, NULL, NULL);
}

/* "host:port", "[v6]:port", ":port" → a listening socket. */
static int open_listener(const char *listen_s, int *v6, char *err, size_t errlen)
{
    char host[256];
    const char *port_s;
    *v6 = 0;
    if (listen_s[0] == '[') {
        const char *close_b = strchr(listen_s, ']');
        if (!close_b || close_b[1] != ':') {
            snprintf(err, errlen, "listen \"%s\": expected [address]:port", listen_s);
            return -1;
        }
        size_t n = (size_t)(close_b - listen_s - 1);
        if (n == 0 || n >= sizeof(host)) {
            snprintf(err, errlen, "listen \"%s\": bad address", listen_s);
            return -1;
        }
        memcpy(host, listen_s + 1, n);
        host[n] = '\0';
        port_s = close_b + 2;
    } else {
        const char *colon = strrchr(listen_s, ':');
        if (!colon || strchr(listen_s, ':') != colon) {
            snprintf(err, errlen, "listen \"%s\": expected address:port, [address]:port or :port",
                     listen_s);
            return -1;
        }
        size_t n = (size_t)(colon - listen_s);
        if (n >= sizeof(host)) {
            snprintf(err, errlen, "listen \"%s\": bad address", listen_s);
            return -1;
        }
        memcpy(host, listen_s, n);
        host[n] = '\0';
        port_s = colon + 1;
    }
    char *end;
    errno = 0;
    long port = strtol(port_s, &end, 10);
    if (!*port_s || *end || errno || port < 0 || port > 65535 || *port_s == '-' || *port_s == '+') {
        snprintf(err, errlen, "listen \"%s\": bad port \"%s\"", listen_s, port_s);
        return -1;
    }

    struct sockaddr_storage ss;
    socklen_t sslen;
    memset(&ss, 0, sizeof(ss));
    int any = host[0] == '\0';
    if (any) {
        /* All addresses: one dual-stack IPv6 socket, or IPv4 where the
         * kernel has no IPv6. */
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_addr = in6addr_any;
        a6->sin6_port = htons((uint16_t)port);
        sslen = sizeof(*a6);
    } else {
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE;
        int rc = getaddrinfo(host, port_s, &hints, &res);
        if (rc != 0) {
            snprintf(err, errlen, "listen \"%s\": %s", listen_s, gai_strerror(rc));
            return -1;
        }
        memcpy(&ss, res->ai_addr, res->ai_addrlen);
        sslen = res->ai_addrlen;
        freeaddrinfo(res);
    }

    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 && any && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        memset(&ss, 0, sizeof(ss));
        a4->sin_family = AF_INET;
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
        a4->sin_port = htons((uint16_t)port);
        sslen = sizeof(*a4);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    }
    if (fd < 0) {
        snprintf(err, errlen, "listen \"%s\": socket: %s", listen_s, strerror(errno));
        return -1;
    }
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss.ss_family == AF_INET6) {
        *v6 = 1;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, any ? &zero : &one, sizeof(int));
    }
    if (bind(fd, (struct sockaddr *)&ss, sslen) != 0) {
        snprintf(err, errlen, "listen \"%s\": bind: %s", listen_s, strerror(errno));
        close(fd);
        return -1;
    }
    if (listen(fd, 64) != 0) {
        snprintf(err, errlen, "listen \"%s\": listen: %s", listen_s, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int lf_http_start(lf_http **out, struct ev_loop *loop, const char *listen_s,
                  char *err, size_t errlen)
{
    *out = NULL;
    if (!listen_s || !*listen_s || strcmp(listen_s, "off") == 0)
        return 0;
    int v6 = 0;
    int fd = open_listener(listen_s, &v6, err, errlen);
    if (fd < 0)
        return -1;
    lf_http *h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return -1;
    }
    h->loop = loop;
    h->port = bound_port(fd);
    ev_init(&h->io, on_io);
    h->io.data = h;
    ev_init(&h->timer, on_timer);
    h->timer.data = h;
    unsigned int flags = MHD_USE_EPOLL | (v6 ? MHD_USE_IPv6 : 0);
    /* MHD owns fd from here on, and closes it in MHD_stop_daemon. */
    h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
                              MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                              MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL,
                              MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_CONN_TIMEOUT_S,
                              MHD_OPTION_END);
    if (!h->mhd) {
        snprintf(err, errlen, "listen \"%s\": libmicrohttpd failed to start", listen_s);
        /* fd is not closed here: depending on where MHD failed it may have
         * closed it already, and closing a number another thread may have
         * reused is worse than leaking one descriptor on a startup error. */
        goto err;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!di || di->epoll_fd < 0) {
        snprintf(err, errlen, "listen \"%s\": libmicrohttpd has no epoll fd", listen_s);
        goto err;
    }
    ev_io_set(&h->io, di->epoll_fd, EV_READ);
    ev_io_start(loop, &h->io);
    rearm(h);
    *out = h;
    return 0;
err:
    lf_http_stop(h);
    return -1;
}

int lf_http_port(const lf_http *h)
{
    return h ? h->port : -1;
}

void lf_http_set_health(lf_http *h, lf_health_cb cb, void *ud)
{
    h->health = cb;
    h->health_ud = ud;
}

int lf_http_route(lf_http *h, const char *path, lf_http_handler fn, void *ud)
{
    for (route *r = h->routes; r; r = r->next) {
        if (strcmp(r->path, path) == 0) {
            r->fn = fn;
            r->ud = ud;
            return 0;
        }
    }
    route *r = calloc(1, sizeof(*r));
    if (!r)
        return -1;
    r->path = strdup(path);
    if (!r->path) {
        free(r);
        return -1;
    }
    r->fn = fn;
    r->ud = ud;
    r->next = h->routes;
    h->routes = r;
    return 0;
}

void lf_http_stop(lf_http *h)
{
    if (!h)
        return;
    ev_io_stop(h->loop, &h->io);
    ev_timer_stop(h->loop, &h->timer);
    if (h->mhd) {
        MHD_stop_daemon(h->mhd);
        h->mhd = NULL;
    }
    while (h->routes) {
        route *r = h->routes;
        h->routes = r->next;
        free(r->path);
        free(r);
    }
    free(h);
}
