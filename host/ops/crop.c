/* Windows of a tensor (cl/crop.cl): the tiled run cuts a tile's crop out of the image
 * and a tile's owned positions out of an activation (forward), and adds gradients of
 * a window back into the whole (backward). */
#include "ops.h"

static clstyle_status crop_launch(clstyle_ctx *ctx, clstyle_kid id, clstyle_tensor whole, clstyle_tensor win, int y0,
                                  int x0, int fwd, clstyle_error *err)
{
    cl_kernel k;
    const char *name;
    clstyle_status st = clstyle_op_kernel(ctx, id, &k, &name, err);
    if (st) return st;
    if (win.c != whole.c || y0 < 0 || x0 < 0 || y0 + win.h > whole.h || x0 + win.w > whole.w)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s: window (%d, %d, %d) at (%d, %d) outside (%d, %d, %d)",
                               name, win.c, win.h, win.w, y0, x0, whole.c, whole.h, whole.w);
    if (!win.c || !win.h || !win.w) return CLSTYLE_OK;
    /* forward: (window, whole); backward: (whole, window) */
    cl_mem out = fwd ? win.buf : whole.buf, in = fwd ? whole.buf : win.buf;
    cl_ulong out_off = fwd ? win.off : whole.off, in_off = fwd ? whole.off : win.off;
    clstyle_arg a[] = {CLSTYLE_ARG(out),     CLSTYLE_ARG(out_off), CLSTYLE_ARG(in),  CLSTYLE_ARG(in_off),
                       CLSTYLE_ARG(whole.h), CLSTYLE_ARG(whole.w), CLSTYLE_ARG(y0),  CLSTYLE_ARG(x0),
                       CLSTYLE_ARG(win.h),   CLSTYLE_ARG(win.w)};
    if ((st = clstyle_ctx_args(ctx, k, name, a, CLSTYLE_NARGS(a), err))) return st;
    size_t g[3] = {(size_t)win.w, (size_t)win.h, (size_t)win.c};
    return clstyle_ctx_launch(ctx, k, 3, g, NULL, name, err);
}

clstyle_status clstyle_crop_forward(clstyle_ctx *ctx, clstyle_tensor y, clstyle_tensor x, int y0, int x0,
                                    clstyle_error *err)
{
    return crop_launch(ctx, CLSTYLE_KID_CROP_FWD, x, y, y0, x0, 1, err);
}

clstyle_status clstyle_crop_backward(clstyle_ctx *ctx, clstyle_tensor dx, clstyle_tensor dy, int y0, int x0,
                                     clstyle_error *err)
{
    return crop_launch(ctx, CLSTYLE_KID_CROP_BWD, dx, dy, y0, x0, 0, err);
}
