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

/* The seed corpus is written with these keys (Adam's, and L-BFGS's with a history of 3)
 * and a (3, 3, 4) image (tests/test_checkpoint.c: small.ckpt, lbfgs.ckpt). */
static const clstyle_ckpt_keys keys[2] = {{.settings = 0x1111, .weights = 0x2222, .content = 0x3333, .style = 0x4444},
                                          {.settings = 0x1111, .weights = 0x2222, .content = 0x3333, .style = 0x4444,
                                           .lbfgs = 1, .history = 3}};
enum { H = 3, W = 4 };

/* What an accepted L-BFGS checkpoint promises. */
static int lbfgs_ok(const clstyle_ckpt *c)
{
    if (c->m || c->v || !c->gprev || !c->d || c->pairs < 0 || c->pairs > 3 || (c->pairs && (!c->s || !c->y || !c->ro)))
        return 0;
    for (int j = 0; j < c->pairs; j++)
        if (!(c->ro[j] > 0)) return 0;
    return c->scalars[0] >= 0 && c->scalars[1] >= 0;
}

static void try_one(const uint8_t *data, size_t size, const clstyle_ckpt_keys *k)
{
    clstyle_ckpt c;
    clstyle_error err;
    clstyle_err_clear(&err);
    clstyle_status st = clstyle_ckpt_parse_buffer(data, size, "fuzz", k, H, W, &c, &err);
    if (st == CLSTYLE_OK) {
        if (c.iteration < 1 || c.iteration > 1000000 || c.h != H || c.w != W || !c.x || c.lbfgs != k->lbfgs)
            __builtin_trap();
        if (c.lbfgs && !lbfgs_ok(&c)) __builtin_trap();
        if (!c.lbfgs && (!c.m || !c.v)) __builtin_trap();
        for (int i = 0; !c.lbfgs && i < 3 * H * W; i++)
            if (!(c.v[i] >= 0)) __builtin_trap();
        clstyle_ckpt_free(&c);
    } else if (strchr(err.msg, '\n') || err.status == CLSTYLE_OK || c.x || c.m || c.v || c.s || c.y || c.ro ||
               c.gprev || c.d) {
        __builtin_trap();
    }
}

static void try_both(const uint8_t *data, size_t size)
{
    try_one(data, size, &keys[0]);
    try_one(data, size, &keys[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_both(data, size);
    if (size < 8) return 0;
    uint8_t *copy = malloc(size);
    if (!copy) return 0;
    memcpy(copy, data, size);
    uint64_t h = clstyle_hash(CLSTYLE_HASH_INIT, copy, size - 8);
    for (int j = 0; j < 8; j++) copy[size - 8 + (size_t)j] = (uint8_t)(h >> (8 * j));
    try_both(copy, size);
    free(copy);
    return 0;
}
