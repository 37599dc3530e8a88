#include "indexer/jarena.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "common/asan_poison.h"

#define CHUNK ((size_t)1 << 20) /* far above one log record's tree */
#define BLOCK ((size_t)256 << 10)

/* An overflow block: the header, then the bump area (16-byte aligned). */
typedef struct block {
    struct block *next;
    size_t        size, pos;
    size_t        pad_;
} block;

static _Alignas(16) unsigned char chunk[CHUNK];
static size_t pos;
static bool active;
static size_t overflows;
static block *blocks; /* this window's, newest first; NULL outside a window */

static void *bump(unsigned char *base, size_t *at, size_t cap, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need > cap - *at)
        return NULL;
    void *p = base + *at;
    *at += need;
    UNPOISON(p, n);
    return p;
}

static void *ja_malloc(size_t n)
{
    if (!active)
        return malloc(n);
    void *p = bump(chunk, &pos, CHUNK, n);
    if (p)
        return p;
    overflows++;
    if (blocks && (p = bump((unsigned char *)(blocks + 1), &blocks->pos, blocks->size, n)))
        return p;
    size_t size = n + 16 > BLOCK ? n + 16 : BLOCK;
    block *b = malloc(sizeof *b + size);
    if (!b)
        return NULL;
    *b = (block){blocks, size, 0, 0};
    blocks = b;
    return bump((unsigned char *)(b + 1), &b->pos, b->size, n);
}

static bool in_window(const void *p)
{
    const unsigned char *c = p;
    if (c >= chunk && c < chunk + CHUNK)
        return true;
    for (const block *b = blocks; b; b = b->next)
        if (c >= (const unsigned char *)(b + 1) && c < (const unsigned char *)(b + 1) + b->size)
            return true;
    return false;
}

static void ja_free(void *p)
{
    if (!in_window(p))
        free(p);
}

void jarena_install(void)
{
    static bool installed;
    if (installed) /* a second call (the CLI's, after main's) changes nothing */
        return;
    installed = true;
    cJSON_Hooks h = {ja_malloc, ja_free};
    cJSON_InitHooks(&h);
    POISON(chunk, CHUNK);
}

void jarena_begin(void)
{
    active = true;
}

void jarena_end(void)
{
    active = false;
    POISON(chunk, pos);
    pos = 0;
    while (blocks) {
        block *b = blocks;
        blocks = b->next;
        free(b);
    }
}

size_t jarena_overflows(void) { return overflows; }
