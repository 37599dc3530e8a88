/* record_splice: a record of a topic whose rules read and write known
 * members (rules_fields): only those members are parsed into the tree the
 * rules get; the document sent is the record's object with each of them
 * replaced, where it stood, by what the rules left of it (dropped when
 * they removed it), the members they added after, as the tree's print
 * would put them, and every other member as written (record.h).
 *
 * Why: the members rules do not name (log, host, event, agent...) only
 * need to be checked and copied, not parsed into nodes and printed back.
 * That is most of the work for a rule that reads a field or two of a wide
 * record (routing by a field: -11 % of the loop thread's instructions);
 * little for one whose document is mostly its own new members (the
 * shipped nginx rule: -2 %), since the check reads every byte anyway. */
#include "indexer/record.h"
#include "indexer/jparse.h"
#include "indexer/jprint.h"

#include <string.h>

int rec_splice_scan(rec_splice *sp, const rec_in *in, rec_format fmt, const char *const *names,
                    const size_t *lens, size_t nnames, size_t nwritten, char id[REC_ID_MAX + 1],
                    unsigned *flags)
{
    *flags = 0;
    sp->n = 0;
    /* names, then event and event.id for the _id (from the record as it
     * came, before the rules, as rec_decode takes it) */
    const char *p;
    size_t n;
    if (nnames > REC_SPLICE_NAMES || !rec_object_text(in, fmt, &p, &n))
        return 0;
    jscan_member *w = sp->want;
    for (size_t i = 0; i < nnames; i++)
        w[i] = (jscan_member){.key = names[i], .klen = lens ? lens[i] : 0};
    w[nnames] = (jscan_member){.key = "event", .klen = 5};
    w[nnames + 1] = (jscan_member){.key = "id", .klen = 2, .parent = (unsigned)nnames + 1};
    jscan_out o = {.members = sp->m, .max = REC_SPLICE_MEMBERS};
    if (jscan_object(p, n, w, nnames + 2, &o, NULL, 0) != 0 || o.line_break ||
        o.n > REC_SPLICE_MEMBERS)
        return 0;
    for (size_t i = 0; i < nnames; i++)
        if (w[i].count > 1)
            return 0; /* a named member twice: which one a rule sees is the tree's business */
    if (rec_pass_id(w[nnames + 1].val, w[nnames + 1].len, in, id, flags))
        return -1;
    sp->names = names;
    sp->nnames = nnames;
    sp->nwritten = nwritten;
    sp->n = o.n;
    sp->nread = 0;
    return 1;
}

int rec_splice_tree(rec_splice *sp, const rec_in *in, cJSON **doc)
{
    const char *const *names = sp->names;
    const jscan_member *w = sp->want;
    size_t nnames = sp->nnames, nwritten = sp->nwritten;
    *doc = NULL;
    /* the tree: the named members, in the record's order */
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return -1;
    *doc = d;
    for (size_t k = 0; k < sp->n; k++) {
        int i = sp->m[k].want;
        if (i < 0 || (size_t)i >= nnames)
            continue;
        cJSON *v = NULL;
        if (jparse(w[i].val, w[i].len, &v, NULL, 0) != 0)
            return -1; /* scanned already: only memory can fail */
        /* names outlive the document: rules.h, rules_fields */
        if (!cJSON_AddItemToObjectCS(d, names[i], v)) {
            cJSON_Delete(v);
            return -1;
        }
        if ((size_t)i >= nwritten)
            sp->read[sp->nread++] = v; /* sent as written, not printed */
    }
    if (rec_add_default_ts(d, in))
        return -1;
    return 1;
}

int rec_splice_begin(rec_splice *sp, const rec_in *in, rec_format fmt,
                     const char *const *names, size_t nnames, size_t nwritten, cJSON **doc,
                     char id[REC_ID_MAX + 1], unsigned *flags)
{
    *doc = NULL;
    int rc = rec_splice_scan(sp, in, fmt, names, NULL, nnames, nwritten, id, flags);
    return rc > 0 ? rec_splice_tree(sp, in, doc) : rc;
}

void rec_splice_print(const rec_splice *sp, const cJSON *doc, strbuf *out)
{
    /* the tree's members printed in place or only read, to skip after */
    const cJSON *done[2 * REC_SPLICE_NAMES];
    size_t ndone = sp->nread;
    memcpy(done, sp->read, sp->nread * sizeof *done);
    bool first = true;
    sb_putc(out, '{');
    for (size_t k = 0; k < sp->n; k++) {
        const jscan_span *m = &sp->m[k];
        int i = m->want;
        if (i >= 0 && (size_t)i < sp->nwritten) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, sp->names[i]);
            if (!v)
                continue; /* removed */
            if (!first)
                sb_putc(out, ',');
            jprint_member(out, v);
            done[ndone++] = v;
        } else {
            if (!first)
                sb_putc(out, ',');
            sb_append(out, m->at, m->len);
        }
        first = false;
    }
    for (const cJSON *c = doc->child; c; c = c->next) {
        size_t j = 0;
        while (j < ndone && done[j] != c)
            j++;
        if (j < ndone)
            continue;
        if (!first)
            sb_putc(out, ',');
        jprint_member(out, c);
        first = false;
    }
    sb_putc(out, '}');
}
