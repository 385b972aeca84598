/* The coarse-to-fine ladder (--scales): the log counts iterations across the scales and
 * names each row's scale, the output has the last scale's size, a run stopped at any
 * point (inside the first scale, at its last iteration, inside the last) and resumed
 * gives the uninterrupted run's image bit for bit, each scale's Adam starts afresh
 * (its first step moves pixels by lr), and bad ladders are refused with 64. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <math.h>

#include "clstyle.h"
#include "image.h"
#include "png_io.h"
#include "testutil.h"

static char content[4096], style[4096], tmp[4096];
static volatile int stop_flag;
static long stop_at;

static void stopper(void *user, const clstyle_progress *p)
{
    (void)user;
    if (p->iter == stop_at) stop_flag = 1;
}

/* 2 scales of a 64 px run: 32 px for 4 iterations, then 64 px for 3 (7 in all). */
static void base(clstyle_options *o, const char *out)
{
    clstyle_options_default(o);
    o->content = content;
    o->style[0] = style;
    o->nstyle = 1;
    o->output = out;
    o->weights = "synthetic:5";
    o->size = 64;
    o->iters = 4;
    o->scales = 2;
    o->iters_after = 3;
    o->tv_weight = 3;
    o->print_every = 0;
}

static void test_log_and_size(const char *full)
{
    char log[4200];
    snprintf(log, sizeof log, "%s/ladder.csv", tmp);
    clstyle_options o;
    clstyle_error err = {0};
    base(&o, full);
    o.log = log;
    CHECK(clstyle_run(&o, &err) == CLSTYLE_OK, "ladder run: %s", err.msg);
    clstyle_image img = {0}, c = {0};
    CHECK(clstyle_png_read(full, 0, &img, &err) == CLSTYLE_OK, "reading the output: %s", err.msg);
    CHECK(clstyle_png_read(content, 0, &c, &err) == CLSTYLE_OK, "reading the content: %s", err.msg);
    int longest = img.w > img.h ? img.w : img.h;
    CHECK(longest == 64 && (c.w > c.h) == (img.w > img.h), "output is %dx%d, expected the last scale (64 px)", img.w,
          img.h);
    clstyle_image_free(&img);
    clstyle_image_free(&c);
    FILE *f = fopen(log, "r");
    CHECK(f != NULL, "no log");
    if (!f) return;
    char line[512];
    CHECK(fgets(line, sizeof line, f) && !strcmp(line, "iter,total,content,style,tv,seconds,scale\n"), "header: %s", line);
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        int it, scale;
        double tot, cl, sl, tv, sec;
        CHECK(sscanf(line, "%d,%lf,%lf,%lf,%lf,%lf,%d", &it, &tot, &cl, &sl, &tv, &sec, &scale) == 7, "row: %s", line);
        rows++;
        CHECK(it == rows, "row %d has iteration %d", rows, it);
        CHECK(scale == (it <= 4 ? 1 : 2), "iteration %d at scale %d", it, scale);
    }
    fclose(f);
    CHECK(rows == 7, "%d rows, expected 4 + 3", rows);
}

/* Stopped after iteration k and resumed: the same image as the uninterrupted run. */
static void test_resume_at(const char *full, long k)
{
    char part[4200], resumed[4200], ckpt[4200];
    snprintf(part, sizeof part, "%s/part%ld.png", tmp, k);
    snprintf(resumed, sizeof resumed, "%s/resumed%ld.png", tmp, k);
    snprintf(ckpt, sizeof ckpt, "%s/run%ld.ckpt", tmp, k);
    clstyle_options o;
    clstyle_error err = {0};
    base(&o, part);
    o.checkpoint = ckpt;
    o.stop = &stop_flag;
    o.progress = stopper;
    o.print_every = 1;
    stop_flag = 0;
    stop_at = k - 1; /* the flag is seen after the next iteration, as a signal's */
    clstyle_status st = clstyle_run(&o, &err);
    CHECK(st == CLSTYLE_ERR_INTERRUPTED, "stop at %ld: status %d %s", k, st, err.msg);
    base(&o, resumed);
    o.resume = ckpt;
    memset(&err, 0, sizeof err);
    CHECK(clstyle_run(&o, &err) == CLSTYLE_OK, "resume at %ld: %s", k, err.msg);
    CHECK(tu_same_file(full, resumed), "resumed after iteration %ld: the image differs from the uninterrupted run's", k);
    /* the same checkpoint under another ladder is refused */
    base(&o, resumed);
    o.resume = ckpt;
    o.scales = 3;
    memset(&err, 0, sizeof err);
    st = clstyle_run(&o, &err);
    CHECK(st == CLSTYLE_ERR_USAGE && strstr(err.msg, "--scales 2"), "other --scales: %d %s", st, err.msg);
    base(&o, resumed);
    o.resume = ckpt;
    o.iters_after = 5;
    memset(&err, 0, sizeof err);
    st = clstyle_run(&o, &err);
    CHECK(st == CLSTYLE_ERR_USAGE && strstr(err.msg, "different settings"), "other --iters-after: %d %s", st, err.msg);
}

