/* config: option tables over inifile (see config.h). */
#include "common/config.h"
#include "common/inifile.h"
#include "common/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A section plus what only the loader needs: the line each option was set
 * on, to name the first one in a duplicate-key error. */
typedef struct section_priv {
    cfg_section pub;  /* first: a cfg_section * is a section_priv * */
    int        *set_line; /* one per option, 0 = not set in the file */
    size_t      nopts;
} section_priv;

/* ---- value parsers ---------------------------------------------------- */

static const char *skip_ws(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

int cfg_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) { *out = true; return 0; }
        if (strcasecmp(s, no[i]) == 0) { *out = false; return 0; }
    }
    return -1;
}

int cfg_parse_int(const char *s, int64_t *out)
{
    s = skip_ws(s);
    if (!*s)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *skip_ws(end))
        return -1;
    *out = v;
    return 0;
}

/* Leading unsigned decimal; -1 on none or overflow. */
static int parse_u64(const char **sp, int64_t *out)
{
    const char *s = *sp;
    if (!isdigit((unsigned char)*s))
        return -1;
    int64_t v = 0;
    while (isdigit((unsigned char)*s)) {
        int d = *s++ - '0';
        if (v > (INT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *sp = s;
    *out = v;
    return 0;
}

int cfg_parse_size(const char *s, int64_t *out)
{
    static const struct { const char *u; int64_t m; } units[] = {
        {"", 1}, {"b", 1},
        {"kib", 1LL << 10}, {"mib", 1LL << 20}, {"gib", 1LL << 30}, {"tib", 1LL << 40},
        {"kb", 1000LL}, {"mb", 1000000LL}, {"gb", 1000000000LL}, {"tb", 1000000000000LL},
    };
    int64_t v;
    s = skip_ws(s);
    if (parse_u64(&s, &v) != 0)
        return -1;
    s = skip_ws(s);
    size_t ulen = strlen(s);
    while (ulen && isspace((unsigned char)s[ulen - 1]))
        ulen--;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strlen(units[i].u) == ulen && strncasecmp(s, units[i].u, ulen) == 0) {
            if (v > INT64_MAX / units[i].m)
                return -1;
            *out = v * units[i].m;
            return 0;
        }
    }
    return -1;
}

int cfg_parse_duration_ms(const char *s, int64_t *out)
{
    static const struct { const char *u; int64_t m; } units[] = {
        /* "ms" before "m": longest match first */
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
    };
    s = skip_ws(s);
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (len == 1 && s[0] == '0') { /* zero needs no unit */
        *out = 0;
        return 0;
    }
    const char *end = s + len;
    int64_t total = 0;
    int last = -1; /* units must go from larger to smaller: 1h30m, not 30m1h */
    if (s == end)
        return -1;
    while (s < end) {
        int64_t v;
        if (parse_u64(&s, &v) != 0)
            return -1;
        size_t i, n = sizeof(units) / sizeof(units[0]);
        for (i = 0; i < n; i++) {
            size_t ul = strlen(units[i].u);
            if ((size_t)(end - s) >= ul && strncmp(s, units[i].u, ul) == 0 &&
                !(ul == 1 && s + 1 < end && isalpha((unsigned char)s[1])))
                break;
        }
        if (i == n)
            return -1;
        /* the table index is the unit's rank: ms=0 < s < m < h < d=4 */
        if (last >= 0 && (int)i >= last)
            return -1;
        last = (int)i;
        if (v > INT64_MAX / units[i].m || total > INT64_MAX - v * units[i].m)
            return -1;
        total += v * units[i].m;
        s += strlen(units[i].u);
    }
    *out = total;
    return 0;
}

int cfg_parse_list(const char *s, cfg_list *out)
{
    /* Items are comma separated and trimmed. An empty value is an empty
     * list and one trailing comma is allowed; an empty item elsewhere
     * ("a,,b") is refused, it is most likely a mistake. */
    cfg_list add = {NULL, 0};
    const char *p = skip_ws(s);
    size_t len = strlen(p);
    while (len && isspace((unsigned char)p[len - 1]))
        len--;
    if (len && p[len - 1] == ',')
        len--;
    if (!len && !*p)
        return 0;
    const char *end = p + len;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        const char *b = p;
        while (b < e && isspace((unsigned char)*b))
            b++;
        while (e > b && isspace((unsigned char)e[-1]))
            e--;
        if (e == b)
            goto bad;
        char **nv = realloc(add.v, (add.n + 1) * sizeof(*nv));
        if (!nv)
            goto bad;
        add.v = nv;
        add.v[add.n] = strndup(b, (size_t)(e - b));
        if (!add.v[add.n])
            goto bad;
        add.n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (add.n) {
        char **nv = realloc(out->v, (out->n + add.n) * sizeof(*nv));
        if (!nv)
            goto bad;
        out->v = nv;
        memcpy(out->v + out->n, add.v, add.n * sizeof(*nv));
        out->n += add.n;
    }
    free(add.v);
    add.v = NULL;
    return 0;
bad:
    cfg_list_free(&add);
    return -1;
}

void cfg_list_free(cfg_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i]);
        l->v[i] = NULL;
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* ---- formatting (errors, dump, help) ---------------------------------- */

