/* bench-mon: watches a benchmark until a count is reached, and samples the
 * CPU time and memory of the processes under test meanwhile.
 *
 *   bench-mon kafka BOOTSTRAP TOPIC N [OPTS]   sum of the topic's high
 *                                              watermarks >= N
 *   bench-mon es URL INDEX-EXPR N [OPTS]       GET URL/INDEX-EXPR/_count >= N
 *   bench-mon metric URL NAME N [OPTS]         the sum of the series of NAME
 *                                              in the Prometheus text at URL
 *                                              >= N (a daemon's /metrics)
 *   bench-mon lines N [OPTS]                   N newline-ended lines read on
 *                                              stdin (a consumer's output);
 *                                              reads to EOF after that
 *   bench-mon sample SECS [OPTS]               just sample for SECS seconds
 * OPTS:
 *   --pid PID        a process to sample (repeatable, up to 8): user+sys
 *                    CPU of all its threads from /proc/PID/stat, VmRSS and
 *                    VmHWM from /proc/PID/status
 *   --t0 EPOCH       when the run started (default: now); times are from it
 *   --timeout SECS   give up (exit 1) after this long (default 600)
 *   --interval MS    polling period (default 20; sampling in lines mode)
 *   --curve FILE     write "EPOCH_NS COUNT" after every poll that moved
 *                    The first --pid is the process under test: when it is
 *                    gone before the target, bench-mon gives up (exit 1).
 *   --low            (kafka) also print the sum of low watermarks at the
 *                    end: >0 means the mock trimmed messages
 * Prints one line of shell assignments for eval:
 *   ELAPSED_FIRST ELAPSED_DONE (seconds from t0 to the first count > 0 and
 *   to the target), COUNT, LOW, and per sampled process i (0-based):
 *   CPU<i>_START CPU<i>_FIRST CPU<i>_DONE (seconds of CPU since the process
 *   started, at our start, first and done), HWM<i> (VmHWM KiB at done),
 *   RSSMAX<i> (largest VmRSS sampled, KiB).
 * Exit 0 when the target was reached (or SECS sampled), 1 on timeout or
 * error (the line is printed anyway, with what was seen), 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <librdkafka/rdkafka.h>

#define MAX_PIDS 8

typedef struct {
    int pid;
    double cpu_start, cpu_first, cpu_done;
    long hwm_kb, rss_max_kb;
    int gone;
} proc_t;

static proc_t procs[MAX_PIDS];
static int nprocs;
static long clk_tck;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* user+sys seconds of all threads; -1 when the process is gone */
static double proc_cpu(int pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* comm may hold spaces */
    if (!p) return -1;
    unsigned long long ut = 0, st = 0;
    /* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)clk_tck;
}

/* VmRSS and VmHWM in KiB; -1 when unknown */
static void proc_mem(int pid, long *rss, long *hwm)
{
    char path[64], line[256];
    *rss = *hwm = -1;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "re");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6)) *rss = strtol(line + 6, NULL, 10);
        else if (!strncmp(line, "VmHWM:", 6)) *hwm = strtol(line + 6, NULL, 10);
    }
    fclose(f);
}

static void sample(int stage) /* 0 start, 1 first, 2 poll, 3 done */
{
    for (int i = 0; i < nprocs; i++) {
        proc_t *p = &procs[i];
        if (p->gone) continue;
        double cpu = proc_cpu(p->pid);
        long rss, hwm;
        proc_mem(p->pid, &rss, &hwm);
        if (cpu < 0) {
            p->gone = 1;
            continue;
        }
        if (rss > p->rss_max_kb) p->rss_max_kb = rss;
        if (hwm > 0) p->hwm_kb = hwm;
        if (stage == 0) p->cpu_start = cpu;
        if (stage <= 1) p->cpu_first = cpu;
        p->cpu_done = cpu;
    }
}

/* ---- kafka ---- */
static rd_kafka_t *rk;
static int nparts;

static int kafka_init(const char *bootstrap, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, errlen) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "log_level", "3", err, errlen) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen); /* takes conf */
    return rk ? 0 : -1;
}

static int kafka_partitions(const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int n = -1;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md->topic_cnt == 1 && !md->topics[0].err) n = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
    return n;
}

