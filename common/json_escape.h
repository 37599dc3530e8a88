/* json_escape: appends bytes to a strbuf as the inside of a JSON string.
 * Log lines are arbitrary bytes: every invalid UTF-8 sequence (bad lead
 * byte, truncated or overlong sequence, surrogate, > U+10FFFF) becomes
 * U+FFFD, one per maximal invalid subpart (as the Unicode standard
 * recommends), so nothing invalid ever reaches JSON. Control characters are
 * escaped (\n, \t, ..., \u00XX). Runs of plain ASCII are copied in one
 * memcpy: this is on the per-line hot path. */
#ifndef LF_JSON_ESCAPE_H
#define LF_JSON_ESCAPE_H
#include <stddef.h>
#include "common/strbuf.h"

/* Appends the escaped form of p[0..n) (without quotes). Returns how many
 * U+FFFD replacements were made. */
size_t json_escape_append(strbuf *sb, const char *p, size_t n);

/* Same with the surrounding double quotes. */
size_t json_quote_append(strbuf *sb, const char *p, size_t n);

#endif
