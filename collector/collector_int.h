/* collector_int: the tailing core's private structures, shared by
 * collector.c (loop, timers, producer glue), sources.c (sources, globs,
 * watches) and tail.c (one file: identity, reading, rotation). */
#ifndef LF_COLLECTOR_INT_H
#define LF_COLLECTOR_INT_H
#include <stdbool.h>
#include <stdint.h>
#include <ev.h>

#include "collector/ack.h"
#include "collector/collector.h"
#include "collector/linesplit.h"
#include "collector/multiline.h"
#include "collector/producer.h"
#include "collector/record.h"
#include "collector/registry.h"
#include "common/metrics.h"
#include "common/strbuf.h"

typedef struct csource csource;
typedef struct tfile tfile;

struct csource {
    source_conf sc;            /* owned copy */
    collector  *c;
    bool        raw;           /* format = raw */
    bool        start_end;     /* start = end */
    bool        has_ml;
    bool        restricted;    /* from etcd: files checked against allowed_paths */
    ml_conf     ml;
    bool        first_scan_done;
    bool        stopping;      /* removed: files wind down, then freed */
    tfile      *files;         /* via tfile.snext */
    size_t      nfiles;
    bool        warned_nomatch;
    /* warned once per path (not regular files); bounded */
    char       *warned[32];
    size_t      nwarned;
    lf_series  *m_lines_read, *m_bytes_read, *m_records_sent, *m_bytes_sent;
    lf_series  *m_truncated, *m_utf8, *m_rot_rename, *m_rot_truncate, *m_rot_delete;
    lf_series  *m_nomatch, *m_skipped;
    csource    *next;
};

struct tfile {
    collector *c;
    csource   *src;
    char      *path;           /* resolved (symlinks followed) */
    int        fd;             /* -1: closed (inactive, limit, or gone) */
    uint64_t   dev, ino;
    reg_entry *reg;            /* owned by the registry; reg->user == this */
    bool       uid_durable;    /* registry with this uid is on disk */
    uint64_t   read_off;       /* next byte to read */
    uint64_t   size;           /* last size seen */
    lsplit     ls;
    mline      ml;
    ev_timer   ml_timer;
    ack_file   af;
    rec_ctx    rc;
    /* a record refused with QUEUE_FULL waits here (sent first on resume) */
    bool       has_stalled;
    strbuf     stalled;
    uint64_t   st_start, st_end;
    unsigned   st_flags;
    /* state */
    bool       gone;           /* renamed away or deleted: finish, close */
    bool       deleted;
    bool       truncated;      /* size fell below read_off: new identity */
    bool       rewind;         /* a delivery failed: re-read from acked */
    bool       refused;        /* part of this pass's batch failed: it re-reads */
    bool       dead;           /* stopped/forced closed: free when settled */
    bool       check;          /* look at the path (rotation) on next EOF */
    bool       eof;
    bool       in_ready;
    double     last_data;      /* ev_now of the last byte read */
    double     retry_at;
    int        wd;             /* inotify watch, -1 */
    lf_series *m_behind;
    tfile     *snext;          /* source's files */
    tfile     *rnext;          /* ready list */
};

/* inotify watch descriptor → what it watches (open addressing) */
typedef struct wdent {
    int   wd;                  /* 0 = empty slot (inotify wds start at 1) */
    bool  dir;
    void *p;                   /* tfile, or the dir path (owned) */
} wdent;

struct collector {
    struct ev_loop *loop;
    collector_opts  o;         /* copy; strings owned */
    char           *host;
    cfg_list        allowed;   /* allowed_paths for restricted sources */
    registry       *reg;
    bool            reg_failing;
    producer       *prod;
    ack_pool        pool;
    csource        *sources;
    size_t          open_files;
    bool            files_waiting; /* a scan left files out (max_open_files) */
    /* the reader: files with data to read, served by an ev_idle */
    tfile          *ready_head, *ready_tail;
    ev_idle         reader;
    bool            paused;    /* producer queue full */
    uint64_t        inflight_bytes; /* payload bytes handed to the producer, not reported */
    uint64_t        inflight_msgs;  /* records handed to the producer, not reported */
    uint64_t        dr_failed;      /* failed delivery reports (they make files re-read) */
    struct tfile   *batching;       /* the file whose pass fills the producer's batch */
    uint64_t        q_max_bytes;
    uint64_t        q_max_msgs;
    uint64_t        sent;      /* records handed to the producer */
    uint64_t        test_fatal_at; /* LOGFERRY_TEST_FATAL_AFTER_RECORDS */
    bool            stopping;  /* shutdown: read nothing more */
    char           *rbuf;      /* shared read buffer */
    size_t          rbuf_cap;
    strbuf          enc;       /* record being encoded */
    char            ts[32];    /* @timestamp of the current pass */
    int64_t         ts_ms;     /* the same in ms since the epoch (Kafka timestamp) */
    double          ts_at;
    /* watching */
    bool            use_inotify;
    int             ifd;
    ev_io           inotify_io;
    wdent          *wds;
    size_t          wdcap, wdn;
    ev_timer        rescan_soon;
    ev_timer        scan_timer;
    ev_timer        poll_timer;
    ev_timer        house_timer;
    ev_timer        reg_timer;
    /* metrics */
    lf_series      *m_delivery_err, *m_queue, *m_paused, *m_open, *m_deleted_forced,
                   *m_deleted_dropped, *m_dropped_big, *m_lost, *m_src_rejected,
                   *m_recreated, *m_reg_err;
    lf_metric      *f_behind, *f_delivery_err;
};

/* tail.c */
tfile *tail_open(csource *s, const char *path, int fd, const struct stat *st, reg_entry *e);
void   tail_read(tfile *f);              /* one budgeted pass */
void   tail_mark_ready(tfile *f);
void   tail_settle(tfile *f);            /* after the last pending report */
void   tail_close_fd(tfile *f);
void   tail_free(tfile *f);              /* unlinks from source lists */
bool   tail_settled(const tfile *f);
void   tail_stop(tfile *f);              /* source stopped: wind down */
int    tail_reopen(tfile *f);
void   tail_house(tfile *f, double now); /* idle fragments, close_inactive */
void   tail_dr(collector *c, ack_msg *m, rd_kafka_resp_err_t err);
/* What our memory bound (queue_max_bytes) counts: the records handed over
 * and not reported, and what the producer's payload arena holds beyond
 * them (a chunk is given back whole, once all its records are reported). */
uint64_t tail_held_bytes(const collector *c);
int    tail_resend_stalled(tfile *f);

/* watch.c */
int    watch_init(collector *c);            /* inotify fd, or poll mode */
void   watch_file(tfile *f);
void   watch_file_drop(tfile *f);
void   watch_dir(collector *c, const char *dir);
void   watch_fini(collector *c);

/* sources.c */
void   sources_scan(csource *s);
void   sources_scan_all(collector *c);
void   sources_free(csource *s);
void   sources_rescan_soon(collector *c);
csource *source_new(collector *c, const source_conf *sc);
void   source_stop(csource *s);
void   source_maybe_free(csource *s);
int    sources_ensure_durable(collector *c);

#endif
