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

#endif
