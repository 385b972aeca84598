/* The main job's outputs, checked for content: --log rows and totals, --save-every
 * files, multi-style blending, --original-colors, --init FILE, 16-bit output and a stop
 * request (the signal path). Runs the library entry point on the 64 px golden pair. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clstyle.h"
#include "png_io.h"
#include "testutil.h"

static char content[4096], style[4096], tmp[4096];

static void base(clstyle_options *o, const char *out, long iters)
{
    clstyle_options_default(o);
    o->content = content;
    o->style[0] = style;
    o->nstyle = 1;
    o->output = out;
    o->weights = "synthetic:3";
    o->size = 64;
    o->iters = iters;
    o->tv_weight = 5;
}

static int run(const clstyle_options *o, const char *what)
{
    clstyle_error err = {0};
    clstyle_status st = clstyle_run(o, &err);
    CHECK(st == CLSTYLE_OK, "%s: %s", what, err.msg);
    return st == CLSTYLE_OK;
}

static int load(const char *path, clstyle_image *img)
{
    clstyle_error err = {0};
    memset(img, 0, sizeof *img);
    int ok = clstyle_png_read(path, 0, img, &err) == CLSTYLE_OK;
    CHECK(ok, "read %s: %s", path, err.msg);
    return ok;
}

static double max_abs_diff(const clstyle_image *a, const clstyle_image *b)
{
    double m = 0;
    for (size_t i = 0; i < (size_t)3 * a->w * a->h; i++) m = fmax(m, fabs(a->data[i] - b->data[i]));
    return m;
}

static void test_log(void)
{
    char out[4200], log[4200];
    snprintf(out, sizeof out, "%s/log.png", tmp);
    snprintf(log, sizeof log, "%s/log.csv", tmp);
    clstyle_options o;
    base(&o, out, 5);
    o.log = log;
    o.content_weight = 2;
    o.style_weight = 50;
    if (!run(&o, "--log")) return;
    FILE *f = fopen(log, "r");
    CHECK(f != NULL, "no log file");
    if (!f) return;
    char line[512];
    CHECK(fgets(line, sizeof line, f) && !strcmp(line, "iter,total,content,style,tv,seconds,scale\n"), "log header: %s", line);
    int rows = 0;
    double last_s = 0;
    while (fgets(line, sizeof line, f)) {
        int it;
        double tot, c, s, tv, sec;
        int n = sscanf(line, "%d,%lf,%lf,%lf,%lf,%lf,", &it, &tot, &c, &s, &tv, &sec);
        CHECK(n == 6, "bad log row: %s", line);
        CHECK(it == rows + 1, "log row %d has iter %d", rows + 1, it);
        CHECK(fabs(tot - (2 * c + 50 * s + 5 * tv)) <= 1e-6 * fabs(tot), "row %d: total %.9g != 2c+50s+5tv", it, tot);
        CHECK(c >= 0 && s > 0 && tv > 0, "row %d: losses must be positive", it);
        CHECK(sec >= last_s, "row %d: seconds decrease", it);
        last_s = sec;
        rows++;
    }
    fclose(f);
    CHECK(rows == 5, "log has %d rows, expected 5", rows);
}

static void test_save_every(void)
{
    char out[4200], p2[4200], p4[4200], p3[4200];
    snprintf(out, sizeof out, "%s/save.png", tmp);
    snprintf(p2, sizeof p2, "%s/save_0002.png", tmp);
    snprintf(p4, sizeof p4, "%s/save_0004.png", tmp);
    snprintf(p3, sizeof p3, "%s/save_0003.png", tmp);
    clstyle_options o;
    base(&o, out, 5);
    o.save_every = 2;
    if (!run(&o, "--save-every")) return;
    clstyle_image a, b, c;
    CHECK(access(p3, F_OK) != 0, "save_0003.png must not exist");
    if (load(p2, &a) && load(p4, &b) && load(out, &c)) {
        CHECK(max_abs_diff(&a, &b) > 0.5, "iteration 2 and 4 images are identical");
        CHECK(max_abs_diff(&b, &c) > 0.5, "iteration 4 and final images are identical");
    }
    clstyle_image_free(&a);
    clstyle_image_free(&b);
    clstyle_image_free(&c);
}

/* Blend weights 1,0 must give exactly the single-style result; 0,1 must not. */
static void test_multi_style(void)
{
    char o1[4200], o2[4200], o3[4200];
    snprintf(o1, sizeof o1, "%s/ms1.png", tmp);
    snprintf(o2, sizeof o2, "%s/ms2.png", tmp);
    snprintf(o3, sizeof o3, "%s/ms3.png", tmp);
    clstyle_options o;
    base(&o, o1, 3);
    if (!run(&o, "single style")) return;
    base(&o, o2, 3);
    o.style[1] = content; /* a second, different "style" */
    o.nstyle = 2;
    o.blend[0] = 1;
    o.blend[1] = 0;
    o.nblend = 2;
    if (!run(&o, "blend 1,0")) return;
    o.output = o3;
    o.blend[0] = 0;
    o.blend[1] = 5;
    if (!run(&o, "blend 0,5")) return;
    clstyle_image a, b, c;
    if (load(o1, &a) && load(o2, &b) && load(o3, &c)) {
        CHECK(max_abs_diff(&a, &b) == 0, "blend 1,0 differs from the single style by %g", max_abs_diff(&a, &b));
        CHECK(max_abs_diff(&a, &c) > 1, "blend 0,5 equals the first style's result");
    }
    clstyle_image_free(&a);
    clstyle_image_free(&b);
    clstyle_image_free(&c);
}

