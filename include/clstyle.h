/* clstyle public API: status codes, error reports, device listing, options and the
 * style-transfer entry points. Everything else (OpenCL objects, tensors, kernels) is
 * private to the library. */
#ifndef CLSTYLE_H
#define CLSTYLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CLSTYLE_VERSION "0.1.0"

/* What the shared library exports: this header's functions and nothing else (the
 * library is built with hidden visibility). */
#if defined(__GNUC__) || defined(__clang__)
#define CLSTYLE_API __attribute__((visibility("default")))
#else
#define CLSTYLE_API
#endif

/* Status of every library call. Values map onto the CLI's exit codes (sysexits). */
typedef enum clstyle_status {
    CLSTYLE_OK = 0,
    CLSTYLE_ERR_USAGE = 64,     /* bad argument or option */
    CLSTYLE_ERR_DATA = 65,      /* malformed input data (image, weights, checkpoint) */
    CLSTYLE_ERR_NOINPUT = 66,   /* input file missing or unreadable */
    CLSTYLE_ERR_NODEVICE = 69,  /* no OpenCL platform, or no device matches */
    CLSTYLE_ERR_INTERNAL = 70,  /* OpenCL / CLBlast / internal failure */
    CLSTYLE_ERR_CANTCREAT = 73, /* cannot create an output file */
    CLSTYLE_ERR_IO = 74,        /* read/write error */
    CLSTYLE_ERR_INTERRUPTED = 130
} clstyle_status;

/* A status plus a one-line message naming the operation, file, flag or tensor. */
typedef struct clstyle_error {
    clstyle_status status;
    char msg[1024];
} clstyle_error;

CLSTYLE_API const char *clstyle_status_name(clstyle_status s);

/* ---- style transfer ---- */

#define CLSTYLE_MAX_STYLES 16
#define CLSTYLE_MAX_SCALES 8     /* --scales at most this */
#define CLSTYLE_MIN_SIDE 16    /* every image side at the working size, and --size, at least this */
#define CLSTYLE_MAX_SIDE 32768 /* --size at most this (run, bench and tune alike) */
#define CLSTYLE_MAX_LAYERS 32

typedef struct clstyle_layer_weight {
    char name[16];   /* "relu4_2", "conv1_1", ... */
    double weight;
} clstyle_layer_weight;

/* --optimizer: Adam, or L-BFGS as PyTorch's torch.optim.LBFGS without line search */
enum { CLSTYLE_OPTIMIZER_ADAM = 0, CLSTYLE_OPTIMIZER_LBFGS = 1 };
#define CLSTYLE_MAX_HISTORY 100000 /* --history at most this (the memory budget may allow less) */

typedef enum clstyle_init { CLSTYLE_INIT_NOISE = 0, CLSTYLE_INIT_CONTENT = 1, CLSTYLE_INIT_FILE = 2 } clstyle_init;

/* Progress of a run, passed to the progress callback at reporting points. */
typedef struct clstyle_progress {
    long iter, iters;            /* iterations done, total */
    double total, content, style, tv; /* losses of iteration `iter` (content/style/tv unweighted by α, β, γ) */
    double elapsed;              /* seconds since the first iteration started */
    double it_per_s;
    int scale, scales;           /* the coarse-to-fine scale running (1-based), of scales */
    int width, height;           /* that scale's image size */
} clstyle_progress;

typedef struct clstyle_options {
    const char *content;                       /* -c */
    const char *style[CLSTYLE_MAX_STYLES];     /* -s, comma list */
    int nstyle;
    double blend[CLSTYLE_MAX_STYLES];          /* --style-blend, normalised to sum 1; all 1 when nblend == 0 */
    int nblend;
    const char *output;                        /* -o */
    const char *weights;                       /* -w: path, "synthetic:SEED", or NULL = default location */
    int size;                                  /* longest side of the output (512) */
    double style_scale;                        /* (1.0) */
    long iters;                                /* (500); with scales > 1, at the first scale */
    int scales;                                /* --scales N: coarse to fine over N sizes up to size (1) */
    double scale_factor;                       /* --scale-factor F: size ratio between scales (2) */
    long iters_after;                          /* --iters-after N at each later scale (0: half of iters, rounded up) */
    double content_weight, style_weight, tv_weight;
    double lr;                                 /* learning rate, pixel units; 0 = the optimizer's own (Adam 2, L-BFGS 1) */
    int optimizer;                             /* CLSTYLE_OPTIMIZER_ADAM (default) or CLSTYLE_OPTIMIZER_LBFGS */
    int history;                               /* L-BFGS: curvature pairs kept (100) */
    int line_search;                           /* L-BFGS: 1 = strong Wolfe (PyTorch's "strong_wolfe"), 0 = a fixed step */
    clstyle_layer_weight content_layers[CLSTYLE_MAX_LAYERS];
    int ncontent_layers;
    clstyle_layer_weight style_layers[CLSTYLE_MAX_LAYERS];
    int nstyle_layers;
    clstyle_init init;
    const char *init_file;
    uint64_t seed;
    int pooling_avg;                           /* 0 max, 1 avg */
    int original_colors;
    long print_every;                          /* plain progress lines; 0 = off */
    long save_every;                           /* intermediate images OUT_NNNN.png; 0 = off */
    const char *log;                           /* CSV of per-iteration losses */
    const char *checkpoint;                    /* --checkpoint FILE: written every save_every and at exit */
    const char *resume;                        /* --resume FILE: continue a checkpointed run */
    const char *device;                        /* -d SPEC */
    int output_bits;                           /* 8 or 16 (PNG; JPEG is 8-bit) */
    int jpeg_quality;                          /* --quality 1..100 of JPEG outputs (92) */
    const char *plot;                          /* --plot FILE.png: loss curves, rewritten at reporting points */
    const char *sheet;                         /* --sheet FILE.png: contact sheet of the snapshots */
    int tile;                                  /* --tile N: exact tiles of N px (a multiple of 16); 0 = as the budget needs */
    unsigned long long memory_limit;           /* --memory-limit: device bytes a run may hold; 0 = 90% of the device's */
    size_t max_pixels;                         /* input image cap (0 = default) */
    volatile int *stop;                        /* set asynchronously (signal) to stop after the current iteration */
    void (*progress)(void *user, const clstyle_progress *p);
    void *progress_user;
    int progress_live;                         /* report about twice a second instead of every print_every */
    void (*info)(void *user, const char *line);/* one-line notices (device, sizes, weights) */
} clstyle_options;

