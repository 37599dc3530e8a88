/* rules_cond: the `if` conditions of rules.
 *
 *   expr    := and ( ("or" | "||") and )*
 *   and     := unary ( ("and" | "&&") unary )*
 *   unary   := ("not" | "!") unary | "(" expr ")" | "exists" FIELD
 *            | FIELD OP VALUE
 *   OP      := == | != | =~ | !~ | < | <= | > | >=
 *   VALUE   := "quoted" | /regex/ | bare-word
 *
 * Compiled once into a tree (regexes compiled with JIT); evaluating is a
 * walk of the tree with no allocation. */
#include "indexer/rules_internal.h"
#include "common/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lexer {
    const char *s;    /* the whole text, for messages */
    const char *p;
    uint32_t   *max_pairs;
    char       *err;
    size_t      errlen;
} lexer;

static void skip_ws(lexer *lx)
{
    while (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r')
        lx->p++;
}

static int fail(lexer *lx, const char *what)
{
    snprintf(lx->err, lx->errlen, "bad condition: %s at column %d in \"%.120s\"", what,
             (int)(lx->p - lx->s) + 1, lx->s);
    return -1;
}

/* A keyword only when followed by a separator ("order" is a field). */
static bool keyword(lexer *lx, const char *kw)
{
    size_t n = strlen(kw);
    if (strncasecmp(lx->p, kw, n) != 0)
        return false;
    char c = lx->p[n];
    if (c && !isspace((unsigned char)c) && c != '(')
        return false;
    lx->p += n;
    return true;
}

static bool is_field_char(char c)
{
    return c && !isspace((unsigned char)c) && !strchr("()=!<>~\"", c);
}

static char *dup_range(const char *a, const char *b)
{
    size_t n = (size_t)(b - a);
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, a, n);
    s[n] = '\0';
    return s;
}

static int read_field(lexer *lx, rpath *out)
{
    skip_ws(lx);
    const char *a = lx->p;
    while (is_field_char(*lx->p))
        lx->p++;
    if (lx->p == a)
        return fail(lx, "field name expected");
    char *name = dup_range(a, lx->p);
    char why[128];
    int rc = rpath_init(out, name, why, sizeof why);
    free(name);
    if (rc != 0)
        return fail(lx, why);
    return 0;
}

/* "quoted": \" and \\ are unescaped, any other backslash is kept (so a
 * quoted regex keeps its \d). /regex/: only \/ is unescaped. */
static int read_value(lexer *lx, bool regex, char **out, bool *quoted)
{
    skip_ws(lx);
    char q = *lx->p;
    *quoted = false;
    if (q == '"' || (regex && q == '/')) {
        strbuf sb = STRBUF_INIT;
        lx->p++;
        for (;;) {
            char c = *lx->p;
            if (!c) {
                sb_free(&sb);
                return fail(lx, q == '"' ? "unterminated string" : "unterminated /regex/");
            }
            lx->p++;
            if (c == q)
                break;
            if (c == '\\' && *lx->p) {
                char n = *lx->p;
                if (n == q || (q == '"' && n == '\\')) {
                    sb_putc(&sb, n);
                    lx->p++;
                    continue;
                }
            }
            sb_putc(&sb, c);
        }
        *out = sb_detach(&sb, NULL);
        *quoted = true;
        return 0;
    }
    const char *a = lx->p;
    while (*lx->p && !isspace((unsigned char)*lx->p) && *lx->p != ')')
        lx->p++;
    if (lx->p == a)
        return fail(lx, "value expected");
    *out = dup_range(a, lx->p);
    return 0;
}

static bool parse_number(const char *s, double *out)
{
    if (!*s)
        return false;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    while (isspace((unsigned char)*end))
        end++;
    if (*end || errno == ERANGE || !isfinite(d))
        return false;
    /* strtod takes "nan", "inf", hex: not numbers a log line means. */
    for (const char *c = s; *c; c++)
        if (isalpha((unsigned char)*c) && *c != 'e' && *c != 'E')
            return false;
    *out = d;
    return true;
}

