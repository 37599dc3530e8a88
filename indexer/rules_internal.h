/* rules_internal: the compiled form of a rules set, shared by the
 * indexer/rules*.c files and nothing else. Everything a record needs is
 * prepared at load: field paths split, templates cut into segments, regexes
 * compiled with JIT, so applying a rule never parses rule text. */
#ifndef LF_INDEXER_RULES_INTERNAL_H
#define LF_INDEXER_RULES_INTERNAL_H
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "indexer/rules.h"
#include "indexer/rules_time.h"

/* ---- field paths: "a.b.c" → nested objects ---------------------------- */
typedef struct rpath {
    char  **seg;  /* owned, each owned */
    size_t  n;
    char   *text; /* owned, the dotted form for messages */
} rpath;

/* 0, or -1 with err (empty name, empty segment). */
int    rpath_init(rpath *p, const char *dotted, char *err, size_t errlen);
void   rpath_free(rpath *p);
cJSON *rpath_get(const rpath *p, const cJSON *doc);
/* The member `key` of obj (case-sensitive), NULL when absent. */
cJSON *obj_child(const cJSON *obj, const char *key);
/* Sets (replaces) the value at p, creating missing objects on the way.
 * Takes ownership of v in every case (freed on failure). -1 when a parent
 * on the way exists but is not an object (nothing changed then). */
int    rpath_set(const rpath *p, cJSON *doc, cJSON *v);
/* Same, but on failure v stays the caller's. */
int    rpath_set_keep(const rpath *p, cJSON *doc, cJSON *v);
/* Detaches the value at p (caller owns it), NULL when absent. */
cJSON *rpath_detach(const rpath *p, cJSON *doc);
/* Same with a single key under an object (kv, json merge, regex groups). */
int    obj_set(cJSON *obj, const char *key, cJSON *v);
/* Same with a key that outlives the document (a rule's path segment): not
 * copied. */
int    obj_set_const(cJSON *obj, const char *key, cJSON *v);

/* ---- templates: "text %{field} text"; strftime codes optional ---------- */
typedef struct rtseg {
    char  *lit;     /* owned literal text (may hold strftime codes), or NULL */
    size_t litlen;
    bool   strf;    /* lit contains '%' and is run through strftime       */
    rpath  ref;     /* when lit == NULL: the referenced field               */
} rtseg;

typedef struct rtmpl {
    rtseg *seg;      /* owned */
    size_t n;
    bool   one_ref;  /* exactly "%{field}": copies the value with its type */
    bool   has_strf;
} rtmpl;

/* strftime: whether '%' outside %{...} means a strftime code (index) or a
 * literal '%' (set values). */
int  rtmpl_init(rtmpl *t, const char *text, bool strftime_codes, char *err, size_t errlen);
void rtmpl_free(rtmpl *t);
/* Appends the expansion to out (cleared first). tm may be NULL when the
 * template has no strftime codes. Missing fields expand to "". */
struct strbuf;
struct tm;
void rtmpl_expand(const rtmpl *t, const cJSON *doc, const struct tm *tm, struct strbuf *out);
/* Appends the text form of a JSON value: strings as is, numbers as integers
 * when integral, true/false/null, objects and arrays as compact JSON. */
void json_text(const cJSON *v, struct strbuf *out);

/* Adds `tag` to the doc's "tags" array (created; a non-array value is kept
 * as the first element) unless already there. */
void doc_add_tag(cJSON *doc, const char *tag);

/* ---- regex matching ----------------------------------------------------- */
/* What a match needs besides the pattern; one per rules set, reused for
 * every record (no allocation per match). */
typedef struct rmatch {
    pcre2_match_data    *md;   /* sized for the largest pattern */
    pcre2_match_context *ctx;  /* match limit, JIT stack        */
} rmatch;

/* Default bound on a regex's backtracking (PCRE2 match limit) per match:
 * a pathological pattern on a long line costs milliseconds, not seconds,
 * and counts as no match. Per rule: `match_limit`. */
#define RULES_MATCH_LIMIT 1000000u

