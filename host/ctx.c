/* The device context: OpenCL context and queue for the chosen device, program and
 * kernel tables, device allocations with limit checks, launches and profiling log. */
#include "ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "program.h"

double clstyle_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

clstyle_status clstyle_ctx_clerr(clstyle_ctx *ctx, clstyle_error *err, cl_int rc, const char *what)
{
    return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s on %s: %s", what, ctx ? ctx->dev.name : "?",
                           clstyle_cl_error_name(rc));
}

clstyle_status clstyle_ctx_create(clstyle_ctx **out, const clstyle_config *cfg, const char *spec, int profiling,
                                  clstyle_error *err)
{
    *out = NULL;
    clstyle_config env;
    if (!cfg) {
        clstyle_config_from_env(&env);
        cfg = &env;
    }
    clstyle_device_desc *list = NULL;
    int n = 0, idx = 0;
    clstyle_status st = clstyle_device_list(&list, &n, err);
    if (st) return clstyle_config_explain_nodevice(cfg, st, err);
    st = clstyle_device_select(list, n, spec, cfg->device, &idx, err);
    if (st) {
        free(list);
        return st;
    }
    clstyle_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        free(list);
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    }
    ctx->dev = list[idx];
    free(list);
    ctx->cfg = *cfg;
    clstyle_program_cache_init(ctx);

    cl_int rc;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->dev.platform, 0};
    ctx->context = clCreateContext(props, 1, &ctx->dev.device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS) {
        st = clstyle_ctx_clerr(ctx, err, rc, "clCreateContext");
        goto fail;
    }
    ctx->queue = clCreateCommandQueue(ctx->context, ctx->dev.device,
                                      profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &rc);
    if (rc != CL_SUCCESS) {
        st = clstyle_ctx_clerr(ctx, err, rc, "clCreateCommandQueue");
        goto fail;
    }
    *out = ctx;
    return CLSTYLE_OK;
fail:
    clstyle_ctx_free(ctx);
    return st;
}

void clstyle_ctx_clear_prof(clstyle_ctx *ctx)
{
    for (int i = 0; i < ctx->nprof; i++) clReleaseEvent(ctx->prof[i].event);
    ctx->nprof = 0;
}

void clstyle_ctx_free(clstyle_ctx *ctx)
{
    if (!ctx) return;
    if (ctx->queue) clFinish(ctx->queue);
    clstyle_ctx_clear_prof(ctx);
    free(ctx->prof);
    for (int i = 0; i < ctx->nkernels; i++) clReleaseKernel(ctx->kernels[i].kernel);
    for (int i = 0; i < ctx->nprograms; i++) clReleaseProgram(ctx->programs[i].program);
    if (ctx->queue) clReleaseCommandQueue(ctx->queue);
    if (ctx->context) clReleaseContext(ctx->context);
    free(ctx);
}

static clstyle_status get_program(clstyle_ctx *ctx, const char *file, const char *options, int *index,
                                  clstyle_error *err)
{
    for (int i = 0; i < ctx->nprograms; i++) {
        if (!strcmp(ctx->programs[i].file, file) && !strcmp(ctx->programs[i].options, options)) {
            *index = i;
            return CLSTYLE_OK;
        }
    }
    if (ctx->nprograms == CLSTYLE_MAX_PROGRAMS)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "too many program variants (%s)", file);
    if (strlen(file) >= sizeof ctx->programs[0].file || strlen(options) >= sizeof ctx->programs[0].options)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "kernel file name or options too long (%s)", file);
    cl_program p;
    clstyle_status st = clstyle_program_build(ctx, file, options, &p, err);
    if (st) return st;
    clstyle_program_entry *e = &ctx->programs[ctx->nprograms];
    snprintf(e->file, sizeof e->file, "%s", file);
    snprintf(e->options, sizeof e->options, "%s", options);
    e->program = p;
    *index = ctx->nprograms++;
    return CLSTYLE_OK;
}

