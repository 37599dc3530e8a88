/* status: `logferry-collector --status`, per-file progress read from the
 * registry in state_dir. Read-only and lock-free, so it works next to a
 * running collector (which replaces the registry by rename: a reader sees
 * the old or the new file, never half of one). The registry is at most
 * registry_flush old. */
#ifndef LF_COLLECTOR_STATUS_H
#define LF_COLLECTOR_STATUS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Prints one line per registry entry (acknowledged offset, current size,
 * bytes behind; "gone" when the path no longer holds that file) and a total
 * line, or with json one JSON document. A missing registry prints a note and
 * no files. 0, or -1 with err (unreadable or corrupt registry, naming it). */
int collector_status(const char *state_dir, bool json, FILE *out, char *err, size_t errlen);

#endif
