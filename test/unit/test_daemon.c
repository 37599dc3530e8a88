/* daemon: argument parsing and its errors, pidfile, sd_notify to a socket
 * bound here (path and abstract), signals on a libev loop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs lf_args_parse with stderr captured into `errout`. */
static int parse(lf_args *a, const lf_opt_extra *extra, char *errout, size_t n, int argc, ...)
{
    char *argv[16];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    argv[argc] = NULL;
    char path[] = "/tmp/test_daemon_err_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    int rc = lf_args_parse(a, argc, argv, "/etc/logferry/x.ini", extra);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t got = pread(fd, errout, n - 1, 0);
    errout[got > 0 ? got : 0] = '\0';
    close(fd);
    return rc;
}

static void test_args_defaults_and_options(void **state)
{
    lf_args a;
    char e[512];
    assert_int_equal(parse(&a, NULL, e, sizeof(e), 1, "/usr/bin/prog"), 0);
    assert_string_equal(a.config, "/etc/logferry/x.ini");
    assert_false(a.check_config || a.version || a.help);
    assert_null(a.log_level);
    assert_string_equal(e, "");

    assert_int_equal(parse(&a, NULL, e, sizeof(e), 5, "prog", "-c", "/tmp/a.ini",
                           "--check-config", "--log-level=debug"), 0);
    assert_string_equal(a.config, "/tmp/a.ini");
    assert_true(a.check_config);
    assert_string_equal(a.log_level, "debug");

    assert_int_equal(parse(&a, NULL, e, sizeof(e), 4, "prog", "--config=/b.ini", "--version", "-h"), 0);
    assert_string_equal(a.config, "/b.ini");
    assert_true(a.version);
    assert_true(a.help);
}

static void test_args_extra(void **state)
{
    const char *rules = NULL, *flag = NULL;
    const lf_opt_extra extra[] = {
        {"test-rules", 1, "read records on stdin", &rules},
        {"foreground", 0, "stay in the foreground", &flag},
        {NULL, 0, NULL, NULL},
    };
    lf_args a;
    char e[512];
    assert_int_equal(parse(&a, extra, e, sizeof(e), 4, "prog", "--test-rules", "r.ini",
                           "--foreground"), 0);
    assert_string_equal(rules, "r.ini");
    assert_string_equal(flag, "1");
    assert_int_equal(parse(&a, extra, e, sizeof(e), 2, "prog", "--foreground=yes"), -1);
    assert_string_equal(e, "prog: option '--foreground=yes' takes no argument\nTry 'prog --help'.\n");

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lf_args_usage(f, "/usr/sbin/logferry-indexer", "Indexes logs.", extra);
    fclose(f);
    assert_non_null(strstr(buf, "Usage: logferry-indexer [OPTIONS]\nIndexes logs.\n"));
    assert_non_null(strstr(buf, "--test-rules ARG"));
    assert_non_null(strstr(buf, "read records on stdin"));
    assert_non_null(strstr(buf, "--check-config"));
    free(buf);
}

static void test_args_errors(void **state)
{
    lf_args a;
    char e[512];
    assert_int_equal(parse(&a, NULL, e, sizeof(e), 2, "/usr/bin/prog", "--bogus"), -1);
    assert_string_equal(e, "prog: unknown option '--bogus'\nTry 'prog --help'.\n");
    assert_int_equal(parse(&a, NULL, e, sizeof(e), 2, "prog", "-x"), -1);
    assert_string_equal(e, "prog: unknown option '-x'\nTry 'prog --help'.\n");
    assert_int_equal(parse(&a, NULL, e, sizeof(e), 2, "prog", "-c"), -1);
    assert_string_equal(e, "prog: option '-c' needs an argument\nTry 'prog --help'.\n");
    assert_int_equal(parse(&a, NULL, e, sizeof(e), 2, "prog", "--config"), -1);
    assert_non_null(strstr(e, "option '--config' needs an argument"));
    assert_int_equal(parse(&a, NULL, e, sizeof(e), 2, "prog", "--version=2"), -1);
    assert_non_null(strstr(e, "option '--version=2' takes no argument"));
    assert_int_equal(parse(&a, NULL, e, sizeof(e), 3, "prog", "--log-level", "loud"), -1);
    assert_non_null(strstr(e, "bad --log-level 'loud'"));
    assert_int_equal(parse(&a, NULL, e, sizeof(e), 2, "prog", "stray"), -1);
    assert_non_null(strstr(e, "unexpected argument 'stray'"));
    /* parsing again after errors starts afresh */
    assert_int_equal(parse(&a, NULL, e, sizeof(e), 3, "prog", "-c", "z.ini"), 0);
    assert_string_equal(a.config, "z.ini");
}

static void test_version(void **state)
{
    char path[] = "/tmp/test_daemon_out_XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    fflush(stdout);
    int saved = dup(1);
    dup2(fd, 1);
    lf_print_version("/usr/bin/logferry-collector");
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    char buf[512] = "";
    assert_true(pread(fd, buf, sizeof(buf) - 1, 0) > 0);
    close(fd);
    assert_int_equal(strncmp(buf, "logferry-collector " LF_VERSION " (librdkafka ", 
                             strlen("logferry-collector " LF_VERSION " (librdkafka ")), 0);
    assert_non_null(strstr(buf, "libcurl "));
    assert_non_null(strstr(buf, "libev 4."));
    assert_non_null(strstr(buf, "zlib "));
}

