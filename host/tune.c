/* Convolution algorithm choice by measurement (see tune.h). A layer shape is its channels
 * and its positions to the nearest power of two (octave), so images of similar size share
 * a measurement. The cache file holds one line per shape,
 * "cin cout octave h w<TAB>algo<TAB>options<TAB>local0<TAB>ms<TAB>spread" (h, w: where
 * it was measured), after a header naming the device; a file that does not parse is
 * ignored and measured again. */
#include "tune.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "fileio.h"
#include "hash.h"
#include "program.h"

#define TUNE_MAGIC "# clstyle conv tune v3"
#define TUNE_MAX 256  /* shapes kept per device */
/* Timing (clstyle_tune_stats): after a warm-up pass, at least TUNE_MIN_REPS timed passes,
 * more (up to TUNE_MAX_REPS) until the two fastest agree within TUNE_STABLE; the minimum
 * counts. The winner and the runner-up are then timed again, one after the other; a choice whose
 * passes spread past TUNE_BUSY, or whose re-timing is off its first minimum by more than
 * TUNE_RETIME, was measured on a busy machine: used for the run, not cached. */
#define TUNE_MIN_REPS 3
#define TUNE_MAX_REPS 10
#define TUNE_STABLE 0.03
#define TUNE_BUSY 0.25
#define TUNE_RETIME 0.15
#define XGEMM_MARK "tuned-xgemm" /* a CLBLAST line's options column when it ran with tuned Xgemm */

typedef struct entry {
    int cin, cout, octave, h, w;
    clstyle_conv_choice c;
} entry;

typedef struct table {
    entry e[TUNE_MAX];
    int n;
} table;

clstyle_tune_mode clstyle_tune_mode_of(const clstyle_config *cfg)
{
    return cfg->no_tune || cfg->conv_algo[0] ? CLSTYLE_TUNE_OFF : CLSTYLE_TUNE_AUTO;
}

/* One file per device, driver, clstyle version and set of kernel sources. */
static void cache_path(clstyle_ctx *ctx, char *path, size_t len)
{
    uint64_t h = CLSTYLE_HASH_INIT;
    h = clstyle_hash(h, ctx->cfg.gemm_row, strlen(ctx->cfg.gemm_row)); /* CLSTYLE_GEMM_ROW: other kernels */
    for (int i = 0; clstyle_program_file(i); i++) {
        uint64_t key = clstyle_program_key(ctx, clstyle_program_file(i));
        h = clstyle_hash(h, &key, sizeof key);
    }
    snprintf(path, len, "%s/conv-tune-%016" PRIx64 ".tsv", ctx->cache_dir, h);
}

/* CLBlast's Xgemm parameters from `clstyle tune --clblast`: a header, then one line. */
#define XGEMM_MAGIC "# clstyle clblast xgemm v1"

static void xgemm_path(clstyle_ctx *ctx, char *path, size_t len)
{
    char conv[4300];
    cache_path(ctx, conv, sizeof conv);
    const char *key = strrchr(conv, '-');
    snprintf(path, len, "%s/clblast-xgemm%s", ctx->cache_dir, key ? key : "-.tsv");
}


static int octave(int h, int w)
{
    return (int)lround(log2((double)h * (double)w));
}

static entry *find(table *t, int cin, int cout, int h, int w)
{
    int o = octave(h, w);
    for (int i = 0; i < t->n; i++)
        if (t->e[i].cin == cin && t->e[i].cout == cout && t->e[i].octave == o) return &t->e[i];
    return NULL;
}

static int parse_algo(const char *s, clstyle_conv_algo *a)
{
    for (int i = 0; i < CLSTYLE_CONV_ALGO_COUNT; i++)
        if (!strcmp(s, clstyle_conv_algo_name((clstyle_conv_algo)i))) return *a = (clstyle_conv_algo)i, 0;
    return -1;
}

