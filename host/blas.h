/* CLBlast behind a narrow interface: the only place that includes clblast_c.h.
 * Matrices are row-major; offsets and leading dimensions are in floats. */
#ifndef CLSTYLE_BLAS_H
#define CLSTYLE_BLAS_H

#include "ctx.h"

/* C = alpha * op(A) * op(B) + beta * C, op(X) = X or Xᵀ (trans_* nonzero). */
clstyle_status clstyle_blas_sgemm(clstyle_ctx *ctx, int trans_a, int trans_b, size_t m, size_t n,
                                  size_t k, float alpha, cl_mem a, size_t a_off, size_t lda,
                                  cl_mem b, size_t b_off, size_t ldb, float beta, cl_mem c,
                                  size_t c_off, size_t ldc, clstyle_error *err);

/* CLBlast's Xgemm tuning parameters for ctx's device, as text "NAME=VALUE ..." (sorted):
 * tune runs CLBlast's tuner on an m x n x k product over `fraction` of its search space
 * (slow: it compiles every configuration it tries); set
 * overrides them (CLBlastOverrideParameters) for every later CLBlast GEMM on the device
 * and records them in ctx->xgemm. */
clstyle_status clstyle_blas_tune_xgemm(clstyle_ctx *ctx, size_t m, size_t n, size_t k, double fraction,
                                       char *params, size_t len, clstyle_error *err);
clstyle_status clstyle_blas_set_xgemm(clstyle_ctx *ctx, const char *params, clstyle_error *err);

/* The C++ bridge (host/blas_tune.cpp); return CLBlast status codes. */
#ifdef __cplusplus
extern "C" {
#endif
int clstyle_clblast_tune_xgemm(cl_command_queue queue, size_t m, size_t n, size_t k, double fraction,
                               char *params, size_t len);
#ifdef __cplusplus
}
#endif

#endif
