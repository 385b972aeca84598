/* Checkpoint files (safetensors): tensors x, adam.m, adam.v (3, H, W) in F32 and
 * metadata clstyle.checkpoint=1, iteration, seed and the four fingerprints. */
#include "checkpoint.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

static void hex(char *buf, uint64_t v)
{
    snprintf(buf, 17, "%016" PRIx64, v);
}

clstyle_status clstyle_ckpt_write(const char *path, const clstyle_ckpt *c, const clstyle_ckpt_keys *keys,
                                  clstyle_error *err)
{
    char it[32], seed[32], ks[4][17];
    snprintf(it, sizeof it, "%ld", c->iteration);
    snprintf(seed, sizeof seed, "%" PRIu64, c->seed);
    hex(ks[0], keys->settings);
    hex(ks[1], keys->weights);
    hex(ks[2], keys->content);
    hex(ks[3], keys->style);
    const char *meta[] = {"clstyle.checkpoint", "1",    "clstyle.iteration", it,     "clstyle.seed", seed,
                          "clstyle.settings",   ks[0],  "clstyle.weights",   ks[1],  "clstyle.content", ks[2],
                          "clstyle.style",      ks[3],  NULL};
    clstyle_st_out t[3] = {{"x", c->x, 3, {3, c->h, c->w}},
                           {"adam.m", c->m, 3, {3, c->h, c->w}},
                           {"adam.v", c->v, 3, {3, c->h, c->w}}};
    clstyle_status st = clstyle_st_write(path, t, 3, meta, err);
    return st ? clstyle_err_wrap(err, "writing checkpoint") : CLSTYLE_OK;
}

void clstyle_ckpt_free(clstyle_ckpt *c)
{
    free(c->x);
    free(c->m);
    free(c->v);
    c->x = c->m = c->v = NULL;
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

static clstyle_status read_plane(const clstyle_st_file *f, const char *path, const char *name, int h, int w,
                                 float **out, clstyle_error *err)
{
    const clstyle_st_tensor *t = clstyle_st_find(f, name);
    if (!t) return clstyle_err_set(err, CLSTYLE_ERR_DATA, "--resume %s: tensor %s is missing", path, name);
    if (t->ndim != 3 || t->shape[0] != 3 || t->shape[1] != h || t->shape[2] != w)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                               "--resume %s: tensor %s is not (3, %d, %d): the checkpoint is for another image size",
                               path, name, h, w);
    *out = malloc((size_t)3 * h * w * sizeof(float));
    if (!*out) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    return clstyle_st_read_f32(f, t, *out, err);
}

clstyle_status clstyle_ckpt_read(const char *path, const clstyle_ckpt_keys *keys, int h, int w, clstyle_ckpt *c,
                                 clstyle_error *err)
{
    memset(c, 0, sizeof *c);
    clstyle_st_file f;
    clstyle_status st = clstyle_st_open(path, &f, err);
    if (st) return clstyle_err_wrap(err, "--resume");
    const char *mark = clstyle_st_meta(&f, "clstyle.checkpoint");
    const char *it = clstyle_st_meta(&f, "clstyle.iteration");
    char *end = NULL;
    if (!mark || strcmp(mark, "1") || !it) {
        st = clstyle_err_set(err, CLSTYLE_ERR_DATA, "--resume %s: not a clstyle checkpoint", path);
        goto done;
    }
    c->iteration = strtol(it, &end, 10);
    if (!*it || *end || c->iteration < 0) {
        st = clstyle_err_set(err, CLSTYLE_ERR_DATA, "--resume %s: bad iteration '%s'", path, it);
        goto done;
    }
    if ((st = check_key(&f, path, "clstyle.settings", keys->settings, "settings (layers, weights, lr, size, ...)", err)) ||
        (st = check_key(&f, path, "clstyle.weights", keys->weights, "network weights", err)) ||
        (st = check_key(&f, path, "clstyle.content", keys->content, "content image", err)) ||
        (st = check_key(&f, path, "clstyle.style", keys->style, "style image(s)", err)))
        goto done;
    c->h = h;
    c->w = w;
    if ((st = read_plane(&f, path, "x", h, w, &c->x, err)) || (st = read_plane(&f, path, "adam.m", h, w, &c->m, err)) ||
        (st = read_plane(&f, path, "adam.v", h, w, &c->v, err)))
        goto done;
done:
    clstyle_st_close(&f);
    if (st) clstyle_ckpt_free(c);
    return st;
}
