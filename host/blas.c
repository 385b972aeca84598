/* CLBlast SGEMM wrapper with error names and profiling events. */
#include "blas.h"

#include <clblast_c.h>
#include <stdlib.h>
#include <string.h>

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

clstyle_status clstyle_blas_tune_xgemm(clstyle_ctx *ctx, size_t m, size_t n, size_t k, double fraction,
                                       char *params, size_t len, clstyle_error *err)
{
    params[0] = '\0';
    int rc = clstyle_clblast_tune_xgemm(ctx->queue, m, n, k, fraction, params, len);
    if (rc != CLBlastSuccess)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "CLBlast Xgemm tuner (%zux%zux%zu) on %s: %s%s%s", m, n, k,
                               ctx->dev.name, clstyle_clblast_error_name(rc), params[0] ? ": " : "", params);
    return CLSTYLE_OK;
}

#define XGEMM_MAX_PARAMS 32

clstyle_status clstyle_blas_set_xgemm(clstyle_ctx *ctx, const char *params, clstyle_error *err)
{
    char buf[1024], *names[XGEMM_MAX_PARAMS], *save = NULL;
    size_t values[XGEMM_MAX_PARAMS], n = 0;
    if (strlen(params) >= sizeof buf)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "CLBlast Xgemm parameters too long");
    memcpy(buf, params, strlen(params) + 1);
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '='), *end;
        if (!eq || eq == tok || n == XGEMM_MAX_PARAMS)
            return clstyle_err_set(err, CLSTYLE_ERR_DATA, "CLBlast Xgemm parameters: bad item '%s'", tok);
        *eq = '\0';
        unsigned long long v = strtoull(eq + 1, &end, 10);
        if (*end || end == eq + 1 || v > 1u << 20)
            return clstyle_err_set(err, CLSTYLE_ERR_DATA, "CLBlast Xgemm parameters: bad value for %s", tok);
        names[n] = tok;
        values[n++] = (size_t)v;
    }
    CLBlastStatusCode rc = CLBlastOverrideParameters(ctx->dev.device, "Xgemm", CLBlastPrecisionSingle, n,
                                                     (const char **)names, values);
    if (rc != CLBlastSuccess)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "CLBlastOverrideParameters(Xgemm) on %s: %s", ctx->dev.name,
                               clstyle_clblast_error_name(rc));
    snprintf(ctx->xgemm, sizeof ctx->xgemm, "%s", params);
    return CLSTYLE_OK;
}
