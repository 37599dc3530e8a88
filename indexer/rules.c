/* rules: applying a loaded rules set to a record (see rules.h); loading is
 * in rules_load.c, the actions in rules_actions.c / rules_parse.c. */
#include "indexer/rules.h"
#include "indexer/rules_internal.h"
#include "indexer/rules_time.h"
#include "common/metrics.h"
#include "common/strbuf.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void rules_free(rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        rule_free(&r->v[i]);
    free(r->v);
    r->v = NULL;
    if (r->st) {
        pcre2_match_data_free(r->st->m.md);
        pcre2_match_context_free(r->st->m.ctx);
        pcre2_jit_stack_free(r->st->jit_stack);
        free(r->st->dropped);
        free(r->st->drop_series);
        free(r->st->fail_series);
        free(r->st->topic);
        free(r->st->topic_match);
        free(r->st->fields);
        free(r->st->fields_len);
        rules_direct_free(r->st->direct);
        free(r->st->dtree);
        free(r->st->idx_topic);
        if (r->st->scratch)
            sb_free(r->st->scratch);
        free(r->st->scratch);
        free(r->st);
        r->st = NULL;
    }
    free(r);
}

size_t rules_count(const rules *r) { return r ? r->n : 0; }

const char *rules_name(const rules *r, size_t i) { return r && i < r->n ? r->v[i].name : NULL; }

uint64_t rules_dropped(const rules *r, size_t i) { return r && i < r->n ? r->st->dropped[i] : 0; }

/* Which rules a topic selects, kept for the last topic seen: records come
 * in runs per partition, so the globs are matched once per run. */
static const unsigned char *topic_rules(const rules *r, const char *topic)
{
    rules_state *st = r->st;
    if (st->topic && !strcmp(st->topic, topic))
        return st->topic_match;
    free(st->topic);
    st->topic = strdup(topic);
    if (!st->topic)
        abort();
    for (size_t i = 0; i < r->n; i++) {
        const rule *ru = &r->v[i];
        bool m = ru->ntopics == 0;
        for (size_t k = 0; k < ru->ntopics && !m; k++)
            m = fnmatch(ru->topics[k], topic, 0) == 0;
        st->topic_match[i] = m;
    }
    free(st->fields);
    st->fields_kind =
        rules_fields_compute(r, st->topic_match, &st->fields, &st->nfields, &st->nwritten, NULL, 0);
    free(st->fields_len);
    st->fields_len = NULL;
    if (st->fields_kind == 1) {
        if (!(st->fields_len = malloc((st->nfields ? st->nfields : 1) * sizeof *st->fields_len)))
            abort();
        for (size_t i = 0; i < st->nfields; i++)
            st->fields_len[i] = strlen(st->fields[i]);
    }
    rules_direct_free(st->direct);
    st->direct = st->fields_kind == 1 && !st->direct_off
                     ? rules_direct_compile(r, st->topic_match, st->fields, st->nfields,
                                            st->direct_why, sizeof st->direct_why)
                     : NULL;
    return st->topic_match;
}

int rules_fields(const rules *r, const char *topic, const char *const **names, size_t *n,
                 size_t *nwritten)
{
    *names = NULL;
    *n = *nwritten = 0;
    if (!r || r->n == 0)
        return 0;
    topic_rules(r, topic ? topic : "");
    *names = r->st->fields;
    *n = r->st->nfields;
    *nwritten = r->st->nwritten;
    return r->st->fields_kind;
}

const size_t *rules_fields_lengths(const rules *r)
{
    return r && r->st && r->st->fields_kind == 1 ? r->st->fields_len : NULL;
}

const rules_direct *rules_fields_plan(const rules *r)
{
    return r && r->st ? r->st->direct : NULL;
}

const rules_direct *rules_direct_plan(const rules *r, const char *topic)
{
    if (!r || r->n == 0)
        return NULL;
    topic_rules(r, topic ? topic : "");
    return r->st->direct;
}

const char *rules_way_name(rules_way w)
{
    static const char *const name[RULES_WAYS] = {
        [RULES_WAY_WHOLE] = "whole", [RULES_WAY_NONE] = "none",
        [RULES_WAY_MEMBERS] = "members", [RULES_WAY_DIRECT] = "direct"};
    return (unsigned)w < RULES_WAYS ? name[w] : "?";
}

