/* daemon: what both daemons share around main():
 * command line (-c/--config, --check-config, --version, --help, plus the
 * daemon's own options), signals on the libev loop (SIGTERM/SIGINT = stop,
 * SIGHUP = reload), sd_notify over $NOTIFY_SOCKET (READY=1, RELOADING=1,
 * STOPPING=1, STATUS=...) without linking libsystemd, and an optional
 * pidfile. */
#ifndef LF_DAEMON_H
#define LF_DAEMON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <ev.h>

typedef struct lf_opt_extra {
    const char *name;     /* long option, e.g. "test-rules" */
    int         has_arg;  /* 0 no, 1 required */
    const char *help;
    const char **value;   /* set to the argument (or "1" for flags) */
} lf_opt_extra;

typedef struct lf_args {
    const char *config;   /* -c/--config, default given to lf_args_parse */
    bool check_config;    /* --check-config */
    bool version;         /* --version */
    bool help;            /* --help */
    const char *log_level;/* --log-level (overrides the config) */
} lf_args;

/* Parses argv. extra: terminated by {NULL}; may be NULL. Returns 0, or -1
 * after printing "prog: reason\nTry 'prog --help'." to stderr (exit code
 * 2 is the caller's): unknown option, missing argument, an argument
 * where none is taken, a stray non-option argument, a bad --log-level. */
int  lf_args_parse(lf_args *a, int argc, char **argv, const char *default_config,
                   const lf_opt_extra *extra);
void lf_args_usage(FILE *out, const char *prog, const char *what, const lf_opt_extra *extra);
void lf_print_version(const char *prog); /* "prog VERSION (librdkafka x, libcurl y, ...)" */

typedef struct lf_signals lf_signals;
/* Installs ev_signal watchers: on_stop for SIGTERM/SIGINT, on_reload for
 * SIGHUP. Ignores SIGPIPE. The watchers do not keep the loop alive
 * (ev_unref): ev_run returns once everything else has stopped. */
lf_signals *lf_signals_start(struct ev_loop *loop, void (*on_stop)(void *ud),
                             void (*on_reload)(void *ud), void *ud);
void lf_signals_stop(lf_signals *s);

/* sd_notify: no-op when $NOTIFY_SOCKET is unset. A path starting with '@'
 * is an abstract socket. Best effort: a failure to send is not an error
 * for the daemon (systemd would time it out and say so). */
void lf_notify(const char *state);
void lf_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* pidfile: written atomically (temp file, fsync, rename), "PID\n".
 * Refused when the file names another live process running the same
 * program (a second instance); a stale file is replaced.
 * lf_pidfile_remove removes it only if it still holds our pid. */
int  lf_pidfile_write(const char *path, char *err, size_t errlen);
void lf_pidfile_remove(const char *path);

#endif
