/* kafka-mock: a Kafka test peer. Runs librdkafka's mock cluster
 * (rdkafka_mock.h) in its own process so any client (kcat, our daemons)
 * can talk to it over TCP on loopback, and takes fault-injection commands
 * over a unix stream socket, one line per command, answered with one line
 * "ok" / "ok VALUE" / "error: why" once the command has taken effect.
 *
 *   kafka-mock [--brokers N] [--topic NAME:PARTS[:REPL]]... \
 *              [--bootstrap-file PATH] [--control PATH]
 *   kafka-mock --send CONTROL-PATH WORD...   (client: send one command,
 *              print the reply, exit 0 iff it starts with "ok")
 *
 * Commands: ping | broker down|up ID | brokers down|up |
 *   error APIKEY COUNT ERRCODE | clear APIKEY |
 *   leader TOPIC PARTITION BROKERID | rtt BROKERID MS |
 *   coordinator group|transaction KEY BROKERID |
 *   topic NAME PARTITIONS [REPLICATION] | bootstrap
 * APIKEY is a Kafka API name (Produce, Fetch, JoinGroup, ...) or a number;
 * ERRCODE an error name (NOT_LEADER_FOR_PARTITION, with or without the
 * RD_KAFKA_RESP_ERR_ prefix) or a number.
 *
 * Runs until SIGTERM/SIGINT, then removes the control socket and exits 0.
 * Note: the mock keeps only ~5 MiB per partition and trims older messages. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_CLIENTS 32
#define LINE_MAX_LEN 1024
#define MAX_TOPICS 64
#define MAX_BROKERS 64

struct client {
    int fd;            /* -1 when the slot is free */
    size_t len;        /* bytes buffered in line */
    char line[LINE_MAX_LEN];
};

struct mock {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    int brokers;
    const char *bootstrap_file;
    const char *control_path;
    int listen_fd;
    struct client clients[MAX_CLIENTS];
};

static const struct { const char *name; int16_t key; } api_keys[] = {
    {"Produce", 0}, {"Fetch", 1}, {"ListOffsets", 2}, {"Metadata", 3},
    {"LeaderAndIsr", 4}, {"StopReplica", 5}, {"UpdateMetadata", 6},
    {"ControlledShutdown", 7}, {"OffsetCommit", 8}, {"OffsetFetch", 9},
    {"FindCoordinator", 10}, {"JoinGroup", 11}, {"Heartbeat", 12},
    {"LeaveGroup", 13}, {"SyncGroup", 14}, {"DescribeGroups", 15},
    {"ListGroups", 16}, {"SaslHandshake", 17}, {"ApiVersions", 18},
    {"CreateTopics", 19}, {"DeleteTopics", 20}, {"DeleteRecords", 21},
    {"InitProducerId", 22}, {"OffsetForLeaderEpoch", 23},
    {"AddPartitionsToTxn", 24}, {"AddOffsetsToTxn", 25}, {"EndTxn", 26},
    {"WriteTxnMarkers", 27}, {"TxnOffsetCommit", 28}, {"DescribeAcls", 29},
    {"CreateAcls", 30}, {"DeleteAcls", 31}, {"DescribeConfigs", 32},
    {"AlterConfigs", 33}, {"SaslAuthenticate", 36},
    {"CreatePartitions", 37}, {"DeleteGroups", 42}, {"OffsetDelete", 47},
};

/* Parses a whole decimal number in [min,max]; 0 on success. */
static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_api_key(const char *s, int16_t *out)
{
    long v;
    if (parse_long(s, 0, 32767, &v) == 0) {
        *out = (int16_t)v;
        return 0;
    }
    for (size_t i = 0; i < sizeof(api_keys) / sizeof(api_keys[0]); i++) {
        if (strcasecmp(s, api_keys[i].name) == 0) {
            *out = api_keys[i].key;
            return 0;
        }
    }
    return -1;
}

/* Error names as librdkafka spells them (rd_kafka_get_err_descs), with
 * or without the RD_KAFKA_RESP_ERR_ prefix, or a number. */
