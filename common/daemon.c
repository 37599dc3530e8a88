/* daemon: see daemon.h. */
#include "common/daemon.h"
#include "common/atomic_file.h"
#include "common/log.h"
#include "common/strbuf.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <zlib.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#ifndef LF_VERSION
#define LF_VERSION "0.0.0"
#endif

/* ---- command line ----------------------------------------------------- */

enum { OPT_CHECK = 256, OPT_VERSION, OPT_LOGLEVEL, OPT_EXTRA0 = 512 };

static const char *prog_name(const char *argv0)
{
    const char *s = argv0 ? strrchr(argv0, '/') : NULL;
    return s ? s + 1 : argv0 ? argv0 : "logferry";
}

static int usage_error(const char *prog, const char *fmt, const char *what)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\nTry '%s --help'.\n", prog);
    return -1;
}

int lf_args_parse(lf_args *a, int argc, char **argv, const char *default_config,
                  const lf_opt_extra *extra)
{
    memset(a, 0, sizeof(*a));
    a->config = default_config;
    const char *prog = prog_name(argc > 0 ? argv[0] : NULL);
    size_t nextra = 0;
    while (extra && extra[nextra].name)
        nextra++;
    struct option *lo = calloc(nextra + 6, sizeof(*lo));
    if (!lo)
        return usage_error(prog, "%s", "out of memory");
    lo[0] = (struct option){"config", required_argument, NULL, 'c'};
    lo[1] = (struct option){"check-config", no_argument, NULL, OPT_CHECK};
    lo[2] = (struct option){"version", no_argument, NULL, OPT_VERSION};
    lo[3] = (struct option){"help", no_argument, NULL, 'h'};
    lo[4] = (struct option){"log-level", required_argument, NULL, OPT_LOGLEVEL};
    for (size_t i = 0; i < nextra; i++)
        lo[5 + i] = (struct option){extra[i].name,
                                    extra[i].has_arg ? required_argument : no_argument, NULL,
                                    OPT_EXTRA0 + (int)i};
    int rc = 0, c;
    optind = 0; /* glibc: full re-initialisation, so parsing can be repeated */
    opterr = 0; /* our own messages */
    while (rc == 0 && (c = getopt_long(argc, argv, ":c:h", lo, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'h':
            a->help = true;
            break;
        case OPT_CHECK:
            a->check_config = true;
            break;
        case OPT_VERSION:
            a->version = true;
            break;
        case OPT_LOGLEVEL:
            if (lf_log_parse_level(optarg) < 0)
                rc = usage_error(prog, "bad --log-level '%s'; expected error, warn, info or debug",
                                 optarg);
            a->log_level = optarg;
            break;
        case ':':
            rc = usage_error(prog, "option '%s' needs an argument", argv[optind - 1]);
            break;
        case '?':
            if (optopt && optopt < 256) {
                char s[3] = {'-', (char)optopt, 0};
                rc = usage_error(prog, "unknown option '%s'", s);
            } else {
                /* a long option: unknown, or given "=value" it takes none */
                const char *arg = argv[optind - 1];
                const char *eq = strchr(arg, '=');
                bool known = false;
                for (struct option *o = lo; eq && o->name; o++)
                    if (strlen(o->name) == (size_t)(eq - arg - 2) &&
                        strncmp(o->name, arg + 2, (size_t)(eq - arg - 2)) == 0)
                        known = true;
                rc = usage_error(prog, known ? "option '%s' takes no argument"
                                             : "unknown option '%s'", arg);
            }
            break;
        default:
            if (c >= OPT_EXTRA0 && c < OPT_EXTRA0 + (int)nextra) {
                const lf_opt_extra *e = &extra[c - OPT_EXTRA0];
                if (e->value)
                    *e->value = e->has_arg ? optarg : "1";
            }
            break;
        }
    }
    if (rc == 0 && optind < argc)
        rc = usage_error(prog, "unexpected argument '%s'", argv[optind]);
    free(lo);
    lo = NULL;
    return rc;
}

void lf_args_usage(FILE *out, const char *prog, const char *what, const lf_opt_extra *extra)
{
    fprintf(out, "Usage: %s [OPTIONS]\n", prog_name(prog));
    if (what)
        fprintf(out, "%s\n", what);
    fputs("\nOptions:\n"
          "  -c, --config FILE      configuration file\n"
          "      --check-config     check the configuration, print the effective one, exit\n"
          "      --log-level LEVEL  error, warn, info or debug (overrides the config)\n",
          out);
    for (const lf_opt_extra *e = extra; e && e->name; e++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s", e->name, e->has_arg ? " ARG" : "");
        fprintf(out, "      %-18s %s\n", left, e->help ? e->help : "");
    }
    fputs("      --version          print the version and the library versions, exit\n"
          "  -h, --help             print this help, exit\n",
          out);
}

void lf_print_version(const char *prog)
{
    char pcre[32] = "?";
    pcre2_config(PCRE2_CONFIG_VERSION, pcre);
    printf("%s %s (librdkafka %s, libcurl %s, libev %d.%d, cJSON %s, PCRE2 %s, zlib %s, "
           "libmicrohttpd %s)\n",
           prog_name(prog), LF_VERSION, rd_kafka_version_str(),
           curl_version_info(CURLVERSION_NOW)->version, ev_version_major(), ev_version_minor(),
           cJSON_Version(), pcre, zlibVersion(), MHD_get_version());
}

/* ---- signals ---------------------------------------------------------- */

struct lf_signals {
    struct ev_loop *loop;
    ev_signal       term, intr, hup;
    void          (*on_stop)(void *ud);
    void          (*on_reload)(void *ud);
    void           *ud;
};

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    lf_signals *s = w->data;
    if (w->signum == SIGHUP) {
        if (s->on_reload)
            s->on_reload(s->ud);
    } else if (s->on_stop) {
        s->on_stop(s->ud);
    }
}