/* sum of high (or low) watermarks; -1 on error. High watermarks come from
 * one ListOffsets request per leader (offsets_for_times with "latest"), not
 * one per partition: polling must not load the mock the daemon writes to. */
static int64_t kafka_sum(const char *topic, int low)
{
    if (nparts <= 0 && (nparts = kafka_partitions(topic)) <= 0) return -1;
    int64_t sum = 0;
    if (low) {
        for (int p = 0; p < nparts; p++) {
            int64_t lo, hi;
            if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 2000)) return -1;
            sum += lo;
        }
        return sum;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_END;
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, l, 2000);
    for (int i = 0; !err && i < l->cnt; i++) {
        if (l->elems[i].err || l->elems[i].offset < 0) err = RD_KAFKA_RESP_ERR__FAIL;
        else sum += l->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return err ? -1 : sum;
}

/* ---- es ---- */
static CURL *curl;
static char es_url[4096];
static char resp[1 << 20]; /* /metrics with a series per partition: ~100 KiB */
static size_t resp_len;
static const char *metric_name;

static size_t on_body(char *p, size_t sz, size_t n, void *u)
{
    size_t len = sz * n, room = sizeof resp - 1 - resp_len;
    memcpy(resp + resp_len, p, len < room ? len : room);
    resp_len += len < room ? len : room;
    return len;
}

/* GET es_url into resp (NUL-terminated): the HTTP status, -1 when none. */
static long fetch(void)
{
    resp_len = 0;
    curl_easy_setopt(curl, CURLOPT_URL, es_url);
    if (curl_easy_perform(curl) != CURLE_OK) return -1;
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    resp[resp_len] = '\0';
    return code;
}

static int64_t es_count(void)
{
    long code = fetch(); /* 0: no answer */
    const char *c = strstr(resp, "\"count\":");
    if (code != 200 || !c) return code == 404 ? 0 : -1; /* no index yet: 0 */
    return strtoll(c + 8, NULL, 10);
}

