/* log: line format, levels, rate limiting with a fake clock, stderr
 * decorations (captured through a pipe). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/log.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int64_t fake_now = 1000;
static int64_t fake_clock(void) { return fake_now; }

static char *buf;
static size_t len;
static FILE *mem;

static int setup(void **state)
{
    mem = open_memstream(&buf, &len);
    lf_log_set_stream(mem);
    lf_log_set_clock(fake_clock);
    lf_log_set_burst(0);
    fake_now = 1000;
    return 0;
}

static int teardown(void **state)
{
    lf_log_set_stream(NULL);
    lf_log_set_clock(NULL);
    fclose(mem);
    free(buf);
    buf = NULL;
    return 0;
}

static const char *out(void)
{
    fflush(mem);
    return buf;
}

static void test_format_and_levels(void **state)
{
    lf_log_init("test", LF_LOG_INFO, false, 0);
    LF_INFO("tail", "opened path=%s inode=%d", "/var/log/a.log", 42);
    LF_WARN("kafka", "broker down");
    LF_DEBUG("tail", "not shown %d", 1);
    LF_ERR("main", "bad\nnewline");
    assert_string_equal(out(), "tail: opened path=/var/log/a.log inode=42\n"
                               "kafka: broker down\n"
                               "main: bad newline\n");
    lf_log_init("test", LF_LOG_DEBUG, false, 0);
    LF_DEBUG("tail", "shown %d", 2);
    assert_non_null(strstr(out(), "tail: shown 2\n"));
}

static void test_long_message_cut(void **state)
{
    lf_log_init("test", LF_LOG_INFO, false, 0);
    char big[6000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    LF_INFO("c", "%s", big);
    const char *o = out();
    assert_true(strlen(o) < 4200);
    assert_non_null(strstr(o, "x...\n"));
}

static void test_parse_level(void **state)
{
    assert_int_equal(lf_log_parse_level("error"), LF_LOG_ERR);
    assert_int_equal(lf_log_parse_level("WARN"), LF_LOG_WARN);
    assert_int_equal(lf_log_parse_level("warning"), LF_LOG_WARN);
    assert_int_equal(lf_log_parse_level("info"), LF_LOG_INFO);
    assert_int_equal(lf_log_parse_level("debug"), LF_LOG_DEBUG);
    assert_int_equal(lf_log_parse_level("loud"), -1);
    assert_int_equal(lf_log_parse_level(NULL), -1);
    assert_string_equal(lf_log_level_name(LF_LOG_WARN), "warn");
}

static void log_repeat(int i) { LF_WARN("tail", "cannot open path=/x%d", i); }

static void count_lines(const char *s, const char *needle, int want)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p++)
        n++;
    if (n != want)
        fail_msg("%d lines with \"%s\", want %d, in:\n%s", n, needle, want, s);
}

static void test_ratelimit(void **state)
{
    lf_log_init("test", LF_LOG_INFO, false, 1000);
    lf_log_set_burst(2);
    for (int i = 0; i < 10; i++)
        log_repeat(i);               /* 2 printed, 8 suppressed */
    LF_INFO("tail", "other message"); /* another format: its own window */
    fake_now += 500;
    log_repeat(10);                  /* still in the window: suppressed */
    count_lines(out(), "cannot open", 2);
    count_lines(out(), "suppressed", 0);
    count_lines(out(), "other message", 1);
    fake_now += 600;                 /* window over: the summary comes first */
    log_repeat(11);
    assert_non_null(strstr(out(), "tail: cannot open path=/x1\n"
                                  "tail: other message\n"
                                  "tail: (9 similar messages suppressed)\n"
                                  "tail: cannot open path=/x11\n"));
    /* the same format from another component is not the same message */
    LF_WARN("kafka", "cannot open path=/x%d", 1);
    count_lines(out(), "kafka: cannot open", 1);
}

static void test_ratelimit_flush(void **state)
{
    lf_log_init("test", LF_LOG_INFO, false, 1000);
    lf_log_set_burst(1);
    for (int i = 0; i < 4; i++)
        log_repeat(i);
    lf_log_flush_suppressed();       /* window not over yet */
    count_lines(out(), "suppressed", 0);
    fake_now += 1000;
    lf_log_flush_suppressed();
    assert_non_null(strstr(out(), "tail: (3 similar messages suppressed)\n"));
    lf_log_flush_suppressed();       /* printed once */
    count_lines(out(), "suppressed", 1);
}

