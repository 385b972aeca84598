/* Convolution algorithm choice per device and layer shape, by measurement: each
 * candidate (TILED with the device's tile settings, CLBLAST) runs one forward and one
 * input-gradient pass of the real layer and the fastest wins. Results are kept in the
 * cache folder, keyed by device, driver, clstyle version and kernel source, so the
 * timing happens once per machine. */
#ifndef CLSTYLE_TUNE_H
#define CLSTYLE_TUNE_H

#include "vgg.h"

typedef enum clstyle_tune_mode {
    CLSTYLE_TUNE_OFF = 0,   /* built-in defaults (CLSTYLE_NO_TUNE=1, or CLSTYLE_CONV_ALGO set) */
    CLSTYLE_TUNE_AUTO = 1,  /* the cache, measuring the shapes it lacks */
    CLSTYLE_TUNE_FORCE = 2, /* measure every shape again (clstyle tune --force) */
    CLSTYLE_TUNE_VERIFY = 3, /* re-time each cached choice; measure again the shapes whose time is off (tune --verify) */
} clstyle_tune_mode;

/* The statistic of n timed passes t[0..n) (ms): *min, and *spread = (median - min) / min.
 * 1 when they are enough: at least 3 passes and the two fastest within 3% (stable), or
 * 10 passes. */
int clstyle_tune_stats(const double *t, int n, double *min, double *spread);
/* 1 when a choice must not be cached: its passes spread past 25%, or its re-timed
 * minimum is more than 15% off its first (the machine was busy while it was measured). */
int clstyle_tune_busy(double spread, double first_min, double retime_min);

/* OFF when the configuration has CLSTYLE_NO_TUNE=1 or CLSTYLE_CONV_ALGO, else AUTO. */
clstyle_tune_mode clstyle_tune_mode_of(const clstyle_config *cfg);

/* Chooses an algorithm for each of the first nconv VGG layers at an h x w input, with
 * wt's weights. log (may be NULL) receives one line per measured shape, or per measured
 * candidate when verbose. With the cache off (CLSTYLE_NO_CACHE=1) AUTO measures but
 * keeps nothing. */
clstyle_status clstyle_tune_convs(clstyle_ctx *ctx, const clstyle_weights *wt, int nconv, int h, int w,
                                  clstyle_tune_mode mode, int verbose, clstyle_conv_choice *out,
                                  void (*log)(void *user, const char *line), void *user, clstyle_error *err);


/* Puts the device's kept Xgemm parameters (from `clstyle tune --clblast`) in force on
 * ctx when the cache holds valid ones (ctx->xgemm); 1 if so, 0 otherwise (a bad file is
 * reported through log and ignored). A job calls it once at setup unless CLSTYLE_NO_TUNE;
 * clstyle_tune_convs itself changes no CLBlast state. */
int clstyle_tune_load_xgemm(clstyle_ctx *ctx, void (*log)(void *user, const char *line), void *user);

/* Runs CLBlast's own Xgemm tuner (over `fraction` of its search space) on a product of
 * the shape of conv3_2 at a size x size input, applies the result (ctx->xgemm) and keeps
 * it in the cache folder for clstyle_tune_load_xgemm; the CLBLAST candidate then runs
 * with them. */
clstyle_status clstyle_tune_clblast(clstyle_ctx *ctx, int size, double fraction,
                                    void (*log)(void *user, const char *line), void *user, clstyle_error *err);

#endif
