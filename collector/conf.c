#include "collector/conf.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/multiline.h"

#define O(t, f) offsetof(t, f)

static const opt_def collector_opt_defs[] = {
    {"host_name", OPT_STRING, NULL, O(collector_opts, host_name),
     "Host name in records (host.name); default: the system's host name", 0, 0, NULL},
    {"state_dir", OPT_STRING, "/var/lib/logferry/collector", O(collector_opts, state_dir),
     "Directory of the registry (registry.json) and cached sources", 0, 0, NULL},
    {"registry_flush", OPT_DURATION, "1s", O(collector_opts, registry_flush_ms),
     "How often acknowledged offsets are written to the registry", 10, 3600000, NULL},
    {"watch", OPT_ENUM, "auto", O(collector_opts, watch),
     "How file changes are noticed: inotify, stat polling, or auto (inotify if it works)",
     0, 0, "auto|inotify|poll"},
    {"poll_interval", OPT_DURATION, "1s", O(collector_opts, poll_interval_ms),
     "Stat polling period (watch = poll, or files inotify cannot watch)", 10, 3600000, NULL},
    {"scan_frequency", OPT_DURATION, "10s", O(collector_opts, scan_frequency_ms),
     "How often the path globs are expanded again to find new files", 100, 86400000, NULL},
    {"read_buffer", OPT_SIZE, "256KiB", O(collector_opts, read_buffer),
     "Bytes asked for per read() call", 4096, 64 << 20, NULL},
    {"read_budget", OPT_SIZE, "1MiB", O(collector_opts, read_budget),
     "Bytes read from one file per loop pass before others get their turn", 4096, 1 << 30, NULL},
    {"max_open_files", OPT_INT, "1024", O(collector_opts, max_open_files),
     "Files held open at once; more wait until others are closed", 1, 1000000, NULL},
    {"close_inactive", OPT_DURATION, "5m", O(collector_opts, close_inactive_ms),
     "Close a file that did not change for this long (reopened when it changes)", 100, 604800000, NULL},
    {"fragment_timeout", OPT_DURATION, "5s", O(collector_opts, fragment_timeout_ms),
     "Ship a last line without newline after the file was idle this long", 10, 86400000, NULL},
    {"max_line_bytes", OPT_SIZE, "1MiB", O(collector_opts, max_line_bytes),
     "Longer lines are cut to this size and flagged \"truncated\"", 16, 256 << 20, NULL},
    {"max_deleted_bytes", OPT_SIZE, "1GiB", O(collector_opts, max_deleted_bytes),
     "Bytes that deleted but not fully shipped files may keep allocated on disk", 0, 0, NULL},
    {"clean_inactive", OPT_DURATION, "72h", O(collector_opts, clean_inactive_ms),
     "Forget registry entries of files not seen for this long", 1000, 31536000000LL, NULL},
    {"shutdown_timeout", OPT_DURATION, "10s", O(collector_opts, shutdown_timeout_ms),
     "On SIGTERM, how long to wait for Kafka to acknowledge what was sent", 0, 3600000, NULL},
    {"retry_backoff", OPT_DURATION, "1s", O(collector_opts, retry_backoff_ms),
     "Pause before re-reading a file after a failed delivery", 10, 600000, NULL},
    {NULL, 0, NULL, 0, NULL, 0, 0, NULL},
};

static const opt_def kafka_opt_defs[] = {
    {"brokers", OPT_STRING, "localhost:9092", O(kafka_opts, brokers),
     "Bootstrap brokers, host:port,...", 0, 0, NULL},
    {"compression", OPT_ENUM, "lz4", O(kafka_opts, compression),
     "Compression codec", 0, 0, "none|gzip|snappy|lz4|zstd"},
    {"queue_max_bytes", OPT_SIZE, "4MiB", O(kafka_opts, queue_max_bytes),
     "Bytes of records waiting in the producer before reading pauses (memory bound)",
     1024, 2LL << 30, NULL},
    {"queue_max_messages", OPT_INT, "50000", O(kafka_opts, queue_max_messages),
     "Records waiting in the producer before reading pauses", 1, 10000000, NULL},
    {"linger", OPT_DURATION, "10ms", O(kafka_opts, linger_ms),
     "How long the producer waits to fill a batch", 0, 900000, NULL},
    {"message_timeout", OPT_DURATION, "5m", O(kafka_opts, message_timeout_ms),
     "A record not acknowledged in this time is read again from the file (0 = never give up)",
     0, 2147483647, NULL},
    {NULL, 0, NULL, 0, NULL, 0, 0, NULL},
};

