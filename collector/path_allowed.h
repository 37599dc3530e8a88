/* path_allowed: is a file path, or a path glob of a source, inside the
 * operator's allowed_paths globs (collector INI, default: all of /var/log)?
 *
 * Glob syntax of allowed_paths: fnmatch(3) per path component ('*', '?',
 * '[...]' never cross '/'), plus "**" as a whole component for any number
 * of components (a trailing "**" component = everything below the directory before it).
 *
 * A source path glob is accepted only when every path it can ever match is
 * allowed: its literal components must match the allowed glob's components,
 * and a wildcard component is only covered by "*" (or the identical
 * pattern) or by "**". "." and ".." components are refused outright. Symlinks
 * are followed: the longest existing directory prefix before the first
 * wildcard (the whole path for a literal one) is resolved with realpath(3)
 * and the resolved path must be allowed too, so "/var/log/x -> /etc" cannot
 * smuggle "/var/log/x/shadow" in. Allowed globs are also tried with their
 * own fixed prefix resolved, for hosts where /var/log itself is a link. */
#ifndef LF_COLLECTOR_PATH_ALLOWED_H
#define LF_COLLECTOR_PATH_ALLOWED_H
#include <stdbool.h>
#include <stddef.h>
#include "common/config.h"

/* A source's path glob (absolute). 0 allowed, -1 and err naming the path. */
int path_glob_allowed(const char *glob, const cfg_list *allowed, char *err, size_t errlen);

/* A concrete file about to be opened (the tailer should call this on each
 * file a glob expands to: a matched entry may itself be a symlink). Checks
 * the path and its realpath. 0 allowed, -1 and err. */
int path_file_allowed(const char *path, const cfg_list *allowed, char *err, size_t errlen);

#endif
