/* Benchmark core: times the real optimisation job on square synthetic images. */
#include "bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/resource.h>

#include "bands.h"
#include "program.h"
#include "job.h"

/* Deterministic square test images: smooth gradients and stripes (content), rings (style). */
static clstyle_status make_images(int n, clstyle_image *c, clstyle_image *s, clstyle_error *err)
{
    clstyle_status st = clstyle_image_alloc(c, n, n, err);
    if (!st) st = clstyle_image_alloc(s, n, n, err);
    if (st) return st;
    size_t hw = (size_t)n * n;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            size_t i = (size_t)y * n + x;
            double u = (double)x / n, v = (double)y / n, r = hypot(u - 0.5, v - 0.5);
            c->data[i] = (float)(255 * u);
            c->data[hw + i] = (float)(255 * v);
            c->data[2 * hw + i] = (float)(127.5 + 127.5 * sin(20 * u));
            s->data[i] = (float)(127.5 + 127.5 * sin(40 * r));
            s->data[hw + i] = (float)(127.5 + 127.5 * cos(25 * r + 6 * u));
            s->data[2 * hw + i] = (float)(255 * (1 - v));
        }
    return CLSTYLE_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Compile every kernel file: cold (a unique define defeats our cache and the driver's)
 * and from our cache (the second of two builds with the usual options). */
static clstyle_status time_compile(const char *spec, clstyle_bench_result *r, clstyle_error *err)
{
    char nonce[64];
    snprintf(nonce, sizeof nonce, "-DCLSTYLE_BENCH_NONCE=%.0f", clstyle_now() * 1e6);
    for (int pass = 0; pass < 2; pass++) {
        clstyle_ctx *ctx;
        clstyle_status st = clstyle_ctx_create(&ctx, NULL, spec, 0, err);
        if (st) return st;
        if (pass == 0) ctx->cache_dir[0] = '\0';
        double t0 = clstyle_now();
        st = clstyle_ctx_build_all(ctx, pass == 0 ? nonce : "", err);
        double t = clstyle_now() - t0;
        if (!st && pass == 1) { /* the first plain build may have filled the cache: time a second */
            clstyle_ctx_free(ctx);
            if ((st = clstyle_ctx_create(&ctx, NULL, spec, 0, err))) return st;
            t0 = clstyle_now();
            st = clstyle_ctx_build_all(ctx, "", err);
            t = clstyle_now() - t0;
        }
        if (pass == 0) r->compile_cold_s = t;
        else r->compile_cached_s = t;
        clstyle_ctx_free(ctx);
        if (st) return st;
    }
    return CLSTYLE_OK;
}

static void add_op(clstyle_bench_result *r, const clstyle_prof_rec *p, double secs)
{
    int i = 0;
    while (i < r->nops && strcmp(r->ops[i].label, p->label)) i++;
    if (i == r->nops) {
        if (r->nops == CLSTYLE_BENCH_MAX_OPS) return;
        memset(&r->ops[i], 0, sizeof r->ops[i]);
        snprintf(r->ops[i].label, sizeof r->ops[i].label, "%s", p->label);
        r->nops++;
    }
    r->ops[i].launches++;
    r->ops[i].seconds += secs;
    r->ops[i].flops += p->flops;
    r->ops[i].bytes += p->bytes;
}

static clstyle_status profile_iteration(clstyle_job *J, long k, clstyle_bench_result *r, clstyle_error *err)
{
    clstyle_ctx *ctx = J->ctx;
    ctx->record = 1;
    clstyle_status st = clstyle_job_step(J, k, err);
    ctx->record = 0;
    if (!st) st = clstyle_ctx_finish(ctx, err);
    for (int i = 0; i < ctx->nprof && !st; i++) {
        cl_ulong a = 0, b = 0;
        cl_int rc = clGetEventProfilingInfo(ctx->prof[i].event, CL_PROFILING_COMMAND_START, sizeof a, &a, NULL);
        if (rc == CL_SUCCESS) rc = clGetEventProfilingInfo(ctx->prof[i].event, CL_PROFILING_COMMAND_END, sizeof b, &b, NULL);
        if (rc != CL_SUCCESS) {
            st = clstyle_ctx_clerr(ctx, err, rc, "clGetEventProfilingInfo");
            break;
        }
        double s = b > a ? (double)(b - a) * 1e-9 : 0;
        add_op(r, &ctx->prof[i], s);
        r->ops_total_s += s;
    }
    clstyle_ctx_clear_prof(ctx);
    return st;
}

/* The devices used together, their shares and the traffic between them per iteration
 * (`iters` iterations run since setup). */
static void band_info(const clstyle_job *J, clstyle_bench_result *r, int iters)
{
    clstyle_band_info b;
    r->ndevices = 1;
    snprintf(r->devices[0], sizeof r->devices[0], "%s", r->dev.name);
    r->share[0] = 1;
    if (!clstyle_bands_info(J, 0, &b)) return;
    r->peak_device_bytes = 0;
    for (int k = 0; clstyle_bands_info(J, k, &b); k++) {
        snprintf(r->devices[k], sizeof r->devices[k], "%s", b.dev->name);
        r->share[k] = (double)(b.y1 - b.y0) / J->content.h;
        r->peak_device_bytes += (double)b.peak_bytes;
        r->moved_per_iter = b.moved / iters;
        r->ndevices = k + 1;
    }
}

clstyle_status clstyle_bench_run(const clstyle_options *o_in, const char *spec, int size, clstyle_bench_result *r,
                                 clstyle_error *err)
{
    memset(r, 0, sizeof *r);
    clstyle_options o = *o_in;
    int timed = (int)o.iters;
    o.iters = timed + 2; /* warm-up + timed + profiled */
    r->size = size;
    r->iterations = timed;
    r->lbfgs = o.optimizer == CLSTYLE_OPTIMIZER_LBFGS;
    r->history = r->lbfgs ? o.history : 0;
    r->together = clstyle_device_spec_is_many(spec);
    clstyle_image c = {0}, s = {0};
    clstyle_job *J = NULL;
    double *t = calloc((size_t)timed, sizeof *t);
    const int many = clstyle_device_spec_is_many(spec);
    clstyle_status st = !t ? clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of memory")
                        : many ? CLSTYLE_OK
                               : time_compile(spec, r, err);
    if (!st) st = make_images(size, &c, &s, err);
    o.device = spec;
    o.size = size;
    if (!st) st = clstyle_job_open(&o, &c, &s, 1, 1, &J, err);
    if (st) goto done;
    clstyle_ctx *ctx = J->ctx;
    r->dev = ctx->dev;
    r->flop_per_iter = clstyle_job_flops(J);
    const clstyle_net *net = &J->net;
    r->nconv = net->nconv;
    memcpy(r->conv, net->choice, sizeof r->conv);
    /* warm-up: CLBlast compiles its kernels on first use */
    if ((st = clstyle_job_step(J, 1, err)) || (st = clstyle_ctx_finish(ctx, err))) goto done;
    clstyle_mpi_stats_reset();
    const double wall0 = clstyle_now();
    for (int i = 0; i < timed; i++) {
        double t0 = clstyle_now();
        if ((st = clstyle_job_step(J, 2 + i, err)) || (st = clstyle_ctx_finish(ctx, err))) goto done;
        t[i] = clstyle_now() - t0;
    }
    qsort(t, (size_t)timed, sizeof *t, cmp_double);
    r->sec_min = t[0];
    r->sec_max = t[timed - 1];
    r->sec_median = timed % 2 ? t[timed / 2] : 0.5 * (t[timed / 2 - 1] + t[timed / 2]);
    r->peak_device_bytes = (double)ctx->peak_device_bytes;
    band_info(J, r, timed + 1);
    double mpi_bytes = 0; /* mpirun: every rank's compute and communication seconds (host/mpi.h) */
    r->ranks = clstyle_mpi_size();
    if ((st = clstyle_mpi_rank_times(clstyle_now() - wall0, timed, r->rank_compute_s, r->rank_comm_s, &mpi_bytes, err)))
        goto done;
    if (r->ranks > 1) r->moved_per_iter = mpi_bytes;
    /* one more iteration with its commands' profiling events recorded */
    st = profile_iteration(J, timed + 2, r, err);
done:
    {
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0) r->peak_rss_bytes = (double)ru.ru_maxrss * 1024.0;
    }
    clstyle_job_close(J);
    clstyle_image_free(&c);
    clstyle_image_free(&s);
    free(t);
    return st;
}