static void ycc(const float *px, size_t hw, size_t i, double *y, double *cb, double *cr)
{
    double r = px[i], g = px[hw + i], b = px[2 * hw + i];
    *y = 0.299 * r + 0.587 * g + 0.114 * b;
    *cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
    *cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
}

static void test_original_colors(void)
{
    char out[4200], ref[4200];
    snprintf(out, sizeof out, "%s/oc.png", tmp);
    snprintf(ref, sizeof ref, "%s/oc_ref.png", tmp);
    clstyle_options o;
    base(&o, ref, 3);
    if (!run(&o, "plain")) return;
    o.output = out;
    o.original_colors = 1;
    if (!run(&o, "--original-colors")) return;
    clstyle_image a, s, c;
    if (load(out, &a) && load(ref, &s) && load(content, &c)) {
        size_t hw = (size_t)a.w * a.h, checked = 0;
        double worst_c = 0, worst_y = 0;
        for (size_t i = 0; i < hw; i++) {
            int clipped = 0;
            for (int k = 0; k < 3; k++) clipped |= a.data[k * hw + i] <= 0 || a.data[k * hw + i] >= 255;
            if (clipped) continue;
            double ya, cba, cra, ys, cbs, crs, yc, cbc, crc;
            ycc(a.data, hw, i, &ya, &cba, &cra);
            ycc(s.data, hw, i, &ys, &cbs, &crs);
            ycc(c.data, hw, i, &yc, &cbc, &crc);
            worst_c = fmax(worst_c, fmax(fabs(cba - cbc), fabs(cra - crc)));
            if (s.data[i] > 0 && s.data[i] < 255) worst_y = fmax(worst_y, fabs(ya - ys));
            checked++;
        }
        CHECK(checked > hw / 4, "too few unclipped pixels (%zu)", checked);
        /* 8-bit rounding of each channel moves Y/Cb/Cr by at most ~0.5 * (sum of |coefficients|) */
        CHECK(worst_c <= 1.0, "chrominance differs from the content's by %.3f", worst_c);
        CHECK(worst_y <= 1.0, "luminance differs from the stylised image's by %.3f", worst_y);
    }
    clstyle_image_free(&a);
    clstyle_image_free(&s);
    clstyle_image_free(&c);
}

