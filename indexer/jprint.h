/* jprint: prints a cJSON tree as compact JSON, faster than cJSON's own
 * printer on what log documents hold: integers are written directly (cJSON
 * formats every number with sprintf("%1.15g") and reads it back with
 * sscanf), string runs without escapes are copied whole, and the length is
 * known without a strlen. Output is what cJSON_PrintUnformatted gives. */
#ifndef LF_INDEXER_JPRINT_H
#define LF_INDEXER_JPRINT_H
#include <cjson/cJSON.h>
#include "common/strbuf.h"

/* Appends item to sb. */
void jprint(strbuf *sb, const cJSON *item);
/* Appends item as an object member: "its key":value (record_splice.c). */
void jprint_member(strbuf *sb, const cJSON *item);
/* Appends what jprint writes for a string item holding s[0..n) (n bytes,
 * no NUL inside: a tree's string ends at its first NUL), and for a number
 * item of value d: the bytes of the tree's print without the tree
 * (rules_direct.c). */
void jprint_string(strbuf *sb, const char *s, size_t n);
void jprint_number(strbuf *sb, double d);

#endif
