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


typedef struct rec_doc {
    rules_result res;     /* the rules' verdict and index */
    const char  *src;     /* the document (KEEP or DLQ): in->value's own bytes
                           * or the caller's out buffer; NULL when dropped */
    size_t       len;
    char         id[REC_ID_MAX + 1];
    unsigned     flags;   /* REC_F_* */
    rules_way  how;
} rec_doc;

/* Makes d for in, a record of topic. Call inside a jarena window: the
 * tree the rules work on is the window's (jarena_end releases it), and
 * d->src may point into it until then (via out, reset here). sp: the
 * caller's scratch for rec_splice (large: not on the stack). 0, or -1 with
 * err when out of memory. */
int rec_document(const rules *r, const char *topic, const rec_in *in, rec_format fmt,
                 rec_splice *sp, strbuf *out, rec_doc *d, char *err, size_t errlen);

#endif
