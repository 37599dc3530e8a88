/* restart_pending: changes that wait for a restart (see restart_pending.h). */
#include "common/restart_pending.h"

#include <stdio.h>
#include <string.h>

#include "common/config_diff.h"
#include "common/log.h"

static bool is_live(const cfg_change *ch, const lf_live_key *live)
{
    for (; live->kind; live++)
        if (strcmp(live->kind, ch->kind) == 0 &&
            (!live->key || (ch->key && strcmp(live->key, ch->key) == 0)))
            return true;
    return false;
}

lf_series *lf_restart_pending_gauge(const char *name)
{
    return lf_series_of(lf_gauge_new(name, "Settings changed in the configuration file that "
                                     "wait for a restart to take effect (0 after one)", NULL));
}

int lf_restart_pending(const cfg *running, const cfg *file, const lf_live_key *live,
                       lf_series *gauge)
{
    cfg_changes d;
    char err[256];
    if (cfg_diff(running, file, &d, err, sizeof err) < 0) {
        LF_ERR("config", "reload: cannot compare with the running configuration: %s", err);
        return -1;
    }
    int n = 0;
    for (size_t i = 0; i < d.n; i++) {
        const cfg_change *ch = &d.v[i];
        if (is_live(ch, live))
            continue;
        /* not rate limited: each line names another key, all must be seen */
        lf_log_unlimited(LF_LOG_WARN, "config",
                         "reload: [%s%s%s]%s%s changed; needs a restart to take effect "
                         "(running: %s, file: %s)",
                         ch->kind, ch->name ? " " : "", ch->name ? ch->name : "",
                         ch->key ? " " : "", ch->key ? ch->key : "", ch->from, ch->to);
        n++;
    }
    cfg_changes_free(&d);
    lf_gauge_set(gauge, n);
    return n;
}