static const char *type_name(opt_type t)
{
    switch (t) {
    case OPT_STRING:   return "string";
    case OPT_BOOL:     return "bool";
    case OPT_INT:      return "int";
    case OPT_SIZE:     return "size";
    case OPT_DURATION: return "duration";
    case OPT_LIST:     return "list";
    case OPT_ENUM:     return "enum";
    }
    return "?";
}

/* What a value of this type looks like, for error messages. */
static const char *type_expect(const opt_def *o)
{
    switch (o->type) {
    case OPT_BOOL:     return "true/false, yes/no, on/off or 1/0";
    case OPT_INT:      return "an integer";
    case OPT_SIZE:     return "a size: bytes, or a number with B, KiB, MiB, GiB, TiB (x1024) "
                              "or kB, MB, GB, TB (x1000), e.g. 64KiB";
    case OPT_DURATION: return "a duration with units d, h, m, s, ms, e.g. 500ms, 5s, 1m30s";
    case OPT_LIST:     return "a comma-separated list without empty items";
    case OPT_ENUM:     return o->choices;
    case OPT_STRING:   return "a string";
    }
    return "?";
}

static void fmt_size(strbuf *sb, int64_t v)
{
    static const char *const u[] = {"TiB", "GiB", "MiB", "KiB"};
    for (int i = 0; i < 4; i++) {
        int64_t m = 1LL << (10 * (4 - i));
        if (v != 0 && v % m == 0) {
            sb_printf(sb, "%" PRId64 "%s", v / m, u[i]);
            return;
        }
    }
    sb_printf(sb, "%" PRId64, v);
}

static void fmt_duration(strbuf *sb, int64_t ms)
{
    static const struct { const char *u; int64_t m; } units[] = {
        {"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1},
    };
    if (ms == 0) {
        sb_puts(sb, "0s");
        return;
    }
    for (size_t i = 0; i < 5; i++) {
        if (ms >= units[i].m) {
            sb_printf(sb, "%" PRId64 "%s", ms / units[i].m, units[i].u);
            ms %= units[i].m;
        }
    }
}

static void fmt_number(strbuf *sb, opt_type t, int64_t v)
{
    if (t == OPT_SIZE)
        fmt_size(sb, v);
    else if (t == OPT_DURATION)
        fmt_duration(sb, v);
    else
        sb_printf(sb, "%" PRId64, v);
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcasecmp(s + n - m, tail) == 0;
}

bool cfg_is_secret(const char *key)
{
    /* Our *password options and librdkafka's sensitive properties
     * (sasl.username, sasl.password, ssl.key.password, ssl.keystore.password,
     * ssl.key.pem, sasl.oauthbearer.client.secret, sasl.oauthbearer.config).
     * A *_file option (password_file, api_key_file) names a file, not its
     * contents: showing it helps and gives nothing away. */
    static const char *const words[] = {"password", "passphrase", "secret"};
    if (ends_with(key, "_file"))
        return false;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcasestr(key, words[i]))
            return true;
    return ends_with(key, "key.pem") || ends_with(key, "sasl.oauthbearer.config") ||
           ends_with(key, "sasl.username");
}

/* ---- option storage --------------------------------------------------- */

static void *field(const cfg_section *s, const opt_def *o)
{
    return (char *)s->data + o->offset;
}

