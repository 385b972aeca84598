/* What a run draws besides its image (--plot, --sheet): the loss history of every
 * iteration and the contact sheet's thumbnails, kept in host memory and handed to the
 * drawing code (plot.h) at reporting points. Allocated once, when the run starts. */
#ifndef CLSTYLE_PICTURES_H
#define CLSTYLE_PICTURES_H

#include "clstyle.h"
#include "error.h"
#include "png_io.h"

#define CLSTYLE_SHEET_MAX_FRAMES 64 /* a sheet holds at most this many snapshots */
#define CLSTYLE_SHEET_THUMB 256     /* a frame's longest side on the sheet (smaller images enlarged) */

typedef struct clstyle_pictures {
    const clstyle_options *o;
    long total;           /* iterations of the run, every scale */
    double *hist;         /* (4, total): α·Lc + β·Ls + γ·Ltv, α·Lc, β·Ls, γ·Ltv per iteration; NaN when not run here */
    double written_at;    /* clock of the last plot write (0: none yet) */
    long sheet_every;     /* a sheet frame every this many iterations (0: no --sheet) */
    clstyle_image frames[CLSTYLE_SHEET_MAX_FRAMES + 1]; /* thumbnails, (3, h, w) each; one more for the final image */
    long frame_iter[CLSTYLE_SHEET_MAX_FRAMES + 1];
    int nframes;
    long scale_starts[CLSTYLE_MAX_SCALES]; /* first iterations of scales 2.. */
    int nscales;
    char title[512];
} clstyle_pictures;

/* Checks the --plot and --sheet names (a .png name: 64) and allocates the history.
 * content_name names the content in the plot's title. */
clstyle_status clstyle_pictures_init(clstyle_pictures *P, const clstyle_options *o, long total,
                                     const char *content_name, clstyle_error *err);
/* Records iteration k's loss row (Lc, Ls, Ltv). */
void clstyle_pictures_row(clstyle_pictures *P, long k, const float *row);
/* Rewrites --plot: always when force, else at most once a second. */
clstyle_status clstyle_pictures_plot(clstyle_pictures *P, int force, double now, clstyle_error *err);
/* Whether iteration k (or the run's end) takes a sheet frame. */
int clstyle_pictures_wants_frame(const clstyle_pictures *P, long k, int end);
/* Adds img (the image iteration k wrote) as a frame and rewrites --sheet. */
clstyle_status clstyle_pictures_frame(clstyle_pictures *P, long k, const clstyle_image *img, clstyle_error *err);
void clstyle_pictures_free(clstyle_pictures *P);

#endif