static void test_init_file_and_16bit(void)
{
    char o1[4200], o2[4200];
    snprintf(o1, sizeof o1, "%s/init_content.png", tmp);
    snprintf(o2, sizeof o2, "%s/init_file.png", tmp);
    clstyle_options o;
    base(&o, o1, 2);
    o.init = CLSTYLE_INIT_CONTENT;
    o.output_bits = 16;
    if (!run(&o, "--init content")) return;
    base(&o, o2, 2);
    o.init = CLSTYLE_INIT_FILE;
    o.init_file = content;
    o.output_bits = 16;
    if (!run(&o, "--init FILE")) return;
    clstyle_image a, b;
    if (load(o1, &a) && load(o2, &b)) {
        CHECK(max_abs_diff(&a, &b) == 0, "--init FILE (the content) differs from --init content");
        int frac = 0;
        for (size_t i = 0; i < (size_t)3 * a.w * a.h; i++) frac |= a.data[i] != floorf(a.data[i]);
        CHECK(frac, "16-bit output has only whole 8-bit values");
    }
    clstyle_image_free(&a);
    clstyle_image_free(&b);
}

static void test_stop_request(void)
{
    char out[4200];
    snprintf(out, sizeof out, "%s/stop.png", tmp);
    volatile int stop = 1;
    clstyle_options o;
    base(&o, out, 50);
    o.stop = &stop;
    clstyle_error err = {0};
    clstyle_status st = clstyle_run(&o, &err);
    CHECK(st == CLSTYLE_ERR_INTERRUPTED, "stop request: status %d (%s)", st, err.msg);
    /* requested before any iteration ran (as a Ctrl-C during the first compile): no image exists, none is written */
    CHECK(strstr(err.msg, "before the first iteration") != NULL, "stop message: %s", err.msg);
    CHECK(access(out, F_OK) != 0, "an image was written although no iteration ran");
}

/* After a NaN/Inf loss the written image is exactly the last one whose loss was finite,
 * even when the rows are only read back at the end. lr 1e30 explodes the image in the
 * first step, so iteration 2's loss is not finite and the kept image is x0: with
 * --init content that is the content itself, which a run with lr 1e-30 (a step far below
 * one ulp of a pixel) writes unchanged. */
static void test_divergence(void)
{
    char out[4200], ref[4200];
    snprintf(out, sizeof out, "%s/nan.png", tmp);
    snprintf(ref, sizeof ref, "%s/nan_ref.png", tmp);
    clstyle_options o;
    base(&o, out, 6);
    o.init = CLSTYLE_INIT_CONTENT;
    o.lr = 1e30;
    o.print_every = 0;
    clstyle_error err = {0};
    clstyle_status st = clstyle_run(&o, &err);
    CHECK(st == CLSTYLE_ERR_INTERNAL && strstr(err.msg, "stopped being finite at iteration 2"), "divergence: status %d (%s)",
          st, err.msg);
    base(&o, ref, 1);
    o.init = CLSTYLE_INIT_CONTENT;
    o.lr = 1e-30;
    if (!run(&o, "reference run")) return;
    clstyle_image a, b;
    if (load(out, &a)) {
        if (load(ref, &b)) {
            CHECK(a.w == b.w && a.h == b.h && max_abs_diff(&a, &b) == 0,
                  "the kept image is not the last one with a finite loss (max diff %g)", max_abs_diff(&a, &b));
            clstyle_image_free(&b);
        }
        clstyle_image_free(&a);
    }
}

int main(void)
{
    const char *src = getenv("CLSTYLE_SOURCE_DIR");
    if (!src) src = CLSTYLE_SOURCE_DIR;
    snprintf(content, sizeof content, "%s/tests/golden/content.png", src);
    snprintf(style, sizeof style, "%s/tests/golden/style.png", src);
    snprintf(tmp, sizeof tmp, "%s", tu_tmpdir("run_outputs"));
    test_log();
    test_save_every();
    test_multi_style();
    test_original_colors();
    test_init_file_and_16bit();
    test_stop_request();
    test_divergence();
    return tu_finish("test_run_outputs");
}