static void opt_clear(cfg_section *s, const opt_def *o)
{
    void *f = field(s, o);
    if (o->type == OPT_STRING || o->type == OPT_ENUM) {
        free(*(char **)f);
        *(char **)f = NULL;
    } else if (o->type == OPT_LIST) {
        cfg_list_free(f);
    }
}

static bool enum_has(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == n && strncmp(p, v, n) == 0)
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

/* Parses text into the option's field (replacing what was there). Returns
 * 0, or -1 with err naming the key, what was given and what is expected. */
static int opt_set(cfg_section *s, const opt_def *o, const char *v, char *err, size_t errlen)
{
    void *f = field(s, o);
    int64_t n = 0;
    int rc = 0;
    switch (o->type) {
    case OPT_STRING:
    case OPT_ENUM: {
        if (o->type == OPT_ENUM && !enum_has(o->choices, v)) {
            rc = -1;
            break;
        }
        char *d = strdup(v);
        if (!d) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        opt_clear(s, o);
        *(char **)f = d;
        return 0;
    }
    case OPT_BOOL: {
        bool b;
        rc = cfg_parse_bool(v, &b);
        if (rc == 0)
            *(bool *)f = b;
        break;
    }
    case OPT_INT:      rc = cfg_parse_int(v, &n); break;
    case OPT_SIZE:     rc = cfg_parse_size(v, &n); break;
    case OPT_DURATION: rc = cfg_parse_duration_ms(v, &n); break;
    case OPT_LIST: {
        cfg_list l = {NULL, 0};
        rc = cfg_parse_list(v, &l);
        if (rc == 0) {
            opt_clear(s, o);
            *(cfg_list *)f = l;
        }
        break;
    }
    }
    if (rc != 0) {
        /* "a = 1" then "  b = 2": inih reads the indented line as more of
         * a's value; say so, the message alone would puzzle */
        bool indented_key = strchr(v, '=') != NULL;
        snprintf(err, errlen, "bad value for '%s': \"%.80s%s\"; expected %s%s", o->name, v,
                 strlen(v) > 80 ? "..." : "", type_expect(o),
                 indented_key ? " (an indented line continues the value above it: "
                                "do not indent keys)" : "");
        return -1;
    }
    if (o->type == OPT_INT || o->type == OPT_SIZE || o->type == OPT_DURATION) {
        if ((o->min || o->max) && (n < o->min || n > o->max)) {
            strbuf sb = STRBUF_INIT;
            fmt_number(&sb, o->type, n);
            sb_puts(&sb, " (allowed ");
            fmt_number(&sb, o->type, o->min);
            sb_puts(&sb, "..");
            fmt_number(&sb, o->type, o->max);
            sb_puts(&sb, ")");
            snprintf(err, errlen, "value for '%s' out of range: %s", o->name, sb_str(&sb));
            sb_free(&sb);
            return -1;
        }
        if (o->type != OPT_INT && n < 0) {
            snprintf(err, errlen, "value for '%s' must not be negative", o->name);
            return -1;
        }
        *(int64_t *)f = n;
    }
    return 0;
}

/* ---- sections --------------------------------------------------------- */

static size_t count_opts(const opt_def *o)
{
    size_t n = 0;
    while (o[n].name)
        n++;
    return n;
}

static void section_free(cfg_section *s)
{
    section_priv *sp = (section_priv *)s;
    if (s->data) {
        for (const opt_def *o = s->def->opts; o->name; o++)
            opt_clear(s, o);
    }
    free(s->data);
    s->data = NULL;
    free(s->name);
    s->name = NULL;
    for (cfg_kv *kv = s->passthrough, *next; kv; kv = next) {
        next = kv->next;
        free(kv->key);
        free(kv->value);
        free(kv);
    }
    s->passthrough = NULL;
    free(sp->set_line);
    sp->set_line = NULL;
    free(sp);
}

