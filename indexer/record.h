/* record: one Kafka record turned into the document to index.
 *
 * The collector writes either a JSON envelope (format = json) or the line's
 * bytes with host, path, offset and event id in headers (format = raw),
 * DESIGN.md §2. This module knows both, and never loses a record: a value
 * that should be JSON but is not is indexed as `message` with a tag.
 * Pure code (no Kafka, no I/O), so every edge case is unit-tested. */
#ifndef LF_INDEXER_RECORD_H
#define LF_INDEXER_RECORD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "common/strbuf.h"
#include "indexer/jparse.h"

/* Header names of raw records (the collector's side of the contract). */
#define REC_HDR_EVENT_ID  "event.id"
#define REC_HDR_HOST      "host.name"
#define REC_HDR_PATH      "log.file.path"
#define REC_HDR_OFFSET    "log.offset"
#define REC_HDR_TIMESTAMP "@timestamp"
#define REC_HDR_FLAGS     "log.flags"  /* "truncated,fragment" → log.flags array */

/* Tag added to `tags` when a value expected to be JSON was not. */
#define REC_TAG_NOT_JSON  "_jsonparsefailure"

/* The longest _id Elasticsearch accepts (bytes). */
#define REC_ID_MAX 512

typedef enum {
    REC_FMT_AUTO = 0, /* raw when the collector's raw headers are present, else JSON */
    REC_FMT_JSON,     /* JSON object expected; anything else is tagged */
    REC_FMT_RAW,      /* the value is the message */
} rec_format;

int rec_format_parse(const char *s, rec_format *out); /* "auto|json|raw" */
/* Whether rec_decode reads rec_in's headers in this format (json never
 * does): the consumer skips fetching them otherwise, since librdkafka
 * parses them with an allocation per record even when there are none. */
static inline bool rec_format_reads_headers(rec_format fmt) { return fmt != REC_FMT_JSON; }

typedef struct rec_header {
    const char *name;
    const void *value; /* may be NULL (a header without value) */
    size_t      len;
} rec_header;

typedef struct rec_in {
    const char       *topic;
    int32_t           partition;
    int64_t           offset;
    const void       *value;  /* may be NULL (tombstone) */
    size_t            len;
    const rec_header *hdrs;
    size_t            nhdrs;
    int64_t           ts_ms;  /* Kafka timestamp, -1 when unknown */
} rec_in;

enum {
    REC_F_NOT_JSON = 1u << 0, /* indexed as message + tag */
    REC_F_RAW      = 1u << 1, /* built from a raw record */
    REC_F_FALLBACK_ID = 1u << 2, /* no event.id: <topic>-<partition>-<offset> */
};

/* Builds the document (*doc, caller owns, cJSON_Delete) and its _id (NUL
 * terminated in id[REC_ID_MAX + 1]). Adds @timestamp from the Kafka
 * timestamp when the record has none. Returns 0, or -1 only when out of
 * memory (err says so). flags: REC_F_*. */
int rec_decode(const rec_in *in, rec_format fmt, cJSON **doc, char id[REC_ID_MAX + 1],
               unsigned *flags, char *err, size_t errlen);

/* Whether rec_decode builds this record from the collector's raw headers
 * (format raw, or auto and the record has them). */
bool rec_is_raw(const rec_in *in, rec_format fmt);

/* The _id of a document whose "event" member is ev (NULL: none): event.id
 * when it is a string of 1..REC_ID_MAX bytes, else
 * <topic>-<partition>-<offset> with REC_F_FALLBACK_ID added to *flags. */
void rec_id(const cJSON *ev, const rec_in *in, char id[REC_ID_MAX + 1], unsigned *flags);
/* The same from the text of event.id (s NULL: none, or not a string). */
void rec_id_text(const char *s, size_t len, const rec_in *in, char id[REC_ID_MAX + 1],
                 unsigned *flags);

/* The record as written, for a topic no rule reads (record_pass.c): when
 * its value is a JSON object on one line that rec_decode would index
 * (jparse takes it), returns 1 with the document in *doc, *doclen -- the
 * value's own bytes (without surrounding whitespace), or, when it has no
 * @timestamp, a copy in out with @timestamp added last, as rec_decode adds
 * it -- and id and flags as rec_decode's. *tsdoc is an object
 * holding only the document's @timestamp member (if any), for the index
 * name. Returns 0 when the record needs rec_decode (raw, not JSON, not an
 * object, on several lines), -1 when out of memory. Inside a jarena
 * window: *tsdoc is released by jarena_end.
 * Why: decoding into a tree and printing it again was two thirds of the
 * indexer's own work per record, for documents no rule changes. The
 * bytes sent differ from the tree's print only in spelling -- numbers,
 * escapes and spaces stay as the producer wrote them (1.0 stays 1.0, an
 * integer beyond 2^53 keeps its digits) -- never in content. */
