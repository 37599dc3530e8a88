/* rules: the indexer's rewrite rules (DESIGN.md §2 "Rules", issue 6).
 * Loaded from an INI file (+ rules.d/ *.ini in name order), applied in order
 * to each record's document (a cJSON object). Compiled once (PCRE2 JIT);
 * applying touches only the set's own match block and caches, so a new set
 * is loaded beside the running one and swapped on SIGHUP (a set that does
 * not load leaves the running one alone). The language: etc/rules.ini. */
#ifndef LF_INDEXER_RULES_H
#define LF_INDEXER_RULES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "common/strbuf.h"

typedef struct rules rules;

typedef enum { RULES_KEEP = 0, RULES_DROP = 1, RULES_DLQ = 2 } rules_verdict;

typedef struct rules_result {
    rules_verdict verdict;
    const char   *rule;        /* rule that dropped, or whose `index` was used
                                * (borrowed from rules); NULL: default index */
    char          index[256];  /* target index when KEEP */
    char          reason[256]; /* DLQ reason (e.g. invalid index name) */
} rules_result;

/* path may be NULL (no rules: records pass unchanged, default index).
 * dir: a rules.d directory, or NULL. Errors "file:line: reason". */
int  rules_load(rules **out, const char *path, const char *dir, char *err, size_t errlen);
/* Same from text in memory (tests, tools); `name` stands for the file in
 * error messages. */
int  rules_load_string(rules **out, const char *name, const char *text, char *err, size_t errlen);
void rules_free(rules *r);
size_t rules_count(const rules *r);

/* Applies every matching rule to doc (modified in place) and computes the
 * index: the last `index` action, else "logs-<topic>-%Y.%m.%d" on
 * @timestamp (UTC; now when absent or unparsable).
 * The keys of members the rules add point into r (cJSON "const" keys: one
 * malloc and free fewer per field on the hot path), so the document must be
 * printed or deleted before rules_free(r). Not thread-safe: one thread
 * applies a rules set (it keeps a regex match block and small caches). */
/* res as rules_apply starts it: keep, no rule, no index, no reason (without
 * zeroing the whole struct: its texts are 512 bytes). */
void rules_result_init(rules_result *res);
void rules_apply(const rules *r, const char *topic, cJSON *doc, rules_result *res);

/* The top-level members of a document that the rules selecting topic can
 * read or write: 1, with their names in *names (borrowed from r, valid
 * until the next call or rules_free), the first *nwritten of them those
 * some action may write or remove (@timestamp and tags always), the rest
 * only read. 0 when no rule selects the topic: rules_apply then only reads
 * @timestamp, for the index name. -1 when they cannot be known before the
 * record is seen (a parse = json or kv without a target puts the decoded
 * keys at the top; or too many names). The indexer parses only these
 * members into the tree it gives rules_apply, prints back only the
 * written ones and sends the others as written (record_splice.c). Same
 * state and thread rule as rules_apply. */
int rules_fields(const rules *r, const char *topic, const char *const **names, size_t *n,
                 size_t *nwritten);
/* The lengths of the names the last rules_fields call listed (the same
 * lifetime), NULL when it listed none. */
const size_t *rules_fields_lengths(const rules *r);
/* rules_direct_plan for the topic of the last rules_fields call (the same
 * lifetime), without looking the topic up again. */
struct rules_direct;
const struct rules_direct *rules_fields_plan(const rules *r);
/* The most names rules_fields lists (more: -1); the record scan asks for
 * each (jparse.h: at most 64, with event and event.id). */
#define RULES_FIELDS_MAX 48

/* Rules that can run without a tree (rules_direct.c): those a topic
 * selects when they parse at most one top-level string member with a
 * regex (no target), and otherwise only set @timestamp from, convert or
 * remove the fields its groups made, tag, drop, stop, or name the index
 * with a template of strftime codes, under conditions on any field but
 * @timestamp. rules_direct_plan returns the plan for topic (NULL: none),
 * valid until a call for another topic; it selects the same rules as
 * rules_fields, whose names the indexes below point into. */
