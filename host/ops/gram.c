/* Gram matrix of a feature map and the style gradient through it, on CLBlast SGEMM. */
#include "blas.h"
#include "ops.h"

clstyle_status clstyle_gram_forward(clstyle_ctx *ctx, clstyle_tensor g, clstyle_tensor f, clstyle_error *err)
{
    size_t c = (size_t)f.c, n = (size_t)f.h * f.w;
    return clstyle_blas_sgemm(ctx, 0, 1, c, c, n, 1.0f, f.buf, f.off, n, f.buf, f.off, n, 0.0f, g.buf, g.off, c,
                              err);
}

clstyle_status clstyle_gram_backward(clstyle_ctx *ctx, clstyle_tensor df, clstyle_tensor d, clstyle_tensor f,
                                     float scale, clstyle_error *err)
{
    size_t c = (size_t)f.c, n = (size_t)f.h * f.w;
    return clstyle_blas_sgemm(ctx, 0, 0, c, n, c, scale, d.buf, d.off, c, f.buf, f.off, n, 1.0f, df.buf, df.off, n,
                              err);
}

clstyle_status clstyle_gram_accumulate(clstyle_ctx *ctx, clstyle_tensor g, clstyle_tensor f, float scale,
                                       clstyle_error *err)
{
    size_t c = (size_t)f.c, n = (size_t)f.h * f.w;
    return clstyle_blas_sgemm(ctx, 0, 1, c, c, n, scale, f.buf, f.off, n, f.buf, f.off, n, 1.0f, g.buf, g.off, c,
                              err);
}
