/* CLBlast failures are reported, not crashed on: SGEMM over buffers too small for the
 * requested product fails with a status and a message naming CLBlastSgemm, the shape,
 * the device and CLBlast's error by name; a valid product still runs after it. */
#include <string.h>

#include "blas.h"
#include "testutil.h"

int main(void)
{
    clstyle_ctx *ctx = NULL;
    clstyle_error err = {0};
    if (clstyle_ctx_create(&ctx, NULL, NULL, 0, &err)) {
        fprintf(stderr, "test_blas: no device: %s\n", err.msg);
        return 1;
    }
    cl_mem a = NULL, b = NULL, c = NULL;
    CHECK(!clstyle_ctx_alloc(ctx, 16 * 4, "A", &a, &err) && !clstyle_ctx_alloc(ctx, 16 * 4, "B", &b, &err) &&
              !clstyle_ctx_alloc(ctx, 16 * 4, "C", &c, &err),
          "alloc: %s", err.msg);

    /* 64x64x64 needs 16 KiB per operand; A holds 64 bytes */
    clstyle_status st = clstyle_blas_sgemm(ctx, 0, 0, 64, 64, 64, 1.0f, a, 0, 64, b, 0, 64, 0.0f, c, 0, 64, &err);
    CHECK(st == CLSTYLE_ERR_INTERNAL, "undersized SGEMM returned %d, want %d", (int)st, (int)CLSTYLE_ERR_INTERNAL);
    CHECK(strstr(err.msg, "CLBlastSgemm (64x64x64)") != NULL, "message does not name the call and shape: '%s'",
          err.msg);
    CHECK(strstr(err.msg, "CLBlastInsufficientMemory") != NULL, "message does not name CLBlast's error: '%s'",
          err.msg);
    CHECK(strstr(err.msg, ctx->dev.name) != NULL, "message does not name the device: '%s'", err.msg);
    printf("test_blas: the error reads: %s\n", err.msg);

    /* and the context is still usable: a 4x4x4 product of ones gives 4 */
    float one[16], out[16];
    for (int i = 0; i < 16; i++) one[i] = 1.0f;
    memset(&err, 0, sizeof err);
    st = clstyle_ctx_write(ctx, a, 0, sizeof one, one, &err);
    if (!st) st = clstyle_ctx_write(ctx, b, 0, sizeof one, one, &err);
    if (!st) st = clstyle_blas_sgemm(ctx, 0, 0, 4, 4, 4, 1.0f, a, 0, 4, b, 0, 4, 0.0f, c, 0, 4, &err);
    if (!st) st = clstyle_ctx_read(ctx, c, 0, sizeof out, out, &err);
    CHECK(st == CLSTYLE_OK, "valid SGEMM after the failure: %s", err.msg);
    int good = 0;
    for (int i = 0; i < 16; i++) good += out[i] == 4.0f;
    CHECK(st || good == 16, "valid SGEMM: %d of 16 entries are 4", good);

    clstyle_ctx_release(ctx, &a);
    clstyle_ctx_release(ctx, &b);
    clstyle_ctx_release(ctx, &c);
    clstyle_ctx_free(ctx);
    return tu_finish("test_blas");
}