rules_way rules_explain(const rules *r, const char *topic, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    if (!r || r->n == 0)
        return RULES_WAY_NONE;
    const unsigned char *sel = topic_rules(r, topic ? topic : "");
    rules_state *st = r->st;
    if (st->fields_kind == 0)
        return RULES_WAY_NONE;
    if (st->direct)
        return RULES_WAY_DIRECT;
    if (st->fields_kind == 1) {
        if (why && whylen) /* the compile topic_rules ran said why */
            snprintf(why, whylen, "%s", st->direct_off ? "the direct way is off" : st->direct_why);
        return RULES_WAY_MEMBERS;
    }
    const char **names = NULL;
    size_t n, nw;
    rules_fields_compute(r, sel, &names, &n, &nw, why, whylen);
    free(names);
    return RULES_WAY_WHOLE;
}

void rules_direct_enable(rules *r, bool on)
{
    if (!r || !r->st)
        return;
    r->st->direct_off = !on;
    free(r->st->topic); /* the plans are made again on the next record */
    r->st->topic = NULL;
}

static strbuf *scratch(const rules *r)
{
    if (!r->st->scratch) {
        r->st->scratch = calloc(1, sizeof(strbuf));
        if (!r->st->scratch)
            abort();
    }
    return r->st->scratch;
}

void rules_count_drop(const rules *r, size_t i)
{
    r->st->dropped[i]++;
    if (r->st->drop_series[i])
        lf_counter_add(r->st->drop_series[i], 1);
}

void rules_result_init(rules_result *res)
{
    res->verdict = RULES_KEEP;
    res->rule = NULL;
    res->index[0] = '\0';
    res->reason[0] = '\0';
}

/* A failed action: the record carries the tag, the metric the count. */
static void failed(const rules *r, size_t i, int kind, const char *tag, cJSON *doc)
{
    doc_add_tag(doc, tag);
    void *s = r->st->fail_series[i * FAIL_KINDS + (size_t)kind];
    if (s)
        lf_counter_add(s, 1);
}

/* Sets doc's @timestamp to the string `text` (len bytes). The record
 * mostly has one already, from the envelope, of the same length: its text
 * is overwritten in place (no new item, no allocation). Else as obj_set. */
static void set_ts_text(cJSON *doc, const char *text, size_t len)
{
    cJSON *old = obj_child(doc, "@timestamp");
    if (cJSON_IsString(old) && !(old->type & cJSON_IsReference) && old->valuestring &&
        strnlen(old->valuestring, len + 1) == len) {
        memcpy(old->valuestring, text, len);
        return;
    }
    obj_set(doc, "@timestamp", cJSON_CreateString(text));
}

/* The text of a time, as the index reads it back (rules_index). */
static void index_time(rules_state *st, const char *buf, size_t len, int64_t ms)
{
    if (rt_iso8601_exact(ms)) { /* the index need not parse it back */
        memcpy(st->ts_text, buf, len + 1);
        st->ts_len = len;
        st->ts_ms = ms;
    }
}

int rules_ts_text(const rules *r, const rule *ru, const cJSON *v, char buf[40], size_t *len)
{
    rules_state *st = r->st;
    /* Consecutive records mostly carry the same second (an access log at
     * 1,000 lines/s repeats each text a thousand times): the last text a
     * rule read is kept with what it made, when no clock enters its time
     * (a date without a year is this year or last), which was ~570
     * instructions a record with the shipped nginx rule. */
    size_t in_len = 0;
    bool keep = ru->ts.same_text && cJSON_IsString(v) &&
                (in_len = strlen(v->valuestring)) < sizeof st->tsc_in;
    if (keep && st->tsc_rule == ru && st->tsc_in_len == in_len &&
        !memcmp(st->tsc_in, v->valuestring, in_len)) {
        memcpy(buf, st->tsc_out, st->tsc_out_len + 1);
        *len = st->tsc_out_len;
        index_time(st, buf, *len, st->tsc_ms);
        return 0;
    }
    int64_t ms;
    for (size_t i = 0; i < ru->ts.nfmt; i++) {
        /* ts_parse may update the zone's one-hour cache: the only state a
         * rule changes while applied (one thread applies a rules set). */
        rtz *z = ru->ts.has_tz ? (rtz *)&ru->ts.tz : NULL;
        if (ts_parse(&ru->ts.fmt[i], z, v, -1, &ms) == 0) {
            *len = rt_format_iso8601_day(ms, &st->ts_day, buf, 40);
            index_time(st, buf, *len, ms);
            if (keep) {
                st->tsc_rule = ru;
                memcpy(st->tsc_in, v->valuestring, in_len);
                st->tsc_in_len = in_len;
                memcpy(st->tsc_out, buf, *len + 1);
                st->tsc_out_len = *len;
                st->tsc_ms = ms;
            }
            return 0;
        }
    }
    return -1;
}

