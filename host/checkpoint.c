/* Checkpoint files (safetensors): tensors x, and adam.m, adam.v (3, H, W) in F32 or
 * L-BFGS's lbfgs.s, lbfgs.y (pairs, 3, H, W), lbfgs.ro (pairs), lbfgs.gprev, lbfgs.d
 * (3, H, W) and lbfgs.scalars (2); metadata clstyle.checkpoint=2, iteration, seed,
 * optimizer (absent: adam), pairs (L-BFGS), scale/scales (coarse to fine; absent: 1 of
 * 1) and the four fingerprints, and a last checksum
 * tensor over every byte before it (clstyle_st_write_checked). A reader trusts nothing
 * before the checksum holds: a corrupt file is refused as corrupt (65), never resumed. */
#include "checkpoint.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

#define CKPT_FORMAT "2" /* 1: no checksum (refused) */
#define CKPT_MAX_ITER 1000000L /* as --iters */

static void hex(char *buf, uint64_t v)
{
    snprintf(buf, 17, "%016" PRIx64, v);
}

clstyle_status clstyle_ckpt_write(const char *path, const clstyle_ckpt *c, const clstyle_ckpt_keys *keys,
                                  clstyle_error *err)
{
    char it[32], seed[32], ks[4][17], sc[16], scs[16], pairs[16];
    snprintf(it, sizeof it, "%ld", c->iteration);
    snprintf(sc, sizeof sc, "%d", c->scale > 0 ? c->scale : 1);
    snprintf(scs, sizeof scs, "%d", c->scales > 0 ? c->scales : 1);
    snprintf(seed, sizeof seed, "%" PRIu64, c->seed);
    snprintf(pairs, sizeof pairs, "%d", c->pairs);
    hex(ks[0], keys->settings);
    hex(ks[1], keys->weights);
    hex(ks[2], keys->content);
    hex(ks[3], keys->style);
    const char *meta[] = {"clstyle.checkpoint", CKPT_FORMAT,    "clstyle.iteration", it,     "clstyle.seed", seed,
                          "clstyle.settings",   ks[0],  "clstyle.weights",   ks[1],  "clstyle.content", ks[2],
                          "clstyle.style",      ks[3],  "clstyle.scale", sc, "clstyle.scales", scs,
                          "clstyle.optimizer", c->lbfgs ? "lbfgs" : "adam", c->lbfgs ? "clstyle.pairs" : NULL, pairs,
                          NULL};
    const int64_t h = c->h, w = c->w, p = c->pairs;
    clstyle_st_out t[7] = {{"x", c->x, 3, {3, h, w}}};
    int n = 1;
    if (!c->lbfgs) {
        t[n++] = (clstyle_st_out){"adam.m", c->m, 3, {3, h, w}};
        t[n++] = (clstyle_st_out){"adam.v", c->v, 3, {3, h, w}};
    } else {
        t[n++] = (clstyle_st_out){"lbfgs.gprev", c->gprev, 3, {3, h, w}};
        t[n++] = (clstyle_st_out){"lbfgs.d", c->d, 3, {3, h, w}};
        t[n++] = (clstyle_st_out){"lbfgs.scalars", c->scalars, 1, {2}};
        if (p) {
            t[n++] = (clstyle_st_out){"lbfgs.s", c->s, 4, {p, 3, h, w}};
            t[n++] = (clstyle_st_out){"lbfgs.y", c->y, 4, {p, 3, h, w}};
            t[n++] = (clstyle_st_out){"lbfgs.ro", c->ro, 1, {p}};
        }
    }
    clstyle_status st = clstyle_st_write_checked(path, t, n, meta, err);
    return st ? clstyle_err_wrap(err, "writing checkpoint") : CLSTYLE_OK;
}

void clstyle_ckpt_free(clstyle_ckpt *c)
{
    free(c->x);
    free(c->m);
    free(c->v);
    free(c->s);
    free(c->y);
    free(c->ro);
    free(c->gprev);
    free(c->d);
    c->x = c->m = c->v = c->s = c->y = c->ro = c->gprev = c->d = NULL;
}

