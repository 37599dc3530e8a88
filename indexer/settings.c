#include "indexer/settings.h"

#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define L(f) offsetof(ix_log_conf, f)
static const opt_def log_opts[] = {
    {"level", OPT_ENUM, "info", L(level), "Log level.", 0, 0, "error|warn|info|debug"},
    {"syslog", OPT_BOOL, "false", L(syslog), "Log to syslog instead of stderr.", 0, 0, NULL},
    {"ratelimit", OPT_DURATION, "5s", L(ratelimit_ms),
     "Repeats of one message within this window are counted, not printed (0 = off).", 0, 3600000, NULL},
    {NULL, 0, NULL, 0, NULL, 0, 0, NULL},
};
#undef L

static const opt_def http_opts[] = {
    {"listen", OPT_STRING, "127.0.0.1:9521", offsetof(ix_http_conf, listen),
     "Address of the /metrics and /healthz endpoint (\"off\" to disable).", 0, 0, NULL},
    {NULL, 0, NULL, 0, NULL, 0, 0, NULL},
};

#define M(f) offsetof(ix_main_conf, f)
static const opt_def main_opts[] = {
    {"pidfile", OPT_STRING, NULL, M(pidfile), "Write the process id to this file.", 0, 0, NULL},
    {"rules", OPT_STRING, NULL, M(rules),
     "Rules file (logferry-rules(5)); unset = records pass unchanged to the default index.", 0, 0, NULL},
    {"rules_dir", OPT_STRING, NULL, M(rules_dir), "Directory of further *.ini rules files, read in name order.", 0, 0, NULL},
    {"format", OPT_ENUM, "auto", M(format),
     "Record values: json (envelope; Kafka headers are not read, which is cheaper), raw (line + headers), auto (raw when the collector's raw headers are present).",
     0, 0, "auto|json|raw"},
    {"shutdown_timeout", OPT_DURATION, "10s", M(shutdown_timeout_ms),
     "On SIGTERM, how long to wait for in-flight requests before giving up on them (they are re-read after restart); then as long again for librdkafka to commit and leave the group, after which the indexer exits without it (Kafka unreachable).",
     0, 600000, NULL},
    {"max_buffered_bytes", OPT_SIZE, "16MiB", M(max_buffered_bytes),
     "Records held in memory (building, in flight, waiting for retry) at which consumption waits (prefetch kept); a wait over 2s pauses the partitions.",
     1024, (int64_t)1 << 40, NULL},
    {NULL, 0, NULL, 0, NULL, 0, 0, NULL},
};
#undef M

#define K(f) offsetof(ix_kafka_conf, f)
static const opt_def kafka_opts[] = {
    {"brokers", OPT_STRING, "localhost:9092", K(brokers), "Bootstrap brokers (host:port,...).", 0, 0, NULL},
    {"topics", OPT_LIST, NULL, K(topics), "Topics to consume: names, or regexes starting with ^.", 0, 0, NULL},
    {"group_id", OPT_STRING, "logferry-indexer", K(group_id), "Consumer group; run several indexers in one group to share the work.", 0, 0, NULL},
    {"auto_offset_reset", OPT_ENUM, "earliest", K(auto_offset_reset),
     "Where a group without committed offsets starts.", 0, 0, "earliest|latest"},
    {"session_timeout", OPT_DURATION, "45s", K(session_timeout_ms), "Consumer group session timeout.", 1000, 3600000, NULL},
    {"heartbeat_interval", OPT_DURATION, "3s", K(heartbeat_interval_ms), "Consumer group heartbeat interval.", 100, 3600000, NULL},
    {"max_poll_interval", OPT_DURATION, "300s", K(max_poll_interval_ms),
     "Longest time between polls before the member leaves the group; rebalances wait up to this for every member.",
     1000, 86400000, NULL},
    {"commit_interval", OPT_DURATION, "5s", K(commit_interval_ms), "How often stored offsets are committed.", 100, 3600000, NULL},
    {"queue_bytes", OPT_SIZE, "4MiB", K(queue_bytes),
     "librdkafka's prefetch queue bound (queued.max.messages.kbytes; may be overshot by one fetch per broker). The fetchers are woken each time half of it was consumed.",
     1024, (int64_t)1 << 31, NULL},
    {"fetch_max_bytes", OPT_SIZE, "2MiB", K(fetch_max_bytes),
     "Largest fetch answer requested from a broker (at least librdkafka's message.max.bytes, 1MiB by default).",
     1048576, (int64_t)1 << 30, NULL},
    {"dlq_topic", OPT_STRING, "logferry-dlq", K(dlq_topic),
     "Dead-letter topic: records Elasticsearch refused (4xx), with the reason as headers.", 0, 0, NULL},
    {"dlq_unhealthy_after", OPT_DURATION, "60s", K(dlq_unhealthy_after_ms),
     "/healthz fails when a record has waited this long for the dead-letter topic (its offset, and those after it, wait too; 0 = never).",
     0, 86400000, NULL},
    {"lag_interval", OPT_DURATION, "5s", K(lag_interval_ms), "How often consumer lag per partition is computed.", 100, 3600000, NULL},
    {NULL, 0, NULL, 0, NULL, 0, 0, NULL},
};
#undef K

