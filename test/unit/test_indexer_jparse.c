/* jparse against cJSON: the same accept/reject and the same tree, except
 * where jparse.h says they differ (cJSON's leniencies, which jparse
 * refuses, and numbers over 63 characters, which cJSON refuses). Inputs:
 * hand-written cases, generated valid documents, and mutations of them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "indexer/jparse.h"
#include "indexer/record.h"

/* ---- what cJSON may do differently (a lexer, independent of jparse) ---- */

enum { Q_LENIENT = 1, Q_LONGNUM = 2 };

static regex_t num_re;

static bool rfc_number(const unsigned char *s, size_t n)
{
    char buf[256];
    if (n >= sizeof buf)
        return true; /* only generated long numbers, which are valid */
    memcpy(buf, s, n);
    buf[n] = '\0';
    return regexec(&num_re, buf, 0, NULL, 0) == 0;
}

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Q_LENIENT: something cJSON may accept that RFC 8259 does not (a BOM,
 * controls as whitespace or raw in strings, a number strtod takes but the
 * grammar does not, non-hex \u digits). Q_LONGNUM: a number token of 64
 * characters or more, which cJSON cuts. Over-inclusive is fine: these only
 * excuse a difference, and are checked to be absent from what jparse takes. */
static unsigned quirks(const unsigned char *s, size_t n)
{
    unsigned q = 0;
    size_t i = 0;
    if (n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
        q |= Q_LENIENT;
    while (i < n) {
        unsigned char c = s[i];
        if (c == '"') {
            for (i++; i < n && s[i] != '"'; i++) {
                if (s[i] == '\\') {
                    if (i + 1 < n && s[i + 1] == 'u')
                        for (size_t k = i + 2; k < i + 6; k++)
                            if (k >= n || !is_hex(s[k]))
                                q |= Q_LENIENT;
                    i++;
                } else if (s[i] < 0x20) {
                    q |= Q_LENIENT;
                }
            }
            i++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t b = i;
            while (i < n && s[i] && strchr("0123456789+-eE.", s[i]))
                i++;
            if (i - b >= 64)
                q |= Q_LONGNUM;
            if (!rfc_number(s + b, i - b))
                q |= Q_LENIENT;
        } else {
            if (c <= 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r')
                q |= Q_LENIENT;
            i++;
        }
    }
    return q;
}

/* cJSON as record.c used it: a value, then only JSON whitespace, and the
 * whole input valid UTF-8 without NUL. */
static cJSON *cjson_parse(const char *s, size_t n)
{
    const char *end = NULL;
    cJSON *d = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    if (!d)
        return NULL;
    for (const char *q = end; q && q < s + n; q++)
        if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n') {
            cJSON_Delete(d);
            return NULL;
        }
    if (!rec_utf8_valid(s, n)) {
        cJSON_Delete(d);
        return NULL;
    }
    return d;
}

/* Same tree: types, keys, strings, numbers bit for bit, and the links
 * cJSON's list functions rely on (head->prev is the last child). */
static bool same_tree(const cJSON *a, const cJSON *b)
{
    for (; a && b; a = a->next, b = b->next) {
        if (a->type != b->type || a->valueint != b->valueint ||
            memcmp(&a->valuedouble, &b->valuedouble, sizeof(double)))
            return false;
        if (!a->string != !b->string || (a->string && strcmp(a->string, b->string)))
            return false;
        if (!a->valuestring != !b->valuestring ||
            (a->valuestring && strcmp(a->valuestring, b->valuestring)))
            return false;
        if (!a->child != !b->child || (a->child && !same_tree(a->child, b->child)))
            return false;
        if (b->child) {
            const cJSON *last = b->child;
            while (last->next)
                last = last->next;
            if (b->child->prev != last)
                return false;
            for (const cJSON *c = b->child; c->next; c = c->next)
                if (c->next->prev != c)
                    return false;
        }
    }
    return !a && !b;
}

static bool is_json_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static struct {
    size_t both_ok, both_bad, lenient, longnum, scanned_members, scanned_nested, spans;
} st;

/* jscan_object against jparse on the same input (got: jparse's tree, NULL
 * when it refused): it takes exactly the objects jparse takes, and the
 * members it reports are the ones the tree finds by name -- the first
 * child's key, the last one's (duplicates included), and @timestamp. */
static bool scan_agrees(const char *s, size_t n, const cJSON *got)
{
    bool obj = cJSON_IsObject(got);
    const cJSON *last = obj && got->child ? got->child->prev : NULL;
    const cJSON *first = obj ? got->child : NULL;
    /* and one level down: the first key of the first member's object */
    const char *inner = cJSON_IsObject(first) && first->child ? first->child->string : "c";
    jscan_member w[4] = {{.key = first ? first->string : "a"},
                         {.key = last ? last->string : "b"},
                         {.key = "@timestamp"},
                         {.key = inner, .parent = 1}};
    char err[128] = "";
    jscan_span sp[8];
    jscan_out o = {.members = sp, .max = 8};
    int rc = jscan_object(s, n, w, 4, &o, err, sizeof err);
    bool lb = o.line_break;
    if ((rc == 0) != obj) {
        fprintf(stderr, "# jscan_object %s what jparse %s (%s)\n", rc ? "refused" : "took",
                got ? (obj ? "took as an object" : "took, not an object") : "refused", err);
        return false;
    }
    if (rc != 0)
        return err[0] != '\0' && !w[0].val && !w[1].val && !w[2].val && !w[3].val;
    /* in valid JSON a raw line break can only be whitespace */
    if (lb != (memchr(s, '\n', n) || memchr(s, '\r', n))) {
        fprintf(stderr, "# jscan_object: line_break %d\n", lb);
        return false;
    }
    for (int i = 0; i < 4; i++) {
        const cJSON *in = i < 3 ? got : cJSON_GetObjectItemCaseSensitive(got, w[0].key);
        const cJSON *m = cJSON_IsObject(in) ? cJSON_GetObjectItemCaseSensitive(in, w[i].key) : NULL;
        if (!m != !w[i].val) {
            fprintf(stderr, "# jscan_object: member \"%s\" %s\n", w[i].key,
                    m ? "missed" : "found where the tree has none");
            return false;
        }
        if (!m)
            continue;
        /* the span is exactly the value, no whitespace around it (its
         * users look at its first byte: a string's quote) */
        if (!w[i].len || is_json_ws(w[i].val[0]) || is_json_ws(w[i].val[w[i].len - 1])) {
            fprintf(stderr, "# jscan_object: member \"%s\": span has whitespace around\n", w[i].key);
            return false;
        }
        /* the span is the member's value: parsed alone, the same subtree */
        cJSON *sub = NULL;
        bool same = jparse(w[i].val, w[i].len, &sub, NULL, 0) == 0 && sub &&
                    sub->type == m->type && !sub->next;
        if (same) {
            char *a = cJSON_PrintUnformatted(sub), *b = cJSON_PrintUnformatted(m);
            same = a && b && !strcmp(a, b);
            free(a);
            free(b);
        }
        cJSON_Delete(sub);
        if (!same) {
            fprintf(stderr, "# jscan_object: member \"%s\": span is not its value\n", w[i].key);
            return false;
        }
        st.scanned_members++;
        st.scanned_nested += i == 3;
    }
    /* every member's span, in order, with the first want of its name;
     * and how many members each top-level want's name has */
    size_t k = 0;
    unsigned count[3] = {0, 0, 0};
    for (const cJSON *c = got->child; c; c = c->next, k++) {
        int named = -1;
        for (int i = 0; i < 3; i++)
            if (!strcmp(c->string, w[i].key)) {
                count[i]++;
                if (named < 0)
                    named = i;
            }
        if (k >= o.max)
            continue;
        if (!sp[k].len || sp[k].at[0] != '"' || is_json_ws(sp[k].at[sp[k].len - 1])) {
            fprintf(stderr, "# jscan_object: member %zu: span not from its key to its value\n", k);
            return false;
        }
        strbuf one = STRBUF_INIT;
        sb_putc(&one, '{');
        sb_append(&one, sp[k].at, sp[k].len);
        sb_putc(&one, '}');
        cJSON *t = NULL;
        bool same = sp[k].want == named && jparse(one.buf, one.len, &t, NULL, 0) == 0 &&
                    t->child && !t->child->next && !strcmp(t->child->string, c->string);
        if (same) {
            char *a = cJSON_PrintUnformatted(t->child), *b = cJSON_PrintUnformatted(c);
            same = a && b && !strcmp(a, b);
            free(a);
            free(b);
        }
        cJSON_Delete(t);
        sb_free(&one);
        if (!same) {
            fprintf(stderr, "# jscan_object: member %zu: span or want wrong\n", k);
            return false;
        }
        st.spans++;
    }
    if (o.n != k || count[0] != w[0].count || count[1] != w[1].count || count[2] != w[2].count) {
        fprintf(stderr, "# jscan_object: %zu members (tree %zu), counts %u %u %u\n", o.n, k,
                w[0].count, w[1].count, w[2].count);
        return false;
    }
    /* without member spans (out NULL, or members NULL, as rec_pass asks):
     * the same wanted members */
    jscan_member w2[4];
    memcpy(w2, w, sizeof w2);
    jscan_out o2 = {0};
    for (int pass = 0; pass < 2; pass++) {
        if (jscan_object(s, n, w2, 4, pass ? &o2 : NULL, NULL, 0) != 0 || (pass && o2.n != k)) {
            fprintf(stderr, "# jscan_object: refused or miscounted without member spans\n");
            return false;
        }
        for (int i = 0; i < 4; i++)
            if (w2[i].val != w[i].val || w2[i].len != w[i].len || w2[i].count != w[i].count) {
                fprintf(stderr, "# jscan_object: member \"%s\" differs without spans\n", w[i].key);
                return false;
            }
    }
    return true;
}

/* The differential check of one input; returns whether jparse took it. */
static bool check(const char *s, size_t n)
{
    cJSON *want = cjson_parse(s, n), *got = NULL;
    char err[128] = "";
    int rc = jparse(s, n, &got, err, sizeof err);
    unsigned q = quirks((const unsigned char *)s, n);
    bool ok = true;
    if (rc == 0) {
        if (q & Q_LENIENT)
            ok = false; /* jparse took something outside RFC 8259 */
        else if (want) {
            ok = same_tree(want, got);
            if (ok) {
                char *pw = cJSON_PrintUnformatted(want), *pg = cJSON_PrintUnformatted(got);
                ok = pw && pg && !strcmp(pw, pg);
                free(pw);
                free(pg);
            }
            st.both_ok++;
        } else if (q & Q_LONGNUM) {
            st.longnum++;
        } else {
            ok = false; /* jparse took what cJSON refused */
        }
    } else {
        if (got)
            ok = false;
        if (want) {
            if (q & Q_LENIENT)
                st.lenient++;
            else
                ok = false; /* cJSON took valid JSON that jparse refused */
        } else {
            st.both_bad++;
        }
        if (!err[0])
            ok = false;
    }
    if (!ok) {
        fprintf(stderr, "# differs on %zu bytes (jparse %s: %s, cJSON %s, quirks %u):\n# ", n,
                rc ? "refused" : "took", err, want ? "took" : "refused", q);
        for (size_t i = 0; i < n && i < 400; i++)
            fprintf(stderr, (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? "%c" : "\\x%02x",
                    (unsigned char)s[i]);
        fputc('\n', stderr);
    }
    if (!scan_agrees(s, n, rc == 0 ? got : NULL))
        ok = false;
    cJSON_Delete(want);
    cJSON_Delete(got);
    assert_true(ok);
    return rc == 0;
}

static bool check_str(const char *s) { return check(s, strlen(s)); }

/* ---- hand-written ---- */

static void accepts(const char *s)
{
    assert_true(check_str(s));
}

static void refuses(const char *s)
{
    assert_false(check_str(s));
}

static void hand_written(void **state)
{
    accepts("{}");
    accepts(" \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } } \n");
    accepts("[]");
    accepts("0");
    accepts("\"x\"");
    accepts("true");
    accepts("null");
    accepts("{\"a\":1,\"a\":2}"); /* duplicate keys kept in order, as cJSON */
    accepts("{\"\":\"\"}");
    accepts("{\"s\":\"q\\\" b\\\\ \\/ \\b\\f\\n\\r\\t \\u0041\\u00e9\\u20AC\\ud83d\\ude00\"}");
    accepts("{\"k\\u00e9y\":\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf\"}");
    accepts("[\"a\\u0000b\"]"); /* NUL ends the C string, as cJSON */
    accepts("{\"a\\u0000b\":1}");
    /* numbers */
    accepts("[0,-0,1,-1,0.5,-0.5,1e5,1E5,1e+5,1e-5,1.5e3,0e0,-0.0e-0,1e05]");
    accepts("[2147483647,2147483648,-2147483648,-2147483649,1e10,-1e10,2147483647.5]");
    accepts("[9007199254740992,9007199254740993,18446744073709551615,123456789012345678901234567890]");
    accepts("[1e22,1e23,1.7976931348623157e308,1e309,-1e309,5e-324,2e-324,1e-400,0.1,0.3]");
    accepts("[0.30000000000000004,3.141592653589793,2.718281828459045,1.0000000000000002]");
    accepts("[0.000000000000000000001,100000000000000000000000,4.9406564584124654e-324]");
    accepts("[12345678901234567890e-10,1234567890123456789012345e-30,1e-22,123e-22,123e22]");
    refuses("[01]");
    refuses("[-01]");
    refuses("[00]");
    refuses("[1.]");
    refuses("[.5]");
    refuses("[-.5]");
    refuses("[1.e5]");
    refuses("[+1]");
    refuses("[-]");
    refuses("[1e]");
    refuses("[1e+]");
    refuses("[0x10]");
    refuses("[Infinity]");
    refuses("[NaN]");
    refuses("[1 2]");
    /* structure */
    refuses("");
    refuses(" ");
    refuses("{");
    refuses("}");
    refuses("{\"a\":1,}");
    refuses("[1,]");
    refuses("[,1]");
    refuses("{,}");
    refuses("{\"a\" 1}");
    refuses("{\"a\":}");
    refuses("{a:1}");
    refuses("{'a':1}");
    refuses("{\"a\":1}}");
    refuses("{\"a\":1} x");
    refuses("{}{}");
    refuses("[1]]");
    refuses("tru");
    refuses("nul");
    refuses("truex");
    refuses("[True]");
    /* strings */
    refuses("\"abc");
    refuses("\"abc\\\"");
    refuses("\"\\x41\"");
    refuses("\"\\u12\"");
    refuses("\"\\u12g4\"");
    refuses("\"\\ud800\"");          /* lone high surrogate: cJSON refuses too */
    refuses("\"\\ud800\\u0041\"");
    refuses("\"\\udc00\"");          /* lone low surrogate */
    refuses("\"\\ude00\\ud83d\"");   /* reversed pair */
    refuses("\"a\tb\"");             /* raw control characters */
    refuses("\"a\nb\"");
    refuses("\"a\x01" "b\"");
    refuses("\"a\x1f\"");
    accepts("\"a\x7f\"");            /* DEL is not a control character for JSON */
    /* whitespace: only the four of RFC 8259 */
    refuses("{\x0b}");
    refuses("{\x0c}");
    refuses("\x01{}");
    refuses("{} \x1f ");
    refuses("\xEF\xBB\xBF{}");
    /* UTF-8 */
    refuses("\"\xc3\"");             /* truncated */
    refuses("\"\xc3(\"");
    refuses("\"\xc0\xaf\"");         /* overlong */
    refuses("\"\xe0\x80\xaf\"");
    refuses("\"\xed\xa0\x80\"");     /* UTF-8 encoded surrogate */
    refuses("\"\xf4\x90\x80\x80\""); /* beyond U+10FFFF */
    refuses("\"\xf5\x80\x80\x80\"");
    refuses("\"\xff\"");
    refuses("\"\x80\"");
    refuses("[\xc3\xa9]");           /* non-ASCII outside a string */
    refuses("{\"a\":\"\xe2\x82\"}");
    /* NUL bytes anywhere */
    assert_false(check("{\"a\":\"x\0y\"}", 11));
    assert_false(check("{\"a\":1}\0", 8));
    assert_false(check("{\0}", 3));
    fprintf(stderr, "# hand-written: both took %zu, both refused %zu, cJSON-only %zu\n",
            st.both_ok, st.both_bad, st.lenient);
}

/* ---- generated ---- */

static uint64_t rs = 0x9E3779B97F4A7C15ULL;

static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 32);
}