/* Parses one line; -1 when malformed. */
static int parse_line(char *line, entry *e)
{
    memset(e, 0, sizeof *e);
    char *f[6], *save = NULL;
    int n = 0;
    for (char *tok = strtok_r(line, "\t\n", &save); tok && n < 6; tok = strtok_r(NULL, "\t\n", &save)) f[n++] = tok;
    /* options may be empty: "a\t\tb" collapses, so a lone "-" stands for "" */
    if (n != 6 || sscanf(f[0], "%d %d %d %d %d", &e->cin, &e->cout, &e->octave, &e->h, &e->w) != 5) return -1;
    if (e->cin < 1 || e->cout < 1 || e->h < 1 || e->w < 1 || e->octave != octave(e->h, e->w) ||
        parse_algo(f[1], &e->c.algo))
        return -1;
    const char *opt = strcmp(f[2], "-") ? f[2] : "";
    if (e->c.algo == CLSTYLE_CONV_ALGO_CLBLAST) { /* its options column: XGEMM_MARK or "-" */
        e->c.xgemm_tuned = !strcmp(opt, XGEMM_MARK);
        opt = "";
    }
    if (strlen(opt) >= sizeof e->c.options) return -1;
    memcpy(e->c.options, opt, strlen(opt) + 1);
    char *end;
    errno = 0;
    unsigned long long l0 = strtoull(f[3], &end, 10);
    if (errno || *end || l0 > 4096) return -1;
    e->c.local0 = (size_t)l0;
    e->c.ms = strtod(f[4], &end);
    if (*end || !(e->c.ms >= 0)) return -1;
    e->c.spread = strtod(f[5], &end);
    if (*end || !(e->c.spread >= 0 && e->c.spread < 1e9)) return -1;
    e->c.source = CLSTYLE_CONV_FROM_CACHE;
    return 0;
}

/* Loads the device's table; a missing or malformed file leaves it empty. */
static void load(clstyle_ctx *ctx, table *t)
{
    t->n = 0;
    if (!ctx->cache_dir[0]) return;
    char path[4300], line[512];
    cache_path(ctx, path, sizeof path);
    FILE *f;
    clstyle_error ignored;
    if (clstyle_input_fopen(path, NULL, 1, &f, &ignored)) return; /* a miss, a link or not a file */
    int ok = fgets(line, sizeof line, f) && !strncmp(line, TUNE_MAGIC, strlen(TUNE_MAGIC));
    while (ok && t->n < TUNE_MAX && fgets(line, sizeof line, f)) ok = parse_line(line, &t->e[t->n++]) == 0;
    if (!ok) t->n = 0;
    fclose(f);
}

static clstyle_status save(clstyle_ctx *ctx, const table *t, clstyle_error *err)
{
    if (!ctx->cache_dir[0]) return CLSTYLE_OK;
    char path[4300];
    cache_path(ctx, path, sizeof path);
    clstyle_atomic_file af;
    clstyle_status st = clstyle_atomic_open(&af, path, err);
    if (st) return st;
    fprintf(af.fp, "%s | %s | %s | %s\n", TUNE_MAGIC, ctx->dev.name, ctx->dev.driver, ctx->dev.platform_name);
    for (int i = 0; i < t->n; i++) {
        const entry *e = &t->e[i];
        const char *opt = e->c.xgemm_tuned ? XGEMM_MARK : e->c.options[0] ? e->c.options : "-";
        fprintf(af.fp, "%d %d %d %d %d\t%s\t%s\t%zu\t%.4f\t%.4f\n", e->cin, e->cout, e->octave, e->h, e->w,
                clstyle_conv_algo_name(e->c.algo), opt, e->c.local0, e->c.ms, e->c.spread);
    }
    return clstyle_atomic_commit(&af, err);
}

/* Scratch buffers for timing one layer shape. */
typedef struct bench_bufs {
    clstyle_tensor x, y, dx, ws;
} bench_bufs;

static void bufs_free(clstyle_ctx *ctx, bench_bufs *b)
{
    clstyle_tensor *all[] = {&b->x, &b->y, &b->dx, &b->ws};
    for (int i = 0; i < 4; i++) clstyle_ctx_release(ctx, &all[i]->buf);
}

