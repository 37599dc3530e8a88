/* etcd client helpers: the gateway's base64 and prefix range ends; option
 * validation. (The protocol itself is tested against a real etcd in
 * test/e2e/etcd_client.sh and test_collector_etcd_sources.) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "common/etcd.h"

static void test_b64_roundtrip(void **st)
{
    const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar", "/logferry/collect/" };
    const char *out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy",
                          "L2xvZ2ZlcnJ5L2NvbGxlY3Qv" };
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        char *e = lf_etcd_b64_encode(in[i], strlen(in[i]));
        assert_string_equal(e, out[i]);
        size_t n;
        char *d = lf_etcd_b64_decode(e, strlen(e), &n);
        assert_non_null(d);
        assert_int_equal(n, strlen(in[i]));
        assert_memory_equal(d, in[i], n);
        assert_int_equal(d[n], '\0');
        free(e);
        free(d);
    }
    unsigned char bin[256];
    for (int i = 0; i < 256; i++)
        bin[i] = (unsigned char)i;
    char *e = lf_etcd_b64_encode(bin, sizeof bin);
    size_t n;
    char *d = lf_etcd_b64_decode(e, strlen(e), &n);
    assert_int_equal(n, 256);
    assert_memory_equal(d, bin, 256);
    free(e);
    free(d);
}

static void test_b64_bad(void **st)
{
    size_t n;
    assert_null(lf_etcd_b64_decode("Zg=", 3, &n));      /* length */
    assert_null(lf_etcd_b64_decode("Z!==", 4, &n));     /* alphabet */
    assert_null(lf_etcd_b64_decode("Zg==Zg==", 8, &n)); /* padding in the middle */
    assert_null(lf_etcd_b64_decode("Z=g=", 4, &n));     /* data after padding */
    assert_null(lf_etcd_b64_decode("====", 4, &n));
}

static void test_prefix_end(void **st)
{
    size_t n;
    char *e = lf_etcd_prefix_end("/cfg/", 5, &n);
    assert_int_equal(n, 5);
    assert_memory_equal(e, "/cfg0", 5);
    free(e);
    e = lf_etcd_prefix_end("a\xff", 2, &n); /* carries past 0xff */
    assert_int_equal(n, 1);
    assert_memory_equal(e, "b", 1);
    free(e);
    e = lf_etcd_prefix_end("\xff\xff", 2, &n); /* no upper bound: "\0" */
    assert_int_equal(n, 1);
    assert_int_equal(e[0], '\0');
    free(e);
}

static void test_opts(void **st)
{
    lf_etcd *e = NULL;
    char err[256];
    lf_etcd_opts o = {0};
    assert_int_equal(lf_etcd_new(&e, NULL, NULL, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "no endpoints"));
    const char *bad[] = { "127.0.0.1:2379" };
    o.endpoints = bad;
    o.n_endpoints = 1;
    assert_int_equal(lf_etcd_new(&e, NULL, NULL, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "must start with http:// or https://"));
    const char *good[] = { "http://127.0.0.1:2379/" };
    o.endpoints = good;
    o.username = "root";
    assert_int_equal(lf_etcd_new(&e, NULL, NULL, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "password_file"));
    o.password_file = "/nonexistent";
    assert_int_equal(lf_etcd_new(&e, NULL, NULL, &o, err, sizeof err), 0);
    lf_etcd_stats stt;
    lf_etcd_stats_get(e, &stt);
    assert_string_equal(stt.endpoint, "http://127.0.0.1:2379"); /* trailing '/' dropped */
    assert_false(stt.connected);
    const char *empty[] = { "" };
    assert_int_equal(lf_etcd_follow(e, empty, 1, &(lf_etcd_cbs){0}, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty prefix"));
    lf_etcd_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_roundtrip),
        cmocka_unit_test(test_b64_bad),
        cmocka_unit_test(test_prefix_end),
        cmocka_unit_test(test_opts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
