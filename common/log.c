/* log: see log.h. */
#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

int lf_log_level_cur = LF_LOG_INFO;

/* One rate-limit window per (component, format). A fixed table keeps the
 * memory bounded: when full, the oldest window is ended early. */
#define RL_SLOTS 64

typedef struct rl_slot {
    char        comp[32];
    const char *fmt;       /* compared by address: a format is a literal */
    int64_t     start_ms;  /* window start; 0 = free slot */
    int         printed;   /* in this window */
    long        suppressed;
} rl_slot;

static struct {
    pthread_mutex_t lock;
    bool     use_syslog;
    bool     syslog_open;
    int      ratelimit_ms;
    int      burst;
    FILE    *stream;       /* NULL = stderr */
    int64_t (*now)(void);
    rl_slot  slots[RL_SLOTS];
} L = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const int syslog_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lf_log_init(const char *ident, int level, bool use_syslog, int ratelimit_ms)
{
    pthread_mutex_lock(&L.lock);
    lf_log_level_cur = level;
    L.ratelimit_ms = ratelimit_ms > 0 ? ratelimit_ms : 0;
    if (use_syslog && !L.syslog_open) {
        /* ident must stay valid: callers pass argv[0] or a literal */
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
        L.syslog_open = true;
    }
    L.use_syslog = use_syslog;
    pthread_mutex_unlock(&L.lock);
}

int lf_log_parse_level(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    if (strcasecmp(s, "err") == 0)
        return LF_LOG_ERR;
    if (strcasecmp(s, "warning") == 0)
        return LF_LOG_WARN;
    return -1;
}

const char *lf_log_level_name(int level)
{
    return level >= 0 && level <= 3 ? level_names[level] : "?";
}

void lf_log_set_stream(FILE *f)
{
    pthread_mutex_lock(&L.lock);
    L.stream = f;
    pthread_mutex_unlock(&L.lock);
}

void lf_log_set_clock(int64_t (*now_ms)(void))
{
    pthread_mutex_lock(&L.lock);
    L.now = now_ms;
    memset(L.slots, 0, sizeof(L.slots));
    pthread_mutex_unlock(&L.lock);
}

void lf_log_set_burst(int burst)
{
    pthread_mutex_lock(&L.lock);
    L.burst = burst;
    pthread_mutex_unlock(&L.lock);
}

/* Is stderr the journal? systemd sets $JOURNAL_STREAM to "DEV:INODE" of
 * the stream it connected; a child whose stderr went elsewhere inherits
 * the variable, so compare with what fd 2 is now. */
static bool stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* Writes one finished line. Called with the lock held. */
static void emit(int level, const char *comp, const char *msg)
{
    if (level < 0)
        level = 0;
    if (level > 3)
        level = 3;
    if (L.use_syslog) {
        syslog(syslog_prio[level], "%s: %s", comp, msg);
        return;
    }
    FILE *out = L.stream ? L.stream : stderr;
    char prefix[64] = "";
    if (!L.stream) {
        if (stderr_is_journal()) {
            snprintf(prefix, sizeof(prefix), "<%d>", syslog_prio[level]);
        } else if (isatty(STDERR_FILENO)) {
            struct timespec ts;
            struct tm tm;
            clock_gettime(CLOCK_REALTIME, &ts);
            gmtime_r(&ts.tv_sec, &tm);
            size_t n = strftime(prefix, sizeof(prefix), "%Y-%m-%dT%H:%M:%S", &tm);
            snprintf(prefix + n, sizeof(prefix) - n, ".%03ldZ %-5s ", ts.tv_nsec / 1000000,
                     level_names[level]);
        }
    }
    /* one fprintf per line: stdio locks the stream, lines do not interleave */
    fprintf(out, "%s%s: %s\n", prefix, comp, msg);
    fflush(out);
}

static void summarise(rl_slot *s)
{
    if (s->suppressed > 0) {
        char msg[64];
        snprintf(msg, sizeof(msg), "(%ld similar message%s suppressed)", s->suppressed,
                 s->suppressed == 1 ? "" : "s");
        emit(LF_LOG_WARN, s->comp, msg);
    }
    memset(s, 0, sizeof(*s));
}

static void flush_locked(int64_t now)
{
    for (int i = 0; i < RL_SLOTS; i++) {
        rl_slot *s = &L.slots[i];
        if (s->start_ms && now - s->start_ms >= L.ratelimit_ms)
            summarise(s);
    }
}

void lf_log_flush_suppressed(void)
{
    pthread_mutex_lock(&L.lock);
    if (L.ratelimit_ms)
        flush_locked(L.now ? L.now() : mono_ms());
    pthread_mutex_unlock(&L.lock);
}

/* true when this message is to be printed. Called with the lock held. */
static bool rl_admit(const char *comp, const char *fmt, int64_t now)
{
    flush_locked(now);
    rl_slot *free_slot = NULL, *oldest = NULL;
    for (int i = 0; i < RL_SLOTS; i++) {
        rl_slot *s = &L.slots[i];
        if (!s->start_ms) {
            if (!free_slot)
                free_slot = s;
            continue;
        }
        if (s->fmt == fmt && strncmp(s->comp, comp, sizeof(s->comp) - 1) == 0) {
            int burst = L.burst > 0 ? L.burst : LF_LOG_BURST;
            if (s->printed < burst) {
                s->printed++;
                return true;
            }
            s->suppressed++;
            return false;
        }
        if (!oldest || s->start_ms < oldest->start_ms)
            oldest = s;
    }
    rl_slot *s = free_slot;
    if (!s) {
        summarise(oldest);
        s = oldest;
    }
    snprintf(s->comp, sizeof(s->comp), "%s", comp);
    s->fmt = fmt;
    s->start_ms = now > 0 ? now : 1;
    s->printed = 1;
    s->suppressed = 0;
    return true;
}

static void vlog(int level, const char *component, bool limited, const char *fmt, va_list ap)
{
    if (level > lf_log_level_cur)
        return;
    char msg[4096];
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n >= (int)sizeof(msg))
        memcpy(msg + sizeof(msg) - 4, "...", 4); /* cut, and say so */
    /* a message is one line: a newline in a value would forge a second one */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    pthread_mutex_lock(&L.lock);
    bool print = true;
    if (limited && L.ratelimit_ms)
        print = rl_admit(component, fmt, L.now ? L.now() : mono_ms());
    if (print)
        emit(level, component, msg);
    pthread_mutex_unlock(&L.lock);
}

void lf_log(int level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, component, true, fmt, ap);
    va_end(ap);
}

void lf_log_unlimited(int level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, component, false, fmt, ap);
    va_end(ap);
}
