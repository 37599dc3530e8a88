/* bulk items and batches: NDJSON lines, escaping, headers kept for the DLQ,
 * bounds, 413 split, gzip body, items in a pool (memory counted by class). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "indexer/bulk.h"

static bulk_item *mk(int64_t off, const char *src)
{
    rec_header h[] = {{"event.id", "e1", 2}, {"nil", NULL, 0}};
    char val[64];
    snprintf(val, sizeof val, "value-%lld", (long long)off);
    rec_in in = {.topic = "t", .partition = 1, .offset = off, .value = val,
                 .len = strlen(val), .hdrs = h, .nhdrs = 2};
    char id[32];
    snprintf(id, sizeof id, "id-%lld", (long long)off);
    return bulk_item_new(NULL, BULK_OP_CREATE, "logs-t-2026.01.02", id, src, strlen(src), &in);
}

/* The i-th header of it is name=value. */
static void assert_header(const bulk_item *it, uint32_t i, const char *name, const char *value)
{
    const char *n;
    size_t nl, vl;
    const void *v;
    assert_int_equal(bulk_item_header(it, i, &n, &nl, &v, &vl), 0);
    assert_int_equal(nl, strlen(name));
    assert_memory_equal(n, name, nl);
    if (!value) {
        assert_null(v);
        return;
    }
    assert_int_equal(vl, strlen(value));
    assert_memory_equal(v, value, vl);
}

static void item_lines_and_original(void **st)
{
    rec_in in = {.topic = "t", .partition = 0, .offset = 1, .value = "orig", .len = 4};
    bulk_item *it = bulk_item_new(NULL, BULK_OP_INDEX, "i\"x", "a\\b\n\x01", "{\"m\":1}", 7, &in);
    assert_non_null(it);
    const char want[] = "{\"index\":{\"_index\":\"i\\\"x\",\"_id\":\"a\\\\b\\n\\u0001\"}}\n{\"m\":1}\n";
    assert_int_equal(it->line_len, sizeof want - 1);
    assert_memory_equal(bulk_item_line(it), want, sizeof want - 1);
    assert_int_equal(it->val_len, 4);
    assert_memory_equal(bulk_item_value(it), "orig", 4);
    assert_int_equal(it->nhdrs, 0);
    bulk_item_free(it);

    it = mk(7, "{}");
    assert_int_equal(it->nhdrs, 2);
    assert_header(it, 0, "event.id", "e1");
    assert_header(it, 1, "nil", NULL);
    const char *n;
    size_t nl, vl;
    const void *v;
    assert_int_equal(bulk_item_header(it, 2, &n, &nl, &v, &vl), -1);
    assert_memory_equal(bulk_item_line(it), "{\"create\":{\"_index\":\"logs-t-2026.01.02\",\"_id\":\"id-7\"}}\n{}\n", it->line_len);
    bulk_item_free(it);
}

/* A record sent as written is its own document, given as the value's
 * bytes themselves: the original is not stored twice, and still reads
 * back whole, headers after it. Equal bytes elsewhere are a copy. */
static void value_equal_to_source_kept_once(void **st)
{
    const char *v = "{\"message\":\"same\"}";
    char copy[64];
    strcpy(copy, v);
    rec_header h[] = {{"event.id", "e1", 2}};
    rec_in in = {.topic = "t", .value = v, .len = strlen(v), .hdrs = h, .nhdrs = 1};
    bulk_item *a = bulk_item_new(NULL, BULK_OP_CREATE, "i", "1", v, strlen(v), &in);
    bulk_item *b = bulk_item_new(NULL, BULK_OP_CREATE, "i", "1", copy, strlen(v), &in);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a->val_shared);
    assert_false(b->val_shared);
    assert_int_equal(bulk_item_mem(a) + strlen(v), bulk_item_mem(b)); /* plain malloc: exact */
    const bulk_item *both[] = {a, b};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(both[k]->val_len, strlen(v));
        assert_memory_equal(bulk_item_value(both[k]), v, strlen(v));
        assert_header(both[k], 0, "event.id", "e1");
    }
    assert_memory_equal(bulk_item_line(a) + a->line_len - strlen(v) - 1, v, strlen(v));
    bulk_item_free(a);
    bulk_item_free(b);
}

