/* Unit tests: the shipped etc/rules.ini on real-looking lines (exact
 * documents out, compared as JSON), and `--test-rules` output through
 * rules_cli_run. Run from the source tree's top (test/run-check.sh does). */
#include "test_indexer_rules_util.h"

#include <time.h>
#include <unistd.h>

#include "common/metrics.h"
#include "indexer/rules_cli.h"

#define SHIPPED "etc/rules.ini"

static int setup(void **state)
{
    rules *r = NULL;
    char err[512];
    if (rules_load(&r, SHIPPED, NULL, err, sizeof err) != 0) {
        print_error("%s\n", err);
        return -1;
    }
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    rules_free(*state);
    return 0;
}

/* The envelope the collector writes around a line (DESIGN.md §2). */
static char *envelope(const char *message_json, const char *id)
{
    char *s = NULL;
    int n = asprintf(&s, "{\"@timestamp\":\"2026-11-25T16:21:30.000Z\",\"message\":%s,"
                         "\"host\":{\"name\":\"node7\"},\"log\":{\"file\":{\"path\":\"/var/log/x.log\"},"
                         "\"offset\":%s},\"event\":{\"id\":\"u-%s\"}}", message_json, id, id);
    assert_true(n > 0);
    return s;
}

/* Deep merge of `add` into `base` (objects merged, anything else replaced). */
static void merge(cJSON *base, const cJSON *add)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, add) {
        cJSON *old = cJSON_GetObjectItemCaseSensitive(base, c->string);
        if (cJSON_IsObject(old) && cJSON_IsObject(c))
            merge(old, c);
        else if (old)
            cJSON_ReplaceItemInObjectCaseSensitive(base, c->string, cJSON_Duplicate(c, 1));
        else
            cJSON_AddItemToObject(base, c->string, cJSON_Duplicate(c, 1));
    }
}

/* A line in the collector's envelope through the rules: the document must
 * be the envelope with `rest` (members of a JSON object, without braces)
 * merged in. */
static void vector(const rules *r, const char *topic, const char *message_json, const char *rest,
                   const char *index)
{
    static int seq;
    char id[16];
    snprintf(id, sizeof id, "%d", ++seq);
    char *in = envelope(message_json, id);
    char *restobj = NULL;
    assert_true(asprintf(&restobj, "{%s}", rest) > 0);
    cJSON *want = cJSON_Parse(in), *add = cJSON_Parse(restobj);
    if (!add)
        print_error("bad expected JSON: %s\n", restobj);
    assert_non_null(add);
    merge(want, add);
    char *wants = cJSON_PrintUnformatted(want);
    rules_result res;
    cJSON *doc = apply(r, topic, in, &res);
    assert_int_equal(res.verdict, RULES_KEEP);
    expect_doc(doc, wants);
    assert_string_equal(res.index, index);
    cJSON_Delete(doc);
    cJSON_Delete(want);
    cJSON_Delete(add);
    free(wants);
    free(restobj);
    free(in);
}