/* /metrics: the sum of NAME's series ("NAME{...} V" or "NAME V" lines). */
static int64_t metric_sum(void)
{
    if (fetch() != 200) return -1;
    size_t nl = strlen(metric_name);
    double sum = 0;
    for (const char *l = resp; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        if (strncmp(l, metric_name, nl) || (l[nl] != '{' && l[nl] != ' '))
            continue;
        const char *v = l[nl] == '{' ? strchr(l + nl, '}') : l + nl;
        if (v)
            sum += strtod(v + (*v == '}'), NULL);
    }
    return (int64_t)sum;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench-mon kafka BOOTSTRAP TOPIC N | es URL INDEX N | metric URL NAME N | lines N |"
                    " sample SECS  [--pid P]... [--t0 EPOCH] [--timeout S] [--interval MS]"
                    " [--curve FILE] [--low]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 3) usage();
    const char *mode = argv[1];
    int nargs = !strcmp(mode, "kafka") || !strcmp(mode, "es") || !strcmp(mode, "metric") ? 3
              : !strcmp(mode, "lines") || !strcmp(mode, "sample") ? 1 : -1;
    if (nargs < 0 || argc < 2 + nargs) usage();
    char **pos = argv + 2;
    double t0 = now_s(), timeout = 600, interval_ms = 20;
    const char *curve_path = NULL;
    int want_low = 0;
    for (int i = 2 + nargs; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--low")) { want_low = 1; continue; }
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        if (!strcmp(o, "--pid")) {
            if (nprocs == MAX_PIDS) usage();
            procs[nprocs].pid = atoi(v);
            procs[nprocs].rss_max_kb = procs[nprocs].hwm_kb = -1;
            nprocs++;
        } else if (!strcmp(o, "--t0")) t0 = strtod(v, NULL);
        else if (!strcmp(o, "--timeout")) timeout = strtod(v, NULL);
        else if (!strcmp(o, "--interval")) interval_ms = strtod(v, NULL);
        else if (!strcmp(o, "--curve")) curve_path = v;
        else usage();
    }
    clk_tck = sysconf(_SC_CLK_TCK);
    char err[512];
    int64_t target = strtoll(pos[nargs - 1], NULL, 10);
    double sample_secs = 0;
    if (!strcmp(mode, "kafka")) {
        if (kafka_init(pos[0], err, sizeof err) < 0) {
            fprintf(stderr, "bench-mon: kafka: %s\n", err);
            return 1;
        }
    } else if (!strcmp(mode, "es") || !strcmp(mode, "metric")) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl = curl_easy_init();
        if (!strcmp(mode, "es"))
            snprintf(es_url, sizeof es_url, "%s/%s/_count", pos[0], pos[1]);
        else {
            snprintf(es_url, sizeof es_url, "%s", pos[0]);
            metric_name = pos[1];
        }
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    } else if (!strcmp(mode, "sample")) {
        sample_secs = strtod(pos[0], NULL);
    }
    FILE *curve = NULL;
    if (curve_path && !(curve = fopen(curve_path, "we"))) {
        fprintf(stderr, "bench-mon: %s: %s\n", curve_path, strerror(errno));
        return 1;
    }
    if (curve) setvbuf(curve, NULL, _IOLBF, 0); /* others watch it grow */

    sample(0);
    double start = now_s(), first = -1, done = -1, last_sample = 0;
    int64_t count = 0, last = -1;
    static char buf[1 << 16];
    int eof = 0;
    for (;;) {
        double t = now_s();
        if (!strcmp(mode, "lines")) {
            /* stdin: count newlines; sample the processes every interval */
            struct pollfd pfd = {0, POLLIN, 0};
            if (!eof && poll(&pfd, 1, (int)interval_ms) > 0) {
                ssize_t n = read(0, buf, sizeof buf);
                if (n <= 0) eof = 1;
                int64_t before = count;
                for (ssize_t k = 0; k < n; k++) count += buf[k] == '\n';
                if (curve && count != before)
                    fprintf(curve, "%.0f %" PRId64 "\n", now_s() * 1e9, count);
            }
            if (eof && done < 0) break;
            t = now_s();
            if (count > 0 && first < 0) { first = t; sample(1); }
            if (count >= target && done < 0) { done = t; sample(3); }
            if (done >= 0) {
                if (eof) break;
                continue; /* drain the rest without sampling */
            }
            if (t - last_sample >= interval_ms / 1000) { sample(2); last_sample = t; }
        } else if (!strcmp(mode, "sample")) {
            sample(2);
            if (t - start >= sample_secs) { done = t; sample(3); break; }
            struct timespec ts = {0, (long)(interval_ms * 1e6)};
            nanosleep(&ts, NULL);
            continue;
        } else {
            int64_t c = !strcmp(mode, "kafka") ? kafka_sum(pos[1], 0)
                        : metric_name             ? metric_sum()
                                                  : es_count();
            t = now_s();
            if (c >= 0) count = c;
            if (count > 0 && first < 0) { first = t; sample(1); }
            else sample(2);
            if (curve && count != last) {
                fprintf(curve, "%.0f %" PRId64 "\n", t * 1e9, count);
                last = count;
            }
            if (count >= target) { done = t; sample(3); break; }
            struct timespec ts = {0, (long)(interval_ms * 1e6)};
            nanosleep(&ts, NULL);
        }
        if (now_s() - start > timeout) break;
        if (nprocs && procs[0].gone && strcmp(mode, "lines")) {
            fprintf(stderr, "bench-mon: process %d is gone\n", procs[0].pid);
            break;
        }
    }
    int64_t low = -1;
    if (want_low && rk) low = kafka_sum(pos[1], 1);
    printf("ELAPSED_FIRST=%.3f ELAPSED_DONE=%.3f COUNT=%" PRId64 " LOW=%" PRId64,
           first >= 0 ? first - t0 : -1.0, done >= 0 ? done - t0 : -1.0, count, low);
    for (int i = 0; i < nprocs; i++)
        printf(" CPU%d_START=%.2f CPU%d_FIRST=%.2f CPU%d_DONE=%.2f HWM%d=%ld RSSMAX%d=%ld", i,
               procs[i].cpu_start, i, procs[i].cpu_first, i, procs[i].cpu_done, i, procs[i].hwm_kb, i,
               procs[i].rss_max_kb);
    printf("\n");
    if (curve) fclose(curve);
    if (rk) rd_kafka_destroy(rk);
    if (curl) curl_easy_cleanup(curl);
    return done >= 0 ? 0 : 1;
}