typedef struct rules_direct rules_direct;
const rules_direct *rules_direct_plan(const rules *r, const char *topic);
int rules_direct_source(const rules_direct *p); /* the parse's source (-1: none) */
int rules_direct_ts(const rules_direct *p);     /* @timestamp */
/* What rules_direct_run makes besides the index. */
typedef struct rules_direct_out {
    const char *dropped_by; /* the rule that dropped the record (counted), NULL: kept */
    bool    ts_set;   /* @timestamp was set to ts (a C string) */
    char    ts[40];
} rules_direct_out;
/* Runs plan p (from rules_direct_plan(r, topic)) on a record whose source
 * member's text is src[0..n) (NULL: absent or not a string; no NUL in
 * it) and whose members the rules write (rules_fields' first nwritten
 * names) but @timestamp are rm[0..nrm), as the tree holds them (in
 * rules_fields' order). ts_in_doc: the document holds @timestamp before
 * the rules (the record's, or the one the tree adds from the Kafka time);
 * when not, a timestamp action adds it among the members the rules add
 * (rules_direct_print prints it). 1 with o as the tree would end; 0 when the record
 * must go the tree's way (a failure to tag and count, or something the
 * plan does not follow, such as a change inside a member of the record):
 * nothing was changed or counted then. */
typedef struct rules_direct_member {
    const char  *key;       /* its name, as rules_fields lists it */
    size_t       klen;
    const cJSON *v;         /* its value as the tree holds it (NULL: parsed from
                             * span when a condition reads it) ... */
    const char  *span;
    size_t       span_len;
    const char  *s;         /* ... or the source's text (s not NULL) */
    size_t       n;
} rules_direct_member;
int rules_direct_run(const rules *r, const rules_direct *p, const char *src, size_t n,
                     const rules_direct_member *rm, size_t nrm, bool ts_in_doc,
                     rules_direct_out *o);
/* After rules_direct_run returned 1, record member i (of rm) as the tree
 * prints it ("key":value, where it stood): false when the rules removed
 * it (nothing appended). */
bool rules_direct_print_member(const rules *r, size_t i, strbuf *out);
/* After rules_direct_run returned 1: res as rules_apply's, for the
 * document whose @timestamp is ts (an item keyed "@timestamp" with no
 * next, NULL: none). */
void rules_direct_index(const rules *r, const char *topic, const cJSON *ts, rules_result *res);
/* Appends the members the last rules_direct_run (that returned 1) added,
 * each after a ',' (but the first, unless comma), as the tree's print
 * writes them after the record's.
 * Only while src and rm's texts of that run are still there (they point
 * into them): rec_splice_direct calls it right away. */
void rules_direct_print(const rules *r, bool comma, strbuf *out);
/* Off: every topic's rules run on a tree (tests compare the two ways). */
void rules_direct_enable(rules *r, bool on);

/* The ways a record takes through the rules: how much of it is parsed
 * (rec_document's `how`, logferry_indexer_records_decoded_total{parsed}). */
typedef enum {
    RULES_WAY_WHOLE,   /* into a tree, printed back whole */
    RULES_WAY_NONE,    /* no rule selects the topic: sent as written */
    RULES_WAY_MEMBERS, /* only the members the rules name (rec_splice_*) */
    RULES_WAY_DIRECT,  /* the rules ran on the text of the members they
                        * read, without a tree (rec_splice_direct) */
} rules_way;
#define RULES_WAYS 4
/* Its name, as the metric's label and --test-rules show it. */
const char *rules_way_name(rules_way w);

/* For operators (--test-rules, the daemon's log when a topic's first
 * record comes): the way a topic's JSON records take through the rules.
 * Unless NONE or DIRECT, why (NULL ok) names the rule, where its action
 * is written and what keeps the topic off the faster way. A record a plan
 * declines (a pattern that does not match, a value that does not convert)
 * still takes the tree's way, alone. State and thread rule as
 * rules_fields. */
rules_way rules_explain(const rules *r, const char *topic, char *why, size_t whylen);

/* Metrics registered by rules_load (series are shared by name, so counts go
 * on across a reload):
 *   logferry_rules_dropped_total{rule="NAME"}
 *   logferry_rules_failures_total{rule="NAME",action="parse|timestamp|convert|set"} */

/* Name of rule i (file order, 0 <= i < rules_count), NULL past the end. */
const char *rules_name(const rules *r, size_t i);
/* Records dropped by rule i since this set was loaded. */
uint64_t rules_dropped(const rules *r, size_t i);
#endif
