#include "common/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lf_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* fsync of the directory that holds path: makes a rename in it durable. */
static int sync_dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int lf_file_replace(const char *path, const void *data, size_t len, mode_t mode,
                    char *err, size_t errlen)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    if (lf_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        snprintf(err, errlen, "%s: write: %s", tmp, strerror(errno));
        close(fd);
        goto fail;
    }
    if (close(fd) < 0) {
        snprintf(err, errlen, "%s: close: %s", tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) < 0) {
        snprintf(err, errlen, "rename %s -> %s: %s", tmp, path, strerror(errno));
        goto fail;
    }
    if (sync_dir_of(path) < 0) {
        /* The new content is in place; only its durability is in doubt. */
        snprintf(err, errlen, "%s: fsync of its directory: %s", path, strerror(errno));
        return -1;
    }
    return 0;
fail:
    unlink(tmp);
    return -1;
}
