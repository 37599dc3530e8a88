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

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int index_name_fix(char *name, char *reason, size_t rlen)
{
    char *w = name;
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (w == name && (c == '-' || c == '_' || c == '+'))
            continue;
        if (strchr("\\/*?\"<>| ,#:", c) || c < 0x20 || c == 0x7f)
            c = '_';
        *w++ = (char)tolower(c);
    }
    *w = '\0';
    if (!*name || !strcmp(name, ".") || !strcmp(name, "..")) {
        snprintf(reason, rlen, "invalid index name \"%.200s\" (empty, \".\" or \"..\")", name);
        return -1;
    }
    return 0;
}
