/* inifile: reads an INI file through inih, safely.
 *
 * inih (r55, Debian) silently cuts lines over 200 bytes and parses the rest
 * as a new line, and calls the handler once per continuation line with only
 * the continuation text (protocols.md §E). This reader feeds inih one line
 * at a time through its own reader function and:
 *  - refuses any line longer than INI_READ_MAX_LINE bytes (not counting the
 *    "\n" or "\r\n") with "file:line: line too long (N bytes, limit M); split
 *    the value over continuation lines", and a NUL byte with
 *    "file:line: NUL byte in line";
 *  - joins continuation lines (indented, non-empty lines after a
 *    `key = value` line; blank and comment lines in between are skipped)
 *    into one value and calls the callback once per key, with the line of
 *    the key. Join rule: the pieces are joined with the separator the
 *    `join` function returns for that key — "" when there is no join
 *    function (ini_read_file / ini_read_string), so a long regex can be
 *    split anywhere. The separator is not doubled: it is left out when the
 *    value so far already ends with it or the next piece starts with it.
 *    config.c asks for "," for OPT_LIST keys, so in a list each continuation
 *    line is one or more items and a comma at the line end is optional:
 *        paths = /var/log/a.log,
 *                /var/log/b.log
 *                /var/log/c.log
 *    gives "/var/log/a.log,/var/log/b.log,/var/log/c.log";
 *    A continuation piece cannot start with ';' or '#': such a line is a
 *    comment (indented or not), as in inih and Python's configparser, so
 *    cut a value elsewhere;
 *  - reports each section header, in file order, with key == NULL, so
 *    empty and repeated sections are seen;
 *  - reports inih syntax errors as "file:line: syntax error (...)" and stops
 *    at the first error (ini_stop_on_first_error).
 * Inline comments: " ;" (a ';' after whitespace) starts a comment, as in
 * inih, on continuation lines too (r55 itself leaves them in there). Section text is passed untrimmed between '[' and ']' and is never
 * cut (inih's own 50-byte section buffer is not used).
 * Not reentrant: sets inih's global run-time options. Used by config.c
 * (option tables) and by the indexer's rules loader. */
#ifndef LF_INIFILE_H
#define LF_INIFILE_H
#include <stddef.h>

#define INI_READ_MAX_LINE 199 /* bytes, excluding the newline */
#define INI_READ_MAX_FILE (16u << 20) /* ini_read_file refuses bigger files */

/* Called once per key with the joined value. `section` is the full section
 * header text ("source nginx"), "" before any section. Return 0 to go on,
 * -1 to fail: the callback then has written its reason (without the
 * "file:line: " prefix, which the reader adds) into err. For a section
 * header, key and value are NULL and line is the header's line. */
typedef int (*ini_read_cb)(void *user, const char *section, const char *key,
                           const char *value, int line, char *err, size_t errlen);

/* Separator between continuation pieces of `key` (see the join rule above).
 * NULL function or NULL result: "". */
typedef const char *(*ini_join_cb)(void *user, const char *section, const char *key);

/* Also reports each section header as it is met, so empty sections exist:
 * called with key == NULL, value == NULL. Returns 0, or -1 with err
 * ("file:line: reason", or "file: reason" when the file cannot be read). */
int ini_read_file(const char *path, ini_read_cb cb, void *user, char *err, size_t errlen);
/* Same, on text in memory; `name` is used in error messages. */
int ini_read_string(const char *name, const char *text, ini_read_cb cb, void *user,
                    char *err, size_t errlen);
/* Same as the two above, with a join function for continuation lines. */
int ini_read_file_ex(const char *path, ini_read_cb cb, ini_join_cb join, void *user,
                     char *err, size_t errlen);
int ini_read_string_ex(const char *name, const char *text, ini_read_cb cb,
                       ini_join_cb join, void *user, char *err, size_t errlen);

#endif