static const opt_def log_opt_defs[] = {
    {"level", OPT_ENUM, "info", O(log_opts, level), "Log level", 0, 0, "error|warn|info|debug"},
    {"syslog", OPT_BOOL, "false", O(log_opts, syslog), "Log to syslog instead of stderr", 0, 0, NULL},
    {"ratelimit", OPT_DURATION, "5s", O(log_opts, ratelimit_ms),
     "Repeats of a message within this window are counted, not printed (0 = off)", 0, 3600000, NULL},
    {NULL, 0, NULL, 0, NULL, 0, 0, NULL},
};

static const opt_def http_opt_defs[] = {
    {"listen", OPT_STRING, "127.0.0.1:9520", O(http_opts, listen),
     "Address of /metrics and /healthz (host:port, :port, or off)", 0, 0, NULL},
    {NULL, 0, NULL, 0, NULL, 0, 0, NULL},
};

static const opt_def etcd_opt_defs[] = {
    {"endpoints", OPT_LIST, NULL, O(etcd_conf_opts, endpoints),
     "etcd endpoints (http://host:port, https://...); empty: static sources only", 0, 0, NULL},
    {"prefix", OPT_STRING, "/logferry", O(etcd_conf_opts, prefix),
     "Key prefix: sources are <prefix>/collect/<host_name>/<name> and <prefix>/collect/_all/<name>",
     0, 0, NULL},
    {"username", OPT_STRING, NULL, O(etcd_conf_opts, username), "etcd user (auth)", 0, 0, NULL},
    {"password_file", OPT_STRING, NULL, O(etcd_conf_opts, password_file),
     "File whose first line is the etcd password", 0, 0, NULL},
    {"ca_file", OPT_STRING, NULL, O(etcd_conf_opts, ca_file), "TLS CA bundle", 0, 0, NULL},
    {"cert_file", OPT_STRING, NULL, O(etcd_conf_opts, cert_file), "TLS client certificate", 0, 0, NULL},
    {"key_file", OPT_STRING, NULL, O(etcd_conf_opts, key_file), "TLS client key", 0, 0, NULL},
    {"connect_timeout", OPT_DURATION, "5s", O(etcd_conf_opts, connect_timeout_ms),
     "Connection timeout", 1, 600000, NULL},
    {"request_timeout", OPT_DURATION, "10s", O(etcd_conf_opts, request_timeout_ms),
     "Timeout of a range or authentication request", 1, 600000, NULL},
    {"backoff_min", OPT_DURATION, "500ms", O(etcd_conf_opts, backoff_min_ms),
     "First reconnection delay", 1, 600000, NULL},
    {"backoff_max", OPT_DURATION, "30s", O(etcd_conf_opts, backoff_max_ms),
     "Longest reconnection delay", 1, 3600000, NULL},
    /* Defaults are the client's (common/etcd.h); TCP keepalive works in whole
     * seconds, hence the 1s minimum (and Linux's TCP_KEEPIDLE/INTVL limit of
     * 32767s, TCP_KEEPCNT of 127). */
    {"keepalive_idle", OPT_DURATION, "30s", O(etcd_conf_opts, keepalive_idle_ms),
     "TCP keepalive: idle time before the first probe (whole seconds)", 1000, 32767000, NULL},
    {"keepalive_interval", OPT_DURATION, "10s", O(etcd_conf_opts, keepalive_interval_ms),
     "TCP keepalive: time between probes (whole seconds)", 1000, 32767000, NULL},
    {"keepalive_count", OPT_INT, "3", O(etcd_conf_opts, keepalive_count),
     "TCP keepalive: unanswered probes before the connection counts as dead; a silent"
     " etcd is noticed after keepalive_idle + keepalive_count * keepalive_interval", 1, 127, NULL},
    {"progress_notify", OPT_BOOL, "false", O(etcd_conf_opts, progress_notify),
     "Ask etcd for progress notifications on the watch (needed by watch_idle_timeout)", 0, 0, NULL},
    {"watch_idle_timeout", OPT_DURATION, "0", O(etcd_conf_opts, watch_idle_timeout_ms),
     "No byte on the watch for this long = a dead stream, reconnect (0 = off); use with"
     " progress_notify and an etcd --experimental-watch-progress-notify-interval below it",
     0, 86400000, NULL},
    {"allowed_paths", OPT_LIST, "/var/log/**", O(etcd_conf_opts, allowed_paths),
     "Globs that paths of etcd sources must stay inside, symlinks resolved; '*' stays within"
     " one directory level, a '**' component spans any depth",
     0, 0, NULL},
    {NULL, 0, NULL, 0, NULL, 0, 0, NULL},
};