static clstyle_status alloc_fill(clstyle_ctx *ctx, clstyle_tensor *t, int c, int h, int w, clstyle_error *err)
{
    *t = clstyle_tensor_view(NULL, 0, c, h, w);
    size_t bytes = clstyle_tensor_numel(t) * 4;
    clstyle_status st = clstyle_ctx_alloc(ctx, bytes, "tuning buffer", &t->buf, err);
    if (st) return st;
    return clstyle_ctx_fill(ctx, t->buf, 0, bytes, 0.5f, "tuning buffer", err);
}

/* One forward (bias + ReLU) and one input gradient (ReLU mask) of cv, finished. */
static clstyle_status pass(clstyle_ctx *ctx, const clstyle_conv *cv, bench_bufs *b, clstyle_error *err)
{
    clstyle_status st = clstyle_conv_forward(ctx, cv, b->y, b->x, 1, b->ws, err);
    if (!st) st = clstyle_conv_backward(ctx, cv, b->dx, b->y, &b->x, b->ws, err);
    return st ? st : clstyle_ctx_finish(ctx, err);
}

int clstyle_tune_stats(const double *t, int n, double *min, double *spread)
{
    double s[TUNE_MAX_REPS] = {0};
    int k = n < TUNE_MAX_REPS ? n : TUNE_MAX_REPS;
    for (int i = 0; i < k; i++) { /* insertion sort: k is small */
        int j = i;
        for (; j > 0 && s[j - 1] > t[i]; j--) s[j] = s[j - 1];
        s[j] = t[i];
    }
    *min = k ? s[0] : 0;
    *spread = k && s[0] > 0 ? (s[k / 2] - s[0]) / s[0] : 0;
    return k >= TUNE_MIN_REPS && (k == TUNE_MAX_REPS || s[1] <= s[0] * (1 + TUNE_STABLE));
}

int clstyle_tune_busy(double spread, double first_min, double retime_min)
{
    if (spread > TUNE_BUSY) return 1;
    return retime_min > 0 && first_min > 0 && fabs(retime_min - first_min) > TUNE_RETIME * first_min;
}

/* Passes of one candidate until stable (clstyle_tune_stats): *ms their minimum, *spread
 * their spread; one timed pass only when it is already twice as slow as `best` (the
 * fastest so far, 0 = none). */
static clstyle_status time_candidate(clstyle_ctx *ctx, const clstyle_weights *wt, int l, int h, int w,
                                     const clstyle_conv_choice *c, double best, double *ms, double *spread,
                                     clstyle_error *err)
{
    const clstyle_vgg_layer *L = &clstyle_vgg_layers[l];
    clstyle_conv cv;
    bench_bufs b;
    memset(&b, 0, sizeof b);
    clstyle_status st = clstyle_conv_init_tile(ctx, &cv, L->cin, L->cout, wt->w[l], wt->b[l], c->algo,
                                               c->options[0] || c->local0 ? c->options : NULL, c->local0, err);
    if (st) return st;
    size_t need = clstyle_conv_workspace(&cv, h, w) * sizeof(float);
    if (ctx->workspace_limit && need > ctx->workspace_limit) /* more than the memory plan has room for */
        st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "its workspace (%.1f MiB) is past the memory plan's %.1f MiB",
                             need / 1048576.0, ctx->workspace_limit / 1048576.0);
    if (!st && !(st = alloc_fill(ctx, &b.x, L->cin, h, w, err)) && !(st = alloc_fill(ctx, &b.y, L->cout, h, w, err)) &&
        !(st = alloc_fill(ctx, &b.dx, L->cin, h, w, err)))
        st = alloc_fill(ctx, &b.ws, 1, 1, (int)clstyle_conv_workspace(&cv, h, w), err);
    double t[TUNE_MAX_REPS];
    int n = 0;
    *ms = *spread = 0;
    for (int r = 0; r <= TUNE_MAX_REPS && !st; r++) { /* pass 0 warms up */
        double t0 = clstyle_now();
        st = pass(ctx, &cv, &b, err);
        if (st || r == 0) continue;
        t[n++] = (clstyle_now() - t0) * 1e3;
        if (clstyle_tune_stats(t, n, ms, spread) || (n == 1 && best > 0 && t[0] > 2 * best)) break;
    }
    bufs_free(ctx, &b);
    clstyle_conv_free(ctx, &cv);
    return st;
}