static void set_timestamp(const rules *r, size_t idx, const rule *ru, cJSON *doc)
{
    const cJSON *v = rpath_get(&ru->ts.field, doc);
    if (!v)
        return; /* nothing to read: not a failure (e.g. an optional field) */
    char buf[40];
    size_t len;
    if (rules_ts_text(r, ru, v, buf, &len) == 0)
        set_ts_text(doc, buf, len);
    else
        failed(r, idx, FAIL_TIMESTAMP, ru->tag_ts, doc);
}

/* The milliseconds of a UTC time written as the collector writes it,
 * YYYY-MM-DDTHH:MM:SS.mmmZ (24 bytes), -1 when text is not of that form
 * (its first 20 bytes are the caller's to check). */
static int utc_millis(const char *text, size_t len)
{
    if (len != 24 || text[19] != '.' || text[23] != 'Z')
        return -1;
    int m = 0;
    for (int i = 20; i < 23; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        m = m * 10 + (text[i] - '0');
    }
    return m;
}

/* The time of doc's @timestamp, now when it has none that parses. st
 * (may be NULL) remembers the last text parsed: consecutive records often
 * carry the same second. Records from the collector carry milliseconds,
 * so the same text rarely comes twice, but the same second does: a text
 * of the collector's form that differs from the last one in its
 * milliseconds only is the last time moved by the difference (the parse
 * was ~300 instructions of a record sent without rules). */
static int64_t doc_time_ms(rules_state *st, const cJSON *doc)
{
    const cJSON *ts = obj_child(doc, "@timestamp");
    int64_t ms;
    if (!cJSON_IsString(ts))
        return rt_now_ms();
    const char *text = ts->valuestring;
    if (st && st->ts_len && !strcmp(text, st->ts_text))
        return st->ts_ms;
    size_t len = strlen(text);
    int now_m, last_m;
    if (st && (now_m = utc_millis(text, len)) >= 0 && st->ts_len == 24 &&
        !memcmp(text, st->ts_text, 20) && (last_m = utc_millis(st->ts_text, 24)) >= 0) {
        ms = st->ts_ms + (now_m - last_m);
    } else if (rt_parse_iso8601(text, 0, &ms) != 0) {
        return rt_now_ms();
    }
    if (st && len < sizeof st->ts_text) {
        memcpy(st->ts_text, text, len + 1);
        st->ts_len = len;
        st->ts_ms = ms;
    }
    return ms;
}

static void doc_tm(rules_state *st, const cJSON *doc, struct tm *tm)
{
    int64_t ms = doc_time_ms(st, doc);
    time_t t = (time_t)rt_floor_div(ms, 1000);
    gmtime_r(&t, tm);
}

/* Copies name into res->index and makes it a name Elasticsearch accepts,
 * or turns the verdict into DLQ with the reason (rules_index.c). */
static void set_index(rules_result *res, const char *name, size_t len)
{
    if (len >= sizeof res->index) {
        res->verdict = RULES_DLQ;
        snprintf(res->reason, sizeof res->reason,
                 "index name longer than 255 bytes: \"%.64s...\"", name);
        return;
    }
    memcpy(res->index, name, len + 1);
    if (index_name_fix(res->index, res->reason, sizeof res->reason) != 0) {
        res->verdict = RULES_DLQ;
        res->index[0] = '\0';
    }
}