static clstyle_status check_key(const clstyle_st_file *f, const char *path, const char *key, uint64_t want,
                                const char *what, clstyle_error *err)
{
    char buf[17];
    hex(buf, want);
    const char *got = clstyle_st_meta(f, key);
    if (!got)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "--resume %s: not a clstyle checkpoint (no %s)", path, key);
    if (strcmp(got, buf) != 0)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                               "--resume %s: the checkpoint was made with different %s; refusing to resume", path,
                               what);
    return CLSTYLE_OK;
}

/* Tensor name of shape (lead..., 3, h, w) (lead: pairs, when > 0), or (len) when h == 0. */
static clstyle_status read_tensor(const clstyle_st_file *f, const char *path, const char *name, int lead, int h, int w,
                                  size_t len, float **out, clstyle_error *err)
{
    const clstyle_st_tensor *t = clstyle_st_find(f, name);
    if (!t) return clstyle_err_set(err, CLSTYLE_ERR_DATA, "--resume %s: tensor %s is missing", path, name);
    if (!h) {
        if (t->ndim != 1 || t->shape[0] != (int64_t)len)
            return clstyle_err_set(err, CLSTYLE_ERR_DATA, "--resume %s: tensor %s is not (%zu)", path, name, len);
    } else {
        const int k = lead > 0;
        if (t->ndim != 3 + k || (k && t->shape[0] != lead))
            return clstyle_err_set(err, CLSTYLE_ERR_DATA, "--resume %s: tensor %s has the wrong shape", path, name);
        if (t->shape[k] != 3 || t->shape[k + 1] != h || t->shape[k + 2] != w)
            return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                                   "--resume %s: tensor %s is not (%s3, %d, %d): the checkpoint is for another image "
                                   "size", path, name, k ? "pairs, " : "", h, w);
        len = (size_t)(k ? lead : 1) * 3 * h * w;
    }
    *out = malloc(len * sizeof(float));
    if (!*out) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    return clstyle_st_read_f32(f, t, *out, err);
}

static clstyle_status read_plane(const clstyle_st_file *f, const char *path, const char *name, int h, int w,
                                 float **out, clstyle_error *err)
{
    return read_tensor(f, path, name, 0, h, w, 0, out, err);
}

/* The iteration: digits only, 1 .. CKPT_MAX_ITER (no sign, no overflow). */
static int parse_iteration(const char *s, long *out)
{
    long v = 0;
    if (!s || !*s) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > CKPT_MAX_ITER) return -1;
        v = v * 10 + (*s - '0');
    }
    if (v < 1 || v > CKPT_MAX_ITER) return -1;
    *out = v;
    return 0;
}

/* The state must be one the optimizer could have reached: Adam's v (a running mean of
 * squares) >= 0; L-BFGS's ro = 1 / yᵀs > 0 (pairs are kept when yᵀs > 1e-10) and its
 * step length and H_diag finite and >= 0. */
static clstyle_status check_state(const clstyle_ckpt *c, const char *path, clstyle_error *err)
{
    size_t n = (size_t)3 * c->h * c->w;
    if (c->lbfgs) {
        for (int j = 0; j < c->pairs; j++)
            if (!(c->ro[j] > 0) || !isfinite(c->ro[j]))
                return clstyle_err_set(err, CLSTYLE_ERR_DATA, "--resume %s is corrupt: lbfgs.ro is not > 0 at %d", path,
                                       j);
        for (int k = 0; k < 2; k++) /* a line search may settle on t = 0; H_diag is 0 when yᵀy overflowed */
            if (!(c->scalars[k] >= 0) || !isfinite(c->scalars[k]))
                return clstyle_err_set(err, CLSTYLE_ERR_DATA, "--resume %s is corrupt: lbfgs.scalars", path);
        return CLSTYLE_OK;
    }
    for (size_t i = 0; i < n; i++)
        if (!(c->v[i] >= 0))
            return clstyle_err_set(err, CLSTYLE_ERR_DATA, "--resume %s is corrupt: adam.v is negative at %zu", path, i);
    return CLSTYLE_OK;
}

