/* discovery: the collector's desired source set = the static [source NAME]
 * sections of the INI file, plus the sources etcd names for this host
 * (etcd_sources), merged by name (a static section wins over an etcd key of
 * the same name, with a warning). Every change on either side is applied
 * with collector_apply_sources. */
#ifndef LF_COLLECTOR_DISCOVERY_H
#define LF_COLLECTOR_DISCOVERY_H
#include <stddef.h>
#include <ev.h>
#include "collector/collector.h"
#include "common/config.h"

typedef struct discovery discovery;

/* c: the loaded configuration (borrowed during the call). Starts etcd when
 * [etcd] endpoints is set; applies the static sources at once. */
int  discovery_new(discovery **out, struct ev_loop *loop, collector *col, const cfg *c,
                   char *err, size_t errlen);
/* SIGHUP: the static sources of the new file (its [etcd] settings need a
 * restart). 0, or -1 and err (nothing changed). */
int  discovery_reload(discovery *d, const cfg *c, char *err, size_t errlen);
void discovery_free(discovery *d);

#endif