static unsigned below(unsigned n) { return rnd() % n; }

static void gen_ws(strbuf *sb)
{
    if (below(4))
        return;
    for (unsigned n = below(3) + 1; n; n--)
        sb_putc(sb, " \t\r\n"[below(4)]);
}

static void gen_string(strbuf *sb)
{
    static const char *const multi[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                        "\xed\x9f\xbf", "\xee\x80\x80", "\xf4\x8f\xbf\xbf",
                                        "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80"};
    sb_putc(sb, '"');
    unsigned n = below(8) ? below(16) : below(300);
    for (unsigned i = 0; i < n; i++) {
        switch (below(16)) {
        case 0:
            sb_putc(sb, '\\');
            sb_putc(sb, "\"\\/bfnrt"[below(8)]);
            break;
        case 1: { /* a BMP escape, now and then NUL */
            unsigned cp = below(20) ? below(0xD800) : 0;
            if (below(2))
                cp = 0xE000 + below(0x2000);
            sb_printf(sb, below(2) ? "\\u%04x" : "\\u%04X", cp);
            break;
        }
        case 2: { /* a surrogate pair */
            unsigned cp = 0x10000 + below(0x100000);
            sb_printf(sb, "\\u%04x\\u%04X", 0xD800 + ((cp - 0x10000) >> 10),
                      0xDC00 + ((cp - 0x10000) & 0x3FF));
            break;
        }
        case 3: case 4:
            sb_puts(sb, multi[below(sizeof multi / sizeof *multi)]);
            break;
        default: {
            char c = (char)(0x20 + below(0x5F)); /* 0x20..0x7E */
            if (c == '"' || c == '\\')
                c = 'x';
            sb_putc(sb, c);
        }
        }
    }
    sb_putc(sb, '"');
}