/* ---- conditions --------------------------------------------------------- */
typedef enum {
    COND_AND, COND_OR, COND_NOT, COND_EXISTS, COND_EQ, COND_NE,
    COND_RE, COND_NRE, COND_LT, COND_LE, COND_GT, COND_GE
} cond_op;

typedef struct rcond {
    cond_op        op;
    struct rcond  *a, *b;   /* AND/OR: both; NOT: a */
    rpath          field;
    char          *str;     /* EQ/NE: the literal text */
    double         num;     /* numeric literal (EQ/NE when is_num, compares) */
    bool           is_num;
    pcre2_code    *re;      /* RE/NRE */
} rcond;

/* Compiles the text of an `if`; err is the reason (the caller adds
 * file:line). *max_pairs grows to what the regexes need. */
int  rcond_compile(rcond **out, const char *text, uint32_t *max_pairs, char *err, size_t errlen);
void rcond_free(rcond *c);
bool rcond_eval(const rcond *c, const cJSON *doc, const rmatch *m);
/* The same with each field's value from get (rules_direct.c: no tree). */
typedef const cJSON *(*rcond_get)(const rpath *f, void *ud);
bool rcond_eval_by(const rcond *c, rcond_get get, void *ud, const rmatch *m);
/* Calls fn for every field c reads. */
void rcond_fields(const rcond *c, void (*fn)(const rpath *f, void *ud), void *ud);

/* ---- regexes ------------------------------------------------------------ */
/* Compiles with JIT when available; err "bad regex: <pcre2 message> at
 * offset N". *pairs = capture count + 1. */
int rre_compile(pcre2_code **out, const char *pattern, uint32_t *pairs, char *err, size_t errlen);

/* ---- time --------------------------------------------------------------- */
typedef enum { TSF_ISO8601, TSF_UNIX, TSF_UNIX_MS, TSF_EPOCH, TSF_STRPTIME } tsf_kind;

typedef struct tsformat {
    tsf_kind kind;
    char   **parts; /* STRPTIME: the format cut at each "%f" (owned)      */
    size_t   nparts;
    bool     fast;  /* only codes rt_strptime knows: no glibc strptime  */
    bool     clf;   /* "%d/%b/%Y:%H:%M:%S %z": rt_parse_clf first        */
} tsformat;

/* strptime(3) for the codes log timestamps use (Y m d e H M S y I p b B h
 * a A z T F D R n t %), C locale, same results as glibc's for them, at a
 * fraction of the cost. Returns the end of what was read, or NULL. */
const char *rt_strptime(const char *s, const char *fmt, struct tm *tm);
bool rt_strptime_knows(const char *fmt);

typedef struct rtz {
    bool    fixed;      /* fixed offset (UTC, +02:00) or a named zone       */
    int     off_s;      /* fixed: seconds east of UTC                       */
    char   *name;       /* named: "Europe/Paris" (owned)                    */
    /* named: cache of the last local hour converted → its offset (logs
     * mostly come in time order, so this hits nearly always). */
    int64_t cache_hour; /* local seconds / 3600, INT64_MIN when empty       */
    int     cache_off;
} rtz;

int  tsformat_init(tsformat *f, const char *text, char *err, size_t errlen);
void tsformat_free(tsformat *f);
int  rtz_init(rtz *z, const char *text, char *err, size_t errlen);
void rtz_free(rtz *z);
/* Parses v (string or number) with f; zone-less values are in z (NULL:
 * UTC). now_ms (for dates without a year) < 0: read the clock when needed.
 * 0 and *ms on success. */
int  ts_parse(const tsformat *f, rtz *z, const cJSON *v, int64_t now_ms, int64_t *ms);

/* ---- actions and rules -------------------------------------------------- */
typedef enum { PARSE_NONE, PARSE_JSON, PARSE_REGEX, PARSE_KV } parse_kind;

typedef struct rgroup {          /* one named group of a regex */
    uint32_t num;
    char    *name;               /* owned: the dotted field name */
    rpath    path;
    int      parent;             /* rregex.nodes index of the object that
                                    holds the field; -1: the target itself */
} rgroup;