static void test_access_logs(void **state)
{
    const rules *r = *state;
    vector(r, "nginx",
           "\"203.0.113.7 - alice [25/Nov/2026:16:21:10 +0100] \\\"GET /cart?id=42&x=%20y HTTP/1.1\\\" "
           "200 612 \\\"https://shop.example.com/\\\" \\\"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) "
           "Gecko/20100101 Firefox/120.0\\\"\"",
           "\"@timestamp\":\"2026-11-25T15:21:10.000Z\",\"source\":{\"address\":\"203.0.113.7\"},"
           "\"user\":{\"name\":\"alice\"},\"http\":{\"request\":{\"method\":\"GET\",\"referrer\":"
           "\"https://shop.example.com/\"},\"version\":\"1.1\",\"response\":{\"status_code\":200,"
           "\"body\":{\"bytes\":612}}},\"url\":{\"original\":\"/cart?id=42&x=%20y\"},"
           "\"user_agent\":{\"original\":\"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 "
           "Firefox/120.0\"}",
           "logs-nginx-2026.11.25");
    /* IPv6 client, no user, "-" referrer and size, HTTP/2.0 */
    vector(r, "nginx-edge",
           "\"2001:db8::1 - - [01/Jan/2026:00:00:01 -0500] \\\"POST /api/v1/orders HTTP/2.0\\\" 304 - "
           "\\\"-\\\" \\\"curl/8.4.0\\\"\"",
           "\"@timestamp\":\"2026-01-01T05:00:01.000Z\",\"source\":{\"address\":\"2001:db8::1\"},"
           "\"http\":{\"request\":{\"method\":\"POST\"},\"version\":\"2.0\",\"response\":"
           "{\"status_code\":304}},\"url\":{\"original\":\"/api/v1/orders\"},"
           "\"user_agent\":{\"original\":\"curl/8.4.0\"}",
           "logs-nginx-edge-2026.01.01");
    /* apache common log format (no referrer/agent), a garbage request line */
    vector(r, "apache",
           "\"192.0.2.10 - - [24/Nov/2026:23:59:59 +0000] \\\"\\\\x16\\\\x03\\\\x01\\\" 400 226\"",
           "\"@timestamp\":\"2026-11-24T23:59:59.000Z\",\"source\":{\"address\":\"192.0.2.10\"},"
           "\"http\":{\"request\":{\"line\":\"\\\\x16\\\\x03\\\\x01\"},\"response\":{\"status_code\":400,"
           "\"body\":{\"bytes\":226}}}",
           "logs-apache-2026.11.24");
    /* not an access log line: kept whole, tagged */
    vector(r, "nginx", "\"2026/11/25 16:21:10 [error] 12#12: *3 open() failed\"",
           "\"tags\":[\"_parse_failure:access-log\"]", "logs-nginx-2026.11.25");
}

/* A document compared whole. */
static void whole(const rules *r, const char *topic, const char *in, const char *want,
                  const char *index)
{
    rules_result res;
    cJSON *doc = apply(r, topic, in, &res);
    assert_int_equal(res.verdict, RULES_KEEP);
    expect_doc(doc, want);
    assert_string_equal(res.index, index);
    cJSON_Delete(doc);
}

