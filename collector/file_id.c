#include "collector/file_id.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

int fid_new_uid(char out[FID_UID_LEN + 1], char *err, size_t errlen)
{
    unsigned char r[FID_UID_LEN / 2];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "getrandom: %s", strerror(errno));
            return -1;
        }
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof r; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[FID_UID_LEN] = '\0';
    return 0;
}

/* FNV-1a, 64 bit: only compared with itself, never across versions'
 * formats (the registry stores the length hashed with it). */
uint64_t fid_hash(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static ssize_t pread_full(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

int fid_fingerprint(int fd, uint64_t *fp, uint32_t *fp_len)
{
    unsigned char buf[FID_FP_MAX];
    ssize_t n = pread_full(fd, buf, sizeof buf);
    if (n < 0)
        return -1;
    *fp = fid_hash(buf, (size_t)n);
    *fp_len = (uint32_t)n;
    return 0;
}

int fid_matches(int fd, uint64_t fp, uint32_t fp_len)
{
    unsigned char buf[FID_FP_MAX];
    if (fp_len > FID_FP_MAX)
        return 0;
    ssize_t n = pread_full(fd, buf, fp_len);
    if (n < 0)
        return -1;
    if ((uint32_t)n < fp_len)
        return 0;
    return fid_hash(buf, fp_len) == fp ? 1 : 0;
}