/* An object on the way to some groups' fields (http, http.request): found
 * or made once per match instead of once per group under it. */
typedef struct rnode {
    int         parent;          /* -1: under the target */
    const char *key;             /* a segment of a group's path (not owned) */
} rnode;

typedef struct rregex {
    pcre2_code *code;
    rgroup     *groups;          /* owned */
    size_t      ngroups;
    rnode      *nodes;           /* owned */
    size_t      nnodes;
    bool        by_node;         /* false when a group's field is also the
                                    parent of another's, or too many nodes:
                                    each group is then set from the target
                                    on its own (rpath_set) */
} rregex;

typedef struct rparse {
    parse_kind kind;
    int        line;
    rpath      field;            /* default "message" */
    bool       has_target;
    rpath      target;
    rregex    *re;               /* PARSE_REGEX: tried in order, owned */
    size_t     nre;
    char      *kv_sep;           /* default "=" */
    char      *kv_delim;         /* default " ": any run of blanks */
} rparse;

typedef struct rtimestamp {
    int       line;
    rpath     field;
    tsformat *fmt;               /* owned; tried in order; default ISO8601 */
    size_t    nfmt;
    bool      has_tz;
    rtz       tz;
    bool      same_text;         /* a text's time never changes: every format
                                    has the year (ISO8601, or the access log's
                                    %d/%b/%Y:%H:%M:%S %z) */
} rtimestamp;

typedef enum {
    ACT_PARSE, ACT_TIMESTAMP, ACT_SET, ACT_RENAME, ACT_REMOVE, ACT_CONVERT,
    ACT_TAG, ACT_DROP, ACT_INDEX, ACT_STOP
} act_kind;

typedef enum { CONV_INT, CONV_FLOAT, CONV_BOOL, CONV_STRING } conv_kind;

/* Kinds of failure, counted in rules_failures_total{rule, action}. */
enum { FAIL_PARSE, FAIL_TIMESTAMP, FAIL_CONVERT, FAIL_SET, FAIL_KINDS };

typedef struct action {
    act_kind  kind;
    int       line;
    rpath     field;     /* SET/RENAME (from)/CONVERT */
    rpath     to;        /* RENAME */
    rtmpl     value;     /* SET, INDEX */
    rpath    *list;      /* REMOVE: owned */
    char    **tags;      /* TAG: owned */
    size_t    nlist;
    conv_kind conv;
} action;

typedef struct rule {
    char       *name;       /* owned */
    char       *file;       /* owned */
    int         line;       /* of the [rule NAME] header */
    char      **topics;     /* owned globs; none = every topic */
    size_t      ntopics;
    rcond      *cond;       /* owned; several `if` are ANDed; NULL = always */
    action     *acts;       /* owned, in the order written */
    size_t      nacts;
    rparse      parse;
    rtimestamp  ts;
    bool        has_ts;
    uint32_t    match_limit; /* for this rule's regexes */
    /* precomputed tags */
    char       *tag_parse, *tag_ts, *tag_conv, *tag_set;
} rule;

/* Mutable per-set state used while applying (the engine is single-threaded:
 * one rules set is applied by one thread at a time). Kept apart from the
 * rules proper so rules_apply can take a const rules. */