/* WINOGRAD4 is offered from conv3_1 (layer 4) on. F(4x4,3x3) rounds 4-7 times worse than
 * F(2x2,3x3) (docs/ALGORITHM.md); in the first two blocks the image gradient of the
 * shallow style layers passes through it alone, and the golden run's final image drops
 * from 62 to 35 dB PSNR against PyTorch, while from conv3_1 on it stays at 62 dB.
 * CLSTYLE_CONV_ALGO forces it anywhere. */
#define TUNE_WINO4_FIRST_LAYER 4
_Static_assert(CLSTYLE_CONV_ALGO_WINOGRAD4 == CLSTYLE_CONV_ALGO_COUNT - 1, "WINOGRAD4 is the last candidate");

/* Candidate i for layer l on ctx's device: the TILED tile settings, then the other
 * algorithms (CLBLAST marked when it runs with tuned Xgemm parameters); 0 past the end. */
static int candidate(const clstyle_ctx *ctx, int l, int i, int xgemm_tuned, clstyle_conv_choice *c)
{
    memset(c, 0, sizeof *c);
    const char *opt;
    size_t local0;
    if (clstyle_gemm_candidate(ctx, i, &opt, &local0)) {
        c->algo = CLSTYLE_CONV_ALGO_TILED;
        snprintf(c->options, sizeof c->options, "%s", opt);
        c->local0 = local0;
        return 1;
    }
    int ntiled = 0;
    while (clstyle_gemm_candidate(ctx, ntiled, &opt, &local0)) ntiled++;
    if (CLSTYLE_CONV_ALGO_TILED + 1 + (i - ntiled) >= CLSTYLE_CONV_ALGO_COUNT) return 0;
    c->algo = (clstyle_conv_algo)(CLSTYLE_CONV_ALGO_TILED + 1 + (i - ntiled));
    if (c->algo == CLSTYLE_CONV_ALGO_WINOGRAD4 && l < TUNE_WINO4_FIRST_LAYER) return 0;
    c->xgemm_tuned = c->algo == CLSTYLE_CONV_ALGO_CLBLAST && xgemm_tuned;
    return 1;
}

/* The winner and the runner-up timed again, one after the other (a load that came and
 * went meets both); the faster of the two by their minima over both rounds wins. A winner
 * whose passes spread, or whose re-timing is off its first minimum, is marked busy. */
static void retime(clstyle_ctx *ctx, const clstyle_weights *wt, int l, int h, int w, clstyle_conv_choice *best,
                   const clstyle_conv_choice *second, void (*log)(void *, const char *), void *user)
{
    clstyle_error e = {0};
    double bms, bsp, sms = 0, ssp = 0;
    if (time_candidate(ctx, wt, l, h, w, best, 0, &bms, &bsp, &e)) return; /* it ran before: leave it */
    if (second->ms >= 0 && !time_candidate(ctx, wt, l, h, w, second, 0, &sms, &ssp, &e) &&
        fmin(sms, second->ms) < fmin(bms, best->ms)) {
        char a[200], b[200];
        clstyle_conv_choice_describe(best, a, sizeof a);
        clstyle_conv_choice_describe(second, b, sizeof b);
        clstyle_notify(log, user, "tune %s: re-timed, %s (%.2f ms) beats %s (%.2f ms)", clstyle_vgg_layers[l].name, b,
                       fmin(sms, second->ms), a, fmin(bms, best->ms));
        double first = second->ms;
        *best = *second;
        best->busy = clstyle_tune_busy(fmax(second->spread, ssp), first, sms);
        best->spread = fmax(second->spread, ssp);
        best->ms = fmin(sms, first);
        return;
    }
    best->busy = clstyle_tune_busy(fmax(best->spread, bsp), best->ms, bms);
    best->spread = fmax(best->spread, bsp);
    best->ms = fmin(bms, best->ms);
}

