/* bulk_resp: what an Elasticsearch _bulk answer means for each item.
 *
 * Items come back in request order (protocols.md §B); each is classified by
 * its status, never by its error type: 2xx done, 409 already there (done,
 * with deterministic ids), 429 and 5xx retry that item, any other status
 * dead-letter. The whole request's HTTP status is classified separately. */
#ifndef LF_INDEXER_BULK_RESP_H
#define LF_INDEXER_BULK_RESP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

typedef enum { BR_DONE = 0, BR_DUP, BR_RETRY, BR_DLQ } br_class;

typedef struct br_item {
    int         status;
    br_class    cls;
    const char *type;   /* error.type, borrowed from the response; NULL if none */
    const char *reason; /* error.reason, borrowed; NULL if none */
} br_item;

typedef struct bulk_resp {
    cJSON   *root;
    br_item *items;
    size_t   n;
    size_t   counts[4]; /* by br_class */
} bulk_resp;

br_class bulk_item_class(int status);

/* Parses a 2xx answer that must list exactly `expected` items. 0, or -1 with
 * err (not JSON, no items array, wrong count, an item without status): the
 * caller retries the whole request, since nothing can be known per item.
 * A top-level "errors":false means every item succeeded: then the items
 * are only counted, by their "status" keys, not parsed (status reads 200),
 * and an answer whose items are not JSON but that names one status per
 * action is taken at its word. It is looked for where Elasticsearch
 * writes it, before "items" and beside whole numbers only ("took"); one
 * anywhere else leaves the items to be read one by one. The count is
 * checked either way: an answer for fewer or more actions than were sent
 * is refused. */
int  bulk_resp_parse(bulk_resp *r, const char *body, size_t len, size_t expected,
                     char *err, size_t errlen);
void bulk_resp_free(bulk_resp *r);

/* What to do with a whole request, by HTTP status (0 = no answer: connect
 * error, timeout, reset). */
typedef enum {
    BH_ITEMS = 0, /* 2xx: look at the items */
    BH_SPLIT,     /* 413: halve and resend (a single item: dead-letter) */
    BH_RETRY,     /* 429, 5xx, no answer, and 400/401/403/404/406: back off, resend */
} bh_class;
bh_class bulk_http_class(long status);

/* Exponential backoff with jitter: base * 2^attempt capped at max, then a
 * random point in [d/2, d]. rng: caller's xorshift state (non-zero). */
double bulk_backoff(unsigned attempt, double base, double max, uint32_t *rng);

#endif