static void digits(strbuf *sb, unsigned n, bool first_nonzero)
{
    for (unsigned i = 0; i < n; i++)
        sb_putc(sb, (char)((i == 0 && first_nonzero ? '1' + below(9) : '0' + below(10))));
}

static void gen_number(strbuf *sb)
{
    static const char *const special[] = {
        "0", "-0", "2147483647", "2147483648", "-2147483648", "-2147483649", "9007199254740993",
        "1e308", "1e309", "-1e400", "5e-324", "1e-400", "0.1", "1e22", "1e23", "1e-22", "1e-23",
        "18446744073709551616", "9999999999999999999", "10000000000000000000"};
    if (!below(8)) {
        sb_puts(sb, special[below(sizeof special / sizeof *special)]);
        return;
    }
    if (below(3) == 0)
        sb_putc(sb, '-');
    unsigned k = below(6) ? below(8) : below(30);
    if (k == 0)
        sb_putc(sb, '0');
    else
        digits(sb, k, true);
    if (below(3) == 0) {
        sb_putc(sb, '.');
        digits(sb, 1 + (below(6) ? below(6) : below(30)), false);
    }
    if (below(5) == 0) {
        sb_putc(sb, below(2) ? 'e' : 'E');
        if (below(2))
            sb_putc(sb, below(2) ? '+' : '-');
        digits(sb, 1 + below(3), false);
    }
}

