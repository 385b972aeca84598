/* FNV-1a, 64-bit: the one hash of the project (checkpoint fingerprints, kernel cache keys
 * and binary checksums, tuning cache names). Not cryptographic. */
#ifndef CLSTYLE_HASH_H
#define CLSTYLE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CLSTYLE_HASH_INIT 0xcbf29ce484222325ull /* the FNV-1a offset basis */

/* h extended by len bytes of data. */
static inline uint64_t clstyle_hash(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

#endif
