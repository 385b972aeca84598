/* libFuzzer harness for the checkpoint reader: each input is tried as it is (almost
 * always refused by the checksum) and again with its last 8 bytes set to the correct
 * checksum, so the metadata, iteration, fingerprint and state checks behind it are
 * reached. Traps if a message is not one line, a refusal has no status, or an accepted
 * checkpoint breaks the reader's promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "hash.h"

/* The seed corpus is written with these keys and a (3, 3, 4) image. */
static const clstyle_ckpt_keys keys = {0x1111, 0x2222, 0x3333, 0x4444};
enum { H = 3, W = 4 };

static void try_one(const uint8_t *data, size_t size)
{
    clstyle_ckpt c;
    clstyle_error err;
    clstyle_err_clear(&err);
    clstyle_status st = clstyle_ckpt_parse_buffer(data, size, "fuzz", &keys, H, W, &c, &err);
    if (st == CLSTYLE_OK) {
        if (c.iteration < 1 || c.iteration > 1000000 || c.h != H || c.w != W || !c.x || !c.m || !c.v) __builtin_trap();
        for (int i = 0; i < 3 * H * W; i++)
            if (!(c.v[i] >= 0)) __builtin_trap();
        clstyle_ckpt_free(&c);
    } else if (strchr(err.msg, '\n') || err.status == CLSTYLE_OK || c.x || c.m || c.v) {
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_one(data, size);
    if (size < 8) return 0;
    uint8_t *copy = malloc(size);
    if (!copy) return 0;
    memcpy(copy, data, size);
    uint64_t h = clstyle_hash(CLSTYLE_HASH_INIT, copy, size - 8);
    for (int j = 0; j < 8; j++) copy[size - 8 + (size_t)j] = (uint8_t)(h >> (8 * j));
    try_one(copy, size);
    free(copy);
    return 0;
}
