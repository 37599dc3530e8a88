/* metrics: exact Prometheus text exposition (0.0.4). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/metrics.h"

static int reset(void **state)
{
    (void)state;
    lf_metrics_reset();
    return 0;
}

static void assert_render(const char *want)
{
    strbuf out = STRBUF_INIT;
    lf_metrics_render(&out);
    if (strcmp(sb_str(&out), want) != 0)
        fprintf(stderr, "--- got:\n%s--- want:\n%s---\n", sb_str(&out), want);
    assert_string_equal(sb_str(&out), want);
    sb_free(&out);
}

static void test_counter_unlabelled(void **state)
{
    (void)state;
    lf_metric *m = lf_counter_new("lines_total", "Lines read.", NULL);
    /* Shown at zero before the first update. */
    assert_render("# HELP logferry_lines_total Lines read.\n"
                  "# TYPE logferry_lines_total counter\n"
                  "logferry_lines_total 0\n");
    lf_series *s = lf_series_of(m);
    lf_counter_add(s, 3);
    lf_counter_add(s, 2);
    lf_counter_add(s, -7); /* counters never go down */
    assert_true(lf_series_value(s) == 5);
    /* Registering again gives the same family and series. */
    assert_ptr_equal(lf_counter_new("lines_total", "other", NULL), m);
    assert_ptr_equal(lf_series_of(m), s);
    lf_counter_add(s, 0.5);
    assert_render("# HELP logferry_lines_total Lines read.\n"
                  "# TYPE logferry_lines_total counter\n"
                  "logferry_lines_total 5.5\n");
}

static void test_labelled_gauges_and_escaping(void **state)
{
    (void)state;
    lf_metric *g = lf_gauge_new("files", "Files watched\nper \\source.", "source, state");
    lf_series *a = lf_series_of(g, "nginx", "open");
    lf_series *b = lf_series_of(g, "we\"ird\\src\nx", "open");
    lf_series *c = lf_series_of(g, "nginx", "eof");
    assert_ptr_equal(lf_series_of(g, "nginx", "open"), a);
    const char *vals[] = {"nginx", "eof"};
    assert_ptr_equal(lf_series_ofv(g, vals), c);
    lf_gauge_set(a, 3);
    lf_gauge_add(a, -1);
    lf_gauge_set(b, 1e21);
    lf_gauge_set(c, -0.25);
    assert_render("# HELP logferry_files Files watched\\nper \\\\source.\n"
                  "# TYPE logferry_files gauge\n"
                  "logferry_files{source=\"nginx\",state=\"open\"} 2\n"
                  "logferry_files{source=\"we\\\"ird\\\\src\\nx\",state=\"open\"} 1e+21\n"
                  "logferry_files{source=\"nginx\",state=\"eof\"} -0.25\n");
    lf_gauge_set(b, INFINITY);
    lf_gauge_set(c, NAN);
    lf_gauge_set(a, 0.1);
    assert_render("# HELP logferry_files Files watched\\nper \\\\source.\n"
                  "# TYPE logferry_files gauge\n"
                  "logferry_files{source=\"nginx\",state=\"open\"} 0.1\n"
                  "logferry_files{source=\"we\\\"ird\\\\src\\nx\",state=\"open\"} +Inf\n"
                  "logferry_files{source=\"nginx\",state=\"eof\"} NaN\n");
}

