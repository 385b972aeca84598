/* `clstyle selftest`: compiles every kernel for the device, runs a CLBlast SGEMM and one
 * of our kernels, compares both with a CPU computation, reports timings and cache use. */
#ifndef CLSTYLE_SELFTEST_H
#define CLSTYLE_SELFTEST_H

#include <stdio.h>
#include "ctx.h"

/* Prints a report to out. Returns CLSTYLE_OK when every check passed, else
 * CLSTYLE_ERR_INTERNAL with err naming the failing check. */
clstyle_status clstyle_selftest_run(clstyle_ctx *ctx, FILE *out, clstyle_error *err);

#endif
