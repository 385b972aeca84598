/* Exact tiles (tile.h). */
#include "tile.h"

#include <stdlib.h>
#include <string.h>

#include "vgg.h"

int clstyle_tile_reach(int nconv)
{
    int r = 0, s = 1;
    for (int k = 0; k < nconv && k < CLSTYLE_VGG_NCONV; k++) {
        r += s; /* a 3x3 conv: one position each side, at this layer's stride */
        if (clstyle_vgg_layers[k].pool_after && k + 1 < nconv) {
            r += s; /* a 2x2 pool reaches one more position of its input */
            s *= 2;
        }
    }
    return r;
}

int clstyle_tile_halo(int nconv)
{
    int r = clstyle_tile_reach(nconv);
    return (r + CLSTYLE_TILE_GRID - 1) / CLSTYLE_TILE_GRID * CLSTYLE_TILE_GRID;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

clstyle_status clstyle_tiling_make(clstyle_tiling *tl, int h, int w, int side, int nconv, clstyle_error *err)
{
    memset(tl, 0, sizeof *tl);
    if (side < CLSTYLE_TILE_GRID || side % CLSTYLE_TILE_GRID)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--tile %d: must be a multiple of %d (the pooling grid)", side,
                               CLSTYLE_TILE_GRID);
    tl->h = h;
    tl->w = w;
    tl->side = side;
    tl->halo = clstyle_tile_halo(nconv);
    tl->ny = (h + side - 1) / side;
    tl->nx = (w + side - 1) / side;
    tl->n = tl->ny * tl->nx;
    tl->t = calloc((size_t)tl->n, sizeof *tl->t);
    if (!tl->t) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    for (int i = 0; i < tl->ny; i++)
        for (int j = 0; j < tl->nx; j++) {
            clstyle_tile *t = &tl->t[i * tl->nx + j];
            t->cy0 = i * side;
            t->cy1 = clampi((i + 1) * side, 0, h);
            t->cx0 = j * side;
            t->cx1 = clampi((j + 1) * side, 0, w);
            t->y0 = clampi(t->cy0 - tl->halo, 0, h);
            t->y1 = clampi(t->cy1 + tl->halo, 0, h);
            t->x0 = clampi(t->cx0 - tl->halo, 0, w);
            t->x1 = clampi(t->cx1 + tl->halo, 0, w);
            if (t->y1 - t->y0 > tl->max_h) tl->max_h = t->y1 - t->y0;
            if (t->x1 - t->x0 > tl->max_w) tl->max_w = t->x1 - t->x0;
        }
    return CLSTYLE_OK;
}

void clstyle_tiling_free(clstyle_tiling *tl)
{
    free(tl->t);
    memset(tl, 0, sizeof *tl);
}

void clstyle_tile_span(int a0, int a1, int full, int l, int *b0, int *b1)
{
    int s = 1, n = full;
    for (int k = 0; k < l; k++)
        if (clstyle_vgg_layers[k].pool_after) {
            s *= 2;
            n /= 2;
        }
    *b0 = a0 / s;
    *b1 = a1 == full ? n : a1 / s;
    if (*b1 < *b0) *b1 = *b0;
}

clstyle_window clstyle_tile_owned(const clstyle_tiling *tl, const clstyle_tile *t, int l)
{
    clstyle_window o;
    int oy1, ox1, cy0, cy1, cx0, cx1;
    clstyle_tile_span(t->cy0, t->cy1, tl->h, l, &o.oy, &oy1);
    clstyle_tile_span(t->cx0, t->cx1, tl->w, l, &o.ox, &ox1);
    clstyle_tile_span(t->y0, t->y1, tl->h, l, &cy0, &cy1);
    clstyle_tile_span(t->x0, t->x1, tl->w, l, &cx0, &cx1);
    o.oh = oy1 - o.oy;
    o.ow = ox1 - o.ox;
    o.ry = o.oy - cy0;
    o.rx = o.ox - cx0;
    return o;
}