static rcond *node(cond_op op)
{
    rcond *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->op = op;
    return c;
}

static int parse_or(lexer *lx, rcond **out);

static int parse_unary(lexer *lx, rcond **out)
{
    skip_ws(lx);
    if (*lx->p == '!' && lx->p[1] != '=' && lx->p[1] != '~') {
        lx->p++;
        goto not;
    }
    if (keyword(lx, "not")) {
not:;
        rcond *c = node(COND_NOT);
        if (parse_unary(lx, &c->a) != 0) {
            rcond_free(c);
            return -1;
        }
        *out = c;
        return 0;
    }
    if (*lx->p == '(') {
        lx->p++;
        if (parse_or(lx, out) != 0)
            return -1;
        skip_ws(lx);
        if (*lx->p != ')') {
            rcond_free(*out);
            *out = NULL;
            return fail(lx, "')' expected");
        }
        lx->p++;
        return 0;
    }
    if (keyword(lx, "exists")) {
        rcond *c = node(COND_EXISTS);
        if (read_field(lx, &c->field) != 0) {
            rcond_free(c);
            return -1;
        }
        *out = c;
        return 0;
    }
    rcond *c = node(COND_EXISTS);
    if (read_field(lx, &c->field) != 0)
        goto err;
    skip_ws(lx);
    static const struct { const char *tok; cond_op op; } ops[] = {
        {"==", COND_EQ}, {"!=", COND_NE}, {"=~", COND_RE}, {"!~", COND_NRE},
        {"<=", COND_LE}, {">=", COND_GE}, {"<", COND_LT}, {">", COND_GT},
    };
    size_t i;
    for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strncmp(lx->p, ops[i].tok, strlen(ops[i].tok)))
            break;
    if (i == sizeof ops / sizeof ops[0]) {
        fail(lx, "operator expected (== != =~ !~ < <= > >=)");
        goto err;
    }
    lx->p += strlen(ops[i].tok);
    c->op = ops[i].op;
    bool quoted;
    bool is_re = c->op == COND_RE || c->op == COND_NRE;
    if (read_value(lx, is_re, &c->str, &quoted) != 0)
        goto err;
    if (is_re) {
        uint32_t pairs;
        char why[256];
        if (rre_compile(&c->re, c->str, &pairs, why, sizeof why) != 0) {
            snprintf(lx->err, lx->errlen, "%s", why);
            goto err;
        }
        if (pairs > *lx->max_pairs)
            *lx->max_pairs = pairs;
    } else if (c->op == COND_EQ || c->op == COND_NE) {
        c->is_num = !quoted && parse_number(c->str, &c->num);
    } else {
        if (quoted || !parse_number(c->str, &c->num)) {
            fail(lx, "number expected after a comparison");
            goto err;
        }
        c->is_num = true;
    }
    *out = c;
    return 0;
err:
    rcond_free(c);
    return -1;
}

static int parse_and(lexer *lx, rcond **out)
{
    rcond *l;
    if (parse_unary(lx, &l) != 0)
        return -1;
    for (;;) {
        skip_ws(lx);
        if (!strncmp(lx->p, "&&", 2))
            lx->p += 2;
        else if (!keyword(lx, "and"))
            break;
        rcond *c = node(COND_AND);
        c->a = l;
        l = c;
        if (parse_unary(lx, &c->b) != 0) {
            rcond_free(l);
            return -1;
        }
    }
    *out = l;
    return 0;
}

static int parse_or(lexer *lx, rcond **out)
{
    rcond *l;
    if (parse_and(lx, &l) != 0)
        return -1;
    for (;;) {
        skip_ws(lx);
        if (!strncmp(lx->p, "||", 2))
            lx->p += 2;
        else if (!keyword(lx, "or"))
            break;
        rcond *c = node(COND_OR);
        c->a = l;
        l = c;
        if (parse_and(lx, &c->b) != 0) {
            rcond_free(l);
            return -1;
        }
    }
    *out = l;
    return 0;
}

