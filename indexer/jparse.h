/* jparse: a strict one-pass JSON parser that builds the tree cJSON's parser
 * builds (same node types, key order, duplicate keys kept, prev/next links,
 * valuedouble and saturated valueint, nesting limit CJSON_NESTING_LIMIT), so
 * the rest of the indexer keeps using cJSON on it. Nodes and strings come
 * from cJSON_malloc (the hooks jarena installs); cJSON_Delete frees them.
 *
 * Why not cJSON_ParseWithLengthOpts: the record's bytes had to be read three
 * times (cJSON's string pre-scan, its copy, then a UTF-8 check over the whole
 * value), numbers went through a copy and strtod, and cJSON accepts things
 * RFC 8259 does not. Here the UTF-8 check is done on the string bytes while
 * looking for the closing quote, plain strings are one memcpy, and most
 * numbers are converted without strtod (exactly: same double as strtod).
 *
 * Accepted is RFC 8259 and valid UTF-8, nothing else. Where cJSON differs:
 * - rejected here, accepted by cJSON: any byte <= 0x20 other than space,
 *   \t, \n, \r as whitespace; control characters (< 0x20) raw in strings;
 *   leading zeros, "1.", "-.5" (cJSON hands what it sees to strtod);
 *   \u escapes with non-hex digits (cJSON reads them as \u0000);
 *   invalid UTF-8 and NUL bytes anywhere (cJSON passes them through; the
 *   indexer checked them afterwards).
 * - accepted here, rejected by cJSON: numbers longer than 63 characters
 *   (cJSON's copy buffer for strtod cuts them).
 * - the same: a lone surrogate escape (\uD800 without a low half, or a low
 *   half alone) is refused, as cJSON does; \u0000 is decoded to a NUL byte
 *   that ends the C string (the rest of that string is lost), as cJSON does,
 *   because the tree has no string lengths. */
#ifndef LF_INDEXER_JPARSE_H
#define LF_INDEXER_JPARSE_H
#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

/* Parses p[0..len) as one JSON value with only JSON whitespace around it
 * (p need not be NUL-terminated). Returns 0 and the tree in *out (the
 * caller owns it: cJSON_Delete), or -1 with err saying where and why (err
 * may be NULL) and *out NULL: not JSON, or out of memory. */
int jparse(const void *p, size_t len, cJSON **out, char *err, size_t errlen);

/* A member asked of jscan_object. In: key (a C string) and parent (0: a
 * member of the object itself; k: a member of the object that is the
 * value of want[k - 1], which is asked at the top). Out: val, len, the
 * bytes of the first member of that name's value (as written, pointing
 * into the scanned text), val NULL when there is none; count, how many
 * members have that name there. */
typedef struct jscan_member {
    const char *key;
    size_t      klen;   /* in: strlen(key), or 0 to have it measured */
    unsigned    parent;
    const char *val;
    size_t      len;
    unsigned    count;
} jscan_member;

/* A member of the object itself, as written: from its key's opening quote
 * to its value's last byte; want: the first want of its name (-1: none). */
typedef struct jscan_span {
    const char *at;
    size_t      len;
    int         want;
} jscan_span;

/* What jscan_object reports besides the wanted members. */
typedef struct jscan_out {
    jscan_span *members; /* in: room for max spans (NULL: none wanted) */
    size_t      max;
    size_t      n;          /* out: the object's members (n > max: only the
                               first max recorded) */
    bool        line_break; /* out: its whitespace (around or between
                               tokens) held a line break; a document sent as
                               written must be one line */
} jscan_out;

/* Checks p[0..len) with jparse's own code, without building a tree or
 * allocating (but a scratch buffer for long keys with escapes): 0 exactly
 * when jparse would return an object, else -1 with err as jparse's (or
 * "not an object"; "out of memory" for the scratch). For the indexer's
 * records, whose members no rule reads are sent as written
 * (record_pass.c, record_splice.c). Keys compare as the tree's C strings
 * would (escapes decoded, a \u0000 ends the key), so the member found is
 * the one cJSON_GetObjectItemCaseSensitive would find in jparse's tree.
 * At most 64 wants (more are not looked for). out may be NULL. */
int jscan_object(const void *p, size_t len, jscan_member *want, size_t nwant, jscan_out *out,
                 char *err, size_t errlen);

/* The text of the JSON string span[0..len), quotes included, that
 * jscan_object has checked (a want's val and len): span + 1 itself when
 * it has no escapes, else its escapes decoded into scratch (room for len
 * bytes). *n is the text's length, NULs from \u0000 included (unlike the
 * tree's C string, which ends at the first). NULL when span is not a
 * string. */
const char *jstring_text(const char *span, size_t len, char *scratch, size_t *n);

#endif
