/* jarena: a window's document is released whole at jarena_end, overflow
 * blocks included (LeakSanitizer fails this program if they are not), frees
 * inside the window are no-ops for window memory and real for the rest. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include "indexer/jarena.h"
#include "indexer/jparse.h"
#include "indexer/rules.h"

/* A tree of about n bytes of nodes and strings. */
static cJSON *tree(size_t n)
{
    cJSON *doc = cJSON_CreateObject();
    assert_non_null(doc);
    char key[32];
    for (size_t i = 0; n > 200; i++, n -= 200) {
        snprintf(key, sizeof key, "k%zu", i);
        cJSON *o = cJSON_AddObjectToObject(doc, key);
        assert_non_null(o);
        assert_non_null(cJSON_AddStringToObject(o, "s", "a string of some length, forty bytes"));
        assert_non_null(cJSON_AddNumberToObject(o, "n", (double)i));
    }
    return doc;
}

static void overflow_released(void **state)
{
    cJSON *before = cJSON_CreateString("made outside a window");
    size_t ov = jarena_overflows();
    for (int round = 0; round < 5; round++) {
        jarena_begin();
        cJSON *doc = tree(3u << 20); /* beyond the 1 MiB chunk: overflow blocks */
        assert_true(jarena_overflows() > ov);
        ov = jarena_overflows();
        /* one allocation bigger than a block gets a block of its own */
        char *big = malloc(1u << 20);
        memset(big, 'x', (1u << 20) - 1);
        big[(1u << 20) - 1] = '\0';
        assert_non_null(cJSON_AddStringToObject(doc, "big", big));
        free(big);
        /* rules delete and replace fields inside the window: window memory
         * is not freed twice (once here, once at jarena_end) */
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "k1");
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "k15000");
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "big");
        assert_non_null(cJSON_GetObjectItemCaseSensitive(doc, "k14999"));
        if (round == 0) { /* made outside, freed inside: really freed */
            cJSON_Delete(before);
            before = NULL;
        }
        jarena_end(); /* no cJSON_Delete(doc): released whole */
    }
    /* outside a window: plain malloc and free */
    cJSON *after = tree(4000);
    cJSON_Delete(after);
}

static void chunk_poisoned_after_window(void **state)
{
#if defined(__SANITIZE_ADDRESS__)
    jarena_begin();
    cJSON *doc = tree(2000);
    assert_false(__asan_address_is_poisoned(doc));
    char *key = doc->child->string;
    assert_false(__asan_address_is_poisoned(key));
    jarena_end();
    /* a use after the window is an ASan error */
    assert_true(__asan_address_is_poisoned(doc));
    assert_true(__asan_address_is_poisoned(key));
#else
    skip();
#endif
}

/* A rule's template over an object prints it with cJSON inside the window:
 * that text is window memory and must go back through cJSON's hooks (a
 * plain free() of it aborted the indexer: "free(): invalid pointer"). */
static void rule_template_over_object(void **state)
{
    rules *r = NULL;
    char err[256] = "";
    assert_int_equal(rules_load_string(&r, "t.ini",
                                       "[rule s]\nset.label = %{o} on %{h}\n", err, sizeof err), 0);
    for (int round = 0; round < 3; round++) {
        jarena_begin();
        const char *in = "{\"h\":\"web1\",\"o\":{\"k\":[1,\"x\"]}}";
        cJSON *doc = NULL;
        assert_int_equal(jparse(in, strlen(in), &doc, NULL, 0), 0);
        rules_result res;
        rules_apply(r, "t", doc, &res);
        cJSON *l = cJSON_GetObjectItemCaseSensitive(doc, "label");
        assert_true(cJSON_IsString(l));
        assert_string_equal(l->valuestring, "{\"k\":[1,\"x\"]} on web1");
        jarena_end();
    }
    rules_free(r);
}

int main(void)
{
    jarena_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(overflow_released),
        cmocka_unit_test(chunk_poisoned_after_window),
        cmocka_unit_test(rule_template_over_object),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
