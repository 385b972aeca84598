/* One job across several devices (-d all, -d 0,2): the image is cut into bands of rows
 * on the 16 px pooling grid, one per device, each device with its own context, tuned
 * network and its band's activations. Before every 3x3 conv a band receives one row of
 * its neighbours' activations at that layer (its halo rows); after every conv's backward
 * it hands its neighbours the gradient rows that fall in their bands. The Gram matrices
 * are the host's sum of the bands' partials, in device order; the image gradient is
 * assembled, and TV, the divergence guard and Adam run, on the job's device (the first
 * listed, whether or not it holds a band).
 * docs/ALGORITHM.md, "Several devices". */
#ifndef CLSTYLE_BANDS_H
#define CLSTYLE_BANDS_H

#include "device.h"
#include "job.h"

/* Opens the devices of spec (a list: clstyle_device_spec_is_many) for J: the first one
 * becomes J->ctx; J->bands is set when more than one device takes part. */
clstyle_status clstyle_bands_open(clstyle_job *J, const char *spec, clstyle_error *err);
/* Once the weights and images are in J, before anything else is built: a probe on each
 * device alone and on all at once gives each one's share of the rows; devices that add
 * no speed are closed, and when one is left it becomes J->ctx and J->bands goes (an
 * ordinary run). Says the layout. */
clstyle_status clstyle_bands_plan(clstyle_job *J, clstyle_error *err);
/* After J's network, plan and style targets exist: each band's tuned network,
 * activations and buffers; the style targets copied to every device; the
 * content targets of each band. */
clstyle_status clstyle_bands_setup(clstyle_job *J, clstyle_error *err);
/* One iteration's loss terms into row `row` of J->loss (content and style) and dL/dx
 * into J->gall, on J's device. */
clstyle_status clstyle_bands_gradient(clstyle_job *J, size_t row, clstyle_error *err);
/* The devices together in words ("[0] A rows 0-255, [1] B rows 256-511"). */
void clstyle_bands_describe(const clstyle_job *J, char *buf, size_t len);
/* Band k: its device, rows, peak device bytes, and the bytes moved between host and
 * devices since setup (all bands). 0 when there is no band k. */
typedef struct clstyle_band_info {
    const clstyle_device_desc *dev;
    int y0, y1;
    size_t peak_bytes;
    double moved;
} clstyle_band_info;
int clstyle_bands_info(const clstyle_job *J, int k, clstyle_band_info *out);
/* Devices taking part (1 without bands). */
int clstyle_bands_count(const clstyle_job *J);
void clstyle_bands_free(clstyle_job *J);

#endif
