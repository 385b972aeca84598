/* Memory plans (plan.h): size every buffer of a stage first, check, then allocate. */
#include "plan.h"

#include <string.h>

void clstyle_plan_init(clstyle_plan *p)
{
    memset(p, 0, sizeof *p);
}

static void add(clstyle_plan *p, clstyle_tensor *t, int c, int h, int w, size_t elem, const char *what)
{
    *t = clstyle_tensor_view(NULL, 0, c, h, w);
    size_t bytes = clstyle_tensor_numel(t) * elem;
    if (p->n < CLSTYLE_PLAN_MAX) {
        p->e[p->n].t = t;
        p->e[p->n].what = what;
        p->e[p->n].bytes = bytes ? bytes : 4; /* clstyle_ctx_alloc's minimum */
        p->bytes += p->e[p->n].bytes;
    }
    p->n++;
}

void clstyle_plan_add(clstyle_plan *p, clstyle_tensor *t, int c, int h, int w, const char *what)
{
    add(p, t, c, h, w, sizeof(float), what);
}

void clstyle_plan_add_bytes(clstyle_plan *p, clstyle_tensor *t, int c, int h, int w, const char *what)
{
    add(p, t, c, h, w, 1, what);
}

void clstyle_plan_add_flat(clstyle_plan *p, clstyle_tensor *t, size_t n, const char *what)
{
    const size_t row = 65536;
    if (n <= row) clstyle_plan_add(p, t, 1, 1, (int)n, what);
    else clstyle_plan_add(p, t, (int)((n + row - 1) / row), 1, (int)row, what);
}

clstyle_status clstyle_plan_alloc(clstyle_ctx *ctx, clstyle_plan *p, const char *stage, clstyle_error *err)
{
    if (p->n > CLSTYLE_PLAN_MAX)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s: %d buffers planned, at most %d", stage, p->n,
                               CLSTYLE_PLAN_MAX);
    int big = 0;
    for (int i = 1; i < p->n; i++)
        if (p->e[i].bytes > p->e[big].bytes) big = i;
    size_t cap = clstyle_ctx_capacity(ctx), avail = cap > ctx->device_bytes ? cap - ctx->device_bytes : 0;
    if (p->n && p->bytes > avail)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                               "%s need %.1f MiB in all (largest: %s, %.1f MiB), more than the %.1f MiB left of "
                               "%s's %.1f MiB of memory%s (try a smaller --size)",
                               stage, p->bytes / 1048576.0, p->e[big].what, p->e[big].bytes / 1048576.0,
                               avail / 1048576.0, ctx->dev.name, cap / 1048576.0,
                               cap < ctx->dev.global_mem ? " under --memory-limit" : "");
    for (int i = 0; i < p->n; i++) {
        clstyle_status st = clstyle_ctx_alloc(ctx, p->e[i].bytes, p->e[i].what, &p->e[i].t->buf, err);
        if (st) {
            clstyle_plan_release(ctx, p);
            return st;
        }
    }
    return CLSTYLE_OK;
}

void clstyle_plan_release(clstyle_ctx *ctx, clstyle_plan *p)
{
    for (int i = 0; i < p->n && i < CLSTYLE_PLAN_MAX; i++) clstyle_ctx_release(ctx, &p->e[i].t->buf);
}