static const opt_def source_opt_defs[] = {
    {"paths", OPT_LIST, NULL, O(ini_source, paths),
     "Absolute globs of the files to tail (required)", 0, 0, NULL},
    {"exclude", OPT_LIST, NULL, O(ini_source, exclude),
     "Globs of files to skip, matched against the full path and the base name", 0, 0, NULL},
    {"topic", OPT_STRING, NULL, O(ini_source, topic), "Kafka topic (required)", 0, 0, NULL},
    {"start", OPT_ENUM, "end", O(ini_source, start),
     "Where to start in files found at start-up that the registry does not know"
     " (files appearing later are read from the beginning)", 0, 0, "beginning|end"},
    {"must_exist", OPT_BOOL, "false", O(ini_source, must_exist),
     "Warn (and count) while no file matches", 0, 0, NULL},
    {"fields", OPT_LIST, NULL, O(ini_source, fields),
     "Static key=value pairs added under \"fields\" to every record", 0, 0, NULL},
    {"format", OPT_ENUM, "json", O(ini_source, format),
     "Record format: json (ECS-shaped) or raw (line bytes, metadata in headers)", 0, 0, "json|raw"},
    {"multiline_start", OPT_STRING, NULL, O(ini_source, multiline_start),
     "PCRE2 pattern of a record's first line; other lines join the record before them", 0, 0, NULL},
    {"multiline_max_lines", OPT_INT, "500", O(ini_source, multiline_max_lines),
     "Lines per multiline record; the next line starts a new record", 1, 1000000, NULL},
    {"multiline_timeout", OPT_DURATION, "2s", O(ini_source, multiline_timeout_ms),
     "Ship a pending multiline record after no line came for this long", 1, 3600000, NULL},
    {NULL, 0, NULL, 0, NULL, 0, 0, NULL},
};

const cfg_section_def collector_sections[] = {
    {"collector", false, collector_opt_defs, sizeof(collector_opts), NULL,
     "Tailing, registry and limits"},
    {"kafka", false, kafka_opt_defs, sizeof(kafka_opts), "rdkafka.",
     "Kafka producer; rdkafka.NAME = VALUE sets any librdkafka property"},
    {"log", false, log_opt_defs, sizeof(log_opts), NULL, "Logging"},
    {"http", false, http_opt_defs, sizeof(http_opts), NULL, "Metrics and health endpoint"},
    {"etcd", false, etcd_opt_defs, sizeof(etcd_conf_opts), NULL,
     "Sources from etcd (keys <prefix>/collect/<host>/<name>, JSON values); merged with the [source] sections"},
    {"source", true, source_opt_defs, sizeof(ini_source), NULL,
     "A static source of log files ([source NAME]); etcd adds more"},
    {NULL, false, NULL, 0, NULL, NULL},
};

