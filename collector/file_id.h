/* file_id: who a file is. A file's identity is its device + inode plus a
 * fingerprint (hash of its first bytes, up to FID_FP_MAX). Inode numbers are
 * reused after a delete, so dev+ino alone may name a stranger; the
 * fingerprint tells them apart (anchors.md failure 1). The uid is 128
 * random bits in hex, given once per identity and kept in the registry. */
#ifndef LF_COLLECTOR_FILE_ID_H
#define LF_COLLECTOR_FILE_ID_H
#include <stddef.h>
#include <stdint.h>

#define FID_UID_LEN 32     /* hex characters, without NUL */
#define FID_FP_MAX  1024   /* bytes hashed for the fingerprint */

/* Fills out[FID_UID_LEN + 1] with 128 bits from getrandom(). 0 or -1. */
int fid_new_uid(char out[FID_UID_LEN + 1], char *err, size_t errlen);

uint64_t fid_hash(const void *p, size_t n);

/* Fingerprint of the first min(size, FID_FP_MAX) bytes of fd (pread, the
 * file position is untouched). 0 or -1 (errno kept). */
int fid_fingerprint(int fd, uint64_t *fp, uint32_t *fp_len);

/* Does the file behind fd still start with the bytes fingerprinted as
 * (fp, fp_len)? 1 yes, 0 no (shorter than fp_len or different), -1 error. */
int fid_matches(int fd, uint64_t fp, uint32_t fp_len);

#endif