typedef struct rules_state {
    rmatch            m;
    pcre2_jit_stack  *jit_stack;   /* 32 KiB growing to 1 MiB          */
    uint32_t          limit;       /* match limit now set in m.ctx     */
    uint64_t         *dropped;     /* per rule */
    void            **drop_series; /* per rule: lf_series *, when metrics */
    void            **fail_series; /* per rule and FAIL_*: lf_series *     */
    char             *topic;       /* cache: last topic seen ...          */
    unsigned char    *topic_match; /* ... and which rules it matches,     */
    int               fields_kind; /* ... rules_fields' answer for it     */
    const char      **fields;      /* (owned array, borrowed names)       */
    size_t            nfields, nwritten;
    size_t           *fields_len;  /* ... their lengths                   */
    struct rules_direct *direct;   /* ... and its plan (rules_direct.c)  */
    bool              direct_off;  /* rules_direct_enable(false)         */
    char              direct_why[200]; /* ... why there is no plan        */
    void             *dtree;       /* rules_direct_run's last fields      */
    int64_t           day;         /* cache for the default index date    */
    char              day_text[16];
    /* the last @timestamp text read for the index and its time: mostly the
     * one set_timestamp has just written (ts_len 0: none) */
    char              ts_text[32];
    size_t            ts_len;
    int64_t           ts_ms;
    rt_daytext        ts_day;      /* set_timestamp's last date text     */
    /* rules_ts_text's last text (tsc_rule NULL: none) and what it made */
    const struct rule *tsc_rule;
    char              tsc_in[48];
    size_t            tsc_in_len;
    char              tsc_out[40];
    size_t            tsc_out_len;
    int64_t           tsc_ms;
    /* the default index name of idx_topic on idx_day, fixed (idx_topic
     * NULL: none) */
    char             *idx_topic;
    int64_t           idx_day;
    char              idx_name[256];
    struct strbuf    *scratch;
} rules_state;

struct rules {
    rule        *v;     /* owned */
    size_t       n;
    uint32_t     max_pairs;
    rules_state *st;    /* owned */
};

/* rules_parse.c: named groups → fields; err as rre_compile. */
int  rregex_init(rregex *r, const char *pattern, uint32_t *max_pairs, char *err, size_t errlen);
void rregex_free(rregex *r);
/* rules_load.c */
void rule_free(rule *r);
/* rules_parse.c */
int  rparse_apply(const rparse *p, cJSON *doc, const rmatch *m);
void rparse_free(rparse *p);
/* rules_actions.c */
void action_free(action *a);
int  action_set(const action *a, cJSON *doc, struct strbuf *scratch);
int  action_rename(const action *a, cJSON *doc);
void action_remove(const action *a, cJSON *doc);
int  convert_value(cJSON *doc, const rpath *field, conv_kind k);
/* What convert_value makes of a string: a number (int: truncated; digits,
 * sign, '.', e, E only, blanks around), or a bool (true/false yes/no on/off
 * 1/0 t/f y/n, any case). false / -1 when it is neither. */
bool conv_str_number(const char *s, bool want_int, double *out);
int  conv_str_bool(const char *s, bool *out);

/* rules.c, for rules_direct.c: what set_timestamp writes for the value v
 * of a rule's timestamp field (0 and the text in buf, *len; -1 when no
 * format takes it), and the index rules_apply ends with (a, ru: the last
 * index action that ran, NULL: the default). */
int  rules_ts_text(const rules *r, const rule *ru, const cJSON *v, char buf[40], size_t *len);
void rules_index(const rules *r, const rule *ru, const action *a, const char *topic,
                 const cJSON *doc, rules_result *res);
/* A drop by rule i counted (rules_dropped, the metric); res as a record
 * kept with the default index, before the rules run. */
void rules_count_drop(const rules *r, size_t i);

/* rules_fields.c: rules_fields' answer for the rules sel[] selects
 * (*out malloc'd when 1); when -1, why (NULL ok) says which rule makes it. */
int rules_fields_compute(const rules *r, const unsigned char *sel, const char ***out, size_t *n,
                         size_t *nwritten, char *why, size_t whylen);

/* rules_direct.c: the plan for the rules sel[] selects, NULL when they
 * must run on a tree (malloc'd; names: rules_fields' for them); why (NULL
 * ok) then says which rule and action keep them off the plan. */
struct rules_direct *rules_direct_compile(const rules *r, const unsigned char *sel,
                                          const char *const *names, size_t nnames, char *why,
                                          size_t whylen);
void rules_direct_free(struct rules_direct *p);

/* Index names: Elasticsearch's rules, fixed or refused (rules_index.c). */
int index_name_fix(char *name, char *reason, size_t rlen);

#endif
