/* record_direct: the record side of rules run without a tree (record.h,
 * rec_splice_direct; the rules' side is rules_direct.c). The scan has
 * found the members the rules name; here the parse's source is read from
 * its text, the members the rules write are handed over as the tree would
 * hold them, the plan is run, and the document is printed as
 * rec_splice_print would print the tree: the record's members as written,
 * but those the rules write (and @timestamp), printed where they stood as
 * the rules left them (or left out when removed), then the default
 * @timestamp if the tree would have added one, then what the rules
 * added (@timestamp among them, where the tree would add it, when the
 * document had none: a record without it read with no Kafka time, as
 * --test-rules reads its input). */
#include "indexer/record.h"
#include "indexer/jparse.h"
#include "indexer/jprint.h"
#include "indexer/rules.h"

#include <string.h>

/* Escaped source texts up to this size are decoded on the stack; longer
 * ones (rare in logs) take the tree's way. */
#define DIRECT_DECODE_MAX 4096

int rec_splice_direct(const rec_splice *sp, const rules *r, const rules_direct *p,
                      const char *topic, const rec_in *in, strbuf *out, rules_result *res)
{
    const jscan_member *w = sp->want;
    int si = rules_direct_source(p), ti = rules_direct_ts(p);
    sb_reset(out);
    char scratch[DIRECT_DECODE_MAX];
    const char *src = NULL;
    size_t n = 0;
    if (si >= 0 && w[si].val) {
        if (w[si].len > sizeof scratch && memchr(w[si].val, '\\', w[si].len))
            return 0;
        src = jstring_text(w[si].val, w[si].len, scratch, &n);
        if (src == scratch && memchr(src, '\0', n))
            return 0; /* the tree's string ends at its \u0000 (the scan refused raw NULs) */
    }

    /* the members the rules write that the record has, as the tree holds
     * them (the source as its text): the rules may change them in place */
    rules_direct_member rm[REC_SPLICE_NAMES];
    int at_rm[REC_SPLICE_NAMES]; /* per name: its place in rm, -1: none */
    size_t nrm = 0;
    for (size_t i = 0; i < sp->nnames; i++) {
        at_rm[i] = -1;
        if (!w[i].val || (int)i == ti)
            continue;
        rules_direct_member *m = &rm[nrm];
        /* klen: rec_splice_scan had rules_fields' lengths */
        *m = (rules_direct_member){.key = sp->names[i], .klen = w[i].klen,
                                   .span = w[i].val, .span_len = w[i].len};
        /* written ones parsed now; read-only ones when a condition reads them */
        if ((int)i == si && src) {
            m->s = src;
            m->n = n;
        } else if (i < sp->nwritten) {
            cJSON *v;
            if (jparse(w[i].val, w[i].len, &v, NULL, 0) != 0)
                return -1; /* scanned already: only memory can fail */
            m->v = v;
        }
        at_rm[i] = (int)nrm++;
    }

    rules_direct_out o;
    bool ts_in_doc = w[ti].val || in->ts_ms >= 0;
    if (!rules_direct_run(r, p, src, n, rm, nrm, ts_in_doc, &o))
        return 0;
    if (o.dropped_by) { /* as rules_apply leaves it: no index */
        rules_result_init(res); /* not a 528-byte compound literal per record */
        res->verdict = RULES_DROP;
        res->rule = o.dropped_by;
        return 1;
    }
    /* @timestamp: as the rules set it, else as the tree held it before
     * them (the record's, or the one it adds from the Kafka time) */
    cJSON *ts_rec = NULL, ts = {0};
    char def[40];
    ts.type = cJSON_String | cJSON_StringIsConst;
    ts.string = (char *)"@timestamp";
    const cJSON *ts_doc = &ts;
    if (o.ts_set) { /* (printed among the rules' members when !ts_in_doc) */
        ts.valuestring = o.ts;
    } else if (w[ti].val) {
        if (jparse(w[ti].val, w[ti].len, &ts_rec, NULL, 0) != 0)
            return -1; /* scanned already: only memory can fail */
        ts_rec->string = (char *)"@timestamp";
        ts_rec->type |= cJSON_StringIsConst;
        ts_doc = ts_rec;
    } else if (in->ts_ms >= 0) {
        rec_format_ts(in->ts_ms, def, sizeof def);
        ts.valuestring = def;
    } else {
        ts_doc = NULL;
    }
    rules_direct_index(r, topic, ts_doc, res);

    sb_putc(out, '{');
    bool first = true;
    for (size_t k = 0; k < sp->n; k++) {
        const jscan_span *m = &sp->m[k];
        size_t before = out->len;
        if (!first)
            sb_putc(out, ',');
        if (m->want == ti) {
            jprint_member(out, ts_doc);
        } else if (m->want >= 0 && (size_t)m->want < sp->nwritten) {
            if (!rules_direct_print_member(r, (size_t)at_rm[m->want], out)) {
                out->len = before; /* removed */
                out->buf[before] = '\0';
                continue;
            }
        } else {
            sb_append(out, m->at, m->len);
        }
        first = false;
    }
    if (!w[ti].val && ts_in_doc) { /* added by the tree before the rules ran */
        if (!first)
            sb_putc(out, ',');
        first = false;
        jprint_member(out, ts_doc);
    }
    rules_direct_print(r, !first, out);
    sb_putc(out, '}');
    return 1;
}
