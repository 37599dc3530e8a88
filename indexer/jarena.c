#include "indexer/jarena.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <cjson/cJSON.h>

#define CHUNK ((size_t)1 << 20) /* far above one log record's tree */

static _Alignas(16) unsigned char chunk[CHUNK];
static size_t pos;
static bool active;
static size_t overflows;

static void *ja_malloc(size_t n)
{
    if (active) {
        size_t need = (n + 15) & ~(size_t)15;
        if (need <= CHUNK - pos) {
            void *p = chunk + pos;
            pos += need;
            return p;
        }
        overflows++;
    }
    return malloc(n);
}

static void ja_free(void *p)
{
    if ((unsigned char *)p >= chunk && (unsigned char *)p < chunk + CHUNK)
        return;
    free(p);
}

void jarena_install(void)
{
    cJSON_Hooks h = {ja_malloc, ja_free};
    cJSON_InitHooks(&h);
}

void jarena_begin(void)
{
    active = true;
}

void jarena_end(void)
{
    active = false;
    pos = 0;
}

size_t jarena_overflows(void) { return overflows; }