clstyle_status clstyle_ctx_kernel(clstyle_ctx *ctx, const char *file, const char *options,
                                  const char *name, cl_kernel *out, clstyle_error *err)
{
    if (!options) options = "";
    int pi;
    clstyle_status st = get_program(ctx, file, options, &pi, err);
    if (st) return st;
    for (int i = 0; i < ctx->nkernels; i++) {
        if (ctx->kernels[i].program == pi && !strcmp(ctx->kernels[i].name, name)) {
            *out = ctx->kernels[i].kernel;
            return CLSTYLE_OK;
        }
    }
    if (ctx->nkernels == CLSTYLE_MAX_KERNELS || strlen(name) >= sizeof ctx->kernels[0].name)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "kernel table full (%s)", name);
    cl_int rc;
    cl_kernel k = clCreateKernel(ctx->programs[pi].program, name, &rc);
    if (rc != CL_SUCCESS) {
        clstyle_ctx_clerr(ctx, err, rc, "clCreateKernel");
        return clstyle_err_wrap(err, "kernel %s in %s", name, file);
    }
    clstyle_kernel_entry *e = &ctx->kernels[ctx->nkernels++];
    e->program = pi;
    snprintf(e->name, sizeof e->name, "%s", name);
    e->kernel = k;
    *out = k;
    return CLSTYLE_OK;
}

clstyle_status clstyle_ctx_build_all(clstyle_ctx *ctx, const char *options, clstyle_error *err)
{
    for (int i = 0; clstyle_program_file(i); i++) {
        int pi;
        clstyle_status st = get_program(ctx, clstyle_program_file(i), options, &pi, err);
        if (st) return st;
    }
    return CLSTYLE_OK;
}

size_t clstyle_ctx_capacity(const clstyle_ctx *ctx)
{
    size_t g = (size_t)ctx->dev.global_mem;
    return ctx->memory_limit && ctx->memory_limit < g ? ctx->memory_limit : g;
}

clstyle_status clstyle_ctx_alloc(clstyle_ctx *ctx, size_t bytes, const char *what, cl_mem *out,
                                 clstyle_error *err)
{
    *out = NULL;
    if (bytes == 0) bytes = 4;
    if (bytes > ctx->dev.max_alloc)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                               "buffer %s needs %.1f MiB, above %s's max allocation of %.1f MiB "
                               "(try a smaller --size)",
                               what, bytes / 1048576.0, ctx->dev.name, ctx->dev.max_alloc / 1048576.0);
    if (ctx->device_bytes + bytes > clstyle_ctx_capacity(ctx))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                               "buffer %s: %.1f MiB in all would exceed %s %.1f MiB of memory "
                               "(try a smaller --size)",
                               what, (ctx->device_bytes + bytes) / 1048576.0,
                               ctx->memory_limit && ctx->memory_limit < ctx->dev.global_mem ? "the --memory-limit of"
                                                                                               : "the device's",
                               clstyle_ctx_capacity(ctx) / 1048576.0);
    cl_int rc;
    *out = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes, NULL, &rc);
    if (rc != CL_SUCCESS) {
        clstyle_ctx_clerr(ctx, err, rc, "clCreateBuffer");
        return clstyle_err_wrap(err, "allocating %s (%.1f MiB)", what, bytes / 1048576.0);
    }
    ctx->device_bytes += bytes;
    if (ctx->device_bytes > ctx->peak_device_bytes) ctx->peak_device_bytes = ctx->device_bytes;
    return CLSTYLE_OK;
}

void clstyle_ctx_release(clstyle_ctx *ctx, cl_mem *mem)
{
    if (!*mem) return;
    size_t bytes = 0;
    if (clGetMemObjectInfo(*mem, CL_MEM_SIZE, sizeof bytes, &bytes, NULL) != CL_SUCCESS) bytes = 0;
    clReleaseMemObject(*mem);
    *mem = NULL;
    if (bytes == 0) bytes = 4;
    ctx->device_bytes -= bytes < ctx->device_bytes ? bytes : ctx->device_bytes;
}

void clstyle_ctx_set_label(clstyle_ctx *ctx, const char *label, double flops, double bytes)
{
    ctx->label = label;
    ctx->label_flops = flops;
    ctx->label_bytes = bytes;
}

