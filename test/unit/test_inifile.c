/* inifile: line numbers, overlong lines, continuation joining, section
 * reports, syntax errors, callback errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/inifile.h"
#include "common/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

/* Records every callback as "line|section|key|value\n" (key/value "-" for headers). */
typedef struct rec {
    strbuf out;
    int    fail_at_line; /* callback fails for this line */
} rec;

static int cb(void *user, const char *section, const char *key, const char *value, int line,
              char *err, size_t errlen)
{
    rec *r = user;
    sb_printf(&r->out, "%d|%s|%s|%s\n", line, section, key ? key : "-", value ? value : "-");
    if (line == r->fail_at_line) {
        snprintf(err, errlen, "callback says no to %s", key ? key : "header");
        return -1;
    }
    return 0;
}

static const char *comma_join(void *user, const char *section, const char *key)
{
    return strcmp(key, "list") == 0 ? "," : NULL;
}

static void test_basic(void **state)
{
    rec r = {STRBUF_INIT, 0};
    char err[256];
    const char *text = "; comment\n"
                       "top = 1\n"
                       "\n"
                       "[main]\n"
                       "a = hello world\n"
                       "b: colon ok\n"
                       "c = x;y ; inline comment\n"
                       "[empty]\n"
                       "[source one]\n"
                       "# another comment\n"
                       "d =\n";
    assert_int_equal(ini_read_string("t.ini", text, cb, &r, err, sizeof(err)), 0);
    assert_string_equal(sb_str(&r.out), "2||top|1\n"
                                        "4|main|-|-\n"
                                        "5|main|a|hello world\n"
                                        "6|main|b|colon ok\n"
                                        "7|main|c|x;y\n"
                                        "8|empty|-|-\n"
                                        "9|source one|-|-\n"
                                        "11|source one|d|\n");
    sb_free(&r.out);
}

static void test_crlf_and_bom(void **state)
{
    rec r = {STRBUF_INIT, 0};
    char err[256];
    assert_int_equal(ini_read_string("t.ini", "\xEF\xBB\xBF[main]\r\na = 1\r\n", cb, &r, err,
                                     sizeof(err)), 0);
    assert_string_equal(sb_str(&r.out), "1|main|-|-\n2|main|a|1\n");
    sb_free(&r.out);
}

static void test_continuation_plain(void **state)
{
    rec r = {STRBUF_INIT, 0};
    char err[256];
    /* a 250-byte value over three lines: joined without separator */
    char a[100], b[100], c[51];
    memset(a, 'a', 99); a[99] = 0;
    memset(b, 'b', 99); b[99] = 0;
    memset(c, 'c', 50); c[50] = 0;
    strbuf t = STRBUF_INIT;
    sb_printf(&t, "[rule x]\nregex = %s\n    %s\n\n  ; comment between\n\t%s\nnext = 2\n", a, b, c);
    assert_int_equal(ini_read_string("t.ini", sb_str(&t), cb, &r, err, sizeof(err)), 0);
    strbuf want = STRBUF_INIT;
    sb_printf(&want, "1|rule x|-|-\n2|rule x|regex|%s%s%s\n7|rule x|next|2\n", a, b, c);
    assert_string_equal(sb_str(&r.out), sb_str(&want));
    assert_int_equal(strlen(a) + strlen(b) + strlen(c), 248);
    sb_free(&t);
    sb_free(&want);
    sb_free(&r.out);
}

static void test_continuation_list_join(void **state)
{
    rec r = {STRBUF_INIT, 0};
    char err[256];
    const char *text = "[s]\n"
                       "list = a,\n"
                       "  b\n"
                       "  c\n"
                       "  ,d\n"
                       "other = x\n"
                       "  y\n";
    assert_int_equal(ini_read_string_ex("t.ini", text, cb, comma_join, &r, err, sizeof(err)), 0);
    assert_string_equal(sb_str(&r.out), "1|s|-|-\n2|s|list|a,b,c,d\n6|s|other|xy\n");
    sb_free(&r.out);
}

static void test_continuation_comments(void **state)
{
    rec r = {STRBUF_INIT, 0};
    char err[256];
    /* an indented ';' or '#' line is a comment, not a piece; an inline
     * " ;" comment ends a piece */
    const char *text = "[s]\n"
                       "k = a\n"
                       "  # not a piece\n"
                       "  ;nor this\n"
                       "  b ; trailing comment\n"
                       "  c\n";
    assert_int_equal(ini_read_string("t.ini", text, cb, &r, err, sizeof(err)), 0);
    assert_string_equal(sb_str(&r.out), "1|s|-|-\n2|s|k|abc\n");
    sb_free(&r.out);
}

