/* etcd_why: lf_etcd's failure text becomes reason="..." key=...: the
 * endpoint is not repeated, libcurl's "partial file" on a watch reads
 * "watch stream closed by server", quotes are escaped, output is bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "collector/etcd_why.h"

#define EP "http://127.0.0.1:51019"

static void expect(const char *endpoint, const char *why, const char *want)
{
    char out[512];
    etcd_why_fields(out, sizeof out, endpoint, why);
    assert_string_equal(out, want);
}

static void test_watch_closed(void **state)
{
    /* the line from the field report */
    expect(EP, EP ": watch /logferry-demo/collect/_all/: Transferred a partial file "
               "(transfer closed with outstanding read data remaining)",
           "reason=\"watch stream closed by server\" key=/logferry-demo/collect/_all/");
    expect(EP, EP ": watch /p/collect/h/: stream closed by the server",
           "reason=\"watch stream closed by server\" key=/p/collect/h/");
}

static void test_other_reasons(void **state)
{
    expect(EP, EP ": Couldn't connect to server (Failed to connect to 127.0.0.1 port 51019 "
               "after 0 ms: Couldn't connect to server)",
           "reason=\"cannot connect (nothing listening, or refused)\"");
    expect(EP, EP ": Timeout was reached (Connection timed out after 5000 milliseconds)",
           "reason=\"Timeout was reached (Connection timed out after 5000 milliseconds)\"");
    expect(EP, EP ": range /p/collect/h/ failed: HTTP 503 \"unavailable\"",
           "reason=\"HTTP 503 \\\"unavailable\\\"\" key=/p/collect/h/");
    expect(EP, EP ": Server returned nothing (no headers, no status code)",
           "reason=\"connection closed by server without an answer\"");
    /* not prefixed by this endpoint: kept whole */
    expect(EP, "cannot read password_file /x: Permission denied",
           "reason=\"cannot read password_file /x: Permission denied\"");
    expect(NULL, NULL, "reason=\"\"");
    expect(EP, "line\nbreak", "reason=\"line?break\"");
}

static void test_bounded(void **state)
{
    char big[2000], out[32];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    etcd_why_fields(out, sizeof out, EP, big);
    assert_true(strlen(out) < sizeof out);
    assert_int_equal(strncmp(out, "reason=\"xxx", 11), 0);
    etcd_why_fields(out, 1, EP, big);
    assert_string_equal(out, "");
    etcd_why_fields(out, 5, EP, big);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watch_closed),
        cmocka_unit_test(test_other_reasons),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