/* Scale 2's first iteration (5) from scale 1's image (4, from the run stopped there)
 * enlarged: a fresh Adam's first step is lr * g / (|g| + eps), so the largest pixel
 * change is lr (to rounding); with the step count carried over from scale 1 (t = 5) it
 * would be 0.55 lr. A ladder whose last scale has one iteration ends with x5 in its
 * checkpoint (scale 1 is computed as in the other ladder). */
static void test_fresh_adam(void)
{
    char c4[4200], c5[4200], out[4200];
    snprintf(c4, sizeof c4, "%s/run4.ckpt", tmp);
    snprintf(c5, sizeof c5, "%s/one.ckpt", tmp);
    snprintf(out, sizeof out, "%s/one.png", tmp);
    clstyle_options o;
    clstyle_error err = {0};
    base(&o, out);
    o.iters_after = 1;
    o.checkpoint = c5;
    CHECK(clstyle_run(&o, &err) == CLSTYLE_OK, "ladder with one last iteration: %s", err.msg);
    clstyle_image x4 = {0}, x5 = {0}, up = {0};
    if (!tu_read_plane(c4, "x", &x4) || !tu_read_plane(c5, "x", &x5)) return;
    CHECK(x5.w > x4.w, "the checkpoints are %d and %d px wide", x4.w, x5.w);
    CHECK(clstyle_image_resize(&x4, x5.w, x5.h, &up, &err) == CLSTYLE_OK, "resize: %s", err.msg);
    double lr = 2.0, most = 0;
    for (size_t i = 0; up.data && i < (size_t)3 * x5.w * x5.h; i++) most = fmax(most, fabs(x5.data[i] - up.data[i]));
    CHECK(fabs(most - lr) <= 1e-3 * lr, "scale 2's first step moved pixels by at most %.6g, want lr = %g", most, lr);
    clstyle_image_free(&x4), clstyle_image_free(&x5), clstyle_image_free(&up);
}

static void expect_usage(const char *what, int scales, double factor, long after, int size, const char *needle)
{
    char out[4200];
    snprintf(out, sizeof out, "%s/refused.png", tmp);
    clstyle_options o;
    clstyle_error err = {0};
    base(&o, out);
    o.scales = scales;
    o.scale_factor = factor;
    o.iters_after = after;
    o.size = size;
    clstyle_status st = clstyle_run(&o, &err);
    CHECK(st == CLSTYLE_ERR_USAGE && strstr(err.msg, needle), "%s: status %d, '%s'", what, st, err.msg);
    CHECK(access(out, F_OK) != 0, "%s: an output was written", what);
}

int main(void)
{
    const char *src = getenv("CLSTYLE_SOURCE_DIR");
    if (!src) src = CLSTYLE_SOURCE_DIR;
    snprintf(content, sizeof content, "%s/tests/golden/content.png", src);
    snprintf(style, sizeof style, "%s/tests/golden/style.png", src);
    snprintf(tmp, sizeof tmp, "%s", tu_tmpdir("ladder"));
    char full[4200];
    snprintf(full, sizeof full, "%s/full.png", tmp);
    test_log_and_size(full);
    test_resume_at(full, 2); /* inside the first scale */
    test_resume_at(full, 4); /* its last iteration: the next scale starts from the checkpoint */
    test_resume_at(full, 5); /* a stop seen while setting up the last scale: its checkpoint is scale 1's end */
    test_resume_at(full, 6); /* inside the last scale */
    test_fresh_adam();
    expect_usage("--scales 0", 0, 2, 0, 64, "--scales 0");
    expect_usage("--scales 9", 9, 2, 0, 512, "--scales 9");
    expect_usage("--scale-factor 1", 2, 1, 0, 64, "--scale-factor");
    expect_usage("a smallest scale under 16 px", 3, 3, 0, 64, "under 16");
    expect_usage("two scales of one size", 3, 1.01, 0, 64, "both");
    expect_usage("--iters-after -1", 2, 2, -1, 64, "--iters-after");
    return tu_finish("test_ladder");
}
