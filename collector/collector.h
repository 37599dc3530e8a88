/* collector: the tailing core. Runs a set of sources on a libev loop:
 * finds their files, follows them through rotation, cuts lines, sends one
 * record per line (or multiline group) to Kafka, and moves each file's
 * registry offset only over acknowledged lines (DESIGN.md §1).
 * The source set can be replaced at any time (SIGHUP, etcd):
 * collector_apply_sources starts new sources, stops removed ones (files
 * closed, offsets kept in the registry) and restarts changed ones, which
 * resume from the registry's offsets. */
#ifndef LF_COLLECTOR_COLLECTOR_H
#define LF_COLLECTOR_COLLECTOR_H
#include <stdbool.h>
#include <stddef.h>
#include <ev.h>
#include "collector/conf.h"
#include "collector/source.h"

typedef struct collector collector;

/* Reads (or creates) the registry in co->state_dir and starts the producer.
 * A corrupt registry is moved aside and logged, not fatal. Sources: none
 * until collector_apply_sources. cfg_path/ksec: for rdkafka.* messages. */
int  collector_new(collector **out, struct ev_loop *loop, const collector_opts *co,
                   const kafka_opts *ko, const char *cfg_path, const cfg_section *ksec,
                   char *err, size_t errlen);

/* Reconciles the running sources with set[0..n) (copied). Every source is
 * checked first (collector_source_check); a bad one is skipped with its
 * reason logged and counted, the rest apply. Returns the number skipped. */
int  collector_apply_sources(collector *c, const source_conf *set, size_t n);

/* allowed_paths for sources from etcd (origin "etcd:..."): every file
 * their globs expand to is checked (path_file_allowed: the path and what
 * it resolves to) before it is opened. Copied. */
int  collector_set_allowed(collector *c, const cfg_list *allowed);

/* Names of the running sources, for tests and /healthz. */
size_t collector_source_count(const collector *c);

/* SIGTERM: stop reading, give Kafka up to shutdown_timeout to acknowledge
 * what was sent, write the registry. Returns 0 when the registry was
 * written (records not acknowledged are simply read again next time). */
int  collector_shutdown(collector *c);

/* Writes the registry now. */
int  collector_save_registry(collector *c, char *err, size_t errlen);

/* 0 when healthy; else -1 and a reason (producer recreating, registry not
 * writable, ...). */
int  collector_health(collector *c, char *buf, size_t len);

/* Make the producer fail fatally (tests; the environment variable
 * LOGFERRY_TEST_FATAL_AFTER_RECORDS=N does it after the Nth record). */
void collector_test_fatal(collector *c);

void collector_free(collector *c);

#endif