static void bounds_and_split(void **st)
{
    bulk_batch b;
    bulk_batch_init(&b);
    bulk_item *it = mk(0, "{\"a\":1}");
    assert_false(bulk_batch_full_with(&b, it, 1, 1)); /* empty batch takes anything */
    bulk_batch_push(&b, it);
    for (int i = 1; i < 7; i++) {
        it = mk(i, "{\"a\":1}");
        assert_false(bulk_batch_full_with(&b, it, 1 << 20, 100));
        bulk_batch_push(&b, it);
    }
    it = mk(7, "{\"a\":1}");
    assert_true(bulk_batch_full_with(&b, it, 1 << 20, 7));
    assert_true(bulk_batch_full_with(&b, it, b.bytes + it->line_len - 1, 100));
    assert_false(bulk_batch_full_with(&b, it, b.bytes + it->line_len, 100));
    bulk_batch_push(&b, it);
    size_t bytes = b.bytes, mem = b.mem;

    bulk_batch second;
    assert_int_equal(bulk_batch_split(&b, &second), 0);
    assert_int_equal(b.n, 4);
    assert_int_equal(second.n, 4);
    assert_int_equal(b.bytes + second.bytes, bytes);
    assert_int_equal(b.mem + second.mem, mem);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(bulk_batch_item(&b, i)->offset, i);
        assert_int_equal(bulk_batch_item(&second, i)->offset, 4 + i);
    }
    assert_int_equal(bulk_batch_append(&b, &second), 0);
    assert_int_equal(b.n, 8);
    assert_int_equal(second.n, 0);
    assert_int_equal(bulk_batch_item(&b, 7)->offset, 7);
    /* a single item cannot be split */
    bulk_batch one;
    bulk_batch_init(&one);
    bulk_batch_push(&one, bulk_batch_pop(&b));
    bulk_batch_split(&one, &second);
    assert_int_equal(one.n, 1);
    assert_int_equal(second.n, 0);
    bulk_batch_clear(&one);
    bulk_batch_clear(&b);
    assert_int_equal(b.n, 0);
    assert_int_equal(b.bytes, 0);
}

/* A batch keeps its items in order through pushes after pops (popped
 * slots reused), growth past its first array, appends, odd splits and a
 * filter; bytes and mem always add up to what it holds. */
static bool drop_odd(bulk_item *it, void *ud)
{
    if (!(it->offset & 1))
        return false;
    (*(size_t *)ud)++;
    bulk_item_free(it);
    return true;
}

static void batch_sums_match(const bulk_batch *b)
{
    size_t bytes = 0, mem = 0;
    for (size_t i = 0; i < b->n; i++) {
        bytes += bulk_batch_item(b, i)->line_len;
        mem += bulk_item_mem(bulk_batch_item(b, i));
    }
    assert_int_equal(b->bytes, bytes);
    assert_int_equal(b->mem, mem);
}

static void batch_order_kept(void **st)
{
    (void)st;
    bulk_batch b, c;
    bulk_batch_init(&b);
    bulk_batch_init(&c);
    int64_t next_in = 0, next_out = 0;
    for (; next_in < 1000; next_in++)
        assert_int_equal(bulk_batch_push(&b, mk(next_in, next_in % 3 ? "{}" : "{\"long\":\"value\"}")), 0);
    for (; next_out < 300; next_out++) {
        bulk_item *it = bulk_batch_pop(&b);
        assert_int_equal(it->offset, next_out);
        bulk_item_free(it);
    }
    for (; next_in < 1500; next_in++) /* into the popped slots, then past the array */
        assert_int_equal(bulk_batch_push(&b, mk(next_in, "{}")), 0);
    assert_int_equal(b.n, 1200);
    batch_sums_match(&b);
    for (int64_t i = 1500; i < 1501; i++) /* append into a non-empty batch */
        assert_int_equal(bulk_batch_push(&c, mk(i, "{}")), 0);
    assert_int_equal(bulk_batch_append(&b, &c), 0);
    assert_int_equal(c.n, 0);
    assert_null(bulk_batch_pop(&c));
    assert_int_equal(b.n, 1201);
    assert_int_equal(bulk_batch_split(&b, &c), 0); /* 601 + 600 */
    assert_int_equal(b.n, 601);
    assert_int_equal(c.n, 600);
    batch_sums_match(&b);
    batch_sums_match(&c);
    assert_int_equal(bulk_batch_item(&c, 0)->offset, 300 + 601);
    assert_int_equal(bulk_batch_append(&b, &c), 0);
    size_t dropped = 0;
    bulk_batch_filter(&b, drop_odd, &dropped);
    assert_int_equal(dropped, 600); /* of the offsets 300..1500, the odd ones */
    assert_int_equal(b.n, 601);
    batch_sums_match(&b);
    for (next_out = 300; next_out <= 1500; next_out += 2) {
        bulk_item *it = bulk_batch_pop(&b);
        assert_non_null(it);
        assert_int_equal(it->offset, next_out);
        bulk_item_free(it);
    }
    assert_int_equal(b.n, 0);
    assert_int_equal(b.bytes, 0);
    assert_int_equal(b.mem, 0);
    assert_null(bulk_batch_pop(&b));
    bulk_batch_clear(&b);
    bulk_batch_clear(&c);
}