#define E(f) offsetof(ix_es_conf, f)
static const opt_def es_opts[] = {
    {"urls", OPT_LIST, "http://127.0.0.1:9200", E(urls), "Elasticsearch/OpenSearch nodes, used round robin with failover.", 0, 0, NULL},
    {"op_type", OPT_ENUM, "create", E(op_type),
     "create: a second copy of a record is a 409 (exactly once); index: replace.", 0, 0, "create|index"},
    {"bulk_bytes", OPT_SIZE, "5MiB", E(bulk_bytes), "Largest bulk body (uncompressed).", 1024, (int64_t)1 << 30, NULL},
    {"bulk_count", OPT_INT, "5000", E(bulk_count), "Most records in one bulk request.", 1, 1000000, NULL},
    {"bulk_linger", OPT_DURATION, "100ms", E(bulk_linger_ms), "Longest a record waits for its batch to fill.", 0, 3600000, NULL},
    {"max_inflight", OPT_INT, "4", E(max_inflight), "Bulk requests in flight at once.", 1, 256, NULL},
    {"compression", OPT_ENUM, "none", E(compression), "Request body compression.", 0, 0, "none|gzip"},
    {"gzip_level", OPT_INT, "1", E(gzip_level), "gzip level (1 fastest .. 9 smallest).", 1, 9, NULL},
    {"timeout", OPT_DURATION, "60s", E(timeout_ms), "Whole-request timeout (then retried).", 100, 3600000, NULL},
    {"connect_timeout", OPT_DURATION, "5s", E(connect_timeout_ms), "Connection timeout.", 100, 600000, NULL},
    {"retry_initial", OPT_DURATION, "100ms", E(retry_initial_ms), "First retry delay; doubles each attempt, with jitter.", 1, 3600000, NULL},
    {"retry_max", OPT_DURATION, "30s", E(retry_max_ms), "Longest retry delay.", 1, 86400000, NULL},
    {"url_down", OPT_DURATION, "5s", E(url_down_ms), "How long a url that failed to connect is skipped.", 0, 3600000, NULL},
    {"version", OPT_ENUM, "auto", E(version),
     "Server flavour: auto (GET / at start), 7, 8 or opensearch.", 0, 0, "auto|7|8|opensearch"},
    {"username", OPT_STRING, NULL, E(username), "Basic auth user (password from password_file).", 0, 0, NULL},
    {"password_file", OPT_STRING, NULL, E(password_file), "File holding the basic auth password.", 0, 0, NULL},
    {"api_key_file", OPT_STRING, NULL, E(api_key_file), "File holding an API key (sent as Authorization: ApiKey ...).", 0, 0, NULL},
    {"tls_verify", OPT_BOOL, "true", E(tls_verify), "Verify the server certificate and host name.", 0, 0, NULL},
    {"ca_file", OPT_STRING, NULL, E(ca_file), "CA bundle for https urls (default: the system's).", 0, 0, NULL},
    {"client_cert", OPT_STRING, NULL, E(client_cert), "Client certificate (PEM) for TLS client auth.", 0, 0, NULL},
    {"client_key", OPT_STRING, NULL, E(client_key), "Client key (PEM) for TLS client auth.", 0, 0, NULL},
    {NULL, 0, NULL, 0, NULL, 0, 0, NULL},
};
#undef E

const cfg_section_def ix_sections[] = {
    {"indexer", false, main_opts, sizeof(ix_main_conf), NULL, "The daemon: rules, record format, memory bound, shutdown."},
    {"kafka", false, kafka_opts, sizeof(ix_kafka_conf), "rdkafka.",
     "The consumer group and dead-letter producer; rdkafka.NAME = VALUE passes any librdkafka property "
     "(a consumer-only one to the consumer, a producer-only one to the producer, others to both)."},
    {"elasticsearch", false, es_opts, sizeof(ix_es_conf), NULL, "Where and how documents are written."},
    {"log", false, log_opts, sizeof(ix_log_conf), NULL, "Logging."},
    {"http", false, http_opts, sizeof(ix_http_conf), NULL, "Metrics and health endpoint."},
    {NULL, false, NULL, 0, NULL, NULL},
};

/* Kafka's rule for topic names: 1-249 of [a-zA-Z0-9._-], not "." or "..".
 * Checked here because librdkafka takes any string and a bad name (e.g. a
 * blank-separated list read as one item) silently consumes nothing. */
