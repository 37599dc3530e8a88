/* source: one configured source of log files, whatever declared it (a
 * [source NAME] section of the INI file, or an etcd key). The contract
 * between the collector's tailing core (which runs sources) and the
 * discovery code (which produces the desired set). */
#ifndef LF_COLLECTOR_SOURCE_H
#define LF_COLLECTOR_SOURCE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/config.h"

typedef struct source_conf {
    char    *name;
    cfg_list paths;            /* globs, absolute */
    cfg_list exclude;          /* globs matched against the full path and the basename */
    char    *topic;
    char    *start;            /* "beginning" | "end": files without registry entry */
    bool     must_exist;       /* warn (and metric) while no file matches */
    cfg_list fields;           /* "key=value"; added under "fields" in every record */
    char    *format;           /* "json" | "raw" */
    char    *multiline_start;  /* PCRE2 pattern; NULL = no multiline */
    int64_t  multiline_max_lines;
    int64_t  multiline_timeout_ms;
    char    *origin;           /* "file:line" or "etcd:<key>", for messages */
} source_conf;

/* Parses one etcd value (DESIGN.md §2). Unknown fields, wrong types, a
 * missing topic or paths are errors naming the field (-1); a value that is
 * not one JSON object (bad syntax, a NUL byte inside, data after it, an
 * array) is -2, so that a rejection is counted under the right reason. */
int  source_conf_from_json(source_conf *out, const char *name, const char *origin,
                           const char *json, size_t len, char *err, size_t errlen);
/* Checks paths (and what their fixed prefixes resolve to through symlinks)
 * against allowed_paths globs. */
int  source_conf_check_allowed(const source_conf *sc, const cfg_list *allowed,
                               char *err, size_t errlen);
bool source_conf_equal(const source_conf *a, const source_conf *b);
/* Deep copy; 0 or -1. */
int  source_conf_copy(source_conf *dst, const source_conf *src);
void source_conf_free(source_conf *sc); /* frees members, not sc itself */

#endif
