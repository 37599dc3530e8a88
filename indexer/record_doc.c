/* record_doc: see record_doc.h. */
#include "indexer/record_doc.h"
#include "indexer/jprint.h"

#include <stdio.h>

/* rules_fields names at most what rec_splice has room for */
_Static_assert(RULES_FIELDS_MAX <= REC_SPLICE_NAMES, "rec_splice too small for rules_fields");

int rec_document(const rules *r, const char *topic, const rec_in *in, rec_format fmt,
                 rec_splice *sp, strbuf *out, rec_doc *d, char *err, size_t errlen)
{
    cJSON *doc = NULL;
    sb_reset(out);
    d->src = NULL;
    d->len = 0;
    d->how = RULES_WAY_WHOLE;
    /* A record no rule reads is sent as written (rec_pass): no tree, no
     * print; doc then holds only its @timestamp, for the index name. When
     * the rules name the members they use (rules_fields), only those are
     * parsed and printed (rec_splice_*), and when the rules can run on
     * those members' text (rules_direct_plan), not even they are: no tree
     * at all (rec_splice_direct). Else the whole record is parsed. */
    const char *const *names;
    size_t nnames, nwritten;
    int known = rules_fields(r, topic, &names, &nnames, &nwritten), rc = 0;
    if (known == 0 && (rc = rec_pass(in, fmt, out, &d->src, &d->len, &doc, d->id, &d->flags)) > 0)
        d->how = RULES_WAY_NONE;
    else if (known == 1 &&
             (rc = rec_splice_scan(sp, in, fmt, names, rules_fields_lengths(r), nnames, nwritten,
                                   d->id, &d->flags)) > 0) {
        const rules_direct *plan = rules_fields_plan(r);
        if (plan && (rc = rec_splice_direct(sp, r, plan, topic, in, out, &d->res)) > 0) {
            d->how = RULES_WAY_DIRECT;
            if (d->res.verdict != RULES_DROP) {
                d->src = out->buf;
                d->len = out->len;
            }
            return 0;
        }
        if (rc >= 0 && (rc = rec_splice_tree(sp, in, &doc)) > 0)
            d->how = RULES_WAY_MEMBERS;
    }
    if (rc < 0) {
        snprintf(err, errlen, "out of memory decoding");
        return -1;
    }
    if (d->how == RULES_WAY_WHOLE && rec_decode(in, fmt, &doc, d->id, &d->flags, err, errlen))
        return -1;
    rules_apply(r, topic, doc, &d->res);
    if (d->res.verdict == RULES_DROP) {
        d->src = NULL;
        d->len = 0;
        return 0;
    }
    if (d->how != RULES_WAY_NONE) {
        if (d->how == RULES_WAY_WHOLE)
            jprint(out, doc);
        else
            rec_splice_print(sp, doc, out);
        d->src = out->buf;
        d->len = out->len;
    }
    return 0;
}
