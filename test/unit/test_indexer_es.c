/* es: GET / answers → flavour (7.x, 8.x, OpenSearch), refusals; secret
 * files for --check-config; the cJSON arena used per record. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "indexer/es.h"
#include "indexer/jarena.h"

static void flavours(void **st)
{
    struct { const char *body; es_flavor fl; const char *ver; } ok[] = {
        {"{\"name\":\"n\",\"version\":{\"number\":\"8.11.1\",\"build_flavor\":\"default\"},\"tagline\":\"You Know, for Search\"}", ES_8, "8.11.1"},
        {"{\"version\":{\"number\":\"7.17.9\"}}", ES_7, "7.17.9"},
        {"{\"version\":{\"number\":\"9.0.0\"}}", ES_8, "9.0.0"},
        {"{\"version\":{\"distribution\":\"opensearch\",\"number\":\"2.11.0\"}}", ES_OPENSEARCH, "2.11.0"},
        {"{\"version\":{\"distribution\":\"opensearch\",\"number\":\"1.3.0\"}}", ES_OPENSEARCH, "1.3.0"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        es_flavor fl = ES_UNKNOWN;
        char ver[32], err[128];
        assert_int_equal(es_parse_root(ok[i].body, strlen(ok[i].body), &fl, ver, sizeof ver, err, sizeof err), 0);
        assert_int_equal(fl, ok[i].fl);
        assert_string_equal(ver, ok[i].ver);
    }
    const char *bad[] = {"", "<html>", "{}", "{\"version\":{}}", "{\"version\":{\"number\":6}}",
                         "{\"version\":{\"number\":\"6.8.0\"}}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        es_flavor fl = ES_UNKNOWN;
        char ver[32], err[128] = "";
        assert_int_equal(es_parse_root(bad[i], strlen(bad[i]), &fl, ver, sizeof ver, err, sizeof err), -1);
        assert_true(err[0]);
        assert_int_equal(fl, ES_UNKNOWN);
    }
}

static void secrets_checked(void **st)
{
    ix_es_conf c;
    memset(&c, 0, sizeof c);
    char err[256];
    assert_int_equal(es_check_conf(&c, err, sizeof err), 0);
    c.password_file = "/nonexistent/pw";
    assert_int_equal(es_check_conf(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/pw"));
    char path[] = "/tmp/ix-test-secret-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\n \n", 3), 3); /* only whitespace: empty */
    close(fd);
    c.password_file = path;
    assert_int_equal(es_check_conf(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty"));
    FILE *f = fopen(path, "w");
    fputs("s3cret\n", f);
    fclose(f);
    assert_int_equal(es_check_conf(&c, err, sizeof err), 0);
    c.ca_file = "/nonexistent/ca.pem";
    assert_int_equal(es_check_conf(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "ca.pem"));
    unlink(path);
}

static void arena_window(void **st)
{
    jarena_install();
    cJSON *outside = cJSON_Parse("{\"kept\":[1,2,3]}"); /* plain malloc */
    size_t over = jarena_overflows();
    for (int round = 0; round < 3; round++) {
        jarena_begin();
        cJSON *doc = cJSON_Parse("{\"a\":\"b\",\"n\":{\"m\":[1,2,{\"x\":\"y\"}]}}");
        assert_non_null(doc);
        cJSON_AddStringToObject(doc, "added", "v");
        char *s = cJSON_PrintUnformatted(doc);
        assert_string_equal(s, "{\"a\":\"b\",\"n\":{\"m\":[1,2,{\"x\":\"y\"}]},\"added\":\"v\"}");
        cJSON_free(s);
        cJSON_Delete(doc);
        jarena_end();
    }
    /* bigger than the chunk: falls back to malloc, still freed right */
    size_t big = (size_t)2 << 20;
    char *text = malloc(big + 16);
    text[0] = '"';
    memset(text + 1, 'z', big);
    strcpy(text + 1 + big, "\"");
    jarena_begin();
    cJSON *s = cJSON_Parse(text);
    assert_true(cJSON_IsString(s));
    cJSON_Delete(s);
    jarena_end();
    assert_true(jarena_overflows() > over);
    free(text);
    char *o = cJSON_PrintUnformatted(outside);
    assert_string_equal(o, "{\"kept\":[1,2,3]}");
    cJSON_free(o);
    cJSON_Delete(outside);
    cJSON_InitHooks(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flavours),
        cmocka_unit_test(secrets_checked),
        cmocka_unit_test(arena_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