int collector_source_check(const source_conf *sc, char *err, size_t errlen)
{
    if (!sc->paths.n) {
        snprintf(err, errlen, "source %s: paths is required", sc->name);
        return -1;
    }
    for (size_t i = 0; i < sc->paths.n; i++) {
        if (sc->paths.v[i][0] != '/') {
            snprintf(err, errlen, "source %s: path \"%s\" is not absolute", sc->name,
                     sc->paths.v[i]);
            return -1;
        }
    }
    if (!sc->topic || !*sc->topic) {
        snprintf(err, errlen, "source %s: topic is required", sc->name);
        return -1;
    }
    for (size_t i = 0; i < sc->fields.n; i++) {
        const char *eq = strchr(sc->fields.v[i], '=');
        if (!eq || eq == sc->fields.v[i]) {
            snprintf(err, errlen, "source %s: field \"%s\" is not key=value", sc->name,
                     sc->fields.v[i]);
            return -1;
        }
    }
    if (sc->start && strcmp(sc->start, "beginning") && strcmp(sc->start, "end")) {
        snprintf(err, errlen, "source %s: start must be beginning or end", sc->name);
        return -1;
    }
    if (sc->format && strcmp(sc->format, "json") && strcmp(sc->format, "raw")) {
        snprintf(err, errlen, "source %s: format must be json or raw", sc->name);
        return -1;
    }
    if (sc->multiline_start) {
        ml_conf mc;
        char why[256];
        if (ml_conf_init(&mc, sc->multiline_start, 1, 1, 0, why, sizeof why) < 0) {
            snprintf(err, errlen, "source %s: %s", sc->name, why);
            return -1;
        }
        ml_conf_free(&mc);
    }
    return 0;
}

static int list_copy(cfg_list *dst, const cfg_list *src)
{
    dst->n = 0;
    dst->v = NULL;
    if (!src->n)
        return 0;
    dst->v = calloc(src->n, sizeof *dst->v);
    if (!dst->v)
        return -1;
    for (size_t i = 0; i < src->n; i++) {
        dst->v[i] = strdup(src->v[i]);
        if (!dst->v[i])
            return -1;
        dst->n++;
    }
    return 0;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static int from_section(source_conf *sc, const char *file, const cfg_section *s)
{
    const ini_source *is = s->data;
    memset(sc, 0, sizeof *sc);
    sc->name = strdup(s->name);
    if (asprintf(&sc->origin, "%s:%d", file, s->line) < 0)
        sc->origin = NULL;
    sc->topic = dup_or_null(is->topic);
    sc->start = dup_or_null(is->start);
    sc->format = dup_or_null(is->format);
    sc->multiline_start = dup_or_null(is->multiline_start);
    sc->must_exist = is->must_exist;
    sc->multiline_max_lines = is->multiline_max_lines;
    sc->multiline_timeout_ms = is->multiline_timeout_ms;
    if (!sc->name || !sc->origin || list_copy(&sc->paths, &is->paths) ||
        list_copy(&sc->exclude, &is->exclude) || list_copy(&sc->fields, &is->fields))
        return -1;
    return 0;
}

void collector_sources_free(source_conf *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        source_conf_free(&set[i]);
    free(set);
}

int collector_conf_sources(const cfg *c, source_conf **set, size_t *n, char *err, size_t errlen)
{
    size_t cnt = 0;
    for (cfg_section *s = cfg_next(c, "source", NULL); s; s = cfg_next(c, "source", s))
        cnt++;
    source_conf *v = calloc(cnt ? cnt : 1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t i = 0;
    for (cfg_section *s = cfg_next(c, "source", NULL); s; s = cfg_next(c, "source", s), i++) {
        char why[512];
        if (from_section(&v[i], c->path, s) < 0) {
            snprintf(err, errlen, "out of memory");
            collector_sources_free(v, i + 1);
            return -1;
        }
        if (collector_source_check(&v[i], why, sizeof why) < 0) {
            snprintf(err, errlen, "%s:%d: %s", c->path, s->line, why);
            collector_sources_free(v, i + 1);
            return -1;
        }
    }
    *set = v;
    *n = cnt;
    return 0;
}

int collector_conf_load(cfg **out, const char *path, char *err, size_t errlen)
{
    cfg *c = NULL;
    if (cfg_load(&c, path, collector_sections, err, errlen) < 0)
        return -1;
    source_conf *set = NULL;
    size_t n = 0;
    if (collector_conf_sources(c, &set, &n, err, errlen) < 0) {
        cfg_free(c);
        return -1;
    }
    collector_sources_free(set, n);
    const collector_opts *co = cfg_get(c, "collector");
    if (!co->state_dir || co->state_dir[0] != '/') {
        cfg_section *s = cfg_section_get(c, "collector");
        snprintf(err, errlen, "%s:%d: state_dir must be an absolute path", path, s ? s->line : 0);
        cfg_free(c);
        return -1;
    }
    *out = c;
    return 0;
}