static void test_histogram(void **state)
{
    (void)state;
    static const double b[] = {0.005, 0.1, 1, 2.5};
    lf_metric *h = lf_histogram_new("bulk_seconds", "Bulk request time.", "node", b, 4);
    lf_series *s = lf_series_of(h, "es1");
    lf_histogram_observe(s, 0.05);
    lf_histogram_observe(s, 0.1);  /* le is inclusive */
    lf_histogram_observe(s, 2);
    lf_histogram_observe(s, 30);
    assert_true(lf_histogram_count(s) == 4);
    assert_true(fabs(lf_series_value(s) - 32.15) < 1e-9);
    lf_metric *u = lf_histogram_new("batch_lines", "Lines per batch.", NULL, b + 2, 2);
    lf_histogram_observe(lf_series_of(u), 1);
    assert_render("# HELP logferry_bulk_seconds Bulk request time.\n"
                  "# TYPE logferry_bulk_seconds histogram\n"
                  "logferry_bulk_seconds_bucket{node=\"es1\",le=\"0.005\"} 0\n"
                  "logferry_bulk_seconds_bucket{node=\"es1\",le=\"0.1\"} 2\n"
                  "logferry_bulk_seconds_bucket{node=\"es1\",le=\"1\"} 2\n"
                  "logferry_bulk_seconds_bucket{node=\"es1\",le=\"2.5\"} 3\n"
                  "logferry_bulk_seconds_bucket{node=\"es1\",le=\"+Inf\"} 4\n"
                  "logferry_bulk_seconds_sum{node=\"es1\"} 32.15\n"
                  "logferry_bulk_seconds_count{node=\"es1\"} 4\n"
                  "# HELP logferry_batch_lines Lines per batch.\n"
                  "# TYPE logferry_batch_lines histogram\n"
                  "logferry_batch_lines_bucket{le=\"1\"} 1\n"
                  "logferry_batch_lines_bucket{le=\"2.5\"} 1\n"
                  "logferry_batch_lines_bucket{le=\"+Inf\"} 1\n"
                  "logferry_batch_lines_sum 1\n"
                  "logferry_batch_lines_count 1\n");
}

static void test_removal(void **state)
{
    (void)state;
    lf_metric *m = lf_counter_new("drops_total", "Dropped lines.", "reason");
    lf_series *a = lf_series_of(m, "rule");
    lf_series *b = lf_series_of(m, "cut");
    lf_series *c = lf_series_of(m, "dlq");
    lf_counter_add(a, 1);
    lf_counter_add(b, 2);
    lf_counter_add(c, 3);
    lf_series_remove(b);
    lf_series_remove(NULL);
    assert_render("# HELP logferry_drops_total Dropped lines.\n"
                  "# TYPE logferry_drops_total counter\n"
                  "logferry_drops_total{reason=\"rule\"} 1\n"
                  "logferry_drops_total{reason=\"dlq\"} 3\n");
    /* Asked for again, a removed series starts from zero at the end. */
    lf_series *b2 = lf_series_of(m, "cut");
    assert_true(lf_series_value(b2) == 0);
    lf_series_remove(a);
    lf_series_remove(c);
    assert_render("# HELP logferry_drops_total Dropped lines.\n"
                  "# TYPE logferry_drops_total counter\n"
                  "logferry_drops_total{reason=\"cut\"} 0\n");
    lf_metric_clear(m);
    assert_render("# HELP logferry_drops_total Dropped lines.\n"
                  "# TYPE logferry_drops_total counter\n");
}

/* Many series: lookups find the right one after the table grew, and
 * pointers taken early stay valid. */
static void test_many_series(void **state)
{
    (void)state;
    lf_metric *m = lf_gauge_new("offset", "Offsets.", "file");
    lf_series *first = lf_series_of(m, "f0");
    lf_gauge_set(first, 42);
    enum { N = 5000 };
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        lf_gauge_set(lf_series_of(m, name), i == 0 ? 42 : i);
    }
    assert_true(lf_series_value(first) == 42);
    for (int i = 0; i < N; i += 7) {
        snprintf(name, sizeof(name), "f%d", i);
        lf_series *s = lf_series_of(m, name);
        assert_true(lf_series_value(s) == (i == 0 ? 42 : i));
        if (i)
            lf_series_remove(s);
    }
    for (int i = 1; i < N; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        lf_series *s = lf_series_of(m, name);
        assert_true(lf_series_value(s) == (i % 7 == 0 ? 0 : i));
    }
    strbuf out = STRBUF_INIT;
    lf_metrics_render(&out);
    assert_non_null(strstr(sb_str(&out), "logferry_offset{file=\"f4999\"} 4999\n"));
    sb_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_counter_unlabelled, reset),
        cmocka_unit_test_teardown(test_labelled_gauges_and_escaping, reset),
        cmocka_unit_test_teardown(test_histogram, reset),
        cmocka_unit_test_teardown(test_removal, reset),
        cmocka_unit_test_teardown(test_many_series, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
