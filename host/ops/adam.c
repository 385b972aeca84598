/* Adam step on the image (cl/adam.cl); bias corrections in double on the host. */
#include <math.h>

#include "ops.h"

clstyle_status clstyle_adam_step(clstyle_ctx *ctx, clstyle_tensor x, clstyle_tensor m, clstyle_tensor v,
                                 clstyle_tensor g, long t, double lr, double b1, double b2, double eps,
                                 clstyle_error *err)
{
    cl_ulong n = clstyle_tensor_numel(&x), xo = x.off, mo = m.off, vo = v.off, go = g.off;
    if (clstyle_tensor_numel(&m) != n || clstyle_tensor_numel(&v) != n || clstyle_tensor_numel(&g) != n)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "adam_step: x, m, v and g differ in size");
    cl_kernel k;
    clstyle_status st = clstyle_op_kernel(ctx, CLSTYLE_KID_ADAM_STEP, &k, NULL, err);
    if (st) return st;
    float step = (float)(lr / (1.0 - pow(b1, (double)t)));
    float bc2 = (float)sqrt(1.0 - pow(b2, (double)t));
    float fb1 = (float)b1, fb2 = (float)b2, feps = (float)eps;
    float omb1 = (float)(1.0 - b1), omb2 = (float)(1.0 - b2); /* in double, as PyTorch does */
    clstyle_arg a[] = {CLSTYLE_ARG(x.buf), CLSTYLE_ARG(xo),   CLSTYLE_ARG(m.buf), CLSTYLE_ARG(mo),
                       CLSTYLE_ARG(v.buf), CLSTYLE_ARG(vo),   CLSTYLE_ARG(g.buf), CLSTYLE_ARG(go),
                       CLSTYLE_ARG(n),     CLSTYLE_ARG(step), CLSTYLE_ARG(bc2),   CLSTYLE_ARG(fb1),
                       CLSTYLE_ARG(fb2),   CLSTYLE_ARG(feps), CLSTYLE_ARG(omb1),  CLSTYLE_ARG(omb2)};
    if ((st = clstyle_ctx_args(ctx, k, "adam_step", a, CLSTYLE_NARGS(a), err))) return st;
    size_t gs = n;
    return clstyle_ctx_launch(ctx, k, 1, &gs, NULL, "adam_step", err);
}
