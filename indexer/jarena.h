/* jarena: a bump allocator behind cJSON's allocation hooks, for the one
 * document the indexer builds per record. Parsing and editing a record's
 * JSON costs a dozen small mallocs and frees; between jarena_begin and
 * jarena_end they are pointer bumps in one fixed chunk instead (overflow
 * falls back to malloc). Frees of chunk memory are no-ops; the chunk is
 * reused from the start at jarena_end, so nothing allocated in the window
 * may outlive it (the document is deleted before jarena_end). Objects made
 * outside a window (bulk answers, rules loading) are plain malloc. Single
 * thread only (the libev loop). */
#ifndef LF_INDEXER_JARENA_H
#define LF_INDEXER_JARENA_H
#include <stddef.h>

void   jarena_install(void); /* cJSON_InitHooks; once, before any cJSON use */
void   jarena_begin(void);
void   jarena_end(void);
size_t jarena_overflows(void); /* allocations that did not fit (tests) */

#endif
