/* Pictures of a run drawn with Cairo (plot.c is the only file that includes cairo.h): the
 * loss curves on a log scale (--plot) and a contact sheet of snapshots (--sheet). Both are
 * written as 8-bit RGB PNGs, atomically (fileio.h): on failure the previous file stays. */
#ifndef CLSTYLE_PLOT_H
#define CLSTYLE_PLOT_H

#include "error.h"
#include "png_io.h"

/* The loss plot's size in pixels. */
#define CLSTYLE_PLOT_WIDTH 1000
#define CLSTYLE_PLOT_HEIGHT 600

/* Series colours (0xRRGGBB): no text, grid or axis pixel has any of them. */
#define CLSTYLE_PLOT_RGB_TOTAL 0x202020u
#define CLSTYLE_PLOT_RGB_CONTENT 0x1f77b4u
#define CLSTYLE_PLOT_RGB_STYLE 0xff7f0eu
#define CLSTYLE_PLOT_RGB_TV 0x2ca02cu

typedef struct clstyle_plot_data {
    long n;                                     /* iterations 1..n (n >= 1) */
    const double *total, *content, *style, *tv; /* (n) each: alpha*Lc, beta*Ls, gamma*Ltv and their sum; any may be NULL */
    const long *scale_starts;                   /* (nscales) first iterations of scales 2, 3, ... */
    int nscales;
    const char *title;                          /* NULL or "": none */
} clstyle_plot_data;

/* Draws the losses against the iteration: x linear over [0, n] with 1-2-5 ticks, y a log
 * scale over whole decades (at least one) around every drawable value. A value that is
 * not finite or is <= 0 cannot be drawn: the line breaks there, a lone point between
 * breaks is a dot, and a series with no drawable value is left out (legend too). A run
 * longer than twice the plot's width in pixels is thinned to each pixel column's min
 * and max (the breaks kept where they fall between those). Each scale start is a
 * dashed line labelled "scale 2", "scale 3", ... The legend takes the plot's emptiest
 * corner. With nothing drawable the axes say so. Errors: CLSTYLE_ERR_USAGE (no data,
 * n < 1, scale starts missing), CLSTYLE_ERR_INTERNAL (Cairo, naming its status), and
 * the file errors of fileio.h (CLSTYLE_ERR_CANTCREAT, CLSTYLE_ERR_IO). */
clstyle_status clstyle_plot_losses(const char *path, const clstyle_plot_data *d, clstyle_error *err);

/* Contact sheet geometry, in pixels. Columns: ceil(sqrt(n)) at most
 * CLSTYLE_SHEET_MAX_COLS; rows as needed, filled left to right. Every cell is a box of
 * bw x bh, bw = max(max frame w, CLSTYLE_SHEET_MIN_BOX_W), bh = max frame h, ringed by a
 * CLSTYLE_SHEET_BORDER frame of space, with a CLSTYLE_SHEET_LABEL band under it:
 *   cell  cw = bw + 2*BORDER, ch = bh + 2*BORDER + LABEL
 *   sheet W = 2*MARGIN + cols*cw + (cols-1)*GAP, H = 2*MARGIN + rows*ch + (rows-1)*GAP
 * Frame i (col i % cols, row i / cols) sits centred in its box, its top-left corner at
 *   x = MARGIN + col*(cw+GAP) + BORDER + (bw - w)/2, y = MARGIN + row*(ch+GAP) + BORDER + (bh - h)/2
 * (integer division), copied pixel for pixel, with a thin grey border round it. */
#define CLSTYLE_SHEET_MAX_COLS 8
#define CLSTYLE_SHEET_MARGIN 20
#define CLSTYLE_SHEET_GAP 16
#define CLSTYLE_SHEET_BORDER 1
#define CLSTYLE_SHEET_LABEL 26
#define CLSTYLE_SHEET_MIN_BOX_W 120 /* room for "iteration 1000000" under a small frame */

/* Draws frames[0..n) (any sizes, (3, h, w) floats, clamped to 0..255, NaN -> 0, rounded
 * to nearest) on a grid, each labelled "iteration K" from iters (K <= 0: "start").
 * Errors: CLSTYLE_ERR_USAGE (n < 1, missing arrays, a frame without pixels),
 * CLSTYLE_ERR_INTERNAL (too large for Cairo, naming its status), and the file errors of
 * fileio.h. */
clstyle_status clstyle_plot_sheet(const char *path, const clstyle_image *frames, const long *iters, int n,
                                  clstyle_error *err);

#endif