static void test_pidfile(void **state)
{
    char dir[] = "/tmp/test_daemon_pid_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], err[256];
    snprintf(path, sizeof(path), "%s/x.pid", dir);

    assert_int_equal(lf_pidfile_write(path, err, sizeof(err)), 0);
    FILE *f = fopen(path, "r");
    long pid = 0;
    assert_int_equal(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    assert_int_equal(pid, getpid());
    /* writing again (we are the owner) is fine */
    assert_int_equal(lf_pidfile_write(path, err, sizeof(err)), 0);
    lf_pidfile_remove(path);
    assert_int_equal(access(path, F_OK), -1);

    /* a live process of the same program holds it: refused */
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    f = fopen(path, "w");
    fprintf(f, "%ld\n", (long)child);
    fclose(f);
    assert_int_equal(lf_pidfile_write(path, err, sizeof(err)), -1);
    char want[128];
    snprintf(want, sizeof(want), "another instance is running (pid %ld)", (long)child);
    assert_non_null(strstr(err, want));
    /* remove leaves someone else's file alone */
    lf_pidfile_remove(path);
    assert_int_equal(access(path, F_OK), 0);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    /* now stale: replaced */
    assert_int_equal(lf_pidfile_write(path, err, sizeof(err)), 0);
    lf_pidfile_remove(path);

    /* a directory that does not exist */
    char bad[300];
    snprintf(bad, sizeof(bad), "%s/missing/x.pid", dir);
    assert_int_equal(lf_pidfile_write(bad, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot create"));
    assert_non_null(strstr(err, "No such file or directory"));
    rmdir(dir);
}

/* Binds a datagram socket at `addr` ('@' = abstract), returns the fd. */
static int bind_notify(const char *addr)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(addr);
    memcpy(sa.sun_path, addr, n);
    if (addr[0] == '@')
        sa.sun_path[0] = '\0';
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (addr[0] == '@' ? 0 : 1));
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
    return fd;
}

static void expect_datagram(int fd, const char *want)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 5000), 1); /* deadline, not a sleep */
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
    assert_true(n > 0);
    buf[n] = 0;
    assert_string_equal(buf, want);
}

static void test_notify(void **state)
{
    char dir[] = "/tmp/test_daemon_ntf_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/notify", dir);
    int fd = bind_notify(path);
    setenv("NOTIFY_SOCKET", path, 1);
    lf_notify("READY=1");
    expect_datagram(fd, "READY=1");
    lf_notifyf("STATUS=%d sources", 3);
    expect_datagram(fd, "STATUS=3 sources");
    close(fd);
    unlink(path);
    rmdir(dir);

    char abs[64];
    snprintf(abs, sizeof(abs), "@logferry-test-%ld", (long)getpid());
    fd = bind_notify(abs);
    setenv("NOTIFY_SOCKET", abs, 1);
    lf_notify("STOPPING=1");
    expect_datagram(fd, "STOPPING=1");
    close(fd);

    /* unset or nonsense: nothing happens, nothing crashes */
    unsetenv("NOTIFY_SOCKET");
    lf_notify("READY=1");
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    lf_notify("READY=1");
    unsetenv("NOTIFY_SOCKET");
}

typedef struct sigstate {
    int stops, reloads;
    struct ev_loop *loop;
} sigstate;

static void on_stop(void *ud)
{
    sigstate *s = ud;
    s->stops++;
    ev_break(s->loop, EVBREAK_ALL);
}
static void on_reload(void *ud) { ((sigstate *)ud)->reloads++; }
static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents) { ev_break(loop, EVBREAK_ALL); }
static void send_hup_then_term(struct ev_loop *loop, ev_timer *w, int revents)
{
    sigstate *s = w->data;
    if (s->reloads == 0)
        raise(SIGHUP);
    else
        raise(SIGTERM);
}

static void test_signals(void **state)
{
    sigstate s = {0, 0, ev_default_loop(0)};
    lf_signals *sig = lf_signals_start(s.loop, on_stop, on_reload, &s);
    assert_non_null(sig);
    struct sigaction sa;
    sigaction(SIGPIPE, NULL, &sa);
    assert_true(sa.sa_handler == SIG_IGN);

    ev_timer kick, deadline;
    ev_timer_init(&kick, send_hup_then_term, 0.01, 0.01);
    kick.data = &s;
    ev_timer_init(&deadline, on_deadline, 10.0, 0);
    ev_timer_start(s.loop, &kick);
    ev_timer_start(s.loop, &deadline);
    ev_run(s.loop, 0);
    ev_timer_stop(s.loop, &kick);
    ev_timer_stop(s.loop, &deadline);
    assert_int_equal(s.reloads, 1);
    assert_int_equal(s.stops, 1);

    /* SIGINT stops too */
    ev_timer_init(&kick, send_hup_then_term, 0.0, 0);
    ev_timer_start(s.loop, &deadline);
    raise(SIGINT);
    ev_run(s.loop, 0);
    ev_timer_stop(s.loop, &deadline);
    assert_int_equal(s.stops, 2);

    /* only the signal watchers left: the loop does not block on them */
    ev_run(s.loop, 0);
    lf_signals_stop(sig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args_defaults_and_options),
        cmocka_unit_test(test_args_extra),
        cmocka_unit_test(test_args_errors),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_pidfile),
        cmocka_unit_test(test_notify),
        cmocka_unit_test(test_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
