/* Helpers shared by the test_indexer_rules*.c programs (header only: each
 * program is built from its own .c). */
#ifndef TEST_INDEXER_RULES_UTIL_H
#define TEST_INDEXER_RULES_UTIL_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "indexer/rules.h"

/* The whole file (a test fails when it cannot be read); caller frees. */
static inline char *read_all(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, fp), (size_t)n);
    s[n] = '\0';
    fclose(fp);
    return s;
}

static inline rules *load_ok(const char *text)
{
    rules *r = NULL;
    char err[512] = "";
    int rc = rules_load_string(&r, "t.ini", text, err, sizeof err);
    if (rc != 0)
        print_error("unexpected load error: %s\n", err);
    assert_int_equal(rc, 0);
    assert_non_null(r);
    return r;
}

/* The shipped etc/rules.ini followed by extra, loaded twice (a and b): the
 * differential tests apply one set one way and the other the other. */
static inline void load_shipped_twice(const char *extra, rules **a, rules **b)
{
    char *shipped = read_all("etc/rules.ini");
    size_t n = strlen(shipped), m = strlen(extra);
    char *text = malloc(n + m + 2);
    assert_non_null(text);
    memcpy(text, shipped, n);
    text[n] = '\n';
    memcpy(text + n + 1, extra, m + 1);
    *a = load_ok(text);
    *b = load_ok(text);
    free(text);
    free(shipped);
}

/* The load must fail with an error containing `want` (e.g. "t.ini:3: "). */
static inline void load_fails(const char *text, const char *want)
{
    rules *r = (rules *)1;
    char err[512] = "";
    int rc = rules_load_string(&r, "t.ini", text, err, sizeof err);
    if (rc == 0 || !strstr(err, want))
        print_error("load: rc=%d err=\"%s\", wanted \"%s\"\n", rc, err, want);
    assert_int_not_equal(rc, 0);
    assert_null(r);
    assert_non_null(strstr(err, want));
}

/* Applies r to the JSON text `in`; returns the document (caller deletes). */
static inline cJSON *apply(const rules *r, const char *topic, const char *in, rules_result *res)
{
    cJSON *doc = cJSON_Parse(in);
    if (!doc)
        print_error("bad test JSON: %s\n", in);
    assert_non_null(doc);
    rules_apply(r, topic, doc, res);
    return doc;
}

/* doc must equal the JSON text `want` (key order does not matter). */
static inline void expect_doc(const cJSON *doc, const char *want)
{
    cJSON *w = cJSON_Parse(want);
    if (!w)
        print_error("bad expected JSON: %s\n", want);
    assert_non_null(w);
    if (!cJSON_Compare(doc, w, 1)) {
        char *got = cJSON_PrintUnformatted(doc);
        print_error("document differs\n  got:  %s\n  want: %s\n", got, want);
        free(got);
    }
    assert_true(cJSON_Compare(doc, w, 1));
    cJSON_Delete(w);
}

/* One record through one rules text: the document and the result. */
static inline void one(const char *rules_text, const char *topic, const char *in,
                       const char *want, rules_verdict verdict, const char *index)
{
    rules *r = load_ok(rules_text);
    rules_result res;
    cJSON *doc = apply(r, topic, in, &res);
    if (res.verdict != verdict)
        print_error("verdict %d, want %d (rule %s, reason %s)\n", res.verdict, verdict,
                    res.rule ? res.rule : "-", res.reason);
    assert_int_equal(res.verdict, verdict);
    if (want)
        expect_doc(doc, want);
    if (index)
        assert_string_equal(res.index, index);
    cJSON_Delete(doc);
    rules_free(r);
}

/* Each case {text, want} through r on topic, in order (the rules keep
 * state from record to record): the text as the string member key of a
 * record; want is what the result's index (index) or else the document's
 * @timestamp must be. */
static inline void cases_in_order(const rules *r, const char *topic, const char *key,
                                  const char *const (*c)[2], size_t n, bool index)
{
    for (size_t i = 0; i < n; i++) {
        char in[200];
        snprintf(in, sizeof in, "{\"%s\":\"%s\"}", key, c[i][0]);
        rules_result res;
        cJSON *doc = apply(r, topic, in, &res);
        const cJSON *ts = cJSON_GetObjectItem(doc, "@timestamp");
        const char *got = index ? res.index : cJSON_IsString(ts) ? ts->valuestring : "(none)";
        if (strcmp(got, c[i][1]))
            fail_msg("%s: %s, want %s", c[i][0], got, c[i][1]);
        cJSON_Delete(doc);
    }
}

#endif