static int parse_err(const char *s, rd_kafka_resp_err_t *out)
{
    long v;
    if (parse_long(s, -200, 32767, &v) == 0) {
        *out = (rd_kafka_resp_err_t)v;
        return 0;
    }
    static const char prefix[] = "RD_KAFKA_RESP_ERR_";
    if (strncasecmp(s, prefix, sizeof(prefix) - 1) == 0)
        s += sizeof(prefix) - 1;
    const struct rd_kafka_err_desc *descs;
    size_t cnt;
    rd_kafka_get_err_descs(&descs, &cnt);
    for (size_t i = 0; i < cnt; i++) {
        if (descs[i].name && strcasecmp(s, descs[i].name) == 0) {
            *out = descs[i].code;
            return 0;
        }
    }
    return -1;
}

static void reply(char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
}

static int broker_id_ok(const struct mock *m, const char *s, int32_t *id)
{
    long v;
    if (parse_long(s, 1, m->brokers, &v))
        return -1;
    *id = (int32_t)v;
    return 0;
}

static void reply_err(char *out, size_t outlen, const char *what,
                      rd_kafka_resp_err_t err)
{
    if (err)
        reply(out, outlen, "error: %s: %s", what, rd_kafka_err2str(err));
    else
        reply(out, outlen, "ok");
}

/* Runs one command line (split in place) and writes the reply line. */
static void run_command(struct mock *m, char *line, char *out, size_t outlen)
{
    char *argv[8];
    int argc = 0;
    char *save = NULL;
    for (char *w = strtok_r(line, " \t\r", &save); w;
         w = strtok_r(NULL, " \t\r", &save)) {
        if (argc == 8) {
            reply(out, outlen, "error: too many words");
            return;
        }
        argv[argc++] = w;
    }
    long v1, v2;
    int32_t id;
    if (argc == 0) {
        reply(out, outlen, "error: empty command");
    } else if (strcmp(argv[0], "ping") == 0 && argc == 1) {
        reply(out, outlen, "ok");
    } else if (strcmp(argv[0], "bootstrap") == 0 && argc == 1) {
        reply(out, outlen, "ok %s", rd_kafka_mock_cluster_bootstraps(m->mc));
    } else if (strcmp(argv[0], "broker") == 0 && argc == 3 &&
               (strcmp(argv[1], "down") == 0 || strcmp(argv[1], "up") == 0)) {
        if (broker_id_ok(m, argv[2], &id)) {
            reply(out, outlen, "error: broker id '%s' not in 1..%d", argv[2],
                  m->brokers);
            return;
        }
        rd_kafka_resp_err_t err = argv[1][0] == 'd'
            ? rd_kafka_mock_broker_set_down(m->mc, id)
            : rd_kafka_mock_broker_set_up(m->mc, id);
        reply_err(out, outlen, "broker", err);
    } else if (strcmp(argv[0], "brokers") == 0 && argc == 2 &&
               (strcmp(argv[1], "down") == 0 || strcmp(argv[1], "up") == 0)) {
        for (id = 1; id <= m->brokers; id++) {
            rd_kafka_resp_err_t err = argv[1][0] == 'd'
                ? rd_kafka_mock_broker_set_down(m->mc, id)
                : rd_kafka_mock_broker_set_up(m->mc, id);
            if (err) {
                reply_err(out, outlen, "brokers", err);
                return;
            }
        }
        reply(out, outlen, "ok");
    } else if (strcmp(argv[0], "error") == 0 && argc == 4) {
        int16_t key;
        rd_kafka_resp_err_t code;
        if (parse_api_key(argv[1], &key)) {
            reply(out, outlen, "error: unknown API key '%s'", argv[1]);
        } else if (parse_long(argv[2], 1, 100000, &v1)) {
            reply(out, outlen, "error: count '%s' not in 1..100000", argv[2]);
        } else if (parse_err(argv[3], &code)) {
            reply(out, outlen, "error: unknown error code '%s'", argv[3]);
        } else {
            rd_kafka_resp_err_t *errs = malloc((size_t)v1 * sizeof(*errs));
            if (!errs) {
                reply(out, outlen, "error: out of memory");
                return;
            }
            for (long i = 0; i < v1; i++)
                errs[i] = code;
            rd_kafka_mock_push_request_errors_array(m->mc, key, (size_t)v1,
                                                    errs);
            free(errs);
            errs = NULL;
            reply(out, outlen, "ok");
        }
    } else if (strcmp(argv[0], "clear") == 0 && argc == 2) {
        int16_t key;
        if (parse_api_key(argv[1], &key)) {
            reply(out, outlen, "error: unknown API key '%s'", argv[1]);
            return;
        }
        rd_kafka_mock_clear_request_errors(m->mc, key);
        reply(out, outlen, "ok");
    } else if (strcmp(argv[0], "leader") == 0 && argc == 4) {
        if (parse_long(argv[2], 0, INT32_MAX, &v1)) {
            reply(out, outlen, "error: bad partition '%s'", argv[2]);
        } else if (broker_id_ok(m, argv[3], &id) &&
                   strcmp(argv[3], "-1") != 0) {
            reply(out, outlen, "error: broker id '%s' not in 1..%d or -1",
                  argv[3], m->brokers);
        } else {
            if (strcmp(argv[3], "-1") == 0)
                id = -1;
            reply_err(out, outlen, "leader",
                      rd_kafka_mock_partition_set_leader(m->mc, argv[1],
                                                         (int32_t)v1, id));
        }
    } else if (strcmp(argv[0], "coordinator") == 0 && argc == 4 &&
               (strcmp(argv[1], "group") == 0 ||
                strcmp(argv[1], "transaction") == 0)) {
        if (broker_id_ok(m, argv[3], &id)) {
            reply(out, outlen, "error: broker id '%s' not in 1..%d", argv[3],
                  m->brokers);
            return;
        }
        reply_err(out, outlen, "coordinator",
                  rd_kafka_mock_coordinator_set(m->mc, argv[1], argv[2], id));
    } else if (strcmp(argv[0], "rtt") == 0 && argc == 3) {
        if (broker_id_ok(m, argv[1], &id)) {
            reply(out, outlen, "error: broker id '%s' not in 1..%d", argv[1],
                  m->brokers);
        } else if (parse_long(argv[2], 0, 3600000, &v1)) {
            reply(out, outlen, "error: bad rtt '%s'", argv[2]);
        } else {
            reply_err(out, outlen, "rtt",
                      rd_kafka_mock_broker_set_rtt(m->mc, id, (int)v1));
        }
    } else if (strcmp(argv[0], "topic") == 0 && (argc == 3 || argc == 4)) {
        v2 = m->brokers < 3 ? m->brokers : 3;
        if (parse_long(argv[2], 1, 10000, &v1)) {
            reply(out, outlen, "error: bad partition count '%s'", argv[2]);
        } else if (argc == 4 && parse_long(argv[3], 1, m->brokers, &v2)) {
            reply(out, outlen, "error: replication '%s' not in 1..%d",
                  argv[3], m->brokers);
        } else {
            reply_err(out, outlen, "topic",
                      rd_kafka_mock_topic_create(m->mc, argv[1], (int)v1,
                                                 (int)v2));
        }
    } else {
        reply(out, outlen, "error: unknown command or wrong arguments "
                           "(try: ping, broker down|up ID, brokers down|up, "
                           "error APIKEY COUNT ERRCODE, clear APIKEY, "
                           "leader TOPIC PART ID, rtt ID MS, "
                           "coordinator group|transaction KEY ID, "
                           "topic NAME PARTS [REPL], bootstrap)");
    }
}

