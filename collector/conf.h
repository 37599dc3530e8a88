/* conf: the collector's configuration file, as option tables (config.h):
 * [collector] (tailing and state), [kafka] (producer; rdkafka.* keys pass
 * through to librdkafka), [log], [http], and any number of
 * [source NAME] sections (static sources, for hosts without etcd). The
 * same tables give --help, --check-config and the man page. */
#ifndef LF_COLLECTOR_CONF_H
#define LF_COLLECTOR_CONF_H
#include <stdbool.h>
#include <stdint.h>
#include "collector/source.h"
#include "common/config.h"

typedef struct collector_opts {
    char    *host_name;          /* NULL: gethostname() */
    char    *state_dir;
    int64_t  registry_flush_ms;
    char    *watch;              /* auto|inotify|poll */
    int64_t  poll_interval_ms;
    int64_t  scan_frequency_ms;
    int64_t  read_buffer;        /* bytes read per read() call */
    int64_t  read_budget;        /* bytes per file per loop pass */
    int64_t  max_open_files;
    int64_t  close_inactive_ms;
    int64_t  fragment_timeout_ms;
    int64_t  max_line_bytes;
    int64_t  max_deleted_bytes;  /* bytes held open by deleted files */
    int64_t  clean_inactive_ms;  /* registry entries of vanished files */
    int64_t  shutdown_timeout_ms;
    int64_t  retry_backoff_ms;
} collector_opts;

typedef struct kafka_opts {
    char    *brokers;
    char    *compression;        /* none|gzip|snappy|lz4|zstd */
    int64_t  queue_max_bytes;
    int64_t  queue_max_messages;
    int64_t  linger_ms;
    int64_t  message_timeout_ms;
} kafka_opts;

typedef struct log_opts {
    char    *level;
    bool     syslog;
    int64_t  ratelimit_ms;
} log_opts;

typedef struct http_opts {
    char    *listen;
} http_opts;

typedef struct etcd_conf_opts {
    cfg_list endpoints;          /* empty: no etcd, static sources only */
    char    *prefix;
    char    *username;
    char    *password_file;
    char    *ca_file, *cert_file, *key_file;
    int64_t  connect_timeout_ms;
    int64_t  request_timeout_ms;
    int64_t  backoff_min_ms, backoff_max_ms;
    int64_t  keepalive_idle_ms, keepalive_interval_ms; /* whole seconds (TCP) */
    int64_t  keepalive_count;
    bool     progress_notify;
    int64_t  watch_idle_timeout_ms; /* 0 = off */
    cfg_list allowed_paths;      /* globs etcd sources must stay inside */
} etcd_conf_opts;

/* Options of a [source NAME] section (the INI form of source_conf). */
typedef struct ini_source {
    cfg_list paths, exclude;
    char    *topic;
    char    *start;
    bool     must_exist;
    cfg_list fields;
    char    *format;
    char    *multiline_start;
    int64_t  multiline_max_lines;
    int64_t  multiline_timeout_ms;
} ini_source;

extern const cfg_section_def collector_sections[];

/* Loads and checks the whole file (sources included: globs absolute,
 * fields "key=value", multiline pattern compiles). err: "file:line: ...". */
int collector_conf_load(cfg **out, const char *path, char *err, size_t errlen);

/* The [source NAME] sections as source_conf (deep copies, origin
 * "file:line"). *set must be freed with collector_sources_free. */
int  collector_conf_sources(const cfg *c, source_conf **set, size_t *n, char *err, size_t errlen);
void collector_sources_free(source_conf *set, size_t n);

/* Checks a source_conf (from any origin) the way the tailer needs it. */
int  collector_source_check(const source_conf *sc, char *err, size_t errlen);

#endif
