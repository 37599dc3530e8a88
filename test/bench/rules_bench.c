/* rules_bench: CPU cost of the rewrite rules per record, by topic of the
 * shipped etc/rules.ini (the nginx access-log rule is the one the indexer
 * target is measured with). Not part of `make check`.
 *
 *   build: cc -O2 -D_GNU_SOURCE -I. $(pkg-config --cflags libcjson) \
 *            -o build/obj/rules_bench test/bench/rules_bench.c \
 *            build/obj/libindexer.a build/obj/liblogferry.a \
 *            $(pkg-config --libs libcjson libpcre2-8 inih libmicrohttpd) -lm
 *   run:   build/obj/rules_bench [etc/rules.ini] [records]
 *
 * For each topic, the same records are decoded with and without applying
 * the rules; the difference is the rules' cost (JSON decoding of the record
 * is the indexer's, not the rules'). Times are process CPU time, best of 5
 * rounds (the machine may be shared). Topic → shipped rules that apply:
 *   nginx  → access-log        syslog → syslog
 *   app    → app-json          java   → java, java-exception
 * "+no rules" is the default index alone (no rules file). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "indexer/rules.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define VARIANTS 64

/* Records in the collector's envelope, with variety so caches of the last
 * value do not flatter the numbers. */
static char *make_record(const char *topic, int i)
{
    char line[1024], *json = NULL;
    int sec = i % 60, min = (i / 60) % 60;
    if (!strcmp(topic, "nginx")) {
        static const char *paths[] = {"/", "/index.html", "/api/v1/orders?id=42&page=3",
                                      "/static/app.3f9a1c.js", "/healthz"};
        snprintf(line, sizeof line,
                 "203.0.113.%d - - [25/Nov/2026:16:%02d:%02d +0100] \"GET %s HTTP/1.1\" %d %d "
                 "\"https://shop.example.com/\" \"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) "
                 "Gecko/20100101 Firefox/120.0\"",
                 i % 250, min, sec, paths[i % 5], i % 7 ? 200 : 404, 512 + i);
    } else if (!strcmp(topic, "syslog")) {
        snprintf(line, sizeof line,
                 "<38>Nov 25 16:%02d:%02d bastion sshd[%d]: Failed password for root from "
                 "203.0.113.%d port 22 ssh2", min, sec, 1000 + i, i % 250);
    } else if (!strcmp(topic, "app")) {
        snprintf(line, sizeof line,
                 "{\"time\":\"2026-11-25T16:%02d:%02d.123+01:00\",\"level\":\"info\",\"msg\":"
                 "\"order placed\",\"order\":{\"id\":%d,\"total\":19.99},\"logger\":\"billing\"}",
                 min, sec, i);
    } else { /* java */
        snprintf(line, sizeof line,
                 "2026-11-25 16:%02d:%02d,123 ERROR [http-nio-8080-exec-%d] "
                 "com.example.orders.OrderController - Request failed\n"
                 "java.lang.IllegalStateException: order %d is closed\n"
                 "\tat com.example.orders.OrderService.update(OrderService.java:88)\n"
                 "\tat com.example.orders.OrderController.put(OrderController.java:41)",
                 min, sec, i % 16, i);
    }
    cJSON *env = cJSON_CreateObject();
    cJSON_AddStringToObject(env, "@timestamp", "2026-11-25T16:21:30.000Z");
    cJSON_AddStringToObject(env, "message", line);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(env, "host"), "name", "node7");
    cJSON *log = cJSON_AddObjectToObject(env, "log");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(log, "file"), "path", "/var/log/x.log");
    cJSON_AddNumberToObject(log, "offset", 1000.0 * i);
    char id[64];
    snprintf(id, sizeof id, "6f1c0a9e4d2b7c35a8e1f0b2c3d4e5f6-%d", 1000 * i);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(env, "event"), "id", id);
    json = cJSON_PrintUnformatted(env);
    cJSON_Delete(env);
    return json;
}

static double run(const rules *r, const char *topic, char **recs, long n, int apply)
{
    double t0 = cpu_now();
    rules_result res;
    uint64_t sink = 0;
    for (long i = 0; i < n; i++) {
        cJSON *doc = cJSON_Parse(recs[i % VARIANTS]);
        if (apply) {
            rules_apply(r, topic, doc, &res);
            sink += (uint64_t)res.index[5];
        }
        cJSON_Delete(doc);
    }
    double t = cpu_now() - t0;
    if (sink == 1)
        puts("");
    return t;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "etc/rules.ini";
    long n = argc > 2 ? atol(argv[2]) : 200000;
    rules *r = NULL, *none = NULL;
    char err[512];
    if (rules_load(&r, path, NULL, err, sizeof err) != 0 ||
        rules_load(&none, NULL, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "rules_bench: %s\n", err);
        return 1;
    }
    const char *topics[] = {"nginx", "syslog", "app", "java"};
    size_t ntopics = getenv("BENCH_TOPICS1") ? 1 : sizeof topics / sizeof topics[0];
    printf("rules_bench: %s, %ld records per topic (CPU ns per record)\n", path, n);
    printf("%-8s %12s %12s %12s %12s\n", "topic", "decode", "+no rules", "+rules", "rules only");
    for (size_t t = 0; t < ntopics; t++) {
        char *recs[VARIANTS];
        for (int i = 0; i < VARIANTS; i++)
            recs[i] = make_record(topics[t], i);
        run(r, topics[t], recs, n / 10, 1); /* warm up (JIT pages, caches) */
        /* best of 5 rounds: the machine is shared, the minimum is the cost */
        double base = 1e9, def = 1e9, with = 1e9;
        for (int round = 0; round < 5; round++) {
            double b = run(r, topics[t], recs, n, 0);
            double d = run(none, topics[t], recs, n, 1);
            double w = run(r, topics[t], recs, n, 1);
            base = b < base ? b : base;
            def = d < def ? d : def;
            with = w < with ? w : with;
        }
        printf("%-8s %12.0f %12.0f %12.0f %12.0f\n", topics[t], base / n * 1e9, def / n * 1e9,
               with / n * 1e9, (with - base) / n * 1e9);
        for (int i = 0; i < VARIANTS; i++)
            free(recs[i]);
    }
    rules_free(r);
    rules_free(none);
    return 0;
}
