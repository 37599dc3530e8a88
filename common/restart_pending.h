/* restart_pending: on reload, the changes in the file that the daemon does
 * not apply live, each named in the log as waiting for a restart (as
 * PostgreSQL's "parameter cannot be changed without restarting the
 * server"); their number is the daemon's *_config_restart_pending gauge. */
#ifndef LF_RESTART_PENDING_H
#define LF_RESTART_PENDING_H
#include <stddef.h>
#include "common/config.h"
#include "common/metrics.h"

/* A key a daemon applies on reload, in a table ended by {NULL}. key NULL:
 * every key of the kind, and [kind NAME] sections appearing or going. A
 * passthrough key is named with its prefix ("rdkafka.acks"). */
typedef struct lf_live_key {
    const char *kind;
    const char *key;
} lf_live_key;

/* The gauge `name` (the daemon's, e.g. "collector_config_restart_pending":
 * written out whole, so that the dashboard's check finds it in the
 * sources), registered at 0: call at start, before any reload. */
lf_series *lf_restart_pending_gauge(const char *name);

/* Compares `file`, just reloaded, with `running`, the configuration the
 * process started with (not the last reload's: a change taken back out of
 * the file is no longer pending), and logs one warning per change that
 * `live` does not cover:
 *   config: reload: [kafka] brokers changed; needs a restart to take effect
 *   (running: "a:9092", file: "b:9092")
 * with secrets shown as (hidden). Sets gauge to how many and returns it;
 * when the two cannot be compared (out of memory), logs that and returns -1
 * (gauge unchanged): both daemons say it alike. */
int lf_restart_pending(const cfg *running, const cfg *file, const lf_live_key *live,
                       lf_series *gauge);

#endif
