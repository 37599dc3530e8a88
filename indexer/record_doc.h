/* record_doc: a record from Kafka to the document the indexer sends for
 * it: decoded (as little as its topic's rules need), rewritten by those
 * rules, printed. One place for the daemon (ix.c) and for --test-rules
 * (rules_cli.c), so that what the test shows is what would be sent, byte
 * for byte. */
#ifndef LF_INDEXER_RECORD_DOC_H
#define LF_INDEXER_RECORD_DOC_H
#include <stddef.h>
#include "common/strbuf.h"
#include "indexer/record.h"
#include "indexer/rules.h"

/* How much of the record was parsed (logferry_indexer_records_decoded_total). */
typedef enum {
    REC_DECODED_WHOLE,   /* into a tree, printed back whole */
    REC_DECODED_NONE,    /* no rule selects the topic: sent as written */
    REC_DECODED_MEMBERS, /* only the members the rules name (rec_splice_*) */
    REC_DECODED_DIRECT,  /* the rules ran on the text of the members they
                          * read, without a tree (rec_splice_direct) */
} rec_decoded;
#define REC_DECODED_KINDS 4
/* Its name, as the metric's label "parsed" and --test-rules show it. */
const char *rec_decoded_name(rec_decoded how);

typedef struct rec_doc {
    rules_result res;     /* the rules' verdict and index */
    const char  *src;     /* the document (KEEP or DLQ): in->value's own bytes
                           * or the caller's out buffer; NULL when dropped */
    size_t       len;
    char         id[REC_ID_MAX + 1];
    unsigned     flags;   /* REC_F_* */
    rec_decoded  how;
} rec_doc;

/* Makes d for in, a record of topic. Call inside a jarena window: the
 * tree the rules work on is the window's (jarena_end releases it), and
 * d->src may point into it until then (via out, reset here). sp: the
 * caller's scratch for rec_splice (large: not on the stack). 0, or -1 with
 * err when out of memory. */
int rec_document(const rules *r, const char *topic, const rec_in *in, rec_format fmt,
                 rec_splice *sp, strbuf *out, rec_doc *d, char *err, size_t errlen);

#endif