static void test_header_ends_value(void **state)
{
    rec r = {STRBUF_INIT, 0};
    char err[256];
    /* an unindented header ends the value; an indented line after a header
     * (no key yet) is a syntax error in inih */
    assert_int_equal(ini_read_string("t.ini", "[a]\nk = 1\n[b]\nk = 2\n", cb, &r, err,
                                     sizeof(err)), 0);
    assert_string_equal(sb_str(&r.out), "1|a|-|-\n2|a|k|1\n3|b|-|-\n4|b|k|2\n");
    sb_free(&r.out);
}

static void test_overlong_line(void **state)
{
    rec r = {STRBUF_INIT, 0};
    char err[256];
    strbuf t = STRBUF_INIT;
    sb_puts(&t, "[main]\na = 1\n\n");
    /* exactly at the limit: accepted */
    sb_puts(&t, "ok = ");
    for (int i = 0; i < INI_READ_MAX_LINE - 5; i++)
        sb_putc(&t, 'x');
    sb_puts(&t, "\n");
    /* one byte more on line 5: refused, with that line number */
    sb_puts(&t, "long = ");
    for (int i = 0; i < INI_READ_MAX_LINE - 6; i++)
        sb_putc(&t, 'y');
    sb_puts(&t, "\nafter = 1\n");
    assert_int_equal(ini_read_string("t.ini", sb_str(&t), cb, &r, err, sizeof(err)), -1);
    assert_string_equal(err, "t.ini:5: line too long (200 bytes, limit 199); "
                             "split the value over continuation lines");
    assert_null(strstr(sb_str(&r.out), "after"));
    assert_null(strstr(sb_str(&r.out), "long"));
    sb_free(&t);
    sb_free(&r.out);
}

static void test_syntax_error(void **state)
{
    rec r = {STRBUF_INIT, 0};
    char err[256];
    assert_int_equal(ini_read_string("t.ini", "[a]\nk = 1\nnot a pair\nz = 1\n", cb, &r, err,
                                     sizeof(err)), -1);
    assert_string_equal(err, "t.ini:3: syntax error (expected `key = value`, `[section]` or a comment)");
    assert_null(strstr(sb_str(&r.out), "|z|"));
    sb_reset(&r.out);
    assert_int_equal(ini_read_string("t.ini", "[a]\n[unterminated\n", cb, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "t.ini:2: syntax error"));
    sb_free(&r.out);
}

static void test_callback_error_line(void **state)
{
    char err[256];
    /* the key on line 2 has a continuation on line 3; the error names line 2 */
    rec r = {STRBUF_INIT, 2};
    assert_int_equal(ini_read_string("t.ini", "[a]\nk = 1\n  2\nz = 3\n", cb, &r, err,
                                     sizeof(err)), -1);
    assert_string_equal(err, "t.ini:2: callback says no to k");
    sb_free(&r.out);
    /* a header can be refused too; the key pending before it is reported first */
    rec r2 = {STRBUF_INIT, 3};
    assert_int_equal(ini_read_string("t.ini", "[a]\nk = 1\n[b]\n", cb, &r2, err, sizeof(err)), -1);
    assert_string_equal(err, "t.ini:3: callback says no to header");
    assert_non_null(strstr(sb_str(&r2.out), "2|a|k|1"));
    sb_free(&r2.out);
    /* the last key (flushed at end of input) */
    rec r3 = {STRBUF_INIT, 2};
    assert_int_equal(ini_read_string("t.ini", "[a]\nk = 1\n", cb, &r3, err, sizeof(err)), -1);
    assert_string_equal(err, "t.ini:2: callback says no to k");
    sb_free(&r3.out);
}

static void test_file(void **state)
{
    char path[] = "/tmp/test_inifile_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "[main]\nkey = value\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
    close(fd);
    rec r = {STRBUF_INIT, 0};
    char err[256];
    assert_int_equal(ini_read_file(path, cb, &r, err, sizeof(err)), 0);
    assert_string_equal(sb_str(&r.out), "1|main|-|-\n2|main|key|value\n");
    sb_free(&r.out);

    /* a NUL byte in a file */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "[a]\nk = x\0y\n", 12), 12);
    close(fd);
    assert_int_equal(ini_read_file(path, cb, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2: NUL byte in line"));
    sb_free(&r.out);
    unlink(path);

    assert_int_equal(ini_read_file(path, cb, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot open: No such file or directory"));
    assert_int_equal(strncmp(err, path, strlen(path)), 0);
    sb_free(&r.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_crlf_and_bom),
        cmocka_unit_test(test_continuation_plain),
        cmocka_unit_test(test_continuation_list_join),
        cmocka_unit_test(test_continuation_comments),
        cmocka_unit_test(test_header_ends_value),
        cmocka_unit_test(test_overlong_line),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_callback_error_line),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