static void gen_value(strbuf *sb, unsigned depth)
{
    unsigned r = below(depth > 5 ? 6 : 10);
    switch (r) {
    case 0: sb_puts(sb, "null"); break;
    case 1: sb_puts(sb, below(2) ? "true" : "false"); break;
    case 2: case 3: gen_number(sb); break;
    case 4: case 5: gen_string(sb); break;
    case 6: case 7: {
        sb_putc(sb, '[');
        gen_ws(sb);
        for (unsigned i = 0, n = below(6); i < n; i++) {
            if (i) {
                sb_putc(sb, ',');
                gen_ws(sb);
            }
            gen_value(sb, depth + 1);
            gen_ws(sb);
        }
        sb_putc(sb, ']');
        break;
    }
    default: {
        sb_putc(sb, '{');
        gen_ws(sb);
        for (unsigned i = 0, n = below(6); i < n; i++) {
            if (i) {
                sb_putc(sb, ',');
                gen_ws(sb);
            }
            gen_string(sb);
            gen_ws(sb);
            sb_putc(sb, ':');
            gen_ws(sb);
            gen_value(sb, depth + 1);
            gen_ws(sb);
        }
        sb_putc(sb, '}');
    }
    }
}

static void gen_doc(strbuf *sb)
{
    sb_reset(sb);
    gen_ws(sb);
    if (below(4))
        gen_value(sb, 6 - below(6)); /* mostly containers near the top */
    else
        gen_value(sb, 0);
    gen_ws(sb);
}