int rec_pass(const rec_in *in, rec_format fmt, strbuf *out, const char **doc, size_t *doclen,
             cJSON **tsdoc, char id[REC_ID_MAX + 1], unsigned *flags);

/* For rec_pass and rec_splice_begin: the value of a record rec_decode
 * would take as JSON (not raw) without its surrounding whitespace, in
 * *text, *len, and whether it can be an object (starts with '{'). */
bool rec_object_text(const rec_in *in, rec_format fmt, const char **text, size_t *len);

/* The record's time (in->ts_ms, rec_format_ts) as @timestamp when doc has
 * none and the record has one, as every way of decoding adds it: 0, or -1
 * when out of memory. */
int rec_add_default_ts(cJSON *doc, const rec_in *in);

/* rec_id for records sent as written: v, len, the span of event.id as
 * written (jscan_object), NULL when none. -1 when out of memory. */
int rec_pass_id(const char *v, size_t len, const rec_in *in, char id[REC_ID_MAX + 1],
                unsigned *flags);

/* The records of a topic whose rules read and write only the members they
 * name (rules_fields), record_splice.c: rec_splice_begin parses only those
 * members, into *doc (with @timestamp added when the record has none, as
 * rec_decode does), and returns 1 with id and flags as rec_decode's; the
 * rules are applied to *doc, then rec_splice_print appends the document:
 * the record's members as written, but the ones named among the first
 * nwritten names, which are printed from *doc where they stood (or left
 * out, if the rules removed them), and the members the rules added at the
 * end. Members named after nwritten must be left alone by the rules. 0: the record needs
 * rec_decode (raw, not a JSON object, on several lines, more than
 * REC_SPLICE_MEMBERS members, a named member twice, more than
 * REC_SPLICE_NAMES names); -1: out of memory. sp points into in->value
 * until printed; *doc is in the jarena window, as rec_pass's. */
#define REC_SPLICE_NAMES   48
#define REC_SPLICE_MEMBERS 256
typedef struct rec_splice {
    const char *const *names;
    size_t             nnames, nwritten;
    const cJSON       *read[REC_SPLICE_NAMES]; /* *doc's members only read */
    size_t             nread;
    struct jscan_member want[REC_SPLICE_NAMES + 2];
    struct jscan_span  m[REC_SPLICE_MEMBERS];
    size_t             n;
} rec_splice;
int  rec_splice_begin(rec_splice *sp, const rec_in *in, rec_format fmt,
                      const char *const *names, size_t nnames, size_t nwritten, cJSON **doc,
                      char id[REC_ID_MAX + 1], unsigned *flags);
void rec_splice_print(const rec_splice *sp, const cJSON *doc, strbuf *out);
/* rec_splice_begin in two steps: the scan of the record (1, 0 or -1 as
 * rec_splice_begin, with id and flags; lens: the names' lengths, NULL to
 * measure them), then the tree of the members it
 * found (1, or -1 when out of memory), so that between the two
 * rec_splice_direct may do without the tree. */
int  rec_splice_scan(rec_splice *sp, const rec_in *in, rec_format fmt, const char *const *names,
                     const size_t *lens, size_t nnames, size_t nwritten,
                     char id[REC_ID_MAX + 1], unsigned *flags);
int  rec_splice_tree(rec_splice *sp, const rec_in *in, cJSON **doc);
/* After rec_splice_scan, the document of a topic whose rules have a
 * direct plan (rules.h, rules_direct_plan), made without a tree: the
 * record's members as written but @timestamp, where it stood, as the plan
 * left it, then the members the rules added (record_direct.c). 1 with the
 * document in out (reset) and res as rules_apply's; 0 when the record
 * must take the tree's way (out is reset then too); -1 when out of
 * memory. Inside a jarena window. */
struct rules;
struct rules_direct;
struct rules_result;
int  rec_splice_direct(const rec_splice *sp, const struct rules *r, const struct rules_direct *p,
                       const char *topic, const rec_in *in, strbuf *out,
                       struct rules_result *res);

/* Copies bytes into a JSON-safe string: invalid UTF-8 becomes U+FFFD.
 * Returns a malloc'd NUL-terminated string (caller frees) or NULL (OOM). */
char *rec_utf8_sanitize(const void *p, size_t len);
/* true when [p, p+len) is valid UTF-8 without NUL bytes. */
bool rec_utf8_valid(const void *p, size_t len);

/* Formats ms since the epoch as "2026-11-25T16:21:10.123Z" (buf >= 32). */
void rec_format_ts(int64_t ms, char *buf, size_t len);

#endif
