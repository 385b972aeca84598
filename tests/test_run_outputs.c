/* The main job's outputs, checked for content: --log rows and totals, --save-every
 * files, multi-style blending, --original-colors, --init FILE, 16-bit output, a stop
 * request (the signal path), JPEG in (EXIF-rotated) and out, --plot and --sheet, and the
 * in-memory entry point against the file one. Runs the library on the 64 px golden pair. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>

#include "clstyle.h"
#include "imgfile.h"
#include "jpeg_io.h"
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

/* ---- JPEG in and out, pictures, images in memory ---- */

static int is_jpeg_file(const char *path)
{
    unsigned char b[3] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(b, 1, 3, f);
    fclose(f);
    return n == 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

/* img (3, h, w) stored as a JPEG of quality 100 whose EXIF says `orientation`. */
static void write_exif_jpeg(const char *path, const clstyle_image *img, int orientation)
{
    static const unsigned char exif_head[] = {'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1,
                                              0x01, 0x12, 0, 3, 0, 0, 0, 1};
    unsigned char exif[sizeof exif_head + 8] = {0};
    memcpy(exif, exif_head, sizeof exif_head);
    exif[sizeof exif_head + 1] = (unsigned char)orientation; /* SHORT value, big-endian, then the next IFD: 0 */
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot create %s", path);
    if (!f) return;
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)img->w;
    c.image_height = (JDIMENSION)img->h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 100, TRUE);
    for (int i = 0; i < 3; i++) c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
    jpeg_start_compress(&c, TRUE);
    jpeg_write_marker(&c, JPEG_APP0 + 1, exif, sizeof exif);
    size_t plane = (size_t)img->w * (size_t)img->h;
    unsigned char *row = malloc((size_t)img->w * 3);
    for (int y = 0; y < img->h; y++) {
        for (int x = 0; x < img->w; x++)
            for (int ch = 0; ch < 3; ch++) {
                float v = img->data[(size_t)ch * plane + (size_t)y * img->w + x];
                row[3 * x + ch] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
            }
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
    free(row);
}

/* A phone photo: the sensor's landscape pixels stored with EXIF orientation 6 (turn 90
 * degrees clockwise to view), so the run and its JPEG output are portrait, and equal to a
 * run on the upright pixels. */
static void test_jpeg_phone(void)
{
    char jpg[4200], upright[4200], out1[4200], out2[4200];
    snprintf(jpg, sizeof jpg, "%s/phone.jpg", tmp);
    snprintf(upright, sizeof upright, "%s/phone_upright.png", tmp);
    snprintf(out1, sizeof out1, "%s/phone_out.jpg", tmp);
    snprintf(out2, sizeof out2, "%s/phone_out.png", tmp);
    clstyle_image c = {0}, dec = {0}, a = {0}, b = {0};
    clstyle_error err = {0};
    if (!load(content, &c)) return;
    CHECK(c.w > c.h, "the golden content is landscape (%dx%d)", c.w, c.h);
    write_exif_jpeg(jpg, &c, 6);
    CHECK(clstyle_imgfile_read(jpg, 0, &dec, &err) == CLSTYLE_OK, "read %s: %s", jpg, err.msg);
    CHECK(dec.w == c.h && dec.h == c.w, "EXIF 6: decoded %dx%d, expected %dx%d", dec.w, dec.h, c.h, c.w);
    double d = 0;
    size_t cp = (size_t)c.w * c.h;
    for (int ch = 0; ch < 3 && dec.w == c.h && dec.h == c.w; ch++)
        for (int y = 0; y < dec.h; y++)
            for (int x = 0; x < dec.w; x++) /* viewed(x, y) = stored(y, H-1-x) */
                d = fmax(d, fabs(dec.data[(size_t)ch * cp + (size_t)y * dec.w + x] -
                                 c.data[(size_t)ch * cp + (size_t)(c.h - 1 - x) * c.w + y]));
    CHECK(dec.data && d < 8, "EXIF 6: the decoded photo is not the stored one turned clockwise (max diff %g)", d);
    if (dec.data) clstyle_png_write(upright, &dec, 16, &err);
    clstyle_options o;
    base(&o, out1, 3);
    o.content = jpg;
    o.size = 48;
    if (run(&o, "JPEG in, JPEG out")) {
        CHECK(is_jpeg_file(out1), "%s is not a JPEG", out1);
        CHECK(clstyle_imgfile_read(out1, 0, &a, &err) == CLSTYLE_OK, "read %s: %s", out1, err.msg);
        CHECK(a.h > a.w, "the output of a portrait photo is %dx%d, not portrait", a.w, a.h);
    }
    base(&o, out2, 3);
    o.content = upright;
    o.size = 48;
    if (run(&o, "the upright photo") && a.data && load(out2, &b))
        CHECK(a.w == b.w && a.h == b.h && max_abs_diff(&a, &b) < 40, "the rotated photo's run differs from the upright one's");
    clstyle_image_free(&c);
    clstyle_image_free(&dec);
    clstyle_image_free(&a);
    clstyle_image_free(&b);
}

