/* asan_poison: marks memory our own allocators keep (pools, arenas) as
 * unusable for AddressSanitizer, so that a use after free through them is
 * reported as it would be with malloc. Under GCC (__SANITIZE_ADDRESS__) or
 * clang (__has_feature); without ASan both macros are no-ops. LF_ASAN is
 * defined when ASan is on (for tests that query poisoning). */
#ifndef LF_ASAN_POISON_H
#define LF_ASAN_POISON_H

#if defined(__SANITIZE_ADDRESS__)
#define LF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LF_ASAN 1
#endif
#endif

#ifdef LF_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#endif