/* Times every candidate for layer l at h x w; the fastest goes to *best (source
 * "measured"). A candidate that fails (a build error, a CLBlast error, too little memory)
 * is skipped and logged; when every one fails, *best is the default (source "default"). */
static void measure(clstyle_ctx *ctx, const clstyle_weights *wt, int l, int h, int w, int xgemm_tuned, int verbose,
                    clstyle_conv_choice *best, void (*log)(void *, const char *), void *user)
{
    const clstyle_vgg_layer *L = &clstyle_vgg_layers[l];
    clstyle_conv_choice c;
    char what[200];
    int n = 0;
    clstyle_conv_choice second = {.ms = -1};
    best->ms = -1;
    for (int i = 0; candidate(ctx, l, i, xgemm_tuned, &c); i++) {
        clstyle_error e;
        memset(&e, 0, sizeof e);
        double ms, spread;
        clstyle_conv_choice_describe(&c, what, sizeof what);
        if (time_candidate(ctx, wt, l, h, w, &c, best->ms > 0 ? best->ms : 0, &ms, &spread, &e)) {
            clstyle_notify(log, user, "tune %s %d->%d at %dx%d: %-28s skipped: %s", L->name, L->cin, L->cout, w, h, what,
                  e.msg);
            continue;
        }
        if (verbose)
            clstyle_notify(log, user, "tune %s %d->%d at %dx%d: %-28s %9.2f ms (spread %.0f%%)", L->name, L->cin, L->cout,
                           w, h, what, ms, 100 * spread);
        n++;
        c.ms = ms;
        c.spread = spread;
        if (best->ms < 0 || ms < best->ms) second = *best, *best = c;
        else if (second.ms < 0 || ms < second.ms) second = c;
    }
    if (best->ms >= 0) retime(ctx, wt, l, h, w, best, &second, log, user);
    if (best->ms < 0) {
        /* nothing ran (a strict or odd device): the run goes on with the default, untimed and not cached */
        memset(best, 0, sizeof *best);
        best->source = CLSTYLE_CONV_FROM_DEFAULT;
        clstyle_notify(log, user, "tune %s %d->%d at %dx%d: no candidate ran on %s; using the default (%s)", L->name, L->cin,
            L->cout, w, h, ctx->dev.name, clstyle_conv_algo_name(best->algo));
        return;
    }
    best->source = CLSTYLE_CONV_FROM_MEASURED;
    if (!verbose) {
        clstyle_conv_choice_describe(best, what, sizeof what);
        clstyle_notify(log, user, "tune %s %d->%d at %dx%d: %s, %.2f ms (fastest of %d, spread %.0f%%)", L->name, L->cin,
                       L->cout, w, h, what, best->ms, n, 100 * best->spread);
    }
    if (best->busy)
        clstyle_notify(log, user, "tune %s at %dx%d: the timings spread %.0f%% or moved between rounds (the machine "
                       "looks busy): %s is used for this run%s", L->name, w, h, 100 * best->spread, what,
                       ctx->cfg.tune_keep_busy ? " and kept (CLSTYLE_TUNE_KEEP_BUSY)"
                                               : " but not cached; it is measured again next time");
}

/* A cached choice is used only if it is one the tuner itself would try on this device:
 * a cache file cannot inject build options, and a stale or edited line is measured again. */
static int cached_choice_valid(const clstyle_ctx *ctx, int l, const clstyle_conv_choice *c)
{
    clstyle_conv_choice k;
    for (int i = 0; candidate(ctx, l, i, c->xgemm_tuned, &k); i++)
        if (k.algo == c->algo && !strcmp(k.options, c->options) && k.local0 == c->local0) return 1;
    return 0;
}

/* tune --verify: the cached choice c for layer l at h x w timed again; 1 when its time
 * still matches the cached one (clstyle_tune_busy's rule), 0 when the shape must be
 * measured again (then c is marked for it). */