static void test_syslog_lines(void **state)
{
    const rules *r = *state;
    whole(r, "syslog",
          "{\"message\":\"<165>1 2026-11-25T16:21:10.003+01:00 web01 payments 4242 ID47 "
          "[exampleSDID@32473 iut=\\\"3\\\" eventSource=\\\"App\\\"][x@1 a=\\\"]\\\\\\\"\\\"] card "
          "declined\",\"event\":{\"id\":\"s1\"}}",
          "{\"message\":\"card declined\",\"event\":{\"id\":\"s1\"},\"@timestamp\":"
          "\"2026-11-25T15:21:10.003Z\",\"host\":{\"hostname\":\"web01\"},\"process\":{\"name\":"
          "\"payments\",\"pid\":4242},\"log\":{\"syslog\":{\"priority\":165,\"msgid\":\"ID47\","
          "\"structured_data\":\"[exampleSDID@32473 iut=\\\"3\\\" eventSource=\\\"App\\\"][x@1 "
          "a=\\\"]\\\\\\\"\\\"]\"}}}",
          "logs-syslog-2026.11.25");
    /* RFC 5424 with nil values and no message */
    whole(r, "syslog", "{\"message\":\"<14>1 2026-11-25T16:21:10Z - - - - -\"}",
          "{\"message\":\"<14>1 2026-11-25T16:21:10Z - - - - -\",\"@timestamp\":"
          "\"2026-11-25T16:21:10.000Z\",\"log\":{\"syslog\":{\"priority\":14}}}",
          "logs-syslog-2026.11.25");
    /* RFC 3164 with PRI; the year is this year's (1 Jan is never ahead) */
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char want[600], idx[64];
    snprintf(want, sizeof want,
             "{\"message\":\"Failed password for root from 203.0.113.9 port 22 ssh2\","
             "\"@timestamp\":\"%d-01-01T00:00:07.000Z\",\"host\":{\"hostname\":\"bastion\"},"
             "\"process\":{\"name\":\"sshd\",\"pid\":1234},\"log\":{\"syslog\":{\"priority\":38}}}",
             tm.tm_year + 1900);
    snprintf(idx, sizeof idx, "logs-syslog-%d.01.01", tm.tm_year + 1900);
    whole(r, "syslog",
          "{\"message\":\"<38>Jan  1 00:00:07 bastion sshd[1234]: Failed password for root from "
          "203.0.113.9 port 22 ssh2\"}", want, idx);
    /* /var/log/syslog style: no PRI, no pid, a message with a colon */
    snprintf(want, sizeof want,
             "{\"message\":\"Linux version 6.1.0: booting\",\"@timestamp\":"
             "\"%d-01-02T03:04:05.000Z\",\"host\":{\"hostname\":\"web01\"},"
             "\"process\":{\"name\":\"kernel\"}}", tm.tm_year + 1900);
    snprintf(idx, sizeof idx, "logs-syslog-%d.01.02", tm.tm_year + 1900);
    whole(r, "syslog", "{\"message\":\"Jan  2 03:04:05 web01 kernel: Linux version 6.1.0: booting\"}",
          want, idx);
    /* rsyslog's high-precision file format */
    whole(r, "syslog",
          "{\"message\":\"2026-11-25T16:21:10.123456+01:00 web01 systemd[1]: Started Session 42.\"}",
          "{\"message\":\"Started Session 42.\",\"@timestamp\":\"2026-11-25T15:21:10.123Z\","
          "\"host\":{\"hostname\":\"web01\"},\"process\":{\"name\":\"systemd\",\"pid\":1}}",
          "logs-syslog-2026.11.25");
    /* not syslog */
    whole(r, "syslog", "{\"message\":\"hello\",\"@timestamp\":\"2026-11-25T00:00:00Z\"}",
          "{\"message\":\"hello\",\"@timestamp\":\"2026-11-25T00:00:00Z\","
          "\"tags\":[\"_parse_failure:syslog\"]}", "logs-syslog-2026.11.25");
}

static void test_app_json(void **state)
{
    const rules *r = *state;
    whole(r, "app-billing",
          "{\"@timestamp\":\"2026-11-25T16:21:30.000Z\",\"message\":\"{\\\"time\\\":"
          "\\\"2026-11-25T16:21:10.123+01:00\\\",\\\"level\\\":\\\"error\\\",\\\"msg\\\":\\\"payment "
          "failed\\\",\\\"order\\\":{\\\"id\\\":42,\\\"total\\\":19.99},\\\"logger\\\":\\\"billing\\\"}\","
          "\"event\":{\"id\":\"a1\"}}",
          "{\"@timestamp\":\"2026-11-25T15:21:10.123Z\",\"message\":\"payment failed\",\"event\":"
          "{\"id\":\"a1\"},\"log\":{\"level\":\"error\",\"logger\":\"billing\"},\"json\":{\"order\":"
          "{\"id\":42,\"total\":19.99}}}",
          "logs-app-billing-2026.11.25");
    /* zap style: epoch seconds as a float in "ts" */
    whole(r, "app",
          "{\"message\":\"{\\\"ts\\\":1764087670.5,\\\"level\\\":\\\"info\\\",\\\"message\\\":"
          "\\\"ok\\\"}\"}",
          "{\"message\":\"ok\",\"@timestamp\":\"2025-11-25T16:21:10.500Z\",\"log\":{\"level\":"
          "\"info\"},\"json\":{}}",
          "logs-app-2025.11.25");
    /* pino style: epoch milliseconds in "time" */
    whole(r, "svc-json",
          "{\"message\":\"{\\\"time\\\":1764087670123,\\\"msg\\\":\\\"hi\\\",\\\"pid\\\":7}\"}",
          "{\"message\":\"hi\",\"@timestamp\":\"2025-11-25T16:21:10.123Z\",\"json\":{\"pid\":7}}",
          "logs-svc-json-2025.11.25");
    /* a plain line on an app topic: the rule does not apply */
    whole(r, "app", "{\"message\":\"plain\",\"@timestamp\":\"2026-11-25T00:00:00Z\"}",
          "{\"message\":\"plain\",\"@timestamp\":\"2026-11-25T00:00:00Z\"}", "logs-app-2026.11.25");
    /* looks like JSON but is not: tagged, kept */
    whole(r, "app", "{\"message\":\"{oops\",\"@timestamp\":\"2026-11-25T00:00:00Z\"}",
          "{\"message\":\"{oops\",\"@timestamp\":\"2026-11-25T00:00:00Z\","
          "\"tags\":[\"_parse_failure:app-json\"]}", "logs-app-2026.11.25");
}