static void client_close(struct client *c)
{
    close(c->fd);
    c->fd = -1;
    c->len = 0;
}

static void client_send(struct client *c, const char *msg)
{
    char buf[LINE_MAX_LEN + 64];
    int n = snprintf(buf, sizeof(buf), "%s\n", msg);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
    /* Replies are short; a peer that does not read them loses them. */
    if (send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len)
        client_close(c);
}

/* Reads what the client sent and answers each complete line. */
static void client_read(struct mock *m, struct client *c)
{
    ssize_t n = read(c->fd, c->line + c->len, sizeof(c->line) - c->len);
    if (n <= 0) {
        client_close(c);
        return;
    }
    c->len += (size_t)n;
    char *nl;
    while (c->fd >= 0 && (nl = memchr(c->line, '\n', c->len))) {
        *nl = '\0';
        size_t used = (size_t)(nl - c->line) + 1;
        char out[LINE_MAX_LEN + 64];
        run_command(m, c->line, out, sizeof(out));
        client_send(c, out);
        memmove(c->line, c->line + used, c->len - used);
        c->len -= used;
    }
    if (c->fd >= 0 && c->len == sizeof(c->line)) {
        client_send(c, "error: line too long");
        if (c->fd >= 0)
            client_close(c);
    }
}

static int listen_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "kafka-mock: control path too long: %s\n", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto err;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16))
        goto err;
    return fd;
