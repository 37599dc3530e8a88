/* linesplit: lines, \r\n, partial lines carried across reads, overlong
 * lines truncated and flagged (record covering the whole line), fragments
 * flushed, stop-after-line for backpressure. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "collector/linesplit.h"

typedef struct { char text[64][256]; uint64_t start[64], end[64]; unsigned flags[64]; int n; int stop_at; } sink;

static int on_line(void *ud, const char *p, size_t len, uint64_t start, uint64_t end, unsigned flags)
{
    sink *s = ud;
    assert_true(s->n < 64);
    size_t l = len < 255 ? len : 255;
    memcpy(s->text[s->n], p, l);
    s->text[s->n][l] = 0;
    s->start[s->n] = start;
    s->end[s->n] = end;
    s->flags[s->n] = flags;
    s->n++;
    return s->stop_at == s->n;
}

/* Feeds `data` in reads of `chunk` bytes the way the tailer does. */
static void feed_all(lsplit *ls, sink *s, const char *data, size_t n, size_t chunk)
{
    char buf[8192];
    uint64_t read_off = 0;
    while (read_off < n) {
        size_t c = ls_take_carry(ls, buf);
        uint64_t off = c ? ls->carry_off : read_off;
        size_t r = n - read_off < chunk ? n - read_off : chunk;
        memcpy(buf + c, data + read_off, r);
        read_off += r;
        bool stopped;
        size_t used = ls_feed(ls, buf, c + r, off, on_line, s, &stopped);
        assert_true(used != (size_t)-1);
        if (stopped) {
            read_off = off + used;
            ls_reset(ls);
        }
    }
}

static void test_lines_and_crlf(void **state)
{
    for (size_t chunk = 1; chunk <= 20; chunk++) {
        lsplit ls;
        sink s = {0};
        ls_init(&ls, 100);
        const char *d = "one\ntwo\r\n\nthree\r\r\nfour";
        feed_all(&ls, &s, d, strlen(d), chunk);
        assert_int_equal(s.n, 4);
        assert_string_equal(s.text[0], "one");
        assert_string_equal(s.text[1], "two");
        assert_string_equal(s.text[2], "");
        assert_string_equal(s.text[3], "three\r");
        assert_int_equal(s.start[1], 4);
        assert_int_equal(s.end[1], 9);
        assert_int_equal(s.start[3], 10);
        assert_int_equal(s.end[3], 18);
        assert_true(ls_has_carry(&ls));
        assert_int_equal(ls_flush(&ls, on_line, &s), 0);
        assert_int_equal(s.n, 5);
        assert_string_equal(s.text[4], "four");
        assert_int_equal(s.flags[4], LS_FRAGMENT);
        assert_int_equal(s.start[4], 18);
        assert_int_equal(s.end[4], 22);
        assert_false(ls_has_carry(&ls));
        ls_free(&ls);
    }
}

static void test_truncation(void **state)
{
    for (size_t chunk = 1; chunk <= 40; chunk += 3) {
        lsplit ls;
        sink s = {0};
        ls_init(&ls, 8);
        const char *d = "short\n0123456789abcdefghij\nafter\nABCDEFGHIJKL";
        feed_all(&ls, &s, d, strlen(d), chunk);
        assert_int_equal(s.n, 3);
        assert_string_equal(s.text[0], "short");
        assert_string_equal(s.text[1], "01234567");
        assert_int_equal(s.flags[1], LS_TRUNCATED);
        assert_int_equal(s.start[1], 6);
        assert_int_equal(s.end[1], 27);   /* the whole line, with its \n */
        assert_string_equal(s.text[2], "after");
        assert_int_equal(s.start[2], 27);
        ls_flush(&ls, on_line, &s);
        assert_int_equal(s.n, 4);
        assert_string_equal(s.text[3], "ABCDEFGH");
        assert_int_equal(s.flags[3], LS_TRUNCATED | LS_FRAGMENT);
        assert_int_equal(s.end[3], strlen(d));
        ls_free(&ls);
    }
}

static void test_stop_and_reread(void **state)
{
    lsplit ls;
    sink s = {0};
    ls_init(&ls, 100);
    s.stop_at = 2;
    const char *d = "a\nbb\nccc\ndddd\n";
    feed_all(&ls, &s, d, strlen(d), 64);
    /* Stopped after "bb", then re-read from offset 5: each line once. */
    assert_int_equal(s.n, 4);
    assert_string_equal(s.text[1], "bb");
    assert_string_equal(s.text[2], "ccc");
    assert_int_equal(s.start[2], 5);
    assert_string_equal(s.text[3], "dddd");
    ls_free(&ls);
}

static void test_exact_max_not_truncated(void **state)
{
    lsplit ls;
    sink s = {0};
    ls_init(&ls, 4);
    feed_all(&ls, &s, "abcd\nabcd\r\nabcde\n", 17, 3);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.text[0], "abcd");
    assert_int_equal(s.flags[0], 0);
    assert_string_equal(s.text[1], "abcd");
    assert_int_equal(s.flags[1], 0);
    assert_string_equal(s.text[2], "abcd");
    assert_int_equal(s.flags[2], LS_TRUNCATED);
    ls_free(&ls);
}

static void test_empty_flush(void **state)
{
    lsplit ls;
    sink s = {0};
    ls_init(&ls, 4);
    assert_int_equal(ls_flush(&ls, on_line, &s), 0);
    assert_int_equal(s.n, 0);
    ls_free(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_and_crlf),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_stop_and_reread),
        cmocka_unit_test(test_exact_max_not_truncated),
        cmocka_unit_test(test_empty_flush),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