static void test_java(void **state)
{
    const rules *r = *state;
    whole(r, "java-orders",
          "{\"message\":\"2026-11-25 16:21:10,123 ERROR [http-nio-8080-exec-3] "
          "com.example.orders.OrderController - Request failed\\n"
          "java.lang.IllegalStateException: order 42 is closed\\n"
          "\\tat com.example.orders.OrderService.update(OrderService.java:88)\\n"
          "\\tat com.example.orders.OrderController.put(OrderController.java:41)\\n"
          "Caused by: java.sql.SQLException: connection reset\\n"
          "\\t... 12 more\",\"event\":{\"id\":\"j1\"}}",
          "{\"message\":\"Request failed\",\"event\":{\"id\":\"j1\"},"
          "\"@timestamp\":\"2026-11-25T16:21:10.123Z\",\"log\":{\"level\":\"ERROR\","
          "\"logger\":\"com.example.orders.OrderController\"},\"process\":{\"thread\":{\"name\":"
          "\"http-nio-8080-exec-3\"}},\"error\":{\"type\":\"java.lang.IllegalStateException\","
          "\"message\":\"order 42 is closed\",\"stack_trace\":"
          "\"java.lang.IllegalStateException: order 42 is closed\\n"
          "\\tat com.example.orders.OrderService.update(OrderService.java:88)\\n"
          "\\tat com.example.orders.OrderController.put(OrderController.java:41)\\n"
          "Caused by: java.sql.SQLException: connection reset\\n\\t... 12 more\"}}",
          "logs-java-orders-2026.11.25");
    /* one line, no stack trace, ISO 'T' and a dot */
    whole(r, "java",
          "{\"message\":\"2026-11-25T16:21:11.5 INFO  [main] c.e.App - started in 2.1 s\"}",
          "{\"message\":\"started in 2.1 s\",\"@timestamp\":\"2026-11-25T16:21:11.500Z\","
          "\"log\":{\"level\":\"INFO\",\"logger\":\"c.e.App\"},\"process\":{\"thread\":"
          "{\"name\":\"main\"}}}",
          "logs-java-2026.11.25");
    /* ISO 'T' without a fraction */
    whole(r, "java", "{\"message\":\"2026-11-25T16:21:13 DEBUG [main] a.B - x\"}",
          "{\"message\":\"x\",\"@timestamp\":\"2026-11-25T16:21:13.000Z\","
          "\"log\":{\"level\":\"DEBUG\",\"logger\":\"a.B\"},\"process\":{\"thread\":"
          "{\"name\":\"main\"}}}",
          "logs-java-2026.11.25");
    /* an exception without a message */
    whole(r, "java",
          "{\"message\":\"2026-11-25 16:21:12 WARN [w-1] x.Y - retry\\njava.lang.NullPointerException\\n"
          "\\tat x.Y.z(Y.java:1)\"}",
          "{\"message\":\"retry\",\"@timestamp\":\"2026-11-25T16:21:12.000Z\","
          "\"log\":{\"level\":\"WARN\",\"logger\":\"x.Y\"},\"process\":{\"thread\":{\"name\":\"w-1\"}},"
          "\"error\":{\"type\":\"java.lang.NullPointerException\",\"stack_trace\":"
          "\"java.lang.NullPointerException\\n\\tat x.Y.z(Y.java:1)\"}}",
          "logs-java-2026.11.25");
}