static void generated_valid(void **state)
{
    strbuf sb = STRBUF_INIT;
    memset(&st, 0, sizeof st);
    for (int i = 0; i < 20000; i++) {
        gen_doc(&sb);
        assert_true(check(sb.buf, sb.len));
    }
    fprintf(stderr, "# generated: %zu taken by both, %zu with long numbers, %zu members scanned"
            " (%zu one level down), %zu spans\n", st.both_ok, st.longnum, st.scanned_members,
            st.scanned_nested, st.spans);
    assert_true(st.both_ok > 19000);
    /* the spans were compared, not only the verdicts */
    assert_true(st.scanned_members > 4000 && st.scanned_nested > 300 && st.spans > 5000);
    sb_free(&sb);
}

/* Bytes that make or break JSON, for mutations. */
static const char pool[] = "\"\\,:[]{}0123456789.eE+-u \t\r\n\x01\x1f\x7f\x80\xbf\xc0\xc3\xe2"
                           "\xed\xf0\xf4\xf5\xff" "ntrfalsx/bd";

static void mutated(void **state)
{
    strbuf sb = STRBUF_INIT;
    memset(&st, 0, sizeof st);
    size_t taken = 0, total = 0;
    for (int i = 0; i < 40000; i++) {
        gen_doc(&sb);
        for (unsigned m = 1 + below(3); m; m--) {
            size_t at = sb.len ? below((unsigned)sb.len) : 0;
            char c = below(50) ? pool[below(sizeof pool - 1)] : '\0';
            switch (below(5)) {
            case 0: if (sb.len) sb.buf[at] = c; break;
            case 1: /* insert */
                sb_putc(&sb, 'x');
                memmove(sb.buf + at + 1, sb.buf + at, sb.len - at - 1);
                sb.buf[at] = c;
                break;
            case 2: /* delete */
                if (sb.len) {
                    memmove(sb.buf + at, sb.buf + at + 1, sb.len - at - 1);
                    sb.len--;
                }
                break;
            case 3: sb.len = at; break; /* truncate */
            default: { /* duplicate a piece */
                size_t k = below(8), from = sb.len ? below((unsigned)sb.len) : 0;
                if (from + k > sb.len)
                    k = sb.len - from;
                char tmp[8];
                memcpy(tmp, sb.buf + from, k);
                sb_reserve(&sb, k);
                memmove(sb.buf + at + k, sb.buf + at, sb.len - at);
                memcpy(sb.buf + at, tmp, k);
                sb.len += k;
            }
            }
        }
        total++;
        taken += check(sb.buf, sb.len);
    }
    fprintf(stderr, "# mutated: %zu of %zu taken; both refused %zu, cJSON-only (lenient) %zu\n",
            taken, total, st.both_bad, st.lenient);
    /* the mutations must exercise both sides and cJSON's leniencies */
    assert_true(taken > total / 20 && st.both_bad > total / 4 && st.lenient > 100);
    sb_free(&sb);
}