/* -o OUT.jpg: snapshots follow its extension; --output-16bit with it is refused first. */
static void test_jpeg_output(void)
{
    char out[4200], snap[4200], bad[4200];
    snprintf(out, sizeof out, "%s/j.jpeg", tmp);
    snprintf(snap, sizeof snap, "%s/j_0002.jpeg", tmp);
    snprintf(bad, sizeof bad, "%s/j16.jpg", tmp);
    clstyle_options o;
    base(&o, out, 3);
    o.save_every = 2;
    o.jpeg_quality = 80;
    if (run(&o, "-o .jpeg")) {
        CHECK(is_jpeg_file(out) && is_jpeg_file(snap), "%s and %s must be JPEGs", out, snap);
    }
    base(&o, bad, 3);
    o.output_bits = 16;
    clstyle_error err = {0};
    CHECK(clstyle_run(&o, &err) == CLSTYLE_ERR_USAGE && strstr(err.msg, "8-bit"), "16-bit JPEG: %s", err.msg);
    CHECK(access(bad, F_OK) != 0, "a refused run wrote %s", bad);
    base(&o, bad, 3);
    o.jpeg_quality = 101;
    CHECK(clstyle_run(&o, &err) == CLSTYLE_ERR_USAGE && strstr(err.msg, "--quality"), "--quality 101: %s", err.msg);
}

static void test_plot_sheet(void)
{
    char out[4200], plot[4200], sheet[4200], badplot[4200];
    snprintf(out, sizeof out, "%s/pics.png", tmp);
    snprintf(plot, sizeof plot, "%s/plot.png", tmp);
    snprintf(sheet, sizeof sheet, "%s/sheet.png", tmp);
    snprintf(badplot, sizeof badplot, "%s/plot.jpg", tmp);
    clstyle_options o;
    base(&o, out, 5);
    o.plot = plot;
    o.sheet = sheet;
    o.save_every = 2;
    clstyle_image p = {0}, s = {0};
    if (run(&o, "--plot --sheet") && load(plot, &p) && load(sheet, &s)) {
        long dark = 0;
        for (size_t i = 0; i < (size_t)p.w * p.h; i++) dark += p.data[i] < 128;
        CHECK(p.w >= 400 && p.h >= 300 && dark > 500, "the plot is %dx%d with %ld dark pixels", p.w, p.h, dark);
        CHECK(s.w > 64 && s.h > 64, "the sheet is %dx%d (3 frames of 64 px)", s.w, s.h);
    }
    clstyle_image_free(&p);
    clstyle_image_free(&s);
    base(&o, out, 5);
    o.plot = badplot;
    clstyle_error err = {0};
    CHECK(clstyle_run(&o, &err) == CLSTYLE_ERR_USAGE && strstr(err.msg, "--plot"), "--plot x.jpg: %s", err.msg);
    CHECK(access(badplot, F_OK) != 0, "a refused run wrote %s", badplot);
}

static void to_interleaved(const clstyle_image *img, clstyle_pixels *px)
{
    size_t plane = (size_t)img->w * img->h;
    px->width = img->w;
    px->height = img->h;
    px->data = malloc(plane * 3 * sizeof(float));
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) px->data[3 * i + c] = img->data[(size_t)c * plane + i];
}

static int progress_calls;
static void count_progress(void *user, const clstyle_progress *p)
{
    (void)user;
    progress_calls += p->iter > 0 && p->width > 0 && p->scales == 1;
}

static volatile int g_stop;
static void stop_at_2(void *user, const clstyle_progress *p)
{
    (void)user;
    if (p->iter >= 2) g_stop = 1;
}

/* clstyle_run_pixels: the file run's image (up to the 16-bit output's rounding), the
 * progress callback, and bad pixels refused with *out zeroed. */