err:
    fprintf(stderr, "kafka-mock: control socket %s: %s\n", path,
            strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

/* Writes the bootstrap list to PATH.tmp then renames it, so a reader that
 * sees the file sees it whole. */
static int write_bootstrap(const char *path, const char *bootstraps)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        fprintf(stderr, "kafka-mock: bootstrap path too long\n");
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f)
        goto err;
    int bad = fprintf(f, "%s\n", bootstraps) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path))
        goto err;
    return 0;
err:
    fprintf(stderr, "kafka-mock: writing %s: %s\n", path, strerror(errno));
    unlink(tmp);
    return -1;
}

/* Client mode: one command, one reply. */
static int send_command(const char *path, int argc, char **argv)
{
    char line[LINE_MAX_LEN];
    size_t len = 0;
    for (int i = 0; i < argc; i++) {
        int n = snprintf(line + len, sizeof(line) - len, "%s%s",
                         i ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= sizeof(line) - len - 1) {
            fprintf(stderr, "kafka-mock: command too long\n");
            return 2;
        }
        len += (size_t)n;
    }
    line[len++] = '\n';
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "kafka-mock: control path too long\n");
        return 2;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
        write(fd, line, len) != (ssize_t)len) {
        fprintf(stderr, "kafka-mock: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 2;
    }
    char buf[LINE_MAX_LEN + 64];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof(buf) - 1 &&
           (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
        got += (size_t)n;
        if (memchr(buf, '\n', got))
            break;
    }
    close(fd);
    buf[got] = '\0';
    fputs(buf, stdout);
    if (got == 0 || buf[got - 1] != '\n')
        fputc('\n', stdout);
    return strncmp(buf, "ok", 2) == 0 && (buf[2] == '\n' || buf[2] == ' ')
               ? 0 : 1;
}

static void usage(FILE *f)
{
    fputs("usage: kafka-mock [--brokers N] [--topic NAME:PARTS[:REPL]]... "
          "[--bootstrap-file PATH] [--control PATH]\n"
          "       kafka-mock --send CONTROL-PATH COMMAND...\n", f);
}

static int serve(struct mock *m, int sfd)
{
    for (;;) {
        struct pollfd pfd[2 + MAX_CLIENTS];
        int map[2 + MAX_CLIENTS];
        nfds_t n = 0;
        pfd[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
        if (m->listen_fd >= 0)
            pfd[n++] = (struct pollfd){.fd = m->listen_fd, .events = POLLIN};
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (m->clients[i].fd >= 0) {
                map[n] = i;
                pfd[n++] = (struct pollfd){.fd = m->clients[i].fd,
                                           .events = POLLIN};
            }
        }
        if (poll(pfd, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "kafka-mock: poll: %s\n", strerror(errno));
            return 1;
        }
        if (pfd[0].revents)
            return 0; /* SIGTERM/SIGINT */
        nfds_t first_client = 1;
        if (m->listen_fd >= 0) {
            first_client = 2;
            if (pfd[1].revents & POLLIN) {
                int cfd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                int slot = -1;
                for (int i = 0; cfd >= 0 && i < MAX_CLIENTS; i++)
                    if (m->clients[i].fd < 0) {
                        slot = i;
                        break;
                    }
                if (slot >= 0) {
                    m->clients[slot].fd = cfd;
                    m->clients[slot].len = 0;
                } else if (cfd >= 0) {
                    static const char busy[] = "error: too many clients\n";
                    (void)!send(cfd, busy, sizeof(busy) - 1,
                                MSG_NOSIGNAL | MSG_DONTWAIT);
                    close(cfd);
                }
            }
        }
        for (nfds_t i = first_client; i < n; i++)
            if (pfd[i].revents)
                client_read(m, &m->clients[map[i]]);
    }
}

