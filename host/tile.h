/* Exact tiles of an image (docs/ALGORITHM.md, "Tiled execution"): the image is cut into
 * cores on the 16 px grid of VGG19's four poolings; each tile runs the network on its
 * core plus a halo as wide as the deepest conv in use sees, so every activation of its
 * core is exact, and owns exactly its core's positions at every layer. */
#ifndef CLSTYLE_TILE_H
#define CLSTYLE_TILE_H

#include "error.h"

#define CLSTYLE_TILE_GRID 16 /* 2^4 poolings: crops start on it so pooling windows line up */

typedef struct clstyle_tile {
    int cy0, cy1, cx0, cx1; /* core (owned): rows cy0..cy1-1, columns cx0..cx1-1 of the image */
    int y0, y1, x0, x1;     /* crop: the core plus the halo, clipped to the image */
} clstyle_tile;

typedef struct clstyle_tiling {
    int h, w;               /* the image */
    int side, halo;         /* core side (a multiple of the grid), halo on each side */
    int ny, nx, n;          /* tiles down, across, in all */
    int max_h, max_w;       /* the largest crop */
    clstyle_tile *t;        /* (n) row-major */
} clstyle_tiling;

/* Pixels of input a conv's output depends on beyond its own position, on either side,
 * for convs 0..nconv-1 (conv5_1: 85); the halo is that rounded up to the grid. */
int clstyle_tile_reach(int nconv);
int clstyle_tile_halo(int nconv);
/* Cuts an h x w image into cores of side `side` (a multiple of the grid; the last core
 * of a row or column takes the remainder). CLSTYLE_ERR_USAGE when side is off the grid. */
clstyle_status clstyle_tiling_make(clstyle_tiling *tl, int h, int w, int side, int nconv, clstyle_error *err);
void clstyle_tiling_free(clstyle_tiling *tl);

/* Tile t's owned window at conv l: rows oy..oy+oh-1 and columns ox..ox+ow-1 of the
 * whole image's layer, which are rows ry.. and columns rx.. of the crop's layer. oh or
 * ow may be 0 (a remainder core past the last pooled row). */
typedef struct clstyle_window {
    int oy, ox, oh, ow, ry, rx;
} clstyle_window;
/* Rows a0..a1-1 of an image `full` rows high at conv l: b0..b1-1, where a1 == full maps
 * to the layer's own (floored) end; both ends otherwise on the grid (exact division). */
void clstyle_tile_span(int a0, int a1, int full, int l, int *b0, int *b1);
clstyle_window clstyle_tile_owned(const clstyle_tiling *tl, const clstyle_tile *t, int l);

#endif
