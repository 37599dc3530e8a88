/* metrics: counters, gauges and histograms with labels, rendered in the
 * Prometheus text exposition format (version 0.0.4).
 *
 * One process-wide registry. Not thread-safe: all updates happen on the
 * daemon's libev thread (librdkafka callbacks run from rd_kafka_poll there).
 * Look a series up once (lf_series_of) and keep the pointer: updates on the
 * hot path are then a plain add. Names are given without a prefix; the
 * registry prefixes "logferry_" on output. */
#ifndef LF_METRICS_H
#define LF_METRICS_H
#include <stddef.h>
#include "common/strbuf.h"

typedef struct lf_metric lf_metric; /* a family: name, help, type, label names */
typedef struct lf_series lf_series; /* one set of label values of a family     */

/* labels: comma-separated label names ("source,reason"), or NULL/"" for none.
 * Registering the same name twice returns the existing family (its first
 * type, help and labels win). A family without labels has its one series
 * from the start, so it is exported at 0 before the first update.
 * Families are rendered in registration order, series in creation order. */
lf_metric *lf_counter_new(const char *name, const char *help, const char *labels);
lf_metric *lf_gauge_new(const char *name, const char *help, const char *labels);
/* buckets: upper bounds, ascending, without +Inf. */
lf_metric *lf_histogram_new(const char *name, const char *help, const char *labels,
                            const double *buckets, size_t nbuckets);

/* The series with these label values (as many as the family has label
 * names), created at zero on first use. The pointer stays valid until
 * lf_series_remove or lf_metrics_reset. Values are escaped on output. */
lf_series *lf_series_of(lf_metric *m, ...);
/* Same with an array of values. */
lf_series *lf_series_ofv(lf_metric *m, const char *const *values);
void lf_series_remove(lf_series *s); /* e.g. a file that is no longer watched; NULL ok */
/* Removes every series of a family (an unlabelled family then shows none
 * until lf_series_of creates it again). */
void lf_metric_clear(lf_metric *m);

void   lf_counter_add(lf_series *s, double v); /* v >= 0 */
void   lf_gauge_set(lf_series *s, double v);
void   lf_gauge_add(lf_series *s, double v);
void   lf_histogram_observe(lf_series *s, double v);
double lf_series_value(const lf_series *s);    /* counter/gauge value; histogram sum */
unsigned long long lf_histogram_count(const lf_series *s); /* observations */

/* Appends the whole registry in text format to out. */
void lf_metrics_render(strbuf *out);
/* Frees every family (end of process, tests). */
void lf_metrics_reset(void);

#endif
