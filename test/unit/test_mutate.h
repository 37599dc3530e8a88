/* Seeded mutations of valid inputs, for the unit tests that feed outside
 * input to a parser (test_*_input_fuzz.c). Header only, like test_rng.h:
 * the same seed gives the same inputs on every run and machine.
 *
 * mutate() applies 1..4 edits to a buffer: a bit flipped; a byte replaced
 * by, or inserted as, one of the bytes parsers care about (NUL, quotes,
 * backslash, brackets, '=', ':', ',', ';', '#', line ends, 0xff, bytes of
 * broken UTF-8); a byte or a run of bytes deleted; a cut at a random
 * length; an overlong run of one byte; a run of digits replaced by a huge,
 * negative or odd number; deep nesting (`opener` many times over); a line
 * duplicated (a duplicate key in INI) or a ',' ... ',' span duplicated (a
 * duplicate member in one-line JSON); a run of whole lines deleted (a
 * section gone); a piece of the input copied elsewhere.
 * mut_feed_seed runs a seed whole, cut at every length and mutated; the
 * temp dir, the input file and the --check-config round trip are shared
 * here too.
 *
 * The default run is fixed and short (make check). To search longer, by
 * hand: LF_FUZZ_SCALE=N multiplies the random iterations, LF_FUZZ_SEED=S
 * changes every seed (a failure prints its input as a C literal).
 * Include after cmocka.h (mut_read_file asserts). */
#ifndef TEST_MUTATE_H
#define TEST_MUTATE_H
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/strbuf.h"
#include "test_rng.h"

/* Bytes that make or break the inputs: JSON, INI, base64, the bulk answer. */
static const char mut_special[] = {
    '\0', '"', '\\', '[', ']', '{', '}', '=', ':', ',', ';', '#', '\n', '\r', '\t', ' ',
    '\'', '/', '.', '-', '+', 'e', '0', '9', 'u', (char)0xff, (char)0x80, (char)0xc3,
    (char)0xed, (char)0xf4, 0x01, 0x7f,
};

static const char *const mut_numbers[] = {
    "99999999999999999999999999999999", "-9223372036854775809", "9223372036854775807",
    "18446744073709551616", "1e999", "-1e999", "1e-999", "0x10", "-0", "1.5", "00", "-1",
    "2147483648", "4294967296", "340282366920938463463374607431768211456", "NaN", "1e", "",
};

/* Random iterations: n, times LF_FUZZ_SCALE when set. */
static inline long fuzz_iters(long n)
{
    const char *e = getenv("LF_FUZZ_SCALE");
    long k = e ? strtol(e, NULL, 10) : 1;
    return n * (k > 0 ? k : 1);
}

/* rng_seed(seed), changed by LF_FUZZ_SEED when set. */
static inline void fuzz_seed(uint64_t seed)
{
    const char *e = getenv("LF_FUZZ_SEED");
    uint64_t x = e ? strtoull(e, NULL, 0) * 0x9E3779B97F4A7C15ULL : 0;
    rng_seed(seed ^ x ? seed ^ x : 1);
}

/* The edit kinds, for tests that count them or want one alone. */
enum {
    MUT_FLIP, MUT_REPLACE, MUT_INSERT, MUT_DELETE, MUT_DELETE_RUN, MUT_TRUNCATE, MUT_LONG,
    MUT_NUMBER, MUT_NEST, MUT_DUP_LINE, MUT_DUP_MEMBER, MUT_DELETE_LINES, MUT_SPLICE,
    MUT_KINDS
};

