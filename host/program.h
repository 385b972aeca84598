/* OpenCL programs: embedded kernel sources (or CLSTYLE_KERNEL_DIR), build options,
 * build logs on failure, and the on-disk binary cache. Used through ctx.h. */
#ifndef CLSTYLE_PROGRAM_H
#define CLSTYLE_PROGRAM_H

#include <stdint.h>

#include "ctx.h"

/* The shared kernel header, prepended to every other kernel file when it is compiled. */
#define CLSTYLE_KERNEL_HEADER "common.cl"

/* Name of the i-th embedded kernel file (the header excepted), NULL past the end. */
const char *clstyle_program_file(int i);
/* Builds cl/`file` with `options` for ctx's device, from the cache when possible. */
clstyle_status clstyle_program_build(clstyle_ctx *ctx, const char *file, const char *options,
                                     cl_program *out, clstyle_error *err);
/* A hash of cl/`file`'s source as ctx would build it (embedded or CLSTYLE_KERNEL_DIR) with
 * the clstyle version and ctx's device and driver: the key of caches that go stale when
 * any of those change (the conv tuner's). 0 when the source cannot be read. */
uint64_t clstyle_program_key(clstyle_ctx *ctx, const char *file);
/* Fills ctx->cache_dir from CLSTYLE_NO_CACHE / XDG_CACHE_HOME / HOME ("" when off). */
void clstyle_program_cache_init(clstyle_ctx *ctx);

#endif