/* ---- --test-rules ------------------------------------------------------- */

static char *run_cli(const char *rules_path, const char *topic, const char *input, int *rc,
                     char **errout)
{
    FILE *in = fmemopen((void *)input, strlen(input), "r");
    char *out = NULL, *err = NULL;
    size_t outlen = 0, errlen = 0;
    FILE *o = open_memstream(&out, &outlen), *e = open_memstream(&err, &errlen);
    assert_non_null(in);
    *rc = rules_cli_run_ex(rules_path, NULL, topic, in, o, e);
    fclose(in);
    fclose(o);
    fclose(e);
    if (errout)
        *errout = err;
    else
        free(err);
    return out;
}

static void test_cli_shipped(void **state)
{
    (void)state;
    const char *input =
        "203.0.113.7 - - [25/Nov/2026:16:21:10 +0000] \"GET /healthz HTTP/1.1\" 200 2 \"-\" \"kube-probe/1.28\"\n"
        "\n"
        "{\"message\":\"10.1.1.1 - bob [25/Nov/2026:16:21:11 +0000] \\\"DELETE /x HTTP/1.1\\\" 403 0 \\\"-\\\" \\\"-\\\"\",\"event\":{\"id\":\"abc-7\"}}\n"
        "not an access line\n";
    int rc;
    char *out = run_cli(SHIPPED, "nginx", input, &rc, NULL);
    assert_int_equal(rc, 0);
    /* first the way the topic's JSON records are planned to take */
    static const char head[] = "# topic=nginx way=direct (JSON records; other lines: whole)\n";
    if (strncmp(out, head, sizeof head - 1))
        print_error("output:\n%s\n", out);
    assert_memory_equal(out, head, sizeof head - 1);
    /* three records (the blank line 2 is skipped); numbers are line numbers.
     * Each says the way it took: a line that is not JSON is made a record
     * on a tree; an envelope (here without @timestamp, which the rule adds
     * at the end) takes the direct way */
    char *p1 = strstr(out, "#1 index=logs-nginx-2026.11.25 _id=stdin-0-1 way=whole\n");
    char *p3 = strstr(out, "#3 index=logs-nginx-2026.11.25 _id=abc-7 way=direct\n");
    char *p4 = strstr(out, "#4 index=logs-nginx-");
    if (!p1 || !p3 || !p4)
        print_error("output:\n%s\n", out);
    assert_non_null(p1);
    assert_non_null(p3);
    assert_non_null(p4);
    assert_null(strstr(out, "#2 "));
    /* the documents are the JSON between the headers */
    *p3 = '\0';
    cJSON *d1 = cJSON_Parse(strchr(p1, '\n') + 1);
    assert_non_null(d1);
    expect_doc(d1, "{\"message\":\"203.0.113.7 - - [25/Nov/2026:16:21:10 +0000] \\\"GET /healthz "
                   "HTTP/1.1\\\" 200 2 \\\"-\\\" \\\"kube-probe/1.28\\\"\",\"@timestamp\":"
                   "\"2026-11-25T16:21:10.000Z\",\"source\":{\"address\":\"203.0.113.7\"},"
                   "\"http\":{\"request\":{\"method\":\"GET\"},\"version\":\"1.1\",\"response\":"
                   "{\"status_code\":200,\"body\":{\"bytes\":2}}},\"url\":{\"original\":\"/healthz\"},"
                   "\"user_agent\":{\"original\":\"kube-probe/1.28\"}}");
    cJSON_Delete(d1);
    *p4 = '\0';
    cJSON *d3 = cJSON_Parse(strchr(p3 + 1, '\n') + 1);
    assert_non_null(d3);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(d3, "http"),
                                                             "response"), "status_code")->valueint, 403);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(d3, "user"), "name")->valuestring,
                        "bob");
    cJSON_Delete(d3);
    cJSON *d4 = cJSON_Parse(strchr(p4 + 1, '\n') + 1);
    assert_non_null(d4);
    /* no @timestamp: the index date is today's; the record is tagged */
    expect_doc(d4, "{\"message\":\"not an access line\",\"tags\":[\"_parse_failure:access-log\"]}");
    cJSON_Delete(d4);
    free(out);
}