int main(int argc, char **argv)
{
    struct mock m = {.brokers = 3, .listen_fd = -1};
    const char *topics[MAX_TOPICS];
    int ntopics = 0, rc = 1, sfd = -1;
    char errstr[512];
    long v;

    for (int i = 0; i < MAX_CLIENTS; i++)
        m.clients[i].fd = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--send") == 0 && i + 2 < argc)
            return send_command(argv[i + 1], argc - i - 2, argv + i + 2);
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            usage(stderr);
            return 2;
        }
        const char *val = argv[++i];
        if (strcmp(a, "--brokers") == 0) {
            if (parse_long(val, 1, MAX_BROKERS, &v)) {
                fprintf(stderr, "kafka-mock: --brokers '%s' not in 1..%d\n",
                        val, MAX_BROKERS);
                return 2;
            }
            m.brokers = (int)v;
        } else if (strcmp(a, "--topic") == 0) {
            if (ntopics == MAX_TOPICS) {
                fprintf(stderr, "kafka-mock: too many --topic\n");
                return 2;
            }
            topics[ntopics++] = val;
        } else if (strcmp(a, "--bootstrap-file") == 0) {
            m.bootstrap_file = val;
        } else if (strcmp(a, "--control") == 0) {
            m.control_path = val;
        } else {
            usage(stderr);
            return 2;
        }
    }

    /* Block the stop signals in every thread (librdkafka's threads inherit
     * this mask) and take them through a signalfd in the poll loop. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    sfd = signalfd(-1, &stop, SFD_CLOEXEC);
    if (sfd < 0) {
        fprintf(stderr, "kafka-mock: signalfd: %s\n", strerror(errno));
        return 1;
    }

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* takes ownership of conf on success */
    m.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!m.rk) {
        rd_kafka_conf_destroy(conf);
        fprintf(stderr, "kafka-mock: rd_kafka_new: %s\n", errstr);
        goto out;
    }
    m.mc = rd_kafka_mock_cluster_new(m.rk, m.brokers);
    if (!m.mc) {
        fprintf(stderr, "kafka-mock: cannot create mock cluster\n");
        goto out;
    }
    for (int i = 0; i < ntopics; i++) {
        char name[256];
        long parts = 0, repl = m.brokers < 3 ? m.brokers : 3;
        const char *c1 = strchr(topics[i], ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        size_t nlen = c1 ? (size_t)(c1 - topics[i]) : 0;
        char num[32];
        size_t plen = c1 ? (c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1)) : 0;
        if (!c1 || nlen == 0 || nlen >= sizeof(name) || plen >= sizeof(num)) {
            fprintf(stderr, "kafka-mock: --topic '%s': want "
                            "NAME:PARTITIONS[:REPLICATION]\n", topics[i]);
            goto out;
        }
        memcpy(name, topics[i], nlen);
        name[nlen] = '\0';
        memcpy(num, c1 + 1, plen);
        num[plen] = '\0';
        if (parse_long(num, 1, 10000, &parts) ||
            (c2 && parse_long(c2 + 1, 1, m.brokers, &repl))) {
            fprintf(stderr, "kafka-mock: --topic '%s': bad partitions or "
                            "replication (1..%d)\n", topics[i], m.brokers);
            goto out;
        }
        rd_kafka_resp_err_t err =
            rd_kafka_mock_topic_create(m.mc, name, (int)parts, (int)repl);
        if (err) {
            fprintf(stderr, "kafka-mock: topic %s: %s\n", name,
                    rd_kafka_err2str(err));
            goto out;
        }
    }
    if (m.control_path && (m.listen_fd = listen_unix(m.control_path)) < 0)
        goto out;

    const char *bs = rd_kafka_mock_cluster_bootstraps(m.mc);
    /* The bootstrap file comes last: once it exists, everything is ready. */
    if (m.bootstrap_file && write_bootstrap(m.bootstrap_file, bs))
        goto out;
    printf("%s\n", bs);
    fflush(stdout);

    rc = serve(&m, sfd);
out:
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (m.clients[i].fd >= 0)
            client_close(&m.clients[i]);
    if (m.listen_fd >= 0) {
        close(m.listen_fd);
        m.listen_fd = -1;
        unlink(m.control_path);
    }
    if (m.mc) {
        rd_kafka_mock_cluster_destroy(m.mc);
        m.mc = NULL;
    }
    if (m.rk) {
        rd_kafka_destroy(m.rk);
        m.rk = NULL;
    }
    close(sfd);
    return rc;
}