static void body_plain_and_gzip(void **st)
{
    bulk_batch b;
    bulk_batch_init(&b);
    strbuf want = STRBUF_INIT;
    for (int i = 0; i < 3000; i++) {
        bulk_item *it = mk(i, "{\"message\":\"some log line with text\"}");
        sb_append(&want, bulk_item_line(it), it->line_len);
        bulk_batch_push(&b, it);
    }
    char err[128];
    strbuf body = STRBUF_INIT;
    assert_int_equal(bulk_batch_body(&b, 0, &body, err, sizeof err), 0);
    assert_int_equal(body.len, want.len);
    assert_memory_equal(body.buf, want.buf, want.len);
    assert_int_equal(body.buf[body.len - 1], '\n');

    sb_reset(&body);
    assert_int_equal(bulk_batch_body(&b, 1, &body, err, sizeof err), 0);
    assert_true(body.len < want.len / 4);
    assert_int_equal((unsigned char)body.buf[0], 0x1f); /* gzip magic */
    assert_int_equal((unsigned char)body.buf[1], 0x8b);
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    char *out = malloc(want.len + 16);
    z.next_in = (Bytef *)body.buf;
    z.avail_in = (uInt)body.len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)want.len + 16;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, want.len);
    assert_memory_equal(out, want.buf, want.len);
    inflateEnd(&z);
    free(out);

    /* empty batch: empty gzip stream is still valid */
    bulk_batch e;
    bulk_batch_init(&e);
    sb_reset(&body);
    assert_int_equal(bulk_batch_body(&e, 6, &body, err, sizeof err), 0);
    assert_true(body.len > 0);
    sb_free(&body);
    sb_free(&want);
    bulk_batch_clear(&b);
}

/* JSON escaping of a string, byte by byte, the slow obvious way */
static void ref_escape(strbuf *sb, const char *s, size_t len)
{
    sb_append(sb, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[8];
        switch (c) {
        case '"':  sb_append(sb, "\\\"", 2); break;
        case '\\': sb_append(sb, "\\\\", 2); break;
        case '\n': sb_append(sb, "\\n", 2); break;
        case '\r': sb_append(sb, "\\r", 2); break;
        case '\t': sb_append(sb, "\\t", 2); break;
        case '\b': sb_append(sb, "\\b", 2); break;
        case '\f': sb_append(sb, "\\f", 2); break;
        default:
            if (c < 0x20) {
                snprintf(e, sizeof e, "\\u%04x", c);
                sb_append(sb, e, 6);
            } else {
                sb_append(sb, (const char *)&c, 1);
            }
        }
    }
    sb_append(sb, "\"", 1);
}

/* Every byte, alone and amid plain text, in the index, the id, or both:
 * the plain copy (nothing to escape) and the escaping path agree with the
 * reference, and the line's length is what was written. */
static void escaping_every_byte(void **st)
{
    rec_in in = {.topic = "t", .partition = 0, .offset = 1};
    strbuf want = STRBUF_INIT;
    for (int k = 0; k < 255 * 21; k++) {
        /* byte c at every place of a 21-byte name (3 words: the 8-byte
         * scan and the tail) */
        int c = k % 255 + 1, at = k / 255;
        char odd[32];
        snprintf(odd, sizeof odd, "logs-nginx-2026.12.02");
        odd[at] = (char)c;
        for (int which = 0; which < 3; which++) {
            const char *index = which == 1 ? "logs-plain" : odd;
            const char *id = which == 0 ? "id-plain-1" : odd;
            bulk_item *it = bulk_item_new(NULL, BULK_OP_CREATE, index, id, "{}", 2, &in);
            assert_non_null(it);
            sb_reset(&want);
            sb_puts(&want, "{\"create\":{\"_index\":");
            ref_escape(&want, index, strlen(index));
            sb_puts(&want, ",\"_id\":");
            ref_escape(&want, id, strlen(id));
            sb_puts(&want, "}}\n{}\n");
            if (it->line_len != want.len || memcmp(bulk_item_line(it), want.buf, want.len))
                fail_msg("byte 0x%02x at %d which=%d: %.*s, want %s", c, at, which, (int)it->line_len,
                         bulk_item_line(it), want.buf);
            bulk_item_free(it);

            sb_reset(&want);
            ref_escape(&want, odd, strlen(odd));
            strbuf got = STRBUF_INIT;
            bulk_json_str(&got, odd, strlen(odd));
            assert_string_equal(sb_str(&got), sb_str(&want));
            sb_free(&got);
        }
    }
    sb_free(&want);
}