/* The scale metadata: "N" with 1 <= N <= 64, absent as 1; -1 when malformed. */
static int parse_scale(const char *s)
{
    if (!s) return 1;
    int v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > 64) return -1;
        v = v * 10 + (*p - '0');
    }
    return *s && v >= 1 && v <= 64 ? v : -1;
}

/* The checksum, the format mark, the scale and the iteration of a parsed file, into c:
 * what can be read of a checkpoint before knowing its settings. */
static clstyle_status check_header(const clstyle_st_file *f, clstyle_ckpt *c, clstyle_error *err)
{
    const char *path = f->path;
    clstyle_status st = clstyle_st_verify(f, "--resume", err);
    if (st) return st;
    const char *mark = clstyle_st_meta(f, "clstyle.checkpoint");
    const char *it = clstyle_st_meta(f, "clstyle.iteration");
    if (!mark || strcmp(mark, CKPT_FORMAT) || !it)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "--resume %s: not a clstyle checkpoint of format %s", path,
                               CKPT_FORMAT);
    c->scale = parse_scale(clstyle_st_meta(f, "clstyle.scale"));
    c->scales = parse_scale(clstyle_st_meta(f, "clstyle.scales"));
    if (c->scale < 1 || c->scales < 1 || c->scale > c->scales)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "--resume %s: bad scale metadata", path);
    if (parse_iteration(it, &c->iteration))
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "--resume %s: bad iteration '%.40s' (1 to %ld)", path, it,
                               CKPT_MAX_ITER);
    return CLSTYLE_OK;
}

/* The optimizer it was made with against the run's (named both ways). */
static clstyle_status check_optimizer(const clstyle_st_file *f, const clstyle_ckpt_keys *keys, clstyle_ckpt *c,
                                      clstyle_error *err)
{
    const char *got = clstyle_st_meta(f, "clstyle.optimizer"), *want = keys->lbfgs ? "lbfgs" : "adam";
    if (!got) got = "adam"; /* made before L-BFGS */
    if (strcmp(got, "adam") && strcmp(got, "lbfgs"))
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "--resume %s: unknown optimizer '%.20s'", f->path, got);
    if (strcmp(got, want))
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                               "--resume %s was made with --optimizer %s; this run has --optimizer %s", f->path, got,
                               want);
    c->lbfgs = keys->lbfgs;
    return CLSTYLE_OK;
}

/* L-BFGS's pair count (after the settings matched: another --history is a settings
 * mismatch, 64, not a corrupt file). */
static clstyle_status read_pairs(const clstyle_st_file *f, const clstyle_ckpt_keys *keys, clstyle_ckpt *c,
                                 clstyle_error *err)
{
    if (!c->lbfgs) return CLSTYLE_OK;
    const char *p = clstyle_st_meta(f, "clstyle.pairs");
    int v = 0, ok = p && *p;
    for (const char *q = p; ok && *q; q++) {
        ok = *q >= '0' && *q <= '9' && v <= keys->history;
        v = v * 10 + (*q - '0');
    }
    if (!ok || v > keys->history)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "--resume %s: bad L-BFGS pair count (0 to %d)", f->path,
                               keys->history);
    c->pairs = v;
    return CLSTYLE_OK;
}

