/* The device context: the one struct that owns the OpenCL context, queue, compiled
 * programs and kernels, the profiling log and compile statistics for a run. */
#ifndef CLSTYLE_CTX_H
#define CLSTYLE_CTX_H

#include <CL/cl.h>
#include "config.h"
#include "device.h"
#include "tensor.h"

#define CLSTYLE_MAX_PROGRAMS 32
#define CLSTYLE_MAX_KERNELS 128
#define CLSTYLE_CTX_SLOTS 40 /* kernels taken by index (host/ops/kernels.c) */

typedef struct clstyle_program_entry {
    char file[64];
    char options[512];
    cl_program program;
} clstyle_program_entry;

typedef struct clstyle_kernel_entry {
    int program;            /* index into ctx->programs */
    char name[64];
    cl_kernel kernel;
} clstyle_kernel_entry;

/* One profiled command: the op label it was launched under and its event. */
typedef struct clstyle_prof_rec {
    const char *label;
    cl_event event;
    double flops, bytes;
} clstyle_prof_rec;

typedef struct clstyle_compile_stats {
    int cache_hits, cache_misses, builds;
    double seconds;          /* wall time spent loading/building programs */
} clstyle_compile_stats;

typedef struct clstyle_ctx {
    clstyle_device_desc dev;
    cl_context context;
    cl_command_queue queue;
    int record;              /* append launched events to prof[] */
    const char *label;       /* current op label for recording */
    double label_flops, label_bytes;
    clstyle_prof_rec *prof;
    int nprof, capprof;
    clstyle_program_entry programs[CLSTYLE_MAX_PROGRAMS];
    int nprograms;
    clstyle_kernel_entry kernels[CLSTYLE_MAX_KERNELS];
    int nkernels;
    cl_kernel slot[CLSTYLE_CTX_SLOTS]; /* by clstyle_kid: NULL until first used */
    clstyle_config cfg;      /* the configuration the context was made with (kernel folder, cache, conv choice) */
    char cache_dir[4096];    /* "" when the binary cache is off (cfg.no_cache, not creatable, or unsafe) */
    char notice[4400];       /* a notice for the user from setting up ("" = none): an unsafe cache */
    clstyle_compile_stats compile;
    char xgemm[1024];        /* CLBlast Xgemm parameters this context put in force ("" = CLBlast's own) */
    size_t device_bytes, peak_device_bytes; /* bytes allocated through clstyle_ctx_alloc */
    size_t memory_limit;     /* the budget allocations must stay under (--memory-limit); 0 = the device's memory */
    size_t workspace_limit;  /* workspace bytes the memory plan counted on (0: any): the tuner skips candidates needing more */
    const volatile int *stop; /* the job's stop request (NULL: none): the tuner stops measuring, and keeps nothing */
} clstyle_ctx;

/* Opens the device chosen by spec (-d; NULL or "": cfg->device, then the default; see
 * clstyle_device_select) with configuration cfg (NULL: clstyle_config_from_env now).
 * profiling enables event timing (bench). */
clstyle_status clstyle_ctx_create(clstyle_ctx **out, const clstyle_config *cfg, const char *spec, int profiling,
                                  clstyle_error *err);
void clstyle_ctx_free(clstyle_ctx *ctx);

/* Kernel `name` from cl/`file` built with `options` (tunables as -D flags). Programs
 * are built once per (file, options) and cached on disk; kernels once per name. Ops
 * call it when they are set up (GEMM tiles) or through their slot (clstyle_op_kernel),
 * never per launch. */
clstyle_status clstyle_ctx_kernel(clstyle_ctx *ctx, const char *file, const char *options,
                                  const char *name, cl_kernel *out, clstyle_error *err);
/* Builds (or loads from cache) every kernel file for this device with `options`
 * (selftest: ""; bench: a unique define, so no cache of ours or the driver's hits). */
clstyle_status clstyle_ctx_build_all(clstyle_ctx *ctx, const char *options, clstyle_error *err);

/* Device buffer of `bytes`, checked against the device's limits and the memory budget;
 * `what` names it in errors. Tracks current and peak allocation. */
clstyle_status clstyle_ctx_alloc(clstyle_ctx *ctx, size_t bytes, const char *what, cl_mem *out,
                                 clstyle_error *err);