static const char *topic_name_problem(const char *t)
{
    size_t n = strlen(t);
    if (n == 0)
        return "empty topic name";
    if (n > 249)
        return "topic name longer than 249 characters";
    if (!strcmp(t, ".") || !strcmp(t, ".."))
        return "\".\" and \"..\" are not topic names";
    for (const char *p = t; *p; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return ch == ' ' || ch == '\t'
                       ? "blank in a topic name (separate topics with commas)"
                       : "a topic name is made of letters, digits, '.', '_' and '-'";
    }
    return NULL;
}

/* Each [kafka] topics entry: a valid name, or a ^regex that compiles
 * (librdkafka hands it to regcomp, extended syntax) and does not match the
 * dead-letter topic (that would consume our own dead letters). The reader
 * keeps no line per option, so errors name the section's line and key. */
static int check_topics(const ix_kafka_conf *k, const char *f, int kl, char *err, size_t errlen)
{
    for (size_t i = 0; i < k->topics.n; i++) {
        const char *t = k->topics.v[i];
        if (t[0] != '^') {
            const char *why = topic_name_problem(t);
            if (why) {
                snprintf(err, errlen, "%s:%d: [kafka] topics: \"%s\": %s (a regex starts with ^)", f, kl, t, why);
                return -1;
            }
            continue;
        }
        regex_t re;
        int rc = regcomp(&re, t, REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char msg[128];
            regerror(rc, &re, msg, sizeof msg);
            snprintf(err, errlen, "%s:%d: [kafka] topics: \"%s\": bad regex: %s", f, kl, t, msg);
            return -1;
        }
        bool hits_dlq = regexec(&re, k->dlq_topic, 0, NULL, 0) == 0;
        regfree(&re);
        if (hits_dlq) {
            snprintf(err, errlen, "%s:%d: [kafka] topics: \"%s\" matches dlq_topic %s (dead letters would be consumed again)",
                     f, kl, t, k->dlq_topic);
            return -1;
        }
    }
    return 0;
}

int ix_settings_check(const cfg *c, char *err, size_t errlen)
{
    const ix_kafka_conf *k = cfg_get(c, "kafka");
    const ix_es_conf *e = cfg_get(c, "elasticsearch");
    const char *f = c->path ? c->path : "config";
    cfg_section *ks = cfg_section_get(c, "kafka"), *es = cfg_section_get(c, "elasticsearch");
    int kl = ks ? ks->line : 0, el = es ? es->line : 0;
    if (!k->topics.n) {
        /* without a [kafka] section there is no line to name: "file:0:"
         * would send the reader to a line that does not exist */
        if (!kl)
            snprintf(err, errlen,
                     "%s: [kafka] topics: at least one topic is needed (the file has no [kafka] section)",
                     f);
        else
            snprintf(err, errlen, "%s:%d: [kafka] topics: at least one topic is needed", f, kl);
        return -1;
    }
    if (!k->dlq_topic || !*k->dlq_topic) {
        snprintf(err, errlen, "%s:%d: [kafka] dlq_topic: must be set (refused records go there)", f, kl);
        return -1;
    }
    const char *why = topic_name_problem(k->dlq_topic);
    if (why) {
        snprintf(err, errlen, "%s:%d: [kafka] dlq_topic: \"%s\": %s", f, kl, k->dlq_topic, why);
        return -1;
    }
    if (check_topics(k, f, kl, err, errlen))
        return -1;
    for (size_t i = 0; i < k->topics.n; i++)
        if (!strcmp(k->topics.v[i], k->dlq_topic)) {
            snprintf(err, errlen, "%s:%d: [kafka] dlq_topic %s is also consumed", f, kl, k->dlq_topic);
            return -1;
        }
    if (!e->urls.n) {
        snprintf(err, errlen, "%s:%d: [elasticsearch] urls: at least one url is needed", f, el);
        return -1;
    }
    for (size_t i = 0; i < e->urls.n; i++)
        if (strncmp(e->urls.v[i], "http://", 7) && strncmp(e->urls.v[i], "https://", 8)) {
            snprintf(err, errlen, "%s:%d: [elasticsearch] urls: %s: not an http:// or https:// url", f, el,
                     e->urls.v[i]);
            return -1;
        }
    if (e->username && !e->password_file) {
        snprintf(err, errlen, "%s:%d: [elasticsearch] username needs password_file", f, el);
        return -1;
    }
    if (e->username && e->api_key_file) {
        snprintf(err, errlen, "%s:%d: [elasticsearch] username and api_key_file exclude each other", f, el);
        return -1;
    }
    if ((e->client_cert == NULL) != (e->client_key == NULL)) {
        snprintf(err, errlen, "%s:%d: [elasticsearch] client_cert and client_key go together", f, el);
        return -1;
    }
    if (k->heartbeat_interval_ms >= k->session_timeout_ms) {
        snprintf(err, errlen, "%s:%d: [kafka] heartbeat_interval must be below session_timeout", f, kl);
        return -1;
    }
    if (e->retry_initial_ms > e->retry_max_ms) {
        snprintf(err, errlen, "%s:%d: [elasticsearch] retry_initial above retry_max", f, el);
        return -1;
    }
    return 0;
}
