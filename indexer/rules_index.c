/* rules_index: index names Elasticsearch accepts.
 *
 * Elasticsearch refuses names with upper case, \ / * ? " < > | space , #
 * or :, starting with - _ +, "." and "..", and longer than 255 bytes.
 * Policy (decided once, documented in etc/rules.ini and the README): fix
 * what can be fixed without guessing — ASCII upper case is lowered, every
 * forbidden character (and control bytes) becomes '_', leading - _ + are
 * removed — and send to the dead-letter topic, with the reason, what cannot
 * be fixed: an empty name, "." or "..", a name over 255 bytes. A fixed name
 * is predictable from the rule, so an operator finds the documents; a DLQ
 * record says why it is there. */
#include "indexer/rules_internal.h"

#include <stdio.h>
#include <string.h>

/* What each byte becomes in an index name (0: removed when leading). */
static unsigned char fix_table[256];

static void fix_table_init(void)
{
    for (int c = 0; c < 256; c++)
        fix_table[c] = (unsigned char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    for (const char *p = "\\/*?\"<>| ,#:"; *p; p++)
        fix_table[(unsigned char)*p] = '_';
    for (int c = 0; c < 0x20; c++)
        fix_table[c] = '_';
    fix_table[0x7f] = '_';
}

int index_name_fix(char *name, char *reason, size_t rlen)
{
    if (!fix_table['a'])
        fix_table_init();
    char *w = name;
    const char *p = name;
    while (*p == '-' || *p == '_' || *p == '+')
        p++;
    for (; *p; p++)
        *w++ = (char)fix_table[(unsigned char)*p];
    *w = '\0';
    if (!*name || !strcmp(name, ".") || !strcmp(name, "..")) {
        snprintf(reason, rlen, "invalid index name \"%.200s\" (empty, \".\" or \"..\")", name);
        return -1;
    }
    return 0;
}