/* A section of kind `def` filled with the defaults, appended to c. */
static cfg_section *section_new(cfg *c, const cfg_section_def *def, const char *name,
                                int line, char *err, size_t errlen)
{
    section_priv *sp = calloc(1, sizeof(*sp));
    if (!sp)
        goto oom;
    cfg_section *s = &sp->pub;
    s->def = def;
    s->line = line;
    sp->nopts = count_opts(def->opts);
    sp->set_line = calloc(sp->nopts ? sp->nopts : 1, sizeof(int));
    s->data = calloc(1, def->struct_size ? def->struct_size : 1);
    s->name = name ? strdup(name) : NULL;
    if (!sp->set_line || !s->data || (name && !s->name))
        goto oom;
    for (const opt_def *o = def->opts; o->name; o++) {
        if (!o->def)
            continue;
        char e[256];
        if (opt_set(s, o, o->def, e, sizeof(e)) != 0) {
            /* a bug in the table, not in the user's file */
            snprintf(err, errlen, "built-in default of [%s] %s is invalid: %s", def->name,
                     o->name, e);
            section_free(s);
            return NULL;
        }
    }
    cfg_section **tail = &c->sections;
    while (*tail)
        tail = &(*tail)->next;
    *tail = s;
    return s;
oom:
    snprintf(err, errlen, "out of memory");
    if (sp)
        section_free(&sp->pub);
    return NULL;
}

/* ---- loading ---------------------------------------------------------- */

typedef struct loader {
    cfg                   *c;
    const cfg_section_def *defs;
    cfg_section           *cur; /* section keys go to; NULL before any */
} loader;

static const cfg_section_def *find_def(const cfg_section_def *defs, const char *kind, size_t n)
{
    for (const cfg_section_def *d = defs; d->name; d++)
        if (strlen(d->name) == n && strncmp(d->name, kind, n) == 0)
            return d;
    return NULL;
}

static bool valid_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_.-@:", *s))
            return false;
    return true;
}

/* Edit distance (insert, delete, replace), for "did you mean". Names
 * longer than 63 bytes are never suggested. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64];
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The closest candidate if it is close enough to be a typo, else NULL. */
static const char *closest(const char *word, const char *cand, const char **best, size_t *bestd)
{
    size_t d = edit_distance(word, cand);
    size_t limit = strlen(word) / 3 > 1 ? strlen(word) / 3 : 1;
    if (d <= limit && d < *bestd) {
        *bestd = d;
        *best = cand;
    }
    return *best;
}

static void list_sections(const cfg_section_def *defs, strbuf *sb)
{
    for (const cfg_section_def *d = defs; d->name; d++)
        sb_printf(sb, "%s[%s%s]", d == defs ? "" : ", ", d->name, d->named ? " NAME" : "");
}

static int on_section(loader *L, const char *text, int line, char *err, size_t errlen)
{
    /* "kind" or "kind NAME", surrounding blanks ignored */
    const char *p = skip_ws(text);
    size_t klen = 0;
    while (p[klen] && !isspace((unsigned char)p[klen]))
        klen++;
    char name[256] = "";
    const char *np = skip_ws(p + klen);
    size_t nlen = strlen(np);
    while (nlen && isspace((unsigned char)np[nlen - 1]))
        nlen--;
    if (nlen >= sizeof(name)) {
        snprintf(err, errlen, "section name too long (limit %zu bytes)", sizeof(name) - 1);
        return -1;
    }
    memcpy(name, np, nlen);
    name[nlen] = '\0';

    const cfg_section_def *d = find_def(L->defs, p, klen);
    if (!d) {
        strbuf sb = STRBUF_INIT, hint = STRBUF_INIT;
        list_sections(L->defs, &sb);
        char kind[64];
        snprintf(kind, sizeof(kind), "%.*s", (int)(klen < 63 ? klen : 63), p);
        const char *best = NULL;
        size_t bestd = SIZE_MAX;
        for (const cfg_section_def *q = L->defs; q->name; q++)
            closest(kind, q->name, &best, &bestd);
        if (best)
            sb_printf(&hint, "; did you mean [%s]?", best);
        snprintf(err, errlen, "unknown section [%.*s]%s (valid: %s)", (int)klen, p,
                 sb_str(&hint), sb_str(&sb));
        sb_free(&hint);
        sb_free(&sb);
        return -1;
    }
    if (d->named && !*name) {
        snprintf(err, errlen, "section [%s] needs a name: [%s NAME]", d->name, d->name);
        return -1;
    }
    if (!d->named && *name) {
        snprintf(err, errlen, "section [%s] takes no name (got \"%s\")", d->name, name);
        return -1;
    }
    if (d->named && !valid_name(name)) {
        snprintf(err, errlen, "bad section name \"%s\": use letters, digits and _ . - @ :", name);
        return -1;
    }
    for (cfg_section *s = L->c->sections; s; s = s->next) {
        if (s->def != d || s->line == 0)
            continue;
        if (!d->named || strcmp(s->name, name) == 0) {
            snprintf(err, errlen, "duplicate section [%s%s%s] (first at line %d)", d->name,
                     d->named ? " " : "", name, s->line);
            return -1;
        }
    }
    if (d->named) {
        L->cur = section_new(L->c, d, name, line, err, errlen);
        return L->cur ? 0 : -1;
    }
    L->cur = cfg_section_get(L->c, d->name);
    L->cur->line = line;
    return 0;
}

