/* multiline: start pattern joins continuations, max_lines starts a new
 * record (nothing dropped), max_bytes truncates with the flag, flush emits
 * the pending record, byte ranges cover every line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "collector/multiline.h"

typedef struct { char text[16][512]; uint64_t start[16], end[16]; unsigned flags[16]; int n; } sink;

static int on_rec(void *ud, const char *p, size_t len, uint64_t start, uint64_t end, unsigned flags)
{
    sink *s = ud;
    assert_true(len < 512);
    memcpy(s->text[s->n], p, len);
    s->text[s->n][len] = 0;
    s->start[s->n] = start;
    s->end[s->n] = end;
    s->flags[s->n] = flags;
    s->n++;
    return 0;
}

static void feed(const ml_conf *mc, mline *m, sink *s, const char *line, uint64_t *off)
{
    size_t len = strlen(line);
    ml_feed(mc, m, line, len, *off, *off + len + 1, 0, on_rec, s);
    *off += len + 1;
}

static void test_join(void **state)
{
    ml_conf mc;
    char err[256];
    assert_int_equal(ml_conf_init(&mc, "^\\d{4}-", 10, 1000, 2000, err, sizeof err), 0);
    mline m;
    ml_init(&m);
    sink s = {0};
    uint64_t off = 0;
    feed(&mc, &m, &s, "  orphan continuation", &off);
    feed(&mc, &m, &s, "2026-01-01 boom", &off);
    feed(&mc, &m, &s, "  at a()", &off);
    feed(&mc, &m, &s, "  at b()", &off);
    feed(&mc, &m, &s, "2026-01-02 next", &off);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.text[0], "  orphan continuation");
    assert_string_equal(s.text[1], "2026-01-01 boom\n  at a()\n  at b()");
    assert_int_equal(s.start[1], 22);
    assert_int_equal(s.end[1], 22 + 16 + 9 + 9);
    assert_true(ml_pending(&m));
    ml_flush(&m, on_rec, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.text[2], "2026-01-02 next");
    assert_int_equal(s.end[2], off);
    assert_false(ml_pending(&m));
    ml_free(&m);
    ml_conf_free(&mc);
}

static void test_limits(void **state)
{
    ml_conf mc;
    char err[256];
    assert_int_equal(ml_conf_init(&mc, "^S", 3, 12, 0, err, sizeof err), 0);
    mline m;
    ml_init(&m);
    sink s = {0};
    uint64_t off = 0;
    feed(&mc, &m, &s, "S1", &off);
    feed(&mc, &m, &s, "c", &off);
    feed(&mc, &m, &s, "c", &off);
    feed(&mc, &m, &s, "d", &off);   /* 4th line: new record */
    assert_int_equal(s.n, 1);
    assert_string_equal(s.text[0], "S1\nc\nc");
    feed(&mc, &m, &s, "S2 0123456789", &off); /* over max_bytes */
    assert_int_equal(s.n, 2);
    assert_string_equal(s.text[1], "d");
    feed(&mc, &m, &s, "more", &off);
    ml_flush(&m, on_rec, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.text[2], "S2 012345678");
    assert_int_equal(s.flags[2], LS_TRUNCATED);
    assert_int_equal(s.end[2], off); /* the dropped bytes are still covered */
    ml_free(&m);
    ml_conf_free(&mc);
}

static void test_bad_pattern(void **state)
{
    ml_conf mc;
    char err[256];
    assert_int_equal(ml_conf_init(&mc, "^(unclosed", 10, 100, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "multiline pattern"));
}

static void test_invalid_utf8_line(void **state)
{
    ml_conf mc;
    char err[256];
    assert_int_equal(ml_conf_init(&mc, "^x", 10, 100, 0, err, sizeof err), 0);
    assert_false(ml_is_start(&mc, "\xff\xfe", 2));
    assert_true(ml_is_start(&mc, "x\xff", 2));
    ml_conf_free(&mc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_bad_pattern),
        cmocka_unit_test(test_invalid_utf8_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