void clstyle_ctx_record(clstyle_ctx *ctx, cl_event ev)
{
    if (!ev) return;
    if (!ctx->record) {
        clReleaseEvent(ev);
        return;
    }
    if (ctx->nprof == ctx->capprof) {
        int cap = ctx->capprof ? 2 * ctx->capprof : 256;
        clstyle_prof_rec *p = realloc(ctx->prof, (size_t)cap * sizeof *p);
        if (!p) {
            clReleaseEvent(ev);
            return;
        }
        ctx->prof = p;
        ctx->capprof = cap;
    }
    ctx->prof[ctx->nprof++] = (clstyle_prof_rec){ctx->label ? ctx->label : "other", ev,
                                                 ctx->label_flops, ctx->label_bytes};
    /* FLOPs/bytes belong to the op, not to each of its launches */
    ctx->label_flops = 0;
    ctx->label_bytes = 0;
}

clstyle_status clstyle_ctx_launch(clstyle_ctx *ctx, cl_kernel k, cl_uint dims, const size_t *global,
                                  const size_t *local, const char *what, clstyle_error *err)
{
    size_t g[3];
    for (cl_uint i = 0; i < dims; i++) {
        if (global[i] == 0) return CLSTYLE_OK; /* nothing to do; never launch an empty range */
        g[i] = local ? (global[i] + local[i] - 1) / local[i] * local[i] : global[i];
    }
    cl_event ev = NULL;
    cl_int rc = clEnqueueNDRangeKernel(ctx->queue, k, dims, NULL, g, local, 0, NULL,
                                       ctx->record ? &ev : NULL);
    if (rc != CL_SUCCESS) return clstyle_ctx_clerr(ctx, err, rc, what);
    clstyle_ctx_record(ctx, ev);
    return CLSTYLE_OK;
}

clstyle_status clstyle_ctx_args(clstyle_ctx *ctx, cl_kernel k, const char *what,
                                const clstyle_arg *args, int n, clstyle_error *err)
{
    clstyle_status st = CLSTYLE_OK;
    for (int i = 0; i < n && !st; i++) st = clstyle_ctx_arg(ctx, k, what, i, args[i], err);
    return st;
}

clstyle_status clstyle_ctx_arg(clstyle_ctx *ctx, cl_kernel k, const char *what, int index, clstyle_arg arg,
                               clstyle_error *err)
{
    cl_int rc = clSetKernelArg(k, (cl_uint)index, arg.size, arg.ptr);
    if (rc == CL_SUCCESS) return CLSTYLE_OK;
    clstyle_ctx_clerr(ctx, err, rc, "clSetKernelArg");
    return clstyle_err_wrap(err, "%s argument %d", what, index);
}

clstyle_status clstyle_ctx_fill(clstyle_ctx *ctx, cl_mem buf, size_t off_bytes, size_t bytes, float value,
                                const char *what, clstyle_error *err)
{
    if (!bytes) return CLSTYLE_OK;
    cl_int rc = clEnqueueFillBuffer(ctx->queue, buf, &value, sizeof value, off_bytes, bytes, 0, NULL, NULL);
    if (rc == CL_SUCCESS) return CLSTYLE_OK;
    clstyle_ctx_clerr(ctx, err, rc, "clEnqueueFillBuffer");
    return clstyle_err_wrap(err, "filling %s", what);
}

clstyle_status clstyle_ctx_copy(clstyle_ctx *ctx, cl_mem dst, size_t dst_off, cl_mem src, size_t src_off,
                                size_t bytes, const char *what, clstyle_error *err)
{
    if (!bytes) return CLSTYLE_OK;
    cl_int rc = clEnqueueCopyBuffer(ctx->queue, src, dst, src_off, dst_off, bytes, 0, NULL, NULL);
    if (rc == CL_SUCCESS) return CLSTYLE_OK;
    clstyle_ctx_clerr(ctx, err, rc, "clEnqueueCopyBuffer");
    return clstyle_err_wrap(err, "copying %s", what);
}

clstyle_status clstyle_ctx_finish(clstyle_ctx *ctx, clstyle_error *err)
{
    CLSTYLE_CL(ctx, err, clFinish(ctx->queue), "clFinish");
    return CLSTYLE_OK;
}

