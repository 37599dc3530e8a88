/* settings: the indexer's configuration sections (option tables over
 * common/config.h): [indexer], [kafka] (+ rdkafka.* pass-through),
 * [elasticsearch], and [log], [http] as the collector has them. One table each drives parsing, --help, --check-config
 * and the man page. */
#ifndef LF_INDEXER_SETTINGS_H
#define LF_INDEXER_SETTINGS_H
#include <stdbool.h>
#include <stdint.h>
#include "common/config.h"

typedef struct ix_log_conf {
    char   *level;
    bool    syslog;
    int64_t ratelimit_ms;
} ix_log_conf;

typedef struct ix_http_conf {
    char   *listen;            /* /metrics and /healthz */
} ix_http_conf;

typedef struct ix_main_conf {
    char   *pidfile;
    char   *rules;             /* rules file; NULL = pass-through */
    char   *rules_dir;
    char   *format;            /* auto|json|raw */
    int64_t shutdown_timeout_ms;
    int64_t max_buffered_bytes; /* records held (batches, retries, in flight) before pausing */
} ix_main_conf;

typedef struct ix_kafka_conf {
    char    *brokers;
    cfg_list topics;            /* names, or ^regex */
    char    *group_id;
    char    *auto_offset_reset; /* earliest|latest */
    int64_t  session_timeout_ms;
    int64_t  heartbeat_interval_ms;
    int64_t  max_poll_interval_ms;
    int64_t  commit_interval_ms;
    int64_t  queue_bytes;       /* librdkafka's prefetch queue (bounded) */
    int64_t  fetch_max_bytes;
    char    *dlq_topic;
    int64_t  dlq_unhealthy_after_ms; /* 0 = never */
    int64_t  lag_interval_ms;
} ix_kafka_conf;

typedef struct ix_es_conf {
    cfg_list urls;
    char    *op_type;           /* create|index */
    int64_t  bulk_bytes;
    int64_t  bulk_count;
    int64_t  bulk_linger_ms;
    int64_t  max_inflight;
    char    *compression;       /* none|gzip */
    int64_t  gzip_level;
    int64_t  timeout_ms;
    int64_t  connect_timeout_ms;
    int64_t  retry_initial_ms;
    int64_t  retry_max_ms;
    int64_t  url_down_ms;       /* how long a failed url is skipped */
    char    *version;           /* auto|7|8|opensearch */
    char    *username;
    char    *password_file;
    char    *api_key_file;
    bool     tls_verify;
    char    *ca_file;
    char    *client_cert;
    char    *client_key;
} ix_es_conf;

extern const cfg_section_def ix_sections[];

/* Cross-option checks the tables cannot express (e.g. dlq_topic set,
 * username needs password_file, bulk_count > 0). 0 or -1 + err. */
int ix_settings_check(const cfg *c, char *err, size_t errlen);

#endif
