/* registry: the collector's durable state, <state_dir>/registry.json.
 * One entry per file identity: uid, device, inode, fingerprint, path,
 * source and the acknowledged offset (every byte before it reached Kafka).
 * Written atomically (temp file, fsync, rename, directory fsync), so a crash
 * leaves either the old or the new registry. A registry that does not parse
 * is moved aside (registry.json.corrupt-<time>) and reported with both
 * paths, never silently overwritten. Not on the per-line path: entries are
 * found once per file open. */
#ifndef LF_COLLECTOR_REGISTRY_H
#define LF_COLLECTOR_REGISTRY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "collector/file_id.h"

typedef struct reg_entry {
    char     uid[FID_UID_LEN + 1];
    uint64_t dev, ino;
    uint64_t fp;          /* fid_hash of the first fp_len bytes */
    uint32_t fp_len;
    char    *path;        /* owned */
    char    *source;      /* owned */
    uint64_t offset;      /* acknowledged */
    int64_t  updated;     /* unix seconds of the last change */
    void    *user;        /* the tracked file using it, NULL if none (not persisted) */
    struct reg_entry *next;
    struct reg_entry *hnext;  /* dev+ino hash chain */
} reg_entry;

typedef struct registry {
    char      *path;      /* owned: <state_dir>/registry.json */
    char      *dir;       /* owned */
    reg_entry *head;
    size_t     n;
    reg_entry **buckets;  /* by dev+ino: scans look up every matched file */
    size_t     nbuckets;  /* power of two */
    bool       dirty;     /* changed since the last save */
} registry;

/* Creates an empty registry for state_dir (which must exist). */
int  registry_new(registry **out, const char *state_dir, char *err, size_t errlen);
void registry_free(registry *r);

/* Reads the file. 0: loaded (or absent: empty). 1: corrupt, moved aside,
 * err says what was wrong and where the file went (the registry is empty;
 * the caller logs it). -1: could not read or move aside (err). */
int  registry_load(registry *r, char *err, size_t errlen);
/* Reads the file without changing anything on disk (a corrupt file stays
 * where it is): for inspecting the registry of a running collector, which
 * replaces the file by rename and so is never seen half-written. 0 loaded,
 * 1 absent (empty), -1 unreadable or corrupt (err names the path). */
int  registry_peek(registry *r, char *err, size_t errlen);
/* Writes atomically and durably. 0 or -1 (err names the path). */
int  registry_save(registry *r, char *err, size_t errlen);

reg_entry *registry_find_ino(registry *r, uint64_t dev, uint64_t ino);
reg_entry *registry_find_uid(registry *r, const char *uid);
/* Adds an entry (copies path and source); the caller fills the rest. */
reg_entry *registry_add(registry *r, const char *uid, uint64_t dev, uint64_t ino,
                        const char *path, const char *source);
void registry_remove(registry *r, reg_entry *e); /* frees e */
int  registry_set_path(reg_entry *e, const char *path);
/* Drops entries not in use and not updated since `before` (unix seconds). */
size_t registry_prune(registry *r, int64_t before);

#endif