static void test_cli_drop_dlq_and_errors(void **state)
{
    (void)state;
    char path[] = "/tmp/test_rules_cli.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "[rule health]\nif = url.original == /healthz\ndrop = true\n"
                       "[rule route]\nindex = %{route}\n[rule p]\nparse = regex\n"
                       "pattern = ^(?<url__original>\\S+)(?: (?<route>\\S+))?\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    int rc;
    char *out = run_cli(path, NULL, "/healthz\n/a ..\n/b Web\n", &rc, NULL);
    assert_int_equal(rc, 0);
    /* rules apply in order: "health" sees url.original only from record 2 on
     * the next pass; here the parse runs last, so nothing is dropped by the
     * first rule, and the index comes from route */
    assert_non_null(strstr(out, "#2 dead-letter by rule route: invalid index name \"..\""));
    assert_non_null(strstr(out, "#3 index=web _id=stdin-0-3 way=whole\n"));
    /* the index template reads a field: the why names the rule and line */
    assert_non_null(strstr(out, "# topic=stdin way=members (JSON records; other lines: whole): rule route (/tmp/test_rules_cli."));
    assert_non_null(strstr(out, ":5): an index with %{field} needs a tree (date codes alone do not)\n"));
    free(out);

    /* parse first, then drop: the health check is dropped and said so */
    FILE *fp = fopen(path, "w");
    fputs("[rule p]\nparse = regex\npattern = ^(?<url__original>\\S+)\n"
          "[rule health]\nif = url.original == /healthz\ndrop = true\n", fp);
    fclose(fp);
    out = run_cli(path, "web", "/healthz\n/x\n", &rc, NULL);
    assert_non_null(strstr(out, "#1 dropped by rule health\n"));
    assert_non_null(strstr(out, "#2 index=logs-web-"));
    free(out);

    /* a bad rules file: exit 1, file:line: reason, no output */
    fp = fopen(path, "w");
    fputs("[rule p]\nparse = regex\npattern = ^(?<a>[x\n", fp);
    fclose(fp);
    char *err = NULL;
    out = run_cli(path, "web", "x\n", &rc, &err);
    assert_int_equal(rc, 1);
    assert_string_equal(out, "");
    char want[300];
    snprintf(want, sizeof want, "%s:3: bad regex: missing terminating ] for character class", path);
    if (!strstr(err, want))
        print_error("stderr: %s\n", err);
    assert_non_null(strstr(err, want));
    free(out);
    free(err);
    unlink(path);

    /* no rules at all: pass-through, topic "stdin" */
    out = run_cli(NULL, NULL, "{\"@timestamp\":\"2026-01-02T00:00:00Z\",\"message\":\"m\"}\n",
                  &rc, NULL);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "# topic=stdin way=none (JSON records; other lines: whole)\n#1 index=logs-stdin-2026.01.02 _id=stdin-0-1 way=none\n"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_access_logs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syslog_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_app_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_java, setup, teardown),
        cmocka_unit_test(test_cli_shipped),
        cmocka_unit_test(test_cli_drop_dlq_and_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    lf_metrics_reset();
    return rc;
}