/* Releases *mem (NULL is fine) and sets it to NULL; the accounting asks the buffer its size. */
void clstyle_ctx_release(clstyle_ctx *ctx, cl_mem *mem);
/* The bytes allocations may reach: the device's memory, or the memory budget if lower. */
size_t clstyle_ctx_capacity(const clstyle_ctx *ctx);
/* Enqueues: bytes at off_bytes of buf set to `value` (a float pattern); bytes copied from
 * src at src_off to dst at dst_off. `what` names the buffer in errors. */
clstyle_status clstyle_ctx_fill(clstyle_ctx *ctx, cl_mem buf, size_t off_bytes, size_t bytes, float value,
                                const char *what, clstyle_error *err);
clstyle_status clstyle_ctx_copy(clstyle_ctx *ctx, cl_mem dst, size_t dst_off, cl_mem src, size_t src_off,
                                size_t bytes, const char *what, clstyle_error *err);

/* Enqueues a kernel over `global` (rounded up to a multiple of `local` when given),
 * recording its event under ctx->label when recording. */
clstyle_status clstyle_ctx_launch(clstyle_ctx *ctx, cl_kernel k, cl_uint dims, const size_t *global,
                                  const size_t *local, const char *what, clstyle_error *err);
/* Records an externally produced event (CLBlast) under the current label. */
void clstyle_ctx_record(clstyle_ctx *ctx, cl_event ev);
/* Sets the label (and FLOP / byte counts) that the next launches are recorded under. */
void clstyle_ctx_set_label(clstyle_ctx *ctx, const char *label, double flops, double bytes);
void clstyle_ctx_clear_prof(clstyle_ctx *ctx);

clstyle_status clstyle_ctx_finish(clstyle_ctx *ctx, clstyle_error *err);
clstyle_status clstyle_ctx_write(clstyle_ctx *ctx, cl_mem buf, size_t off_bytes, size_t bytes,
                                 const void *src, clstyle_error *err);
clstyle_status clstyle_ctx_read(clstyle_ctx *ctx, cl_mem buf, size_t off_bytes, size_t bytes,
                                void *dst, clstyle_error *err);
/* Blocking copies between the tensor t (c, h, w), contiguous on the device, and the
 * window of t's shape at (y0, x0) of a (c, H, W) float array in host memory. */
clstyle_status clstyle_ctx_write_window(clstyle_ctx *ctx, clstyle_tensor t, const float *host, int H, int W, int y0,
                                        int x0, clstyle_error *err);
clstyle_status clstyle_ctx_read_window(clstyle_ctx *ctx, clstyle_tensor t, float *host, int H, int W, int y0, int x0,
                                       clstyle_error *err);

/* Rows tr .. tr+n-1 of every channel of the tensor t (c, h, w) to (write 0) or from
 * (write 1) rows hr .. hr+n-1 of a (c, H, w) float array in host memory; blocking or
 * not (then host must stay as it is until the queue has passed the transfer). */
clstyle_status clstyle_ctx_rows(clstyle_ctx *ctx, int write, int blocking, clstyle_tensor t, int tr, int n, float *host,
                                int H, int hr, clstyle_error *err);

/* Sets kernel arguments from a list; returns an error naming the kernel and index. */
typedef struct clstyle_arg {
    size_t size;
    const void *ptr;
} clstyle_arg;
#define CLSTYLE_ARG(x) ((clstyle_arg){sizeof(x), &(x)})
/* The element count of an argument array (no literal counts at call sites). */
#define CLSTYLE_NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))
/* Sets arguments 0 .. n-1 from args; errors name the kernel and the index. */
clstyle_status clstyle_ctx_args(clstyle_ctx *ctx, cl_kernel k, const char *what,
                                const clstyle_arg *args, int n, clstyle_error *err);
/* Sets argument `index` alone (a per-chunk offset). */
clstyle_status clstyle_ctx_arg(clstyle_ctx *ctx, cl_kernel k, const char *what, int index, clstyle_arg arg,
                               clstyle_error *err);

/* Error helper for OpenCL calls: names the operation, the device and the code. */
clstyle_status clstyle_ctx_clerr(clstyle_ctx *ctx, clstyle_error *err, cl_int rc, const char *what);
#define CLSTYLE_CL(ctx, err, call, what)                               \
    do {                                                               \
        cl_int rc_ = (call);                                           \
        if (rc_ != CL_SUCCESS) return clstyle_ctx_clerr(ctx, err, rc_, what); \
    } while (0)

/* Wall clock in seconds (monotonic). */
double clstyle_now(void);

#endif