static void test_pixels(void)
{
    char out[4200];
    snprintf(out, sizeof out, "%s/mem_ref.png", tmp);
    clstyle_image c = {0}, s = {0}, ref = {0};
    if (!load(content, &c) || !load(style, &s)) return;
    clstyle_options o;
    base(&o, out, 4);
    o.output_bits = 16;
    if (!run(&o, "the file run")) return;
    load(out, &ref);
    clstyle_pixels pc = {0}, ps = {0}, res = {0};
    to_interleaved(&c, &pc);
    to_interleaved(&s, &ps);
    base(&o, NULL, 4);
    o.content = NULL;
    o.style[0] = NULL;
    o.nstyle = 0;
    o.progress = count_progress;
    o.print_every = 1;
    clstyle_error err = {0};
    clstyle_status st = clstyle_run_pixels(&o, &pc, &ps, 1, &res, &err);
    CHECK(st == CLSTYLE_OK, "clstyle_run_pixels: %s", err.msg);
    CHECK(progress_calls == 4, "progress called %d times, expected 4", progress_calls);
    if (!st && ref.data) {
        CHECK(res.width == ref.w && res.height == ref.h, "result %dx%d, file run %dx%d", res.width, res.height, ref.w, ref.h);
        double m = 0;
        size_t plane = (size_t)ref.w * ref.h;
        for (size_t i = 0; i < plane && res.width == ref.w && res.height == ref.h; i++)
            for (int ch = 0; ch < 3; ch++) {
                double v = res.data[3 * i + ch];
                v = v < 0 ? 0 : v > 255 ? 255 : v;
                m = fmax(m, fabs(v - ref.data[(size_t)ch * plane + i]));
            }
        CHECK(m <= 0.5 / 257 + 1e-4, "in memory vs file run: max diff %g", m);
    }
    clstyle_pixels_free(&res);
    clstyle_pixels_free(&res);
    clstyle_options f;
    base(&f, out, 2);
    f.content = NULL;
    st = clstyle_run(&f, &err);
    CHECK(st == CLSTYLE_ERR_USAGE && strstr(err.msg, "-c/--content"), "clstyle_run without a content: %d %s", st, err.msg);
    pc.data[7] = NAN;
    st = clstyle_run_pixels(&o, &pc, &ps, 1, &res, &err);
    CHECK(st == CLSTYLE_ERR_DATA && strstr(err.msg, "content pixels") && !res.data, "a NaN pixel: %s", err.msg);
    /* no -o: --save-every writes the checkpoint alone */
    char ckpt[4200];
    snprintf(ckpt, sizeof ckpt, "%s/mem.ckpt", tmp);
    pc.data[7] = 100;
    o.save_every = 2;
    o.checkpoint = ckpt;
    st = clstyle_run_pixels(&o, &pc, &ps, 1, &res, &err);
    CHECK(st == CLSTYLE_OK && res.data && access(ckpt, F_OK) == 0, "in memory with --save-every and --checkpoint: %s",
          err.msg);
    clstyle_pixels_free(&res);
    o.save_every = 0;
    o.checkpoint = NULL;
    /* a stop request (made at iteration 2's report): 130 with the image of the iteration it stopped after */
    g_stop = 0;
    o.stop = &g_stop;
    o.progress = stop_at_2;
    st = clstyle_run_pixels(&o, &pc, &ps, 1, &res, &err);
    o.progress = count_progress;
    CHECK(st == CLSTYLE_ERR_INTERRUPTED && res.data && strstr(err.msg, "in memory"), "a stop in memory: %d %s", st,
          err.msg);
    clstyle_pixels_free(&res);
    o.stop = NULL;
    clstyle_pixels none = {0};
    st = clstyle_run_pixels(&o, &none, &ps, 1, &res, &err);
    CHECK(st == CLSTYLE_ERR_USAGE && !res.data, "no content pixels: %s", err.msg);
    st = clstyle_run_pixels(&o, &pc, &ps, 0, &res, &err);
    CHECK(st == CLSTYLE_ERR_USAGE && !res.data, "no style: %s", err.msg);
    o.max_pixels = 100;
    st = clstyle_run_pixels(&o, &ps, &ps, 1, &res, &err);
    CHECK(st == CLSTYLE_ERR_DATA && strstr(err.msg, "limit") && !res.data, "past max_pixels: %s", err.msg);
    clstyle_pixels_free(&pc);
    clstyle_pixels_free(&ps);
    clstyle_image_free(&c);
    clstyle_image_free(&s);
    clstyle_image_free(&ref);
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
    test_jpeg_phone();
    test_jpeg_output();
    test_plot_sheet();
    test_pixels();
    return tu_finish("test_run_outputs");
}
