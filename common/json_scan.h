/* json_scan: the scan both JSON hot loops share, the escaper (a log line
 * going into a JSON string) and the indexer's parser (a JSON string being
 * read): how many bytes from p on are plain ASCII, i.e. not '"', '\\', a
 * control character or a byte >= 0x80, each of which needs a look one by
 * one. The first such byte is found directly (bit scan), so a line with a
 * few quotes costs a few scans, not a byte loop after each. Inline: it is
 * called once per run of plain bytes. */
#ifndef LF_JSON_SCAN_H
#define LF_JSON_SCAN_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Eight bytes at a time: nonzero when any byte needs attention. The lowest
 * flagged byte is exact (borrows only run upwards), which is all
 * json_plain_run uses. */
static inline uint64_t json_word_needs_care(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t ctl = (w - ones * 0x20) & ~w;                 /* bytes < 0x20 (or >= 0x80) */
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    uint64_t has_q = (q - ones) & ~q, has_bs = (bs - ones) & ~bs;
    return (ctl | has_q | has_bs | w) & high;
}

/* One byte: needs a look (not copied as it is). */
static inline int json_byte_needs_care(unsigned char c)
{
    return c < 0x20 || c >= 0x80 || c == '"' || c == '\\';
}

#if defined(__SSE2__)
/* Sixteen bytes: bit i set when byte i needs care. Signed compare: bytes
 * >= 0x80 are negative, so "< 0x20" flags them along with the controls.
 * '"' (0x22) is caught by the same compare: x ^ 2 maps 0x22 to 0x20 and
 * 0x23 to 0x21, keeps 0x20, 0x21 and 0x24.. at 0x22 and above, and the
 * controls and bytes >= 0x80 where they are, so (x ^ 2) < 0x21 is
 * exactly "control, >= 0x80 or '"'": one compare and an xor fewer than
 * three compares, in the loops of the escaper and the parser. */
static inline unsigned json_care_mask16(__m128i v)
{
    const __m128i two = _mm_set1_epi8(2), lim = _mm_set1_epi8(0x21),
                  bs = _mm_set1_epi8('\\');
    __m128i m = _mm_or_si128(_mm_cmplt_epi8(_mm_xor_si128(v, two), lim), _mm_cmpeq_epi8(v, bs));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

static inline size_t json_plain_run(const unsigned char *p, size_t n)
{
    size_t i = 0;
#if defined(__SSE2__)
    for (; i + 16 <= n; i += 16) {
        unsigned mask = json_care_mask16(_mm_loadu_si128((const __m128i *)(const void *)(p + i)));
        if (mask)
            return i + (size_t)__builtin_ctz(mask);
    }
#endif
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        uint64_t c = json_word_needs_care(w);
        if (c) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return i + (size_t)__builtin_ctzll(c) / 8;
#else
            break; /* the byte loop below finds it */
#endif
        }
    }
    while (i < n && !json_byte_needs_care(p[i]))
        i++;
    return i;
}

#endif
