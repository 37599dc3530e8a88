/* inifile: reads an INI file through inih, safely.
 *
 * inih (r55, Debian) silently cuts lines over 200 bytes and parses the rest
 * as a new line, and calls the handler once per continuation line with only
 * the continuation text (protocols.md §E). This reader:
 *  - refuses any line longer than INI_READ_MAX_LINE with "file:line: line too
 *    long (N bytes, limit M); split the value over continuation lines";
 *  - joins continuation lines (indented lines after `key = value`) into one
 *    value: for lists they are joined with "," and for everything else with
 *    nothing in between (so a long regex can be split anywhere), and calls
 *    the callback once per key with the line of the key;
 *  - reports inih syntax errors as "file:line: syntax error".
 * Used by config.c (option tables) and by the indexer's rules loader. */
#ifndef LF_INIFILE_H
#define LF_INIFILE_H
#include <stddef.h>

#define INI_READ_MAX_LINE 199 /* bytes, excluding the newline */

/* Called once per key with the joined value. `section` is the full section
 * header text ("source nginx"), "" before any section. Return 0 to go on,
 * -1 to fail: the callback then has written its reason (without the
 * "file:line: " prefix, which the reader adds) into err. */
typedef int (*ini_read_cb)(void *user, const char *section, const char *key,
                           const char *value, int line, char *err, size_t errlen);

/* Also reports each section header as it is met, so empty sections exist:
 * called with key == NULL, value == NULL. */
int ini_read_file(const char *path, ini_read_cb cb, void *user, char *err, size_t errlen);
/* Same, on text in memory; `name` is used in error messages. */
int ini_read_string(const char *name, const char *text, ini_read_cb cb, void *user,
                    char *err, size_t errlen);

#endif