clstyle_status clstyle_ctx_write(clstyle_ctx *ctx, cl_mem buf, size_t off_bytes, size_t bytes,
                                 const void *src, clstyle_error *err)
{
    if (!bytes) return CLSTYLE_OK;
    CLSTYLE_CL(ctx, err, clEnqueueWriteBuffer(ctx->queue, buf, CL_TRUE, off_bytes, bytes, src, 0, NULL, NULL),
               "clEnqueueWriteBuffer");
    return CLSTYLE_OK;
}

clstyle_status clstyle_ctx_read(clstyle_ctx *ctx, cl_mem buf, size_t off_bytes, size_t bytes, void *dst,
                                clstyle_error *err)
{
    if (!bytes) return CLSTYLE_OK;
    CLSTYLE_CL(ctx, err, clEnqueueReadBuffer(ctx->queue, buf, CL_TRUE, off_bytes, bytes, dst, 0, NULL, NULL),
               "clEnqueueReadBuffer");
    return CLSTYLE_OK;
}

/* The rectangle copies behind the window and row transfers: rows dy0 .. dy0+h-1 (all w
 * columns) of each channel of the device's (c, dh, w) at off_bytes, and the window of
 * h x w at (y0, x0) of a (c, H, W) host array; blocking or not. */
static clstyle_status rect(clstyle_ctx *ctx, int write, int blocking, cl_mem buf, size_t off_bytes, int c, int dh,
                           int dy0, int h, int w, void *host, int H, int W, int y0, int x0, clstyle_error *err)
{
    if (!c || !h || !w) return CLSTYLE_OK;
    if (y0 < 0 || x0 < 0 || y0 + h > H || x0 + w > W || dy0 < 0 || dy0 + h > dh)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "window %dx%d at %d,%d is outside %dx%d (device rows %d of %d)",
                               w, h, x0, y0, W, H, dy0, dh);
    const size_t f = sizeof(float), borig[3] = {off_bytes, (size_t)dy0, 0}, horig[3] = {(size_t)x0 * f, (size_t)y0, 0},
                 region[3] = {(size_t)w * f, (size_t)h, (size_t)c};
    const size_t brow = (size_t)w * f, bslice = brow * dh, hrow = (size_t)W * f, hslice = hrow * H;
    const cl_bool b = blocking ? CL_TRUE : CL_FALSE;
    if (write)
        CLSTYLE_CL(ctx, err,
                   clEnqueueWriteBufferRect(ctx->queue, buf, b, borig, horig, region, brow, bslice, hrow, hslice, host,
                                            0, NULL, NULL),
                   "clEnqueueWriteBufferRect");
    else
        CLSTYLE_CL(ctx, err,
                   clEnqueueReadBufferRect(ctx->queue, buf, b, borig, horig, region, brow, bslice, hrow, hslice, host,
                                           0, NULL, NULL),
                   "clEnqueueReadBufferRect");
    return CLSTYLE_OK;
}

static clstyle_status window_rect(clstyle_ctx *ctx, int write, cl_mem buf, size_t off_bytes, int c, int h, int w,
                                  void *host, int H, int W, int y0, int x0, clstyle_error *err)
{
    return rect(ctx, write, 1, buf, off_bytes, c, h, 0, h, w, host, H, W, y0, x0, err);
}

clstyle_status clstyle_ctx_rows(clstyle_ctx *ctx, int write, int blocking, clstyle_tensor t, int tr, int n, float *host,
                                int H, int hr, clstyle_error *err)
{
    return rect(ctx, write, blocking, t.buf, t.off * sizeof(float), t.c, t.h, tr, n, t.w, host, H, t.w, hr, 0, err);
}

clstyle_status clstyle_ctx_write_window(clstyle_ctx *ctx, clstyle_tensor t, const float *host, int H, int W, int y0,
                                        int x0, clstyle_error *err)
{
    return window_rect(ctx, 1, t.buf, t.off * sizeof(float), t.c, t.h, t.w, (void *)host, H, W, y0, x0, err);
}

clstyle_status clstyle_ctx_read_window(clstyle_ctx *ctx, clstyle_tensor t, float *host, int H, int W, int y0, int x0,
                                       clstyle_error *err)
{
    return window_rect(ctx, 0, t.buf, t.off * sizeof(float), t.c, t.h, t.w, host, H, W, y0, x0, err);
}
