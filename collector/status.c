#include "collector/status.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/file_id.h"
#include "collector/registry.h"

typedef struct file_state {
    bool     gone;
    uint64_t size;
    uint64_t behind;
} file_state;

/* Is the file at e->path still the one the entry describes? The same
 * device and inode, and (when it can be read) the same first bytes, since
 * inode numbers are reused after a delete. */
static file_state state_of(const reg_entry *e)
{
    file_state fs = {.gone = true};
    struct stat st;
    if (stat(e->path, &st) < 0 || (uint64_t)st.st_dev != e->dev || (uint64_t)st.st_ino != e->ino)
        return fs;
    if (e->fp_len) {
        int fd = open(e->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd >= 0) {
            int m = fid_matches(fd, e->fp, e->fp_len);
            close(fd);
            if (m == 0)
                return fs;
        }
    }
    fs.gone = false;
    fs.size = (uint64_t)st.st_size;
    /* A file shorter than its offset was truncated: the collector reads it
     * again from the start, so all of it is behind. */
    fs.behind = fs.size >= e->offset ? fs.size - e->offset : fs.size;
    return fs;
}

/* Paths are the operator's, but a newline or escape in one must not forge
 * lines of this report. */
static void put_path(FILE *out, const char *p)
{
    for (; *p; p++)
        fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, out);
}

static int print_text(const registry *r, FILE *out)
{
    uint64_t behind = 0;
    size_t n = 0, gone = 0;
    fprintf(out, "%14s %14s %14s  %-16s %s\n", "ACKED", "SIZE", "BEHIND", "SOURCE", "PATH");
    for (const reg_entry *e = r->head; e; e = e->next, n++) {
        file_state fs = state_of(e);
        if (fs.gone) {
            gone++;
            fprintf(out, "%14" PRIu64 " %14s %14s  %-16s ", e->offset, "gone", "-", e->source);
        } else {
            behind += fs.behind;
            fprintf(out, "%14" PRIu64 " %14" PRIu64 " %14" PRIu64 "  %-16s ", e->offset, fs.size,
                    fs.behind, e->source);
        }
        put_path(out, e->path);
        fputc('\n', out);
    }
    fprintf(out, "total: %zu files (%zu gone), %" PRIu64 " bytes behind\n", n, gone, behind);
    return 0;
}

static int print_json(const registry *r, bool absent, FILE *out, char *err, size_t errlen)
{
    uint64_t behind = 0;
    size_t n = 0, gone = 0;
    cJSON *root = cJSON_CreateObject(), *files = NULL;
    if (!root || !cJSON_AddStringToObject(root, "registry", r->path) ||
        !cJSON_AddBoolToObject(root, "registry_exists", !absent) ||
        !(files = cJSON_AddArrayToObject(root, "files")))
        goto oom;
    for (const reg_entry *e = r->head; e; e = e->next, n++) {
        file_state fs = state_of(e);
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(files, o))
            goto oom_item;
        if (!cJSON_AddStringToObject(o, "path", e->path) ||
            !cJSON_AddStringToObject(o, "source", e->source) ||
            !cJSON_AddNumberToObject(o, "acked_offset", (double)e->offset) ||
            !cJSON_AddBoolToObject(o, "gone", fs.gone))
            goto oom;
        if (fs.gone) {
            gone++;
            if (!cJSON_AddNullToObject(o, "size") || !cJSON_AddNullToObject(o, "behind"))
                goto oom;
        } else {
            behind += fs.behind;
            if (!cJSON_AddNumberToObject(o, "size", (double)fs.size) ||
                !cJSON_AddNumberToObject(o, "behind", (double)fs.behind))
                goto oom;
        }
        continue;
oom_item:
        cJSON_Delete(o);
        goto oom;
    }
    cJSON *tot = cJSON_AddObjectToObject(root, "total");
    if (!tot || !cJSON_AddNumberToObject(tot, "files", (double)n) ||
        !cJSON_AddNumberToObject(tot, "gone", (double)gone) ||
        !cJSON_AddNumberToObject(tot, "behind", (double)behind))
        goto oom;
    char *text = cJSON_Print(root);
    if (!text)
        goto oom;
    fprintf(out, "%s\n", text);
    free(text);
    cJSON_Delete(root);
    return 0;
oom:
    cJSON_Delete(root);
    snprintf(err, errlen, "status: out of memory");
    return -1;
}

int collector_status(const char *state_dir, bool json, FILE *out, char *err, size_t errlen)
{
    registry *r = NULL;
    if (registry_new(&r, state_dir, err, errlen) < 0)
        return -1;
    int rc = registry_peek(r, err, errlen);
    if (rc < 0)
        goto out;
    if (json) {
        rc = print_json(r, rc == 1, out, err, errlen);
    } else {
        if (rc == 1)
            fprintf(out, "no registry at %s: the collector has not recorded any progress yet\n",
                    r->path);
        rc = print_text(r, out);
    }
out:
    registry_free(r);
    if (rc == 0 && (fflush(out) == EOF || ferror(out))) {
        snprintf(err, errlen, "status: write error: %s", strerror(errno));
        rc = -1;
    }
    return rc;
}