static inline void mut_insert(strbuf *sb, size_t at, const void *p, size_t n)
{
    if (at > sb->len)
        at = sb->len;
    sb_reserve(sb, n);
    memmove(sb->buf + at + n, sb->buf + at, sb->len - at);
    memcpy(sb->buf + at, p, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

static inline void mut_erase(strbuf *sb, size_t at, size_t n)
{
    if (at >= sb->len)
        return;
    if (n > sb->len - at)
        n = sb->len - at;
    memmove(sb->buf + at, sb->buf + at + n, sb->len - at - n);
    sb->len -= n;
    sb->buf[sb->len] = '\0';
}

static inline size_t mut_pos(const strbuf *sb) { return sb->len ? below((unsigned)sb->len) : 0; }

/* Start of the line holding byte `at`, and the end of it (past its '\n'). */
static inline size_t mut_line_start(const strbuf *sb, size_t at)
{
    while (at > 0 && sb->buf[at - 1] != '\n')
        at--;
    return at;
}
static inline size_t mut_line_end(const strbuf *sb, size_t at)
{
    while (at < sb->len && sb->buf[at] != '\n')
        at++;
    return at < sb->len ? at + 1 : at;
}

/* One edit of the given kind. `opener` is what deep nesting repeats
 * ("[" or "{\"a\":" for JSON, "[" for INI). */
static inline void mutate_one(strbuf *sb, unsigned kind, const char *opener)
{
    size_t at = mut_pos(sb);
    switch (kind) {
    case MUT_FLIP:
        if (sb->len)
            sb->buf[at] ^= (char)(1u << below(8));
        break;
    case MUT_REPLACE:
        if (sb->len)
            sb->buf[at] = mut_special[below(sizeof mut_special)];
        break;
    case MUT_INSERT: {
        char c = mut_special[below(sizeof mut_special)];
        mut_insert(sb, at, &c, 1);
        break;
    }
    case MUT_DELETE:
        mut_erase(sb, at, 1);
        break;
    case MUT_DELETE_RUN:
        mut_erase(sb, at, 1 + below(40));
        break;
    case MUT_TRUNCATE:
        sb->len = at;
        if (sb->buf)
            sb->buf[sb->len] = '\0';
        break;
    case MUT_LONG: { /* over the INI reader's 199 bytes, and far over */
        size_t n = below(3) ? 150 + below(120) : 5000 + below(70000);
        char c = below(4) ? 'a' : mut_special[below(sizeof mut_special)];
        for (size_t i = 0; i < n; i += 64) {
            char run[64];
            size_t k = n - i < sizeof run ? n - i : sizeof run;
            memset(run, c, k);
            mut_insert(sb, at + i, run, k);
        }
        break;
    }
    case MUT_NUMBER: { /* the next run of digits, else a number inserted */
        size_t b = at;
        while (b < sb->len && !(sb->buf[b] >= '0' && sb->buf[b] <= '9'))
            b++;
        size_t e = b;
        while (e < sb->len && sb->buf[e] >= '0' && sb->buf[e] <= '9')
            e++;
        const char *num = mut_numbers[below(sizeof mut_numbers / sizeof *mut_numbers)];
        if (b == sb->len)
            b = e = at;
        mut_erase(sb, b, e - b);
        mut_insert(sb, b, num, strlen(num));
        break;
    }
    case MUT_NEST: { /* around the cJSON and jparse limit (1000), and beyond */
        static const unsigned depths[] = {999, 1000, 1001, 1500, 20000};
        unsigned n = below(2) ? depths[below(5)] : 1 + below(60);
        size_t ol = strlen(opener);
        strbuf run = STRBUF_INIT;
        for (unsigned i = 0; i < n; i++)
            sb_append(&run, opener, ol);
        mut_insert(sb, at, run.buf, run.len);
        sb_free(&run);
        break;
    }
    case MUT_DUP_LINE: {
        size_t b = mut_line_start(sb, at), e = mut_line_end(sb, at);
        strbuf line = STRBUF_INIT;
        sb_append(&line, sb->buf + b, e - b);
        if (!line.len || line.buf[line.len - 1] != '\n')
            sb_putc(&line, '\n');
        mut_insert(sb, below(2) ? e : mut_line_end(sb, mut_pos(sb)), line.buf, line.len);
        sb_free(&line);
        break;
    }
    case MUT_DUP_MEMBER: { /* ",<member>" copied after itself */
        const char *c1 = sb->len ? memchr(sb->buf + at, ',', sb->len - at) : NULL;
        if (!c1) {
            const char *o = sb->len ? memchr(sb->buf, '{', sb->len) : NULL;
            c1 = o; /* the first member: "{" ... "," */
        }
        if (!c1)
            break;
        size_t b = (size_t)(c1 - sb->buf);
        const char *c2 = memchr(sb->buf + b + 1, ',', sb->len - b - 1);
        size_t e = c2 ? (size_t)(c2 - sb->buf) : sb->len;
        if (e <= b + 1)
            break;
        strbuf m = STRBUF_INIT;
        sb_putc(&m, ',');
        sb_append(&m, sb->buf + b + 1, e - b - 1);
        mut_insert(sb, e, m.buf, m.len);
        sb_free(&m);
        break;
    }
    case MUT_DELETE_LINES: {
        size_t b = mut_line_start(sb, at), e = b;
        for (unsigned n = 1 + below(12); n; n--)
            e = mut_line_end(sb, e);
        mut_erase(sb, b, e - b);
        break;
    }
    default: { /* MUT_SPLICE: a piece copied to another place */
        size_t from = mut_pos(sb), n = 1 + below(30);
        if (from + n > sb->len)
            n = sb->len - from;
        if (!n)
            break;
        strbuf piece = STRBUF_INIT;
        sb_append(&piece, sb->buf + from, n);
        mut_insert(sb, at, piece.buf, piece.len);
        sb_free(&piece);
        break;
    }
    }
}

/* 1..4 random edits; returns the kinds applied as a bit set. */
static inline unsigned mutate(strbuf *sb, const char *opener)
{
    unsigned kinds = 0;
    for (unsigned n = 1 + below(4); n; n--) {
        /* the cheap byte edits most often, the big ones now and then */
        unsigned r = below(100), k;
        if (r < 60)
            k = below(MUT_TRUNCATE + 1);
        else
            k = MUT_LONG + below(MUT_KINDS - MUT_LONG);
        mutate_one(sb, k, opener);
        kinds |= 1u << k;
    }
    return kinds;
}

/* One seed's run: the seed whole, which one must take (*taken grows by
 * one: a seed that stopped being valid would leave the mutations testing
 * only refusals), then cut at every shorter length, then `iters` copies
 * with 1..4 edits (deep nesting repeats `opener`; NULL: '[' or '{"a":'
 * at random). one's `mutated` is false for the seed and its cuts.
 * Returns the inputs fed besides the seed itself. */
static inline long mut_feed_seed(const char *seed, size_t n, long iters, const char *opener,
                                 void (*one)(const char *p, size_t n, bool mutated),
                                 const long *taken)
{
    strbuf m = STRBUF_INIT;
    long inputs = 0, before = *taken;
    one(seed, n, false);
    assert_int_equal(*taken, before + 1);
    for (size_t cut = 0; cut < n; cut++, inputs++)
        one(seed, cut, false);
    for (long i = 0; i < fuzz_iters(iters); i++, inputs++) {
        sb_reset(&m);
        sb_append(&m, seed, n);
        mutate(&m, opener ? opener : below(2) ? "[" : "{\"a\":");
        one(m.buf, m.len, true);
    }
    sb_free(&m);
    return inputs;
}

/* mut_feed_seed for each of the C strings seeds[0..nseeds). */
static inline long mut_feed_seeds(const char *const *seeds, size_t nseeds, long iters,
                                  void (*one)(const char *p, size_t n, bool mutated),
                                  const long *taken)
{
    long inputs = 0;
    for (size_t s = 0; s < nseeds; s++)
        inputs += mut_feed_seed(seeds[s], strlen(seeds[s]), iters, NULL, one, taken);
    return inputs;
}

/* The input as a C string literal on stderr (first `max` bytes), so that
 * a failing case can be copied into a regression test. */
static inline void mut_dump(const char *what, const char *p, size_t n, size_t max)
{
    fprintf(stderr, "# %s (%zu bytes): \"", what, n);
    for (size_t i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\')
            fprintf(stderr, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", stderr);
        else if (c >= 0x20 && c < 0x7f)
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x\"\"", c); /* "" ends the hex escape */
    }
    fprintf(stderr, "\"%s\n", n > max ? " ..." : "");
}

/* The hang guard: each input's checks run with an alarm armed
 * (fuzz_guard ... fuzz_unguard). A parser that loops on an input would
 * otherwise stop `make check` for good; instead the input is printed and
 * the program ends with status 3 after FUZZ_CALL_LIMIT_S seconds (an input
 * takes milliseconds, under the sanitizers too). */
#define FUZZ_CALL_LIMIT_S 30

static const char *fuzz_cur_what, *fuzz_cur_p;
static size_t fuzz_cur_n;

static void fuzz_on_alarm(int sig)
{
    (void)sig;
    /* stdio in a signal handler: only if the parser hangs outside stdio,
     * which the parsers do not use; the program ends here anyway */
    fprintf(stderr, "# no answer within %d s (a hang?) on this %s:\n", FUZZ_CALL_LIMIT_S,
            fuzz_cur_what ? fuzz_cur_what : "input");
    if (fuzz_cur_p)
        mut_dump(fuzz_cur_what ? fuzz_cur_what : "input", fuzz_cur_p, fuzz_cur_n, 4000);
    _exit(3);
}

static inline void fuzz_guard(const char *what, const void *p, size_t n)
{
    static bool installed;
    if (!installed) {
        signal(SIGALRM, fuzz_on_alarm);
        installed = true;
    }
    fuzz_cur_what = what;
    fuzz_cur_p = p;
    fuzz_cur_n = n;
    alarm(FUZZ_CALL_LIMIT_S);
}

static inline void fuzz_unguard(void)
{
    alarm(0);
    fuzz_cur_p = NULL;
}

/* A temp dir (in /dev/shm when there is one: the readers that take a
 * path read thousands of inputs) and the path of the input file in it. */
static char fuzz_dir[64], fuzz_input[96];

static inline int fuzz_tmp_setup(void)
{
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/lf-fuzz.XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(fuzz_dir))
        return -1;
    snprintf(fuzz_input, sizeof fuzz_input, "%s/input.ini", fuzz_dir);
    return 0;
}

/* The input as fuzz_input (NUL bytes and all), for the readers that take a path. */
static inline void fuzz_write_input(const char *p, size_t n)
{
    FILE *f = fopen(fuzz_input, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* --check-config's dump of c, without its first line (it names the file
 * the configuration came from). Caller frees. */
static inline char *mut_conf_dump(const cfg *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    cfg_dump(c, f);
    fclose(f);
    char *nl = strchr(buf, '\n');
    memmove(buf, nl ? nl + 1 : buf, strlen(nl ? nl + 1 : buf) + 1);
    return buf;
}

/* config.h's promise for a configuration loaded from the input p[0..n):
 * its dump loads back (with the daemon's sections), to the same dump. */
static inline void mut_check_dump_loads_back(const cfg *c, const cfg_section_def *sections,
                                             const char *p, size_t n)
{
    char err[1024];
    char *d1 = mut_conf_dump(c);
    cfg *c2 = NULL;
    if (cfg_load_string(&c2, "dump.ini", d1, sections, err, sizeof err) != 0) {
        fprintf(stderr, "# the dump of a loaded configuration does not load: %s\n", err);
        mut_dump("input", p, n, 5000);
        mut_dump("dump", d1, strlen(d1), 6000);
        fail();
    }
    char *d2 = mut_conf_dump(c2);
    if (strcmp(d1, d2) != 0) {
        fprintf(stderr, "# the dump loads back to other values\n");
        mut_dump("input", p, n, 5000);
        mut_dump("dump", d1, strlen(d1), 6000);
        mut_dump("dump of the dump", d2, strlen(d2), 6000);
        fail();
    }
    free(d1);
    free(d2);
    cfg_free(c2);
}

/* The whole file into sb (the test fails when it cannot be read). */
static inline void mut_read_file(strbuf *sb, const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char buf[4096];
    size_t n;
    sb_reset(sb);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sb_append(sb, buf, n);
    fclose(f);
}

/* Lines in text[0..n): what an error's line number may be at most. */
static inline int mut_lines(const char *p, size_t n)
{
    int lines = 1;
    for (size_t i = 0; i < n; i++)
        lines += p[i] == '\n';
    return lines;
}

/* Whether err is "name:LINE: reason" with 1 <= LINE <= max_line and a
 * reason; *line gets LINE (0 when there is none). */
static inline bool mut_err_names_line(const char *err, const char *name, int max_line, int *line)
{
    size_t nl = strlen(name);
    *line = 0;
    if (strncmp(err, name, nl) != 0 || err[nl] != ':')
        return false;
    const char *p = err + nl + 1;
    if (!(*p >= '0' && *p <= '9'))
        return false;
    long v = 0;
    while (*p >= '0' && *p <= '9' && v < 1000000000)
        v = v * 10 + (*p++ - '0');
    *line = (int)v;
    return p[0] == ':' && p[1] == ' ' && p[2] != '\0' && v >= 1 && v <= max_line;
}

#endif