static const opt_def *find_opt(const cfg_section_def *d, const char *key, size_t *idx)
{
    for (size_t i = 0; d->opts[i].name; i++) {
        if (strcmp(d->opts[i].name, key) == 0) {
            *idx = i;
            return &d->opts[i];
        }
    }
    return NULL;
}

static int on_passthrough(cfg_section *s, const char *key, const char *value, int line,
                          char *err, size_t errlen)
{
    const char *k = key + strlen(s->def->passthrough_prefix);
    if (!*k) {
        snprintf(err, errlen, "key '%s' names no option after the prefix", key);
        return -1;
    }
    cfg_kv **tail = &s->passthrough;
    for (; *tail; tail = &(*tail)->next) {
        if (strcmp((*tail)->key, k) == 0) {
            snprintf(err, errlen, "duplicate key '%s' (first at line %d)", key, (*tail)->line);
            return -1;
        }
    }
    cfg_kv *kv = calloc(1, sizeof(*kv));
    if (!kv || !(kv->key = strdup(k)) || !(kv->value = strdup(value))) {
        if (kv) {
            free(kv->key);
            free(kv);
        }
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    kv->line = line;
    *tail = kv;
    return 0;
}

static int on_key(void *user, const char *section, const char *key, const char *value,
                  int line, char *err, size_t errlen)
{
    loader *L = user;
    if (!key)
        return on_section(L, section, line, err, errlen);
    cfg_section *s = L->cur;
    if (!s) {
        snprintf(err, errlen, "key '%s' outside any section", key);
        return -1;
    }
    const char *pp = s->def->passthrough_prefix;
    if (pp && *pp && strncmp(key, pp, strlen(pp)) == 0)
        return on_passthrough(s, key, value, line, err, errlen);
    size_t idx;
    const opt_def *o = find_opt(s->def, key, &idx);
    if (!o) {
        strbuf sb = STRBUF_INIT, hint = STRBUF_INIT;
        const char *best = NULL;
        size_t bestd = SIZE_MAX;
        for (const opt_def *q = s->def->opts; q->name; q++) {
            sb_printf(&sb, "%s%s", q == s->def->opts ? "" : ", ", q->name);
            closest(key, q->name, &best, &bestd);
        }
        if (pp && *pp)
            sb_printf(&sb, "%s%s*", s->def->opts[0].name ? ", " : "", pp);
        if (best)
            sb_printf(&hint, "; did you mean '%s'?", best);
        snprintf(err, errlen, "unknown key '%s' in [%s]%s (valid: %s)", key, s->def->name,
                 sb_str(&hint), sb.len ? sb_str(&sb) : "none");
        sb_free(&hint);
        sb_free(&sb);
        return -1;
    }
    section_priv *sp = (section_priv *)s;
    if (sp->set_line[idx]) {
        snprintf(err, errlen, "duplicate key '%s' (first at line %d)", key, sp->set_line[idx]);
        return -1;
    }
    if (opt_set(s, o, value, err, errlen) != 0)
        return -1;
    sp->set_line[idx] = line;
    return 0;
}

/* Continuations of a list are more items: join them with a comma. */
static const char *join_for(void *user, const char *section, const char *key)
{
    loader *L = user;
    size_t idx;
    const opt_def *o = L->cur ? find_opt(L->cur->def, key, &idx) : NULL;
    return o && o->type == OPT_LIST ? "," : "";
}

static int load(cfg **out, const char *name, const char *text, const cfg_section_def *defs,
                char *err, size_t errlen)
{
    *out = NULL;
    cfg *c = calloc(1, sizeof(*c));
    if (!c || !(c->path = strdup(name))) {
        free(c);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (const cfg_section_def *d = defs; d->name; d++) {
        if (!d->named && !section_new(c, d, NULL, 0, err, errlen))
            goto err;
    }
    loader L = {.c = c, .defs = defs};
    int rc = text ? ini_read_string_ex(name, text, on_key, join_for, &L, err, errlen)
                  : ini_read_file_ex(name, on_key, join_for, &L, err, errlen);
    if (rc != 0)
        goto err;
    *out = c;
    return 0;
err:
    cfg_free(c);
    return -1;
}

int cfg_load(cfg **out, const char *path, const cfg_section_def *defs, char *err, size_t errlen)
{
    return load(out, path, NULL, defs, err, errlen);
}

int cfg_load_string(cfg **out, const char *name, const char *text,
                    const cfg_section_def *defs, char *err, size_t errlen)
{
    return load(out, name, text, defs, err, errlen);
}

void cfg_free(cfg *c)
{
    if (!c)
        return;
    for (cfg_section *s = c->sections, *next; s; s = next) {
        next = s->next;
        section_free(s);
    }
    c->sections = NULL;
    free(c->path);
    c->path = NULL;
    free(c);
}

cfg_section *cfg_section_get(const cfg *c, const char *kind)
{
    for (cfg_section *s = c->sections; s; s = s->next)
        if (strcmp(s->def->name, kind) == 0)
            return s;
    return NULL;
}

void *cfg_get(const cfg *c, const char *kind)
{
    cfg_section *s = cfg_section_get(c, kind);
    return s && !s->def->named ? s->data : NULL;
}

cfg_section *cfg_next(const cfg *c, const char *kind, cfg_section *prev)
{
    for (cfg_section *s = prev ? prev->next : c->sections; s; s = s->next)
        if (strcmp(s->def->name, kind) == 0)
            return s;
    return NULL;
}

/* ---- output ----------------------------------------------------------- */

bool cfg_value_text(const cfg_section *s, const opt_def *o, strbuf *sb)
{
    const void *f = field(s, o);
    switch (o->type) {
    case OPT_STRING:
    case OPT_ENUM:
        if (!*(char *const *)f)
            return false;
        sb_puts(sb, *(char *const *)f);
        return true;
    case OPT_BOOL:
        sb_puts(sb, *(const bool *)f ? "true" : "false");
        return true;
    case OPT_INT:
    case OPT_SIZE:
    case OPT_DURATION:
        fmt_number(sb, o->type, *(const int64_t *)f);
        return true;
    case OPT_LIST: {
        /* ", " between items, but "," before one that starts with ';':
         * after a blank the reader takes ";" for a comment */
        const cfg_list *l = f;
        for (size_t i = 0; i < l->n; i++)
            sb_printf(sb, "%s%s", !i ? "" : l->v[i][0] == ';' ? "," : ", ", l->v[i]);
        return true;
    }
    }
    return false;
}

/* May a value be cut before s[i], continuing on the next line? The line
 * reader strips blanks around pieces and would take a piece starting with
 * ';' or '#' for a comment; a list may only be cut after a comma, and not
 * before an item starting with one of those. */
static bool can_cut(const char *s, size_t i, bool list)
{
    if (list) {
        const char *next = s + i;
        while (*next == ' ')
            next++;
        return s[i - 1] == ',' && *next != ';' && *next != '#';
    }
    return !isspace((unsigned char)s[i - 1]) && !isspace((unsigned char)s[i]) && s[i] != ';' &&
           s[i] != '#';
}

/* "key = value", over continuation lines when it would be longer than the
 * reader accepts, so the dump can be read back. */
static void dump_kv(FILE *out, const char *prefix, const char *key, const char *v, bool list)
{
    size_t used = strlen(prefix) + strlen(key) + 3, n = strlen(v);
    /* A value that starts with ';' goes right after the '=': after a blank
     * the reader takes " ;" for an inline comment and would load an empty
     * value back. */
    fprintf(out, "%s%s =%s", prefix, key, *v == ';' ? "" : " ");
    while (used + n > INI_READ_MAX_LINE && used < INI_READ_MAX_LINE) {
        size_t room = INI_READ_MAX_LINE - used, cut = 0;
        for (size_t i = room; i > 0 && !cut; i--)
            if (i < n && can_cut(v, i, list))
                cut = i;
        if (!cut)
            break; /* no place to cut: one long line, the reader will say so */
        fprintf(out, "%.*s\n    ", (int)cut, v);
        v += cut;
        n -= cut;
        while (list && *v == ' ') {
            v++;
            n--;
        }
        used = 4;
    }
    fprintf(out, "%s\n", v);
}

void cfg_dump(const cfg *c, FILE *out)
{
    fprintf(out, "# effective configuration from %s\n", c->path);
    strbuf sb = STRBUF_INIT;
    for (const cfg_section *s = c->sections; s; s = s->next) {
        if (s->name)
            fprintf(out, "\n[%s %s]\n", s->def->name, s->name);
        else
            fprintf(out, "\n[%s]\n", s->def->name);
        for (const opt_def *o = s->def->opts; o->name; o++) {
            sb_reset(&sb);
            if (!cfg_value_text(s, o, &sb))
                fprintf(out, "; %s is not set\n", o->name);
            else if (cfg_is_secret(o->name))
                fprintf(out, "%s = %s\n", o->name, sb.len ? "(set)" : "");
            else
                dump_kv(out, "", o->name, sb_str(&sb), o->type == OPT_LIST);
        }
        for (const cfg_kv *kv = s->passthrough; kv; kv = kv->next)
            dump_kv(out, s->def->passthrough_prefix, kv->key,
                    cfg_is_secret(kv->key) && *kv->value ? "(set)" : kv->value, false);
    }
    sb_free(&sb);
}

static void help_default(const opt_def *o, strbuf *sb)
{
    if (!o->def)
        sb_puts(sb, "(unset)");
    else if (!*o->def)
        sb_puts(sb, "\"\"");
    else
        sb_puts(sb, o->def);
}

void cfg_help(const cfg_section_def *defs, FILE *out)
{
    strbuf sb = STRBUF_INIT;
    for (const cfg_section_def *d = defs; d->name; d++) {
        fprintf(out, "[%s%s]%s%s\n", d->name, d->named ? " NAME" : "",
                d->help ? "  " : "", d->help ? d->help : "");
        for (const opt_def *o = d->opts; o->name; o++) {
            sb_reset(&sb);
            help_default(o, &sb);
            fprintf(out, "  %-24s %-8s default %s\n", o->name,
                    o->type == OPT_ENUM ? "" : type_name(o->type), sb_str(&sb));
            if (o->type == OPT_ENUM)
                fprintf(out, "      one of: %s\n", o->choices);
            if (o->help)
                fprintf(out, "      %s\n", o->help);
        }
        if (d->passthrough_prefix)
            fprintf(out, "  %s*  passed on as is (without the prefix)\n", d->passthrough_prefix);
        fputc('\n', out);
    }
    sb_free(&sb);
}

/* Text for man(7): backslashes doubled, a leading '.' or '\'' escaped. */
static void man_text(FILE *out, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", out);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
    }
}

void cfg_help_man(const cfg_section_def *defs, FILE *out)
{
    strbuf sb = STRBUF_INIT;
    for (const cfg_section_def *d = defs; d->name; d++) {
        fputs(".SS \"[", out);
        man_text(out, d->name);
        fputs(d->named ? " \\fINAME\\fP]\"\n" : "]\"\n", out);
        if (d->help) {
            man_text(out, d->help);
            fputc('\n', out);
        }
        for (const opt_def *o = d->opts; o->name; o++) {
            fputs(".TP\n.B ", out);
            man_text(out, o->name);
            fputs("\n(", out);
            if (o->type == OPT_ENUM)
                man_text(out, o->choices);
            else
                fputs(type_name(o->type), out);
            sb_reset(&sb);
            help_default(o, &sb);
            fputs("; default ", out);
            man_text(out, sb_str(&sb));
            fputs(")\n", out);
            if (o->help) {
                fputs(".br\n", out);
                man_text(out, o->help);
                fputc('\n', out);
            }
        }
        if (d->passthrough_prefix) {
            fputs(".TP\n.B ", out);
            man_text(out, d->passthrough_prefix);
            fputs("*\nPassed on as is, without the prefix.\n", out);
        }
    }
    sb_free(&sb);
}
