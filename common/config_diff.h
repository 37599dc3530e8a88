/* config_diff: which values differ between two configurations loaded
 * against the same section tables (config.h), e.g. the one a daemon runs
 * and the file it has just reloaded. A value is compared as its normalized
 * text (cfg_value_text: "1024" and "1KiB" are the same size), so a key
 * taken out of the file is a change only when its default differs from
 * what it was, and one added with the default value is none. */
#ifndef LF_CONFIG_DIFF_H
#define LF_CONFIG_DIFF_H
#include <stddef.h>
#include "common/config.h"

typedef struct cfg_change {
    const char *kind;  /* section kind ("kafka", "source"), borrowed from the cfgs */
    const char *name;  /* NAME of [kind NAME], borrowed; NULL for an unnamed section */
    char       *key;   /* option, or passthrough key with its prefix ("rdkafka.acks");
                        * NULL: the whole [kind NAME] section appears or disappears */
    char       *from;  /* values as shown: "\"text\"", (unset), (hidden) for a secret */
    char       *to;    /* (cfg_is_secret); (absent) or (present) for a whole section */
} cfg_change;

typedef struct cfg_changes {
    cfg_change *v;     /* owned; kind and name point into the compared cfgs */
    size_t      n;
} cfg_changes;

/* Fills *out with one change per option or passthrough key whose value
 * differs from `from` to `to`, and one per named section only one of them
 * has: in to's order, then what only `from` has. 0, or -1 and err (the two
 * were not loaded against the same tables, or out of memory) with *out
 * empty. Free with cfg_changes_free, before either cfg. */
int  cfg_diff(const cfg *from, const cfg *to, cfg_changes *out, char *err, size_t errlen);
void cfg_changes_free(cfg_changes *c);

#endif
