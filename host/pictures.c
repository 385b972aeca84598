/* The run's pictures (pictures.h): the loss history behind --plot, and the thumbnails
 * behind --sheet, one every --save-every iterations (or an eighth of the run), thinned to
 * at most CLSTYLE_SHEET_MAX_FRAMES, plus the final image. */
#include "pictures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "imgfile.h"
#include "job.h"
#include "plot.h"

static clstyle_status check_name(const char *path, const char *flag, clstyle_error *err)
{
    if (!path || clstyle_imgfile_has_ext(path, ".png")) return CLSTYLE_OK;
    return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "%s %s: the picture is a PNG (give a name ending in .png)", flag,
                           path);
}

/* Every save_every iterations, or an eighth of the run without --save-every; a multiple
 * of that when the run would have more frames than a sheet holds. */
static long sheet_step(const clstyle_options *o, long total)
{
    long every = o->save_every > 0 ? o->save_every : (total + 7) / 8;
    if (every < 1) every = 1;
    long frames = total / every, mult = (frames + CLSTYLE_SHEET_MAX_FRAMES - 1) / CLSTYLE_SHEET_MAX_FRAMES;
    return every * (mult > 1 ? mult : 1);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

clstyle_status clstyle_pictures_init(clstyle_pictures *P, const clstyle_options *o, long total,
                                     const char *content_name, clstyle_error *err)
{
    memset(P, 0, sizeof *P);
    P->o = o;
    P->total = total;
    clstyle_status st = check_name(o->plot, "--plot", err);
    if (!st) st = check_name(o->sheet, "--sheet", err);
    if (st) return st;
    if (o->sheet) P->sheet_every = sheet_step(o, total);
    for (int k = 1; k < o->scales; k++) P->scale_starts[P->nscales++] = clstyle_ladder_end(o, k - 1) + 1;
    snprintf(P->title, sizeof P->title, "clstyle: %s, %d style image%s, --size %d, %s",
             content_name ? base_name(content_name) : "?",
             o->nstyle, o->nstyle == 1 ? "" : "s", o->size,
             o->optimizer == CLSTYLE_OPTIMIZER_LBFGS ? "L-BFGS" : "Adam");
    if (!o->plot) return CLSTYLE_OK;
    P->hist = malloc((size_t)total * 4 * sizeof *P->hist);
    if (!P->hist) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "--plot: out of host memory for %ld rows", total);
    for (size_t i = 0; i < (size_t)total * 4; i++) P->hist[i] = NAN;
    return CLSTYLE_OK;
}

void clstyle_pictures_row(clstyle_pictures *P, long k, const float *row)
{
    if (!P->hist || k < 1 || k > P->total) return;
    const clstyle_options *o = P->o;
    size_t i = (size_t)(k - 1), n = (size_t)P->total;
    double c = o->content_weight * row[0], s = o->style_weight * row[1], t = o->tv_weight * row[2];
    P->hist[i] = c + s + t;
    P->hist[n + i] = c;
    P->hist[2 * n + i] = s;
    P->hist[3 * n + i] = t;
}

clstyle_status clstyle_pictures_plot(clstyle_pictures *P, int force, double now, clstyle_error *err)
{
    if (!P->hist || (!force && P->written_at > 0 && now - P->written_at < 1.0)) return CLSTYLE_OK;
    size_t n = (size_t)P->total;
    clstyle_plot_data d = {.n = P->total, .total = P->hist, .content = P->hist + n, .style = P->hist + 2 * n,
                           .tv = P->hist + 3 * n, .scale_starts = P->scale_starts, .nscales = P->nscales,
                           .title = P->title};
    clstyle_status st = clstyle_plot_losses(P->o->plot, &d, err);
    if (st) return clstyle_err_wrap(err, "--plot");
    P->written_at = now;
    return CLSTYLE_OK;
}

int clstyle_pictures_wants_frame(const clstyle_pictures *P, long k, int end)
{
    if (!P->sheet_every) return 0;
    if (P->nframes && P->frame_iter[P->nframes - 1] == k) return 0;
    return end || k % P->sheet_every == 0;
}

clstyle_status clstyle_pictures_frame(clstyle_pictures *P, long k, const clstyle_image *img, clstyle_error *err)
{
    if (!P->sheet_every) return CLSTYLE_OK;
    if (P->nframes == CLSTYLE_SHEET_MAX_FRAMES + 1) { /* a resumed run's extra frames: the last one is replaced */
        clstyle_image_free(&P->frames[--P->nframes]);
    }
    /* one size for every frame, the coarse scales' enlarged too, so the cells line up */
    clstyle_image *f = &P->frames[P->nframes];
    clstyle_status st = clstyle_image_resize_longest(img, CLSTYLE_SHEET_THUMB, f, err);
    if (st) return clstyle_err_wrap(err, "--sheet");
    P->frame_iter[P->nframes++] = k;
    st = clstyle_plot_sheet(P->o->sheet, P->frames, P->frame_iter, P->nframes, err);
    return st ? clstyle_err_wrap(err, "--sheet") : CLSTYLE_OK;
}

void clstyle_pictures_free(clstyle_pictures *P)
{
    free(P->hist);
    for (int i = 0; i < P->nframes; i++) clstyle_image_free(&P->frames[i]);
    memset(P, 0, sizeof *P);
}