void rules_index(const rules *r, const rule *ru, const action *a, const char *topic,
                 const cJSON *doc, rules_result *res)
{
    if (a) {
        struct tm tm;
        strbuf *sb = scratch(r);
        if (a->value.has_strf)
            doc_tm(r->st, doc, &tm);
        rtmpl_expand(&a->value, doc, a->value.has_strf ? &tm : NULL, sb);
        res->rule = ru->name;
        set_index(res, sb_str(sb), sb->len);
        return;
    }
    /* Default "logs-<topic>-%Y.%m.%d", the date text kept per day: this
     * runs for every record, so no strftime or printf here. */
    rules_state *st = r ? r->st : NULL;
    int64_t ms = doc_time_ms(st, doc);
    int64_t day = rt_floor_div(ms, 86400000);
    if (st && st->idx_topic && st->idx_day == day && !strcmp(st->idx_topic, topic)) {
        /* the name this topic and day had for the last record, fixed */
        memcpy(res->index, st->idx_name, strlen(st->idx_name) + 1);
        return;
    }
    char day_text[sizeof st->day_text];
    if (!st || st->day != day) {
        rt_tm t;
        rt_civil(ms, &t);
        snprintf(day_text, sizeof day_text, "%04lld.%02u.%02u", (long long)t.year, t.mon, t.mday);
        if (st) {
            memcpy(st->day_text, day_text, sizeof day_text);
            st->day = day;
        }
    } else {
        memcpy(day_text, st->day_text, sizeof day_text);
    }
    size_t tlen = strlen(topic), dlen = strlen(day_text);
    char name[sizeof res->index + 1];
    if (5 + tlen + 1 + dlen >= sizeof name) {
        set_index(res, topic, sizeof res->index); /* too long: DLQ */
        return;
    }
    memcpy(name, "logs-", 5);
    memcpy(name + 5, topic, tlen);
    name[5 + tlen] = '-';
    memcpy(name + 6 + tlen, day_text, dlen + 1);
    set_index(res, name, 6 + tlen + dlen);
    if (st && res->verdict == RULES_KEEP) {
        if (!st->idx_topic || strcmp(st->idx_topic, topic) != 0) {
            free(st->idx_topic);
            st->idx_topic = strdup(topic);
            if (!st->idx_topic)
                abort();
        }
        st->idx_day = day;
        memcpy(st->idx_name, res->index, strlen(res->index) + 1);
    }
}

void rules_apply(const rules *r, const char *topic, cJSON *doc, rules_result *res)
{
    rules_result_init(res);
    if (!topic)
        topic = "";
    const rule *idx_rule = NULL;
    const action *idx_act = NULL;
    if (!r || r->n == 0)
        goto done; /* no rules: the default index only */
    const unsigned char *sel = topic_rules(r, topic);
    for (size_t i = 0; i < r->n; i++) {
        const rule *ru = &r->v[i];
        if (!sel[i])
            continue;
        if (r->st->limit != ru->match_limit) {
            pcre2_set_match_limit(r->st->m.ctx, ru->match_limit);
            r->st->limit = ru->match_limit;
        }
        if (ru->cond && !rcond_eval(ru->cond, doc, &r->st->m))
            continue;
        for (size_t k = 0; k < ru->nacts; k++) {
            const action *a = &ru->acts[k];
            switch (a->kind) {
            case ACT_PARSE:
                if (rparse_apply(&ru->parse, doc, &r->st->m) != 0)
                    failed(r, i, FAIL_PARSE, ru->tag_parse, doc);
                break;
            case ACT_TIMESTAMP:
                set_timestamp(r, i, ru, doc);
                break;
            case ACT_SET:
                if (action_set(a, doc, scratch(r)) != 0)
                    failed(r, i, FAIL_SET, ru->tag_set, doc);
                break;
            case ACT_RENAME:
                if (action_rename(a, doc) != 0)
                    failed(r, i, FAIL_SET, ru->tag_set, doc);
                break;
            case ACT_REMOVE:
                action_remove(a, doc);
                break;
            case ACT_CONVERT:
                if (convert_value(doc, &a->field, a->conv) != 0)
                    failed(r, i, FAIL_CONVERT, ru->tag_conv, doc);
                break;
            case ACT_TAG:
                for (size_t t = 0; t < a->nlist; t++)
                    doc_add_tag(doc, a->tags[t]);
                break;
            case ACT_DROP:
                res->verdict = RULES_DROP;
                res->rule = ru->name;
                rules_count_drop(r, i);
                return;
            case ACT_INDEX:
                idx_rule = ru;
                idx_act = a;
                break;
            case ACT_STOP:
                goto done;
            }
        }
    }
done:
    rules_index(r, idx_rule, idx_act, topic, doc, res);
}