/* ---- limits and size ---- */

static void nest(strbuf *sb, unsigned depth, bool objects)
{
    sb_reset(sb);
    for (unsigned i = 0; i < depth; i++)
        sb_puts(sb, objects ? "{\"a\":" : (i % 2 ? "[" : "[1,"));
    sb_puts(sb, "0");
    for (unsigned i = 0; i < depth; i++)
        sb_putc(sb, objects ? '}' : ']');
}

static void nesting_limit(void **state)
{
    strbuf sb = STRBUF_INIT;
    nest(&sb, CJSON_NESTING_LIMIT, false);
    assert_true(check(sb.buf, sb.len));
    nest(&sb, CJSON_NESTING_LIMIT + 1, false);
    assert_false(check(sb.buf, sb.len));
    nest(&sb, CJSON_NESTING_LIMIT, true);
    assert_true(check(sb.buf, sb.len));
    nest(&sb, CJSON_NESTING_LIMIT + 1, true);
    assert_false(check(sb.buf, sb.len));
    nest(&sb, 100000, false);
    assert_false(check(sb.buf, sb.len));
    char err[128];
    cJSON *d;
    assert_int_equal(jparse(sb.buf, sb.len, &d, err, sizeof err), -1);
    assert_null(d);
    assert_non_null(strstr(err, "nested too deeply"));
    sb_free(&sb);
}

static void big_values(void **state)
{
    strbuf sb = STRBUF_INIT;
    /* a key with escapes longer than jscan_object's stack scratch */
    sb_puts(&sb, "{\"");
    for (int i = 0; i < 3000; i++)
        sb_puts(&sb, i % 100 ? "k" : "\\u00e9");
    sb_puts(&sb, "\":1,\"x\":2}");
    assert_true(check(sb.buf, sb.len));
    sb_reset(&sb);
    /* a 4 MiB string, plain, then with escapes and UTF-8 spread through */
    sb_puts(&sb, "{\"big\":\"");
    for (int i = 0; i < (4 << 20); i++)
        sb_putc(&sb, (char)('a' + i % 26));
    sb_puts(&sb, "\"}");
    assert_true(check(sb.buf, sb.len));
    for (size_t i = 100; i + 12 < sb.len - 2; i += 4099)
        memcpy(sb.buf + i, i % 3 ? "\\n\xc3\xa9\\u20ac\\\"" : "\\ud83d\\ude00", 12);
    assert_true(check(sb.buf, sb.len));
    /* 200000 members and numbers */
    sb_reset(&sb);
    sb_putc(&sb, '{');
    for (int i = 0; i < 200000; i++)
        sb_printf(&sb, "%s\"k%d\":[%d,%d.%03d,-%de%d]", i ? "," : "", i, i, i, i % 1000, i,
                  i % 40 - 20);
    sb_putc(&sb, '}');
    assert_true(check(sb.buf, sb.len));
    /* a number too long for cJSON: jparse reads it as strtod does */
    sb_reset(&sb);
    sb_puts(&sb, "[0.");
    for (int i = 0; i < 300; i++)
        sb_putc(&sb, (char)('0' + i % 10));
    sb_puts(&sb, "e-2]");
    assert_true(check(sb.buf, sb.len));
    cJSON *d;
    assert_int_equal(jparse(sb.buf, sb.len, &d, NULL, 0), 0);
    assert_true(d->child->valuedouble == strtod(sb.buf + 1, NULL));
    cJSON_Delete(d);
    sb_free(&sb);
}

/* ---- allocation failures: each one refused, nothing leaked (ASan) ---- */

static long alloc_budget = -1;

static void *failing_malloc(size_t n)
{
    if (alloc_budget == 0)
        return NULL;
    if (alloc_budget > 0)
        alloc_budget--;
    return malloc(n);
}

static void out_of_memory(void **state)
{
    cJSON_Hooks h = {failing_malloc, free};
    cJSON_InitHooks(&h);
    const char *doc = "{\"a\":[1,\"x\\n\",{\"b\":null,\"c\":\"\xc3\xa9\"}],\"d\":\"e\"}";
    cJSON *d = NULL;
    long n;
    for (n = 0;; n++) {
        alloc_budget = n;
        if (jparse(doc, strlen(doc), &d, NULL, 0) == 0)
            break;
        assert_null(d);
    }
    assert_true(n > 10);
    alloc_budget = -1;
    cJSON_Delete(d);
    cJSON_InitHooks(NULL);
}

