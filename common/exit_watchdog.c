/* exit_watchdog: see exit_watchdog.h for why. */
#include "common/exit_watchdog.h"
#include "common/daemon.h"
#include "common/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

static struct {
    pthread_mutex_t mu;
    pthread_cond_t  cv; /* CLOCK_MONOTONIC: a clock change moves no deadline */
    pthread_t       thr;
    bool            running, disarmed;
    struct timespec deadline;
    const char     *what, *pidfile;
    int             code;
    double          seconds;
} W = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void *watch(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&W.mu);
    while (!W.disarmed) {
        int rc = pthread_cond_timedwait(&W.cv, &W.mu, &W.deadline);
        if (rc == ETIMEDOUT && !W.disarmed) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec < W.deadline.tv_sec ||
                (now.tv_sec == W.deadline.tv_sec && now.tv_nsec < W.deadline.tv_nsec))
                continue; /* re-armed meanwhile */
            lf_log_unlimited(LF_LOG_WARN, "main",
                             "shutdown: %s did not finish within %.1fs; exiting without it "
                             "(records after the last committed offsets are read again "
                             "after a restart)",
                             W.what, W.seconds);
            if (W.pidfile)
                lf_pidfile_remove(W.pidfile);
            _exit(W.code);
        }
    }
    pthread_mutex_unlock(&W.mu);
    return NULL;
}

int lf_exit_watchdog_arm(double seconds, const char *what, const char *pidfile, int code)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&W.mu);
    double end = (double)now.tv_sec + now.tv_nsec / 1e9 + (seconds > 0 ? seconds : 0);
    W.deadline.tv_sec = (time_t)end;
    W.deadline.tv_nsec = (long)((end - (double)W.deadline.tv_sec) * 1e9);
    W.what = what;
    W.pidfile = pidfile;
    W.code = code;
    W.seconds = seconds;
    W.disarmed = false;
    int rc = 0;
    if (!W.running) {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&W.cv, &ca);
        pthread_condattr_destroy(&ca);
        if (pthread_create(&W.thr, NULL, watch, NULL) == 0)
            W.running = true;
        else
            rc = -1;
    } else {
        pthread_cond_signal(&W.cv); /* the new deadline */
    }
    pthread_mutex_unlock(&W.mu);
    return rc;
}

void lf_exit_watchdog_disarm(void)
{
    pthread_mutex_lock(&W.mu);
    bool running = W.running;
    W.disarmed = true;
    if (running)
        pthread_cond_signal(&W.cv);
    W.running = false;
    pthread_mutex_unlock(&W.mu);
    if (running) {
        pthread_join(W.thr, NULL);
        pthread_cond_destroy(&W.cv);
    }
}
