/* CLBlast SGEMM wrapper with error names and profiling events. */
#include "blas.h"

#include <clblast_c.h>

clstyle_status clstyle_blas_sgemm(clstyle_ctx *ctx, int trans_a, int trans_b, size_t m, size_t n,
                                  size_t k, float alpha, cl_mem a, size_t a_off, size_t lda,
                                  cl_mem b, size_t b_off, size_t ldb, float beta, cl_mem c,
                                  size_t c_off, size_t ldc, clstyle_error *err)
{
    if (m == 0 || n == 0) return CLSTYLE_OK;
    cl_event ev = NULL;
    CLBlastStatusCode rc = CLBlastSgemm(CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                                        trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a,
                                        a_off, lda, b, b_off, ldb, beta, c, c_off, ldc, &ctx->queue,
                                        ctx->record ? &ev : NULL);
    if (rc != CLBlastSuccess)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "CLBlastSgemm (%zux%zux%zu) on %s: %s", m, n, k,
                               ctx->dev.name, clstyle_clblast_error_name(rc));
    clstyle_ctx_record(ctx, ev);
    return CLSTYLE_OK;
}