static int verify(clstyle_ctx *ctx, const clstyle_weights *wt, int l, int h, int w, clstyle_conv_choice *c,
                  void (*log)(void *, const char *), void *user)
{
    clstyle_error e = {0};
    double ms = 0, spread = 0;
    char what[200];
    clstyle_conv_choice_describe(c, what, sizeof what);
    int ok = !time_candidate(ctx, wt, l, h, w, c, 0, &ms, &spread, &e) && !clstyle_tune_busy(spread, c->ms, ms);
    clstyle_notify(log, user, "verify %s at %dx%d: %s, cached %.2f ms, now %.2f ms (spread %.0f%%): %s",
                   clstyle_vgg_layers[l].name, w, h, what, c->ms, ms, 100 * spread,
                   ok ? "ok" : e.msg[0] ? e.msg : "off, measuring again");
    if (!ok) c->source = CLSTYLE_CONV_FROM_DEFAULT; /* replaced by the measurement */
    return ok;
}

clstyle_status clstyle_tune_convs(clstyle_ctx *ctx, const clstyle_weights *wt, int nconv, int h, int w,
                                  clstyle_tune_mode mode, int verbose, clstyle_conv_choice *out,
                                  void (*log)(void *user, const char *line), void *user, clstyle_error *err)
{
    for (int l = 0; l < nconv; l++) {
        memset(&out[l], 0, sizeof out[l]);
        out[l].source = ctx->cfg.conv_algo[0] ? CLSTYLE_CONV_FROM_ENV : CLSTYLE_CONV_FROM_DEFAULT;
    }
    int xgemm_tuned = ctx->xgemm[0] != '\0'; /* clstyle_tune_load_xgemm ran, or tune --clblast */
    const char *algo = ctx->cfg.conv_algo;
    for (int l = 0; l < nconv && *algo; l++) {
        clstyle_status st = clstyle_conv_algo_parse(algo, l, &out[l].algo, err);
        if (st) return st;
        out[l].xgemm_tuned = xgemm_tuned && out[l].algo == CLSTYLE_CONV_ALGO_CLBLAST;
    }
    if (mode == CLSTYLE_TUNE_OFF) return CLSTYLE_OK;
    table *t = calloc(1, sizeof *t);
    if (!t) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    load(ctx, t);
    int changed = 0;
    clstyle_status st = CLSTYLE_OK;
    int stopped = 0;
    for (int l = 0; l < nconv && !st; l++) {
        const clstyle_vgg_layer *L = &clstyle_vgg_layers[l];
        int hl, wl;
        if (ctx->stop && *ctx->stop) { /* a signal may have broken a candidate's compile: keep nothing */
            stopped = 1;
            break;
        }
        clstyle_vgg_layer_size(l, h, w, &hl, &wl);
        entry *e = find(t, L->cin, L->cout, hl, wl);
        if (e && e->c.source == CLSTYLE_CONV_FROM_CACHE && !cached_choice_valid(ctx, l, &e->c)) {
            clstyle_notify(log, user, "tune: dropping the cached choice for %s at %dx%d (not a setting this device "
                           "tries); measuring again", L->name, wl, hl);
            e->c.source = CLSTYLE_CONV_FROM_DEFAULT; /* replaced below */
        }
        if (e && e->c.source == CLSTYLE_CONV_FROM_CACHE && mode == CLSTYLE_TUNE_VERIFY &&
            verify(ctx, wt, l, e->h, e->w, &e->c, log, user)) { /* at the size it was measured at */
            out[l] = e->c;
            e->c.source = CLSTYLE_CONV_FROM_MEASURED; /* a later layer of the same shape takes it as it is */
            continue;
        }
        if (e && e->c.source != CLSTYLE_CONV_FROM_DEFAULT &&
            (mode == CLSTYLE_TUNE_AUTO || e->c.source == CLSTYLE_CONV_FROM_MEASURED)) {
            out[l] = e->c; /* cached, or measured earlier in this call (FORCE) */
            continue;
        }
        if (!changed)
            clstyle_notify(log, user, "tuning the convolutions for %s at %dx%d (once per device and size; "
                  "CLSTYLE_NO_TUNE=1 skips it)", ctx->dev.name, w, h);
        measure(ctx, wt, l, hl, wl, xgemm_tuned, verbose, &out[l], log, user);
        if (out[l].source != CLSTYLE_CONV_FROM_MEASURED) continue; /* the default: every candidate failed */
        if (out[l].busy && !ctx->cfg.tune_keep_busy) { /* not kept: nor the entry it was to replace */
            if (e) *e = t->e[--t->n], changed = 1;
            continue;
        }
        out[l].busy = 0;
        entry ne = {L->cin, L->cout, octave(hl, wl), hl, wl, out[l]};
        if (!e && t->n == TUNE_MAX) t->n = 0; /* full: start over rather than grow without bound */
        if (!e) e = &t->e[t->n++];
        *e = ne;
        changed = 1;
    }
    if (ctx->stop && *ctx->stop) stopped = 1; /* during the last measurement */
    if (!st && changed && !stopped) {
        clstyle_error e;
        if (save(ctx, t, &e)) clstyle_notify(log, user, "tune: results not kept: %s", e.msg);
    }
    free(t);
    return st;
}