static void test_unlimited(void **state)
{
    /* every line of a set the operator asked for is printed, however many
     * share a format; the level still applies */
    lf_log_init("test", LF_LOG_INFO, false, 1000);
    lf_log_set_burst(1);
    for (int i = 0; i < 4; i++)
        lf_log_unlimited(LF_LOG_WARN, "config", "key%d changed", i);
    lf_log_unlimited(LF_LOG_DEBUG, "config", "key%d changed", 9);
    assert_string_equal(out(), "config: key0 changed\nconfig: key1 changed\n"
                               "config: key2 changed\nconfig: key3 changed\n");
    fake_now += 1000;
    lf_log_flush_suppressed();
    count_lines(out(), "suppressed", 0);
}

static void test_ratelimit_many_keys_bounded(void **state)
{
    /* more distinct formats than slots: evicted windows are summarised,
     * nothing is lost silently */
    lf_log_init("test", LF_LOG_INFO, false, 1000);
    lf_log_set_burst(1);
    char comp[32];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 100; i++) {
            snprintf(comp, sizeof(comp), "c%d", i);
            LF_INFO(comp, "msg");
        }
    }
    /* second round: each c_i was either suppressed (window still held) or
     * printed again after its window was evicted */
    const char *o = out();
    int printed = 0, summarised = 0;
    for (const char *p = o; (p = strstr(p, ": msg\n")); p++)
        printed++;
    for (const char *p = o; (p = strstr(p, "(1 similar message suppressed)")); p++)
        summarised++;
    assert_true(printed >= 100);
    lf_log_init("test", LF_LOG_INFO, false, 1000);
    fake_now += 2000;
    lf_log_flush_suppressed();
    o = out();
    summarised = 0;
    for (const char *p = o; (p = strstr(p, "(1 similar message suppressed)")); p++)
        summarised++;
    assert_int_equal(printed + summarised, 200);
}

static void test_stderr_pipe(void **state)
{
    /* real stderr (a pipe, not a tty, no journal): no decorations */
    lf_log_set_stream(NULL);
    lf_log_init("test", LF_LOG_INFO, false, 0);
    unsetenv("JOURNAL_STREAM");
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    int saved = dup(2);
    dup2(fds[1], 2);
    LF_INFO("main", "plain");
    setenv("JOURNAL_STREAM", "8:1234", 1); /* inherited, names another stream */
    LF_INFO("main", "not the journal");
    struct stat st;
    assert_int_equal(fstat(2, &st), 0);
    char js[64];
    snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", js, 1);
    LF_WARN("main", "journal");
    unsetenv("JOURNAL_STREAM");
    dup2(saved, 2);
    close(saved);
    close(fds[1]);
    char got[256] = "";
    ssize_t n = read(fds[0], got, sizeof(got) - 1);
    close(fds[0]);
    assert_true(n > 0);
    got[n] = 0;
    assert_string_equal(got, "main: plain\nmain: not the journal\n<4>main: journal\n");
    lf_log_set_stream(mem);
}

static void test_stderr_tty(void **state)
{
    /* on a terminal: UTC timestamp with milliseconds and the level word */
    lf_log_set_stream(NULL);
    lf_log_init("test", LF_LOG_INFO, false, 0);
    unsetenv("JOURNAL_STREAM");
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(master >= 0);
    assert_int_equal(grantpt(master), 0);
    assert_int_equal(unlockpt(master), 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    int saved = dup(2);
    dup2(slave, 2);
    LF_WARN("main", "on a tty");
    dup2(saved, 2);
    close(saved);
    close(slave);
    char got[256] = "";
    struct pollfd p = {.fd = master, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 5000), 1);
    ssize_t n = read(master, got, sizeof(got) - 1);
    close(master);
    assert_true(n > 0);
    got[n] = 0;
    /* 2026-11-25T16:20:30.123Z warn  main: on a tty */
    assert_int_equal(strlen(got) >= 24, 1);
    assert_true(got[4] == '-' && got[10] == 'T' && got[19] == '.' && got[23] == 'Z');
    assert_non_null(strstr(got, "Z warn  main: on a tty"));
    lf_log_set_stream(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_format_and_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_message_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ratelimit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ratelimit_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlimited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ratelimit_many_keys_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stderr_pipe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stderr_tty, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