/* Items from a pool: each counts its whole block (the class) in
 * bulk_item_mem and the batch's mem, freed ones are taken again, a big
 * one is malloc of exactly its size, and no pool means exact sizes. */
static void pooled_items_and_memory(void **st)
{
    item_pool *pool = item_pool_new((4u << 20));
    rec_header h[] = {{"event.id", "e1", 2}};
    char src[2000];
    memset(src, 'x', sizeof src);
    rec_in in = {.topic = "t", .partition = 3, .offset = 9, .value = "orig-value", .len = 10,
                 .hdrs = h, .nhdrs = 1};
    bulk_batch b;
    bulk_batch_init(&b);
    size_t used_sum = 0, mem_sum = 0;
    for (size_t n = 1; n < sizeof src; n += 97) {
        bulk_item *it = bulk_item_new(pool, BULK_OP_CREATE, "logs", "id", src, n, &in);
        assert_non_null(it);
        size_t used = sizeof *it + it->line_len + it->val_len + it->hdr_len;
        assert_int_equal(bulk_item_mem(it), item_pool_block_size(used));
        assert_true(bulk_item_mem(it) >= used);
        assert_memory_equal(bulk_item_value(it), "orig-value", 10);
        used_sum += used;
        mem_sum += bulk_item_mem(it);
        bulk_batch_push(&b, it);
    }
    assert_int_equal(b.mem, mem_sum);
    assert_true(mem_sum > used_sum); /* the classes' slack is counted */
    bulk_batch_clear(&b);
    item_pool_stats s;
    item_pool_get_stats(pool, &s);
    assert_int_equal(s.cached_bytes, mem_sum);
    unsigned long misses = s.misses;

    /* the same sizes again: all from the cache */
    for (size_t n = 1; n < sizeof src; n += 97)
        bulk_batch_push(&b, bulk_item_new(pool, BULK_OP_CREATE, "logs", "id", src, n, &in));
    assert_int_equal(b.mem, mem_sum);
    item_pool_get_stats(pool, &s);
    assert_int_equal(s.misses, misses);
    assert_int_equal(s.cached_bytes, 0);
    const char first[] = "{\"create\":{\"_index\":\"logs\",\"_id\":\"id\"}}\nx\n";
    assert_int_equal(bulk_batch_item(&b, 0)->line_len, sizeof first - 1);
    assert_memory_equal(bulk_item_line(bulk_batch_item(&b, 0)), first, sizeof first - 1);
    bulk_batch_clear(&b);

    /* over the largest class: exact size, not cached */
    size_t bigsrc = ITEM_POOL_MAX + 10;
    char *big = malloc(bigsrc);
    memset(big, 'y', bigsrc);
    bulk_item *it = bulk_item_new(pool, BULK_OP_INDEX, "logs", "id", big, bigsrc, &in);
    assert_non_null(it);
    size_t used = sizeof *it + it->line_len + it->val_len + it->hdr_len;
    assert_int_equal(bulk_item_mem(it), used);
    bulk_item_free(it);
    item_pool_get_stats(pool, &s);
    assert_int_equal(s.big, 1);
    assert_int_equal(s.cached_bytes, mem_sum);

    /* no pool: exactly what the item uses */
    it = bulk_item_new(NULL, BULK_OP_INDEX, "logs", "id", big, 100, &in);
    assert_int_equal(bulk_item_mem(it), sizeof *it + it->line_len + it->val_len + it->hdr_len);
    bulk_item_free(it);
    bulk_item_free(NULL);
    free(big);
    item_pool_free(pool);
}

static void op_parse(void **st)
{
    bulk_op op;
    assert_int_equal(bulk_op_parse("index", &op), 0);
    assert_int_equal(op, BULK_OP_INDEX);
    assert_int_equal(bulk_op_parse("update", &op), -1);
    strbuf sb = STRBUF_INIT;
    bulk_json_str(&sb, "a\"b\x1f", 4);
    assert_string_equal(sb_str(&sb), "\"a\\\"b\\u001f\"");
    sb_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(item_lines_and_original),
        cmocka_unit_test(value_equal_to_source_kept_once),
        cmocka_unit_test(bounds_and_split),
        cmocka_unit_test(batch_order_kept),
        cmocka_unit_test(body_plain_and_gzip),
        cmocka_unit_test(escaping_every_byte),
        cmocka_unit_test(pooled_items_and_memory),
        cmocka_unit_test(op_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
