/* gen-nginx: deterministic nginx "combined" access lines for the benchmarks.
 *
 *   gen-nginx [--lines N] [--size BYTES] [--seed S] [--format plain|json]
 *             [--files K] [--start-line I] OUT
 *       Writes N lines (default 1000000). With --files K, OUT is a prefix
 *       and the lines are spread round-robin over OUT.0 .. OUT.K-1 (each
 *       file gets N/K lines, the first N%K files one more).
 *   gen-nginx --rate LPS --secs S [--size BYTES] [--curve FILE] [--files K] OUT
 *       Appends LPS lines a second for S seconds (paced in 1 ms steps, in
 *       batches written with one write() per file), to OUT (or OUT.0..K-1).
 *       --curve writes "EPOCH_NS TOTAL_LINES" after every batch, so a
 *       consumer's arrival curve can be turned into latencies.
 *
 * --size 0 (default): natural lines, about 180 bytes on average. --size B:
 * every line is exactly B bytes with its newline (the URL's query string is
 * padded, short agents are used below 200 bytes). --format json wraps each
 * line in the ECS record logferry-collector produces (the message escaped),
 * for preloading a topic.
 *
 * The same arguments give the same bytes (xorshift64*, fixed default seed);
 * time stamps advance 1 ms a line from 2026-11-25T00:00:00Z. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BASE_EPOCH 1795564800LL /* 2026-11-25T00:00:00Z */
#define MAXLINE (1 << 20)

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}
static unsigned rndn(unsigned n) { return (unsigned)((rnd() >> 32) % n); }

static const char *const methods[] = {"GET", "GET", "GET", "GET", "GET", "GET", "GET",
                                      "GET", "POST", "POST", "PUT", "DELETE", "HEAD"};
static const int statuses[] = {200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,
                               304, 304, 301, 302, 404, 404, 400, 403, 499, 500, 502, 503};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15",
    "curl/8.4.0",
    "Go-http-client/1.1",
    "python-requests/2.31.0",
    "Prometheus/2.48.0",
    "kube-probe/1.28",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
};
static const char *const short_agents[] = {"curl/8.4.0", "Go-http-client/1.1", "kube-probe/1.28"};
static const char *const referers[] = {
    "-", "-", "https://www.example.com/", "https://www.example.com/shop/cart?step=checkout",
    "https://www.google.com/", "https://shop.example.org/items?category=shoes&page=2",
    "https://www.example.com/products/category/outdoor/tents",
};
static const char *const users[] = {"-", "-", "-", "-", "-", "-", "-", "alice", "bob"};

/* One request path into p (NUL-terminated); returns its length. */
static int make_path(char *p, size_t cap)
{
    switch (rndn(8)) {
    case 0: return snprintf(p, cap, "/api/v1/items/%u", rndn(100000));
    case 1: return snprintf(p, cap, "/api/v1/users/%u/orders?limit=%u", rndn(50000), 10 + rndn(90));
    case 2: return snprintf(p, cap, "/static/js/app.%08x.js", (unsigned)rnd());
    case 3: return snprintf(p, cap, "/search?q=item%u&page=%u", rndn(10000), 1 + rndn(20));
    case 4: return snprintf(p, cap, "/healthz");
    case 5: return snprintf(p, cap, "/images/products/%u.jpg", rndn(200000));
    case 6: return snprintf(p, cap, "/cart/add?sku=%06u&qty=%u", rndn(999999), 1 + rndn(5));
    default: return snprintf(p, cap, "/index.html");
    }
}

static int64_t cached_sec = -1;
static char cached_ts[32];

/* One line, newline included, into out; returns its length. line_no picks
 * the time stamp; size 0 = natural, else exactly size bytes. */