/* ---- jscan_object's fast paths, where they end ---- */

/* jscan_object on an exact copy of s[0..n) (the sanitizers see a read
 * past its end) with one want, key (at the top); returns its verdict,
 * err its text, *val and *len the want's value (offset -1: none). */
static int scan1(const char *s, size_t n, const char *key, char *err, size_t errlen, long *val,
                 size_t *len)
{
    char *c = malloc(n ? n : 1);
    assert_non_null(c);
    memcpy(c, s, n);
    jscan_member w = {.key = key};
    jscan_span sp[4];
    jscan_out o = {.members = sp, .max = 4};
    err[0] = '\0';
    int rc = jscan_object(c, n, &w, 1, &o, err, errlen);
    *val = w.val ? w.val - c : -1;
    *len = w.len;
    free(c);
    return rc;
}

/* An escape at every place of a 16-byte block and of the buffer's last
 * 16 bytes (string_run takes the two-byte ones from the block's mask, the
 * one in its last byte across the block's end), the others left to
 * string_end; keys compared with escapes; a string, an escape or a
 * number cut by the buffer's end; buffers under 16 bytes. */
static void scan_edges(void **state)
{
    static const struct {
        const char *esc, *text; /* text: decoded; NULL: refused, why */
        const char *why;
    } escs[] = {
        {"\\\"", "\"", NULL},  {"\\\\", "\\", NULL}, {"\\/", "/", NULL},
        {"\\n", "\n", NULL},   {"\\t", "\t", NULL},  {"\\u00e9", "\xc3\xa9", NULL},
        {"\\ud83d\\ude00", "\xf0\x9f\x98\x80", NULL}, {"\\x", NULL, "bad escape"},
        {"\\u12", NULL, "bad \\u escape"}, {"\\ud800", NULL, "lone high surrogate escape"},
        {"\xc3\xa9", "\xc3\xa9", NULL}, {"\x01", NULL, "control character in string"},
    };
    char doc[200], err[128], want[120], scratch[200];
    long val;
    size_t len;
    for (size_t e = 0; e < sizeof escs / sizeof *escs; e++) {
        for (size_t pad = 0; pad < 40; pad++) {
            for (size_t tail = 0; tail < 3; tail++) {
                /* {"k":"<pad><esc><tail>"} */
                int n = snprintf(doc, sizeof doc, "{\"k\":\"%.*s%s%.*s\"}", (int)pad,
                                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", escs[e].esc,
                                 (int)tail, "zzz");
                int rc = scan1(doc, (size_t)n, "k", err, sizeof err, &val, &len);
                if (!escs[e].text) {
                    char at[160];
                    snprintf(at, sizeof at, "%s at byte %zu", escs[e].why, 6 + pad);
                    assert_int_equal(rc, -1);
                    assert_string_equal(err, at);
                } else {
                    assert_int_equal(rc, 0);
                    assert_int_equal(val, 5);
                    assert_int_equal(len, (size_t)n - 6);
                    snprintf(want, sizeof want, "%.*s%s%.*s", (int)pad,
                             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", escs[e].text,
                             (int)tail, "zzz");
                    size_t tn;
                    const char *txt = jstring_text(doc + 5, len, scratch, &tn);
                    assert_non_null(txt);
                    assert_int_equal(tn, strlen(want));
                    assert_memory_equal(txt, want, tn);
                    /* the same string as a key compared with a want */
                    n = snprintf(doc, sizeof doc, "{\"%.*s%s%.*s\":7}", (int)pad,
                                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", escs[e].esc,
                                 (int)tail, "zzz");
                    assert_int_equal(scan1(doc, (size_t)n, want, err, sizeof err, &val, &len), 0);
                    assert_int_equal(val, n - 2);
                }
                check(doc, (size_t)n);
                /* cut by the buffer's end: after each byte of the string */
                for (int cut = 6; cut < n - 2; cut++) {
                    rc = scan1(doc, (size_t)cut, "k", err, sizeof err, &val, &len);
                    assert_int_equal(rc, -1);
                    assert_int_equal(val, -1);
                }
            }
        }
    }
    /* the buffer's end right after a string, a backslash, an escape */
    static const struct {
        const char *doc, *err;
    } cut[] = {
        {"{\"k\":\"aaaaaaaaaaaaaaaaaaaa\"", "',' or '}' expected at byte 27"},
        {"{\"k\":\"aaaaaaaaaaaaaaaaaaaa\\", "unterminated string at byte 5"},
        {"{\"k\":\"aaaaaaaaaaaaaaaaaaaa\\\"", "unterminated string at byte 5"},
        {"{\"k\":\"aaaaaaaaaaaaaaaaaaa\\\\", "unterminated string at byte 5"},
        {"{\"k\":\"aaaaaaaaaaaaaaaaaaaa", "unterminated string at byte 5"},
        {"{\"k\":\"\\", "unterminated string at byte 5"},
        {"{\"k\":\"\\\"\"", "',' or '}' expected at byte 9"},
        {"{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\", "unterminated string at byte 1"},
        {"{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\\"", "unterminated string at byte 1"},
        {"{\"k\":12", "',' or '}' expected at byte 7"},
        {"{\"k\":12.", "digit expected after '.' at byte 5"},
        {"{\"k\":12e", "digit expected in exponent at byte 5"},
        {"{\"k\":12E+", "digit expected in exponent at byte 5"},
        {"{\"k\":12x}", "',' or '}' expected at byte 7"},
        {"{\"k\":12.5e}", "digit expected in exponent at byte 5"},
        {"{\"k\":-}", "bad number at byte 5"},
        {"{\"k\":012}", "leading zero in number at byte 5"},
    };
    for (size_t i = 0; i < sizeof cut / sizeof *cut; i++) {
        assert_int_equal(scan1(cut[i].doc, strlen(cut[i].doc), "k", err, sizeof err, &val, &len),
                         -1);
        assert_string_equal(err, cut[i].err);
        check_str(cut[i].doc);
    }
    /* numbers the scan ends without number_end, and with it */
    static const char *const nums[] = {"7", "12", "12.5", "12e3", "12E-3", "0", "-1", "9.0e+1"};
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        int n = snprintf(doc, sizeof doc, "{\"k\":%s}", nums[i]);
        assert_int_equal(scan1(doc, (size_t)n, "k", err, sizeof err, &val, &len), 0);
        assert_int_equal(val, 5);
        assert_int_equal(len, strlen(nums[i]));
    }
    /* keys of one signature (length, last byte) but other bytes, and
     * duplicates: compared in full, counted */
    const char *same = "{\"http\":1,\"hxxp\":2,\"http\":3,\"ttp\":4,\"host\":5}";
    jscan_member w[3] = {{.key = "http"}, {.key = "hxxp"}, {.key = "hoop"}};
    assert_int_equal(jscan_object(same, strlen(same), w, 3, NULL, err, sizeof err), 0);
    assert_int_equal(w[0].count, 2);
    assert_int_equal(w[1].count, 1);
    assert_int_equal(w[2].count, 0);
    assert_ptr_equal(w[0].val, strchr(same, '1')); /* the first */
    assert_ptr_equal(w[1].val, strchr(same, '2'));
    assert_null(w[2].val);
}

/* ---- rec_decode: what cJSON let through is not JSON any more ---- */

static void record_strict(void **state)
{
    static const char *const not_json[] = {"{\"a\":01}", "{\"a\":\"x\x01y\"}", "{\x0b\"a\":1}",
                                           "{\"a\":\"\\u00zz\"}", "{\"a\":1}\x0b ",
                                           "{\"a\":\"\xc3\"}"};
    for (size_t i = 0; i < sizeof not_json / sizeof *not_json; i++) {
        rec_in in = {.topic = "t", .value = not_json[i], .len = strlen(not_json[i]), .ts_ms = -1};
        cJSON *doc;
        char id[REC_ID_MAX + 1], err[100];
        unsigned fl;
        assert_int_equal(rec_decode(&in, REC_FMT_JSON, &doc, id, &fl, err, sizeof err), 0);
        assert_true(fl & REC_F_NOT_JSON);
        cJSON_Delete(doc);
    }
    const char *ok = " {\"a\":[1.5,\"\\u00e9\"]}\r\n";
    rec_in in = {.topic = "t", .value = ok, .len = strlen(ok), .ts_ms = -1};
    cJSON *doc;
    char id[REC_ID_MAX + 1], err[100];
    unsigned fl;
    assert_int_equal(rec_decode(&in, REC_FMT_JSON, &doc, id, &fl, err, sizeof err), 0);
    assert_false(fl & REC_F_NOT_JSON);
    char *p = cJSON_PrintUnformatted(doc);
    assert_string_equal(p, "{\"a\":[1.5,\"\xc3\xa9\"]}");
    free(p);
    cJSON_Delete(doc);
}

int main(void)
{
    if (regcomp(&num_re, "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$", REG_EXTENDED | REG_NOSUB))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_written),
        cmocka_unit_test(generated_valid),
        cmocka_unit_test(mutated),
        cmocka_unit_test(nesting_limit),
        cmocka_unit_test(big_values),
        cmocka_unit_test(out_of_memory),
        cmocka_unit_test(record_strict),
        cmocka_unit_test(scan_edges),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    regfree(&num_re);
    return rc;
}