/* The optimizer's tensors, as check_optimizer found it. */
static clstyle_status read_state(const clstyle_st_file *f, clstyle_ckpt *c, clstyle_error *err)
{
    const char *path = f->path;
    const int h = c->h, w = c->w;
    clstyle_status st;
    float *sc = NULL;
    if (!c->lbfgs)
        return (st = read_plane(f, path, "adam.m", h, w, &c->m, err)) ? st : read_plane(f, path, "adam.v", h, w, &c->v, err);
    if ((st = read_plane(f, path, "lbfgs.gprev", h, w, &c->gprev, err)) ||
        (st = read_plane(f, path, "lbfgs.d", h, w, &c->d, err)) ||
        (st = read_tensor(f, path, "lbfgs.scalars", 0, 0, 0, 2, &sc, err))) {
        free(sc);
        return st;
    }
    memcpy(c->scalars, sc, sizeof c->scalars);
    free(sc);
    if (!c->pairs) return CLSTYLE_OK;
    if ((st = read_tensor(f, path, "lbfgs.s", c->pairs, h, w, 0, &c->s, err)) ||
        (st = read_tensor(f, path, "lbfgs.y", c->pairs, h, w, 0, &c->y, err)))
        return st;
    return read_tensor(f, path, "lbfgs.ro", 0, 0, 0, (size_t)c->pairs, &c->ro, err);
}

/* A parsed file (closed here) to a checkpoint: the checksum first, then everything else. */
static clstyle_status from_file(clstyle_st_file *f, const clstyle_ckpt_keys *keys, int h, int w, clstyle_ckpt *c,
                                clstyle_error *err)
{
    const char *path = f->path;
    clstyle_status st;
    if ((st = check_header(f, c, err)) || (st = check_optimizer(f, keys, c, err)) ||
        (st = check_key(f, path, "clstyle.settings", keys->settings, "settings (layers, weights, lr, size, ...)", err)) ||
        (st = check_key(f, path, "clstyle.weights", keys->weights, "network weights", err)) ||
        (st = check_key(f, path, "clstyle.content", keys->content, "content image", err)) ||
        (st = check_key(f, path, "clstyle.style", keys->style, "style image(s)", err)))
        goto done;
    c->h = h;
    c->w = w;
    if ((st = read_pairs(f, keys, c, err)) || (st = read_plane(f, path, "x", h, w, &c->x, err)) ||
        (st = read_state(f, c, err)))
        goto done;
    st = check_state(c, path, err);
done:
    clstyle_st_close(f);
    if (st) clstyle_ckpt_free(c);
    return st;
}

/* path opened as a safetensors file, with --resume's messages. */
static clstyle_status open_file(const char *path, clstyle_st_file *f, clstyle_error *err)
{
    clstyle_status st = clstyle_st_open(path, f, err);
    if (st == CLSTYLE_ERR_DATA) return clstyle_err_wrap(err, "--resume: not a checkpoint, or a corrupt one");
    return st ? clstyle_err_wrap(err, "--resume") : CLSTYLE_OK;
}

clstyle_status clstyle_ckpt_read(const char *path, const clstyle_ckpt_keys *keys, int h, int w, clstyle_ckpt *c,
                                 clstyle_error *err)
{
    memset(c, 0, sizeof *c);
    clstyle_st_file f;
    clstyle_status st = open_file(path, &f, err);
    return st ? st : from_file(&f, keys, h, w, c, err);
}

clstyle_status clstyle_ckpt_peek(const char *path, clstyle_ckpt *c, clstyle_error *err)
{
    clstyle_st_file f;
    memset(c, 0, sizeof *c);
    clstyle_status st = open_file(path, &f, err);
    if (st) return st;
    st = check_header(&f, c, err);
    clstyle_st_close(&f);
    return st;
}

clstyle_status clstyle_ckpt_parse_buffer(const void *buf, size_t len, const char *name, const clstyle_ckpt_keys *keys,
                                         int h, int w, clstyle_ckpt *c, clstyle_error *err)
{
    memset(c, 0, sizeof *c);
    clstyle_st_file f;
    clstyle_status st = clstyle_st_parse_buffer(buf, len, name, &f, err);
    if (st) return clstyle_err_wrap(err, "--resume: not a checkpoint, or a corrupt one");
    return from_file(&f, keys, h, w, c, err);
}
