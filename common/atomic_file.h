/* atomic_file: replace a file so that a crash leaves either the old or the
 * new content, never a mix: write a temp file beside it, fsync, rename over
 * the target, fsync the directory (without that last step the rename itself
 * may be lost on power failure). Used for the registry, the etcd source
 * cache and the pidfile. */
#ifndef LF_ATOMIC_FILE_H
#define LF_ATOMIC_FILE_H
#include <stddef.h>
#include <sys/types.h>

/* 0, or -1 with err naming the path and the failing step. The temp file
 * ("<path>.tmp.<pid>") is removed on failure. */
int lf_file_replace(const char *path, const void *data, size_t len, mode_t mode,
                    char *err, size_t errlen);

/* write(2) until done, retrying on EINTR and short writes. 0 or -1 (errno). */
int lf_write_all(int fd, const void *data, size_t len);

#endif