int clstyle_tune_load_xgemm(clstyle_ctx *ctx, void (*log)(void *user, const char *line), void *user)
{
    if (!ctx->cache_dir[0]) return 0;
    char path[4400], line[1024];
    xgemm_path(ctx, path, sizeof path);
    FILE *f;
    clstyle_error ignored;
    if (clstyle_input_fopen(path, NULL, 1, &f, &ignored)) return 0; /* a miss, a link or not a file */
    int ok = fgets(line, sizeof line, f) && !strncmp(line, XGEMM_MAGIC, strlen(XGEMM_MAGIC)) &&
             fgets(line, sizeof line, f) != NULL;
    fclose(f);
    clstyle_error e;
    memset(&e, 0, sizeof e);
    line[strcspn(line, "\n")] = '\0';
    if (ok && !clstyle_blas_set_xgemm(ctx, line, &e)) return 1;
    clstyle_notify(log, user, "tune: ignoring %s: %s", path, ok ? e.msg : "not a parameter file");
    return 0;
}

clstyle_status clstyle_tune_clblast(clstyle_ctx *ctx, int size, double fraction,
                                    void (*log)(void *user, const char *line), void *user, clstyle_error *err)
{
    /* conv3_2's im2col product at this size, Cout x positions x Cin*9, the positions
     * rounded up to the multiple of 128 that CLBlast's tuner requires */
    size_t side = (size_t)(size / 4 > 4 ? size / 4 : 4), m = 256, n = (side * side + 127) / 128 * 128, k = 256 * 9;
    char params[1024], path[4400];
    clstyle_notify(log, user, "tune: CLBlast's Xgemm tuner on %zux%zux%zu over %.3g of its search space (slow: it "
        "compiles every configuration it tries)", m, n, k, fraction);
    /* CLBlast samples configurations at random and fails when every one it tried was
     * invalid on the device, which a small fraction makes likely: retry a few times */
    clstyle_status st = CLSTYLE_OK;
    for (int attempt = 1; attempt <= 3; attempt++) {
        if (!(st = clstyle_blas_tune_xgemm(ctx, m, n, k, fraction, params, sizeof params, err))) {
            clstyle_err_clear(err);
            break;
        }
        clstyle_notify(log, user, "tune: attempt %d: %s", attempt, err->msg);
    }
    if (st || (st = clstyle_blas_set_xgemm(ctx, params, err))) return st;
    clstyle_notify(log, user, "tune: CLBlast Xgemm parameters: %s", params);
    if (!ctx->cache_dir[0]) return CLSTYLE_OK;
    xgemm_path(ctx, path, sizeof path);
    clstyle_atomic_file af;
    if ((st = clstyle_atomic_open(&af, path, err))) return st;
    fprintf(af.fp, "%s | %s | %s\n%s\n", XGEMM_MAGIC, ctx->dev.name, ctx->dev.driver, params);
    return clstyle_atomic_commit(&af, err);
}