static size_t make_line(char *out, uint64_t line_no, size_t size)
{
    char path[256];
    int64_t ms = BASE_EPOCH * 1000 + (int64_t)line_no;
    if (ms / 1000 != cached_sec) {
        cached_sec = ms / 1000;
        time_t t = (time_t)cached_sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(cached_ts, sizeof cached_ts, "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday,
                 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
    int plen = make_path(path, sizeof path);
    const char *method = methods[rndn(sizeof methods / sizeof *methods)];
    int status = statuses[rndn(sizeof statuses / sizeof *statuses)];
    unsigned bytes = status == 304 ? 0 : 200 + rndn(60000);
    const char *ref = referers[rndn(sizeof referers / sizeof *referers)];
    const char *ua = agents[rndn(sizeof agents / sizeof *agents)];
    const char *user = users[rndn(sizeof users / sizeof *users)];
    unsigned ip = (unsigned)rnd();
    if (size && size < 200) {
        ua = short_agents[rndn(sizeof short_agents / sizeof *short_agents)];
        ref = "-";
        user = "-";
    }
    /* head: up to the end of the path; tail: from " HTTP/" on */
    char tail[512];
    int tl = snprintf(tail, sizeof tail, " HTTP/1.1\" %d %u \"%s\" \"%s\"\n", status, bytes, ref, ua);
    int hl = sprintf(out, "%u.%u.%u.%u - %s [%s] \"%s %s", 10 + (ip >> 24) % 200, (ip >> 16) & 255,
                     (ip >> 8) & 255, ip & 255, user, cached_ts, method, path);
    size_t len = (size_t)hl;
    if (size) {
        /* pad the query string so that head + pad + tail == size */
        size_t want = size > (size_t)(hl + tl) ? size - (size_t)(hl + tl) : 0;
        if (want) {
            const char *sep = memchr(path, '?', (size_t)plen) ? "&p=" : "?p=";
            size_t sl = want >= 3 ? 3 : want;
            memcpy(out + len, sep, sl);
            len += sl;
            static const char pad[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
            for (size_t i = sl; i < want; i++)
                out[len++] = pad[(i * 7 + line_no) % 62];
        } else if ((size_t)(hl + tl) > size) {
            /* still too long (tiny sizes): cut the head */
            size_t keep = size > (size_t)tl ? size - (size_t)tl : 0;
            len = keep < len ? keep : len;
        }
    }
    memcpy(out + len, tail, (size_t)tl);
    len += (size_t)tl;
    if (size && len > size) { /* tail alone too long: cut, keep the newline */
        len = size;
        out[len - 1] = '\n';
    }
    return len;
}

/* ECS record as logferry-collector's json format writes it. */
static size_t make_json(char *out, const char *line, size_t len, uint64_t offset, uint64_t line_no)
{
    int64_t ms = BASE_EPOCH * 1000 + (int64_t)line_no;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char *o = out;
    o += sprintf(o, "{\"@timestamp\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\",\"message\":\"",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(ms % 1000));
    for (size_t i = 0; i + 1 < len; i++) { /* without the newline */
        char c = line[i];
        if (c == '"' || c == '\\') *o++ = '\\';
        *o++ = c;
    }
    o += sprintf(o,
                 "\",\"host\":{\"name\":\"bench-node-01\"},\"log\":{\"file\":{\"path\":"
                 "\"/var/log/nginx/access.log\"},\"offset\":%" PRIu64 "},\"event\":{\"id\":"
                 "\"5f0c6d2e8a9b4c1d9e7f3a2b1c0d4e5f-%" PRIu64 "\"}}\n",
                 offset, offset);
    return (size_t)(o - out);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

typedef struct {
    int fd;
    char *buf;
    size_t len, cap;
    uint64_t offset; /* bytes of plain lines so far (event offsets) */
} outfile;

static int flush_out(outfile *f)
{
    if (f->len && write_all(f->fd, f->buf, f->len) < 0) return -1;
    f->len = 0;
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: gen-nginx [--lines N] [--size B] [--seed S] [--format plain|json]\n"
                    "                 [--files K] [--rate LPS --secs S [--curve FILE]] OUT\n");
    exit(2);
}

static int64_t now_ns(int clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    uint64_t lines = 1000000, seed = 0x6c6f67666572727aULL;
    size_t size = 0;
    long files = 1;
    double rate = 0, secs = 0;
    int json = 0;
    const char *curve_path = NULL;
    static const struct option lo[] = {
        {"lines", 1, 0, 'n'}, {"size", 1, 0, 's'}, {"seed", 1, 0, 'S'}, {"format", 1, 0, 'f'},
        {"files", 1, 0, 'k'}, {"rate", 1, 0, 'r'}, {"secs", 1, 0, 't'}, {"curve", 1, 0, 'c'},
        {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'n': lines = strtoull(optarg, NULL, 10); break;
        case 's': size = strtoull(optarg, NULL, 10); break;
        case 'S': seed = strtoull(optarg, NULL, 0); break;
        case 'f':
            if (!strcmp(optarg, "json")) json = 1;
            else if (strcmp(optarg, "plain")) usage();
            break;
        case 'k': files = strtol(optarg, NULL, 10); break;
        case 'r': rate = strtod(optarg, NULL); break;
        case 't': secs = strtod(optarg, NULL); break;
        case 'c': curve_path = optarg; break;
        default: usage();
        }
    }
    if (optind != argc - 1 || files < 1 || files > 100000 || size > MAXLINE / 2 ||
        (size && size < 2) || (rate > 0) != (secs > 0))
        usage();
    rng_state = seed ? seed : 1;
    const char *out_path = argv[optind];
    int append = rate > 0;

    outfile *of = calloc((size_t)files, sizeof *of);
    if (!of) return 1;
    for (long i = 0; i < files; i++) {
        char name[4096];
        if (files == 1) snprintf(name, sizeof name, "%s", out_path);
        else snprintf(name, sizeof name, "%s.%ld", out_path, i);
        of[i].fd = open(name, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
        if (of[i].fd < 0) {
            fprintf(stderr, "gen-nginx: %s: %s\n", name, strerror(errno));
            return 1;
        }
        if (append) of[i].offset = (uint64_t)lseek(of[i].fd, 0, SEEK_END);
        /* many files: small buffers, flushed when full or at the end */
        of[i].cap = files > 64 ? (size_t)(2 * MAXLINE / 1024 + (size ? 2 * size : 0) + 4096)
                               : (size_t)(4 * MAXLINE);
        if (of[i].cap < 3 * size + 8192) of[i].cap = 3 * size + 8192;
        of[i].buf = malloc(of[i].cap);
        if (!of[i].buf) return 1;
    }
    FILE *curve = NULL;
    if (curve_path && !(curve = fopen(curve_path, "w"))) {
        fprintf(stderr, "gen-nginx: %s: %s\n", curve_path, strerror(errno));
        return 1;
    }

    char *line = malloc(MAXLINE), *rec = malloc(2 * MAXLINE + 512);
    if (!line || !rec) return 1;
    uint64_t total = append ? (uint64_t)(rate * secs + 0.5) : lines;
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    uint64_t i = 0;
    while (i < total) {
        uint64_t batch_end = total;
        if (append) {
            /* lines due by now (1 ms steps); sleep until the next step */
            int64_t el = now_ns(CLOCK_MONOTONIC) - t0;
            uint64_t due = (uint64_t)((double)el / 1e9 * rate) + 1;
            if (due <= i) {
                struct timespec ts = {0, 1000000};
                nanosleep(&ts, NULL);
                continue;
            }
            batch_end = due < total ? due : total;
        }
        for (; i < batch_end; i++) {
            outfile *f = &of[i % (uint64_t)files];
            size_t n = make_line(line, i, size);
            const char *p = line;
            size_t plen = n;
            if (json) {
                plen = make_json(rec, line, n, f->offset, i);
                p = rec;
            }
            f->offset += n;
            if (f->len + plen > f->cap && flush_out(f) < 0) goto werr;
            memcpy(f->buf + f->len, p, plen);
            f->len += plen;
        }
        if (append) {
            for (long k = 0; k < files; k++)
                if (flush_out(&of[k]) < 0) goto werr;
            if (curve) fprintf(curve, "%" PRId64 " %" PRIu64 "\n", now_ns(CLOCK_REALTIME), i);
        }
    }
    for (long k = 0; k < files; k++) {
        if (flush_out(&of[k]) < 0) goto werr;
        close(of[k].fd);
        free(of[k].buf);
    }
    if (curve && fclose(curve) != 0) goto werr;
    free(of);
    free(line);
    free(rec);
    return 0;
werr:
    fprintf(stderr, "gen-nginx: write: %s\n", strerror(errno));
    return 1;
}
