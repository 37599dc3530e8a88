/* jarena: a bump allocator behind cJSON's allocation hooks, for the one
 * document the indexer builds per record. Parsing and editing a record's
 * JSON costs a dozen small mallocs and frees; between jarena_begin and
 * jarena_end they are pointer bumps in one fixed chunk instead, and in
 * overflow blocks (malloc'd, at least 256 KiB or the allocation's size)
 * once the chunk is full. Frees of window memory are no-ops; jarena_end
 * frees the overflow blocks and reuses the chunk from the start.
 *
 * The rule: nothing allocated through cJSON's hooks between jarena_begin
 * and jarena_end may be used, or freed, after jarena_end. The document is
 * not deleted (jarena_end releases it whole: cJSON_Delete walking every
 * node to free nothing was wasted work); whatever must outlive the record
 * is copied out first, into memory of its own (bulk items copy the printed
 * document, rules results are arrays, rules state is plain malloc, never
 * cJSON nodes or strings made in the window). Under ASan the used part of
 * the chunk is poisoned at jarena_end, so a use after the window is caught
 * in the tests; overflow blocks are freed, so it is caught there too.
 *
 * Objects made outside a window (bulk answers, rules loading) are plain
 * malloc, and freeing them inside a window frees them. Single thread only
 * (the libev loop). */
#ifndef LF_INDEXER_JARENA_H
#define LF_INDEXER_JARENA_H
#include <stddef.h>

void   jarena_install(void); /* cJSON_InitHooks, before any cJSON use; again: no-op */
void   jarena_begin(void);
void   jarena_end(void);     /* releases everything allocated since begin */
size_t jarena_overflows(void); /* allocations that did not fit the chunk (tests) */

#endif