/* Fills every field with its documented default. */
CLSTYLE_API void clstyle_options_default(clstyle_options *o);
/* Sets every setting of a named preset over o (what it does not name stays): "seed",
 * the seed's own system (docs/DEFAULTS.md). CLSTYLE_ERR_USAGE for an unknown name. */
CLSTYLE_API int clstyle_options_preset(clstyle_options *o, const char *name);
/* Runs the whole job: validates every input and the output path before any device
 * work, then optimises and writes the output atomically. */
CLSTYLE_API clstyle_status clstyle_run(const clstyle_options *o, clstyle_error *err);

/* ---- several runs in one process ---- */

/* A session runs one job after another on one device context: the OpenCL context and
 * queue, the kernels compiled for it (programs and kernel objects), CLBlast's programs
 * for it and its parameters are made by the first run and kept for the next ones, and so
 * are the host weights while the runs name the same -w (file or synthetic:SEED; a file
 * is read once). What each run still does: read its configuration and images, choose its
 * conv algorithms (the tuner's choices come from the cache folder; shapes no run has met
 * are measured, once), upload the network, plan its memory and compute its targets. A run
 * on another -d SPEC than the one before, on several devices (-d all, a list), or after
 * an OpenCL failure (70) opens a new context. Not thread-safe: one run at a time. */
typedef struct clstyle_session clstyle_session;

CLSTYLE_API clstyle_status clstyle_session_new(clstyle_session **out, clstyle_error *err);
/* clstyle_run on the session's context (opened by the first run). */
CLSTYLE_API clstyle_status clstyle_session_run(clstyle_session *s, const clstyle_options *o, clstyle_error *err);
/* The last run's setup: seconds from its start to its first iteration (device, kernels,
 * tuning, network, targets; the whole run when it stopped before iterating). */
CLSTYLE_API double clstyle_session_setup_seconds(const clstyle_session *s);
/* Frees the session and its context; NULL is fine. */
CLSTYLE_API void clstyle_session_free(clstyle_session *s);

/* ---- images in memory (embedding without temporary files) ---- */

/* Interleaved RGB, row-major: data is (height, width, 3) floats in pixel units 0..255
 * (sRGB-encoded, as a PNG's 8-bit samples). */
typedef struct clstyle_pixels {
    int width, height;
    float *data; /* (height, width, 3) */
} clstyle_pixels;

/* clstyle_run on images in memory: the content and nstyle style images come from the
 * arguments (o->content and o->style are not used; o->max_pixels caps them as it caps
 * files) and are sized as files would be (--size, --style-scale). The result, at the
 * working size, goes to *out, allocated by the library (free it with
 * clstyle_pixels_free); its values are not clamped (clamp to 0..255 to display them).
 * It is also written to o->output when that is set (then --save-every snapshots too;
 * without o->output, --save-every only writes o->checkpoint). Every other option, the
 * progress callback and o->stop work as in clstyle_run. A stop request returns
 * CLSTYLE_ERR_INTERRUPTED with *out holding the last iteration's image, and a diverged
 * run 70 with the last image whose loss was finite; *out is zeroed on other failures. */
CLSTYLE_API clstyle_status clstyle_run_pixels(const clstyle_options *o, const clstyle_pixels *content,
                                              const clstyle_pixels *styles, int nstyle, clstyle_pixels *out,
                                              clstyle_error *err);
/* Frees what the library allocated in p and zeroes it; safe on a zeroed struct and twice. */
CLSTYLE_API void clstyle_pixels_free(clstyle_pixels *p);

#ifdef __cplusplus
}
#endif
#endif
