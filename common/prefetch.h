/* prefetch: a read prefetch the compiler keeps.
 *
 * Why not __builtin_prefetch alone: GCC 12 at -O2 removed it, as dead
 * code, from the indexer's passes over a batch (the address loaded from
 * the batch's array, in bulk_batch_prefetch), so bulk_batch_pop and the
 * body reader waited on one cache miss per item, unseen until a profile
 * showed bulk_batch_pop at 6 % of the no-rules run. A volatile asm is
 * never removed; the prefetch instruction does not fault on any address.
 * test/e2e/indexer_prefetch.sh checks the object code. */
#ifndef LF_COMMON_PREFETCH_H
#define LF_COMMON_PREFETCH_H

static inline void lf_prefetch(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p);
#endif
}

#endif