int rcond_compile(rcond **out, const char *text, uint32_t *max_pairs, char *err, size_t errlen)
{
    lexer lx = {text, text, max_pairs, err, errlen};
    *out = NULL;
    skip_ws(&lx);
    if (!*lx.p)
        return fail(&lx, "empty condition");
    rcond *c;
    if (parse_or(&lx, &c) != 0)
        return -1;
    skip_ws(&lx);
    if (*lx.p) {
        rcond_free(c);
        return fail(&lx, "unexpected text");
    }
    *out = c;
    return 0;
}

void rcond_free(rcond *c)
{
    if (!c)
        return;
    rcond_free(c->a);
    rcond_free(c->b);
    rpath_free(&c->field);
    free(c->str);
    c->str = NULL;
    pcre2_code_free(c->re);
    c->re = NULL;
    free(c);
}

/* Text of a scalar for comparisons, without allocating: strings point to
 * their value, numbers and booleans are printed into buf. NULL for
 * objects, arrays and null. */
static const char *scalar_text(const cJSON *v, char *buf, size_t len)
{
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 9007199254740992.0)
            snprintf(buf, len, "%lld", (long long)d);
        else
            snprintf(buf, len, "%.17g", d);
        return buf;
    }
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "true" : "false";
    return NULL;
}

static bool value_number(const cJSON *v, double *d)
{
    if (cJSON_IsNumber(v)) {
        *d = v->valuedouble;
        return true;
    }
    return cJSON_IsString(v) && parse_number(v->valuestring, d);
}

static const cJSON *doc_get(const rpath *f, void *doc) { return rpath_get(f, doc); }

bool rcond_eval(const rcond *c, const cJSON *doc, const rmatch *m)
{
    return rcond_eval_by(c, doc_get, (void *)doc, m);
}

bool rcond_eval_by(const rcond *c, rcond_get get, void *ud, const rmatch *m)
{
    switch (c->op) {
    case COND_AND: return rcond_eval_by(c->a, get, ud, m) && rcond_eval_by(c->b, get, ud, m);
    case COND_OR:  return rcond_eval_by(c->a, get, ud, m) || rcond_eval_by(c->b, get, ud, m);
    case COND_NOT: return !rcond_eval_by(c->a, get, ud, m);
    case COND_EXISTS: return get(&c->field, ud) != NULL;
    default: break;
    }
    const cJSON *v = get(&c->field, ud);
    char buf[40];
    switch (c->op) {
    case COND_EQ:
    case COND_NE: {
        bool eq;
        if (c->is_num && cJSON_IsNumber(v)) {
            eq = v->valuedouble == c->num;
        } else {
            const char *t = scalar_text(v, buf, sizeof buf);
            eq = t && !strcmp(t, c->str);
        }
        return c->op == COND_EQ ? eq : !eq;
    }
    case COND_RE:
    case COND_NRE: {
        const char *t = scalar_text(v, buf, sizeof buf);
        bool hit = t && pcre2_match(c->re, (PCRE2_SPTR)t, strlen(t), 0, 0, m->md, m->ctx) >= 0;
        return c->op == COND_RE ? hit : !hit;
    }
    default: {
        double d;
        if (!value_number(v, &d))
            return false;
        switch (c->op) {
        case COND_LT: return d < c->num;
        case COND_LE: return d <= c->num;
        case COND_GT: return d > c->num;
        default:      return d >= c->num;
        }
    }
    }
}

void rcond_fields(const rcond *c, void (*fn)(const rpath *f, void *ud), void *ud)
{
    if (!c)
        return;
    switch (c->op) {
    case COND_AND:
    case COND_OR:
        rcond_fields(c->a, fn, ud);
        rcond_fields(c->b, fn, ud);
        break;
    case COND_NOT:
        rcond_fields(c->a, fn, ud);
        break;
    default:
        fn(&c->field, ud);
    }
}