lf_signals *lf_signals_start(struct ev_loop *loop, void (*on_stop)(void *ud),
                             void (*on_reload)(void *ud), void *ud)
{
    lf_signals *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->loop = loop;
    s->on_stop = on_stop;
    s->on_reload = on_reload;
    s->ud = ud;
    /* a closed peer socket must be an EPIPE error, not the end of us */
    signal(SIGPIPE, SIG_IGN);
    ev_signal_init(&s->term, on_signal, SIGTERM);
    ev_signal_init(&s->intr, on_signal, SIGINT);
    ev_signal_init(&s->hup, on_signal, SIGHUP);
    s->term.data = s->intr.data = s->hup.data = s;
    ev_signal_start(loop, &s->term);
    ev_signal_start(loop, &s->intr);
    ev_signal_start(loop, &s->hup);
    /* signal watchers must not keep the loop alive on their own */
    ev_unref(loop);
    ev_unref(loop);
    ev_unref(loop);
    return s;
}

void lf_signals_stop(lf_signals *s)
{
    if (!s)
        return;
    ev_ref(s->loop);
    ev_ref(s->loop);
    ev_ref(s->loop);
    ev_signal_stop(s->loop, &s->term);
    ev_signal_stop(s->loop, &s->intr);
    ev_signal_stop(s->loop, &s->hup);
    free(s);
}

/* ---- sd_notify -------------------------------------------------------- */

void lf_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path || (path[0] != '/' && path[0] != '@'))
        return;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if (n >= sizeof(sa.sun_path))
        return;
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract namespace: no NUL at the end */
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
                                  (path[0] == '@' ? 0 : 1));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    ssize_t rc;
    do
        rc = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
    while (rc < 0 && errno == EINTR);
    close(fd);
}

void lf_notifyf(const char *fmt, ...)
{
    strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    lf_notify(sb_str(&sb));
    sb_free(&sb);
}

/* ---- pidfile ---------------------------------------------------------- */

/* The pid in the file, 0 when absent or unreadable. */
static pid_t read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long pid = 0;
    if (fscanf(f, "%ld", &pid) != 1 || pid <= 0)
        pid = 0;
    fclose(f);
    return (pid_t)pid;
}

/* Does pid run the same program as we do? (a stale file may name a pid
 * that was reused by something else: that is not a second instance) */
static bool same_program(pid_t pid)
{
    char a[64], b[64] = "", c[64] = "";
    snprintf(a, sizeof(a), "/proc/%ld/comm", (long)pid);
    FILE *f = fopen(a, "r");
    if (!f)
        return false;
    bool ok = fgets(b, sizeof(b), f) != NULL;
    fclose(f);
    f = fopen("/proc/self/comm", "r");
    if (!f)
        return false;
    ok = ok && fgets(c, sizeof(c), f) != NULL;
    fclose(f);
    return ok && strcmp(b, c) == 0;
}

int lf_pidfile_write(const char *path, char *err, size_t errlen)
{
    pid_t old = read_pid(path);
    if (old > 0 && old != getpid() && kill(old, 0) == 0 && same_program(old)) {
        snprintf(err, errlen, "pidfile %s: another instance is running (pid %ld)", path,
                 (long)old);
        return -1;
    }
    char buf[32], why[512];
    int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (lf_file_replace(path, buf, (size_t)n, 0644, why, sizeof why) != 0) {
        snprintf(err, errlen, "pidfile %s: %s", path, why);
        return -1;
    }
    return 0;
}

void lf_pidfile_remove(const char *path)
{
    if (path && read_pid(path) == getpid())
        unlink(path);
}
