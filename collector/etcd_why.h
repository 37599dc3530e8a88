/* etcd_why: turns lf_etcd's failure text ("URL: watch PREFIX: libcurl
 * wording") into log fields for the discovery's warning:
 *   reason="watch stream closed by server" key=/logferry/collect/_all/
 * The endpoint is logged once, beside it, so a leading "URL: " is dropped;
 * libcurl phrases that mean "etcd closed the connection" are said so. */
#ifndef LF_COLLECTOR_ETCD_WHY_H
#define LF_COLLECTOR_ETCD_WHY_H
#include <stddef.h>

/* Writes `reason="..."` (quotes and backslashes escaped, control bytes as
 * '?') and, when the failure names a watch or range key, ` key=KEY`. Always
 * NUL-terminates (truncates to outlen). endpoint and why may be NULL. */
void etcd_why_fields(char *out, size_t outlen, const char *endpoint, const char *why);

#endif
