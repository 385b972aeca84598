/* The optimisation job behind clstyle_run, exposed inside the library so that the
 * benchmark drives exactly the same iterations on in-memory images. */
#ifndef CLSTYLE_STYLE_H
#define CLSTYLE_STYLE_H

#include "clstyle.h"
#include "ctx.h"
#include "png_io.h"
#include "vgg.h"

typedef struct job clstyle_job;

/* Prepares a job on in-memory images (copied) through the same steps as clstyle_run
 * (style blend, --init FILE, weights, checkpoint fingerprints, device, targets, x0);
 * profiling enables OpenCL event timing on its queue. The content and style paths of o
 * are unused; its outputs (-o, --log, --checkpoint) are not written. */
clstyle_status clstyle_job_open(const clstyle_options *o, const clstyle_image *content, const clstyle_image *styles,
                                int nstyle, int profiling, clstyle_job **out, clstyle_error *err);
/* Enqueues iteration k (from 1) without waiting; k must not exceed o->iters. */
clstyle_status clstyle_job_step(clstyle_job *J, long k, clstyle_error *err);
clstyle_ctx *clstyle_job_ctx(clstyle_job *J);
/* Work of one iteration in floating-point operations (convolutions and Gram products). */
double clstyle_job_flops(const clstyle_job *J);
/* The device network: its convs' algorithm choices (net->choice[0 .. nconv)). */
const clstyle_net *clstyle_job_net(const clstyle_job *J);
void clstyle_job_close(clstyle_job *J);

#endif
