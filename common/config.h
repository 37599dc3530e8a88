/* config: option tables over inifile.
 *
 * Each section is declared once as a table of options (name, type, default,
 * help, place in a struct). The same table drives parsing, defaults,
 * --check-config output, --help and the man page (cfg_help_*).
 * Errors are "file:line: reason": unknown section, unknown key, bad value,
 * duplicate key, overlong line. Nothing falls back to a default silently.
 *
 * Value syntax (the same in every file, and for etcd values through the
 * exported parsers):
 *  - size: a whole number of bytes, optionally followed (blanks allowed) by
 *    a unit, case-insensitive: B; KiB MiB GiB TiB (x1024); kB KB MB GB TB
 *    (x1000). "512", "64KiB", "10MB". No fractions, no bare K/M/G.
 *  - duration: one or more <number><unit> from largest to smallest unit,
 *    no blanks inside: d h m s ms ("250ms", "5s", "1m30s", "1h2m3s4ms").
 *    A plain number is refused (ambiguous) except "0".
 *  - bool: true/false yes/no on/off 1/0, case-insensitive.
 *  - int: decimal, optional sign.
 *  - list: comma separated, items trimmed, one trailing comma allowed, an
 *    empty item refused. A long list continues on indented lines; each
 *    continuation line is joined with a comma (so a comma at the end of a
 *    line is optional). No item can contain a comma.
 *  - string: anything; a long one (a regex) continues on indented lines
 *    joined with nothing in between (inifile.h); " ;" starts a comment.
 *  - enum: exactly one of opt_def.choices (case-sensitive).
 * Ranges (opt_def.min/max) are checked after parsing; size and duration
 * are never negative. Named sections: [kind NAME] with NAME made of
 * letters, digits and _ . - @ : */
#ifndef LF_CONFIG_H
#define LF_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/strbuf.h"

typedef enum {
    OPT_STRING,   /* char *  (NULL when no default and not set)            */
    OPT_BOOL,     /* bool    true/false yes/no on/off 1/0                  */
    OPT_INT,      /* int64_t                                               */
    OPT_SIZE,     /* int64_t bytes; "64KiB", "5MiB", "1GiB", "512", "10kB" */
    OPT_DURATION, /* int64_t milliseconds; "250ms", "5s", "2m", "1h", "1m30s" */
    OPT_LIST,     /* cfg_list; comma separated, continuation lines join    */
    OPT_ENUM,     /* char *; value must be one of opt_def.choices ("a|b|c") */
} opt_type;

typedef struct cfg_list {
    char  **v;    /* owned strings, trimmed */
    size_t  n;
} cfg_list;

typedef struct opt_def {
    const char *name;
    opt_type    type;
    const char *def;      /* default as text; NULL = unset               */
    size_t      offset;   /* offsetof(section struct, field)             */
    const char *help;     /* one sentence for --help and the man page    */
    int64_t     min, max; /* for INT/SIZE/DURATION; min == max == 0: any */
    const char *choices;  /* for OPT_ENUM: "auto|inotify|poll"           */
} opt_def;

/* One entry per kind of section. A `named` section appears as
 * [kind NAME] any number of times ([source nginx]); an unnamed one at most
 * once and always exists with defaults even when absent from the file. */
typedef struct cfg_section_def {
    const char    *name;
    bool           named;
    const opt_def *opts;        /* terminated by {NULL} */
    size_t         struct_size; /* size of the struct the options fill */
    /* Keys starting with this prefix are not ours: kept in order, with
     * their line, for the owner to hand on (e.g. "rdkafka." to librdkafka). */
    const char    *passthrough_prefix;
    const char    *help;
} cfg_section_def;

typedef struct cfg_kv {
    char *key;    /* without the passthrough prefix */
    char *value;
    int   line;
    struct cfg_kv *next;
} cfg_kv;

typedef struct cfg_section {
    const cfg_section_def *def;
    char        *name;        /* NAME of [kind NAME]; NULL for unnamed   */
    void        *data;        /* struct of def->struct_size, owned       */
    cfg_kv      *passthrough; /* in file order                           */
    int          line;        /* header line, 0 when absent (defaults)   */
    struct cfg_section *next; /* file order                              */
} cfg_section;

typedef struct cfg {
    char        *path;
    cfg_section *sections;
} cfg;

/* Parses `path` against `defs` (terminated by {NULL}). 0 and *out on
 * success (caller owns, cfg_free), -1 and err "file:line: reason". */
int  cfg_load(cfg **out, const char *path, const cfg_section_def *defs, char *err, size_t errlen);
int  cfg_load_string(cfg **out, const char *name, const char *text,
                     const cfg_section_def *defs, char *err, size_t errlen);
void cfg_free(cfg *c);

/* The unnamed section's struct (never NULL for a declared unnamed kind). */
void        *cfg_get(const cfg *c, const char *kind);
cfg_section *cfg_section_get(const cfg *c, const char *kind);
/* Iterate named sections: for (s = cfg_next(c, "source", NULL); s; s = cfg_next(c, "source", s)) */
cfg_section *cfg_next(const cfg *c, const char *kind, cfg_section *prev);

/* Value parsers, shared with other inputs (etcd JSON values, rules). */
int cfg_parse_bool(const char *s, bool *out);
int cfg_parse_int(const char *s, int64_t *out);
int cfg_parse_size(const char *s, int64_t *out);
int cfg_parse_duration_ms(const char *s, int64_t *out);
int cfg_parse_list(const char *s, cfg_list *out); /* appends */
void cfg_list_free(cfg_list *l);

/* The option's value in section s as config text, appended to sb: sizes
 * and durations normalized ("1024" and "1KiB" give "1KiB"), a list as its
 * items joined by ", " ("," before an item starting with ';', which the
 * reader would take for a comment after a blank). false (nothing appended)
 * when unset. */
bool cfg_value_text(const cfg_section *s, const opt_def *o, strbuf *sb);

/* Whether an option or passthrough key (without its prefix) holds a secret
 * by its name: a password, passphrase or client secret, an inline private
 * key, a SASL user name. Such values are never printed. */
bool cfg_is_secret(const char *key);

/* Effective configuration as INI text (--check-config). Secrets
 * (cfg_is_secret) are shown as "(set)".
 * Long values are written over continuation lines; apart from secrets the
 * output loads back to the same values. */
void cfg_dump(const cfg *c, FILE *out);
/* Every option of every section: name, type, default, help (--help). */
void cfg_help(const cfg_section_def *defs, FILE *out);
/* Same as man(7) source for logferry.ini(5). */
void cfg_help_man(const cfg_section_def *defs, FILE *out);

#endif
