/* Plot and contact sheet tests (host/plot.c), read back through clstyle_png_read: the
 * plot's size, ink and series colours, skipped and broken series, thinning of long runs
 * and its speed, scale markers; the sheet's geometry and exact frame pixels; refusals,
 * and atomic writes that leave the previous file and no temp behind. */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plot.h"
#include "png_io.h"
#include "testutil.h"

static const char *g_dir;



static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------ reading pictures back */

/* Pixel (x, y) of a read-back 8-bit picture as 0xRRGGBB. */
static unsigned px(const clstyle_image *img, int x, int y)
{
    size_t plane = (size_t)img->w * img->h, at = (size_t)y * img->w + x;
    return (unsigned)img->data[at] << 16 | (unsigned)img->data[plane + at] << 8 | (unsigned)img->data[2 * plane + at];
}

static long count_rgb(const clstyle_image *img, unsigned rgb, int x0, int y0, int x1, int y1)
{
    long n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) n += px(img, x, y) == rgb;
    return n;
}

static long count_all(const clstyle_image *img, unsigned rgb)
{
    return count_rgb(img, rgb, 0, 0, img->w, img->h);
}

static int read_back(const char *path, clstyle_image *img)
{
    clstyle_error err = {0};
    clstyle_status st = clstyle_png_read(path, 0, img, &err);
    CHECK(st == CLSTYLE_OK, "reading %s back: %s", path, err.msg);
    return st == CLSTYLE_OK;
}

/* ------------------------------------------------------------ synthetic runs */

typedef struct run {
    long n;
    double *v; /* (4, n): total, content, style, tv */
} run;

/* Decaying style, rising content, small tv, as a real run's weighted terms look. */
static run run_make(long n)
{
    run r = {n, tu_xmalloc((size_t)n * 4 * sizeof(double))};
    for (long i = 0; i < n; i++) {
        double t = (double)i / (double)n;
        double c = 2e5 * (1 - exp(-8 * t)) + 1e3, s = 4e7 * exp(-10 * t) + 5e4, tv = 3e3 + 2e3 * t;
        r.v[n + i] = c;
        r.v[2 * n + i] = s;
        r.v[3 * n + i] = tv;
        r.v[i] = c + s + tv;
    }
    return r;
}

static clstyle_plot_data run_data(const run *r)
{
    clstyle_plot_data d = {r->n, r->v, r->v + r->n, r->v + 2 * r->n, r->v + 3 * r->n, NULL, 0,
                           "clstyle: content.png in the style of style.png, 512x384"};
    return d;
}

static clstyle_status plot(const char *name, const clstyle_plot_data *d, clstyle_error *err)
{
    clstyle_err_clear(err);
    return clstyle_plot_losses(tu_path(g_dir, name), d, err);
}

/* ------------------------------------------------------------ the loss plot */

static void test_plot_basic(void)
{
    run r = run_make(500);
    clstyle_plot_data d = run_data(&r);
    clstyle_error err = {0};
    CHECK(plot("basic.png", &d, &err) == CLSTYLE_OK, "basic plot: %s", err.msg);
    clstyle_image img;
    if (read_back(tu_path(g_dir, "basic.png"), &img)) {
        CHECK(img.w == CLSTYLE_PLOT_WIDTH && img.h == CLSTYLE_PLOT_HEIGHT, "plot is %dx%d", img.w, img.h);
        long white = count_all(&img, 0xffffffu), all = (long)img.w * img.h;
        CHECK(all - white > all / 20, "plot nearly blank: %ld of %ld pixels inked", all - white, all);
        CHECK(count_all(&img, CLSTYLE_PLOT_RGB_TOTAL) > 300, "total colour: %ld pixels",
              count_all(&img, CLSTYLE_PLOT_RGB_TOTAL));
        CHECK(count_all(&img, CLSTYLE_PLOT_RGB_CONTENT) > 100, "content colour missing");
        CHECK(count_all(&img, CLSTYLE_PLOT_RGB_STYLE) > 100, "style colour missing");
        CHECK(count_all(&img, CLSTYLE_PLOT_RGB_TV) > 100, "tv colour missing");
        CHECK(px(&img, 0, 0) == 0xffffffu && px(&img, img.w - 1, img.h - 1) == 0xffffffu, "background not white");
    }
    clstyle_image_free(&img);
    CHECK(tu_count_tmp_files(g_dir) == 0, "temp file left behind");
    free(r.v);
}

/* tv weight 0 (all zeros), content never computed (NaN), no title: drawn without them. */
static void test_plot_skipped_series(void)
{
    run r = run_make(300);
    clstyle_plot_data d = run_data(&r);
    for (long i = 0; i < r.n; i++) {
        r.v[r.n + i] = NAN;
        r.v[3 * r.n + i] = 0.0;
    }
    d.title = NULL;
    clstyle_error err = {0};
    CHECK(plot("skip.png", &d, &err) == CLSTYLE_OK, "skipped series: %s", err.msg);
    clstyle_image img;
    if (read_back(tu_path(g_dir, "skip.png"), &img)) {
        CHECK(count_all(&img, CLSTYLE_PLOT_RGB_TV) == 0, "tv drawn (or in the legend): %ld pixels",
              count_all(&img, CLSTYLE_PLOT_RGB_TV));
        CHECK(count_all(&img, CLSTYLE_PLOT_RGB_CONTENT) == 0, "content drawn: %ld pixels",
              count_all(&img, CLSTYLE_PLOT_RGB_CONTENT));
        CHECK(count_all(&img, CLSTYLE_PLOT_RGB_TOTAL) > 300, "total missing");
        CHECK(count_all(&img, CLSTYLE_PLOT_RGB_STYLE) > 100, "style missing");
    }
    clstyle_image_free(&img);

    d.content = d.style = d.tv = NULL; /* NULL series too */
    CHECK(plot("skip.png", &d, &err) == CLSTYLE_OK, "NULL series: %s", err.msg);
    for (long i = 0; i < r.n; i++) r.v[i] = i % 2 ? -1.0 : INFINITY; /* nothing drawable at all */
    CHECK(plot("skip.png", &d, &err) == CLSTYLE_OK, "nothing drawable: %s", err.msg);
    if (read_back(tu_path(g_dir, "skip.png"), &img))
        CHECK(count_all(&img, CLSTYLE_PLOT_RGB_TOTAL) == 0, "undrawable total drawn");
    clstyle_image_free(&img);
    free(r.v);
}

static void test_plot_one_point(void)
{
    double v[4] = {1e6, 1e3, 1e6 - 1e3 - 1e2, 1e2}; /* content and tv on whole decades */
    clstyle_plot_data d = {1, v, v + 1, v + 2, v + 3, NULL, 0, "one iteration"};
    clstyle_error err = {0};
    CHECK(plot("one.png", &d, &err) == CLSTYLE_OK, "n = 1: %s", err.msg);
    clstyle_image img;
    if (read_back(tu_path(g_dir, "one.png"), &img)) {
        /* The legend's swatch alone is about 28 x 2 pixels: the dot adds more. */
        CHECK(count_all(&img, CLSTYLE_PLOT_RGB_TOTAL) > 70, "n = 1: total dot missing (%ld pixels)",
              count_all(&img, CLSTYLE_PLOT_RGB_TOTAL));
        CHECK(count_all(&img, CLSTYLE_PLOT_RGB_TV) > 40, "n = 1: tv dot on the frame (%ld pixels)",
              count_all(&img, CLSTYLE_PLOT_RGB_TV));
    }
    clstyle_image_free(&img);
}

/* The row holding most of the total line, and the widest run of other pixels inside
 * its inked stretch. */
static int widest_gap(const clstyle_image *img, int *row)
{
    long best = -1;
    for (int y = 0; y < img->h; y++) {
        long c = count_rgb(img, CLSTYLE_PLOT_RGB_TOTAL, 0, y, img->w, y + 1);
        if (c > best) best = c, *row = y;
    }
    int first = -1, last = -1, gap = 0, run_len = 0;
    for (int x = 0; x < img->w; x++)
        if (px(img, x, *row) == CLSTYLE_PLOT_RGB_TOTAL) last = x, first = first < 0 ? x : first;
    for (int x = first; first >= 0 && x <= last; x++) {
        run_len = px(img, x, *row) == CLSTYLE_PLOT_RGB_TOTAL ? 0 : run_len + 1;
        if (run_len > gap) gap = run_len;
    }
    return gap;
}

/* A flat line with iterations 40..59 missing breaks for a fifth of its width; the same
 * thinned (a long run with a fifth missing) too; unbroken it has no gap. */
static void test_plot_breaks(void)
{
    static const long sizes[] = {100, 100000};
    for (int k = 0; k < 2; k++) {
        long n = sizes[k];
        double *v = tu_xmalloc((size_t)n * sizeof *v);
        clstyle_plot_data d = {n, v, NULL, NULL, NULL, NULL, 0, "breaks"};
        clstyle_error err = {0};
        clstyle_image img;
        int row = 0;
        for (long i = 0; i < n; i++) v[i] = 2e4;
        CHECK(plot("flat.png", &d, &err) == CLSTYLE_OK, "flat n=%ld: %s", n, err.msg);
        if (read_back(tu_path(g_dir, "flat.png"), &img))
            CHECK(widest_gap(&img, &row) < 3, "n=%ld: unbroken line has a gap", n);
        clstyle_image_free(&img);
        for (long i = n * 2 / 5; i < n * 3 / 5; i++) v[i] = i % 3 ? NAN : 0.0;
        CHECK(plot("gap.png", &d, &err) == CLSTYLE_OK, "gap n=%ld: %s", n, err.msg);
        if (read_back(tu_path(g_dir, "gap.png"), &img)) {
            int gap = widest_gap(&img, &row);
            CHECK(gap > 150 && gap < 200, "n=%ld: gap of %d pixels, expected about 176", n, gap);
        }
        clstyle_image_free(&img);
        free(v);
    }
}

/* 200000 iterations: fast, and a one-iteration spike survives the thinning. */
static void test_plot_long_run(void)
{
    long n = 200000;
    double *v = tu_xmalloc((size_t)n * 2 * sizeof *v);
    for (long i = 0; i < n; i++) {
        v[i] = 1e3 * (1 + 0.1 * sin(i * 0.01));
        v[n + i] = 1e2 * (1 + 0.5 * (i % 7));
    }
    v[n / 2] = 1e7;
    clstyle_plot_data d = {n, v, v + n, NULL, NULL, NULL, 0, "long run"};
    clstyle_error err = {0};
    double t0 = now_s();
    clstyle_status st = plot("long.png", &d, &err);
    double dt = now_s() - t0;
    CHECK(st == CLSTYLE_OK, "long run: %s", err.msg);
    CHECK(dt < 0.5, "200000 iterations took %.3f s", dt);
    clstyle_image img;
    if (read_back(tu_path(g_dir, "long.png"), &img))
        CHECK(count_rgb(&img, CLSTYLE_PLOT_RGB_TOTAL, img.w / 3, 0, 2 * img.w / 3, img.h / 4) > 5,
              "the spike at iteration %ld was thinned away", n / 2);
    clstyle_image_free(&img);
    free(v);
}

/* Columns where two pictures differ over more than min_rows pixels, grouped into runs
 * of adjacent columns: returns the number of runs and each run's first column. */
static int diff_columns(const clstyle_image *a, const clstyle_image *b, int min_rows, int *at, int cap)
{
    int runs = 0, prev = -2;
    for (int x = 0; x < a->w; x++) {
        int rows = 0;
        for (int y = 0; y < a->h; y++) rows += px(a, x, y) != px(b, x, y);
        if (rows <= min_rows) continue;
        if (x != prev + 1 && runs < cap) at[runs++] = x;
        prev = x;
    }
    return runs;
}

static void test_plot_scale_markers(void)
{
    run r = run_make(1000);
    clstyle_plot_data d = run_data(&r);
    clstyle_error err = {0};
    CHECK(plot("noscale.png", &d, &err) == CLSTYLE_OK, "%s", err.msg);
    long starts[3] = {301, 701, 5000}; /* the last one is past the run: left out */
    d.scale_starts = starts;
    d.nscales = 3;
    CHECK(plot("scales.png", &d, &err) == CLSTYLE_OK, "scale markers: %s", err.msg);
    clstyle_image a, b;
    if (read_back(tu_path(g_dir, "noscale.png"), &a) && read_back(tu_path(g_dir, "scales.png"), &b)) {
        int at[8];
        int runs = diff_columns(&a, &b, 150, at, 8);
        CHECK(runs == 2, "%d dashed markers, expected 2", runs);
        CHECK(runs < 1 || (at[0] > a.w * 0.3 && at[0] < a.w * 0.4), "scale 2 marker at x = %d", at[0]);
        CHECK(runs < 2 || (at[1] > a.w * 0.65 && at[1] < a.w * 0.75), "scale 3 marker at x = %d", at[1]);
    }
    clstyle_image_free(&a);
    clstyle_image_free(&b);
    d.scale_starts = NULL;
    CHECK(plot("scales.png", &d, &err) == CLSTYLE_ERR_USAGE, "missing scale starts accepted");
    free(r.v);
}

static void test_plot_refusals(void)
{
    run r = run_make(10);
    clstyle_plot_data d = run_data(&r);
    clstyle_error err = {0};
    CHECK(plot("bad.png", NULL, &err) == CLSTYLE_ERR_USAGE, "NULL data accepted");
    CHECK(clstyle_plot_losses(NULL, &d, &err) == CLSTYLE_ERR_USAGE, "NULL path accepted");
    d.n = 0;
    CHECK(plot("bad.png", &d, &err) == CLSTYLE_ERR_USAGE, "n = 0 accepted");
    CHECK(strstr(err.msg, "bad.png") != NULL, "message does not name the file: %s", err.msg);
    d.n = 10;
    /* A title that is not UTF-8 and has control characters still draws (Cairo would
     * refuse it raw), and is not blank. */
    d.title = "clstyle: caf\xe9\x01\n\xff\xc0\x80 \xe2\x82 in the style of \xf0\x9f\x8e\xa8.png";
    CHECK(plot("title.png", &d, &err) == CLSTYLE_OK, "odd title: %s", err.msg);
    static char longtitle[3000];
    memset(longtitle, 'W', sizeof longtitle - 1);
    d.title = longtitle;
    CHECK(plot("title.png", &d, &err) == CLSTYLE_OK, "long title: %s", err.msg);
    free(r.v);
}

/* ------------------------------------------------------------ the contact sheet */

typedef struct frames {
    int n;
    clstyle_image img[9];
    long iter[9];
} frames;

/* Frame i is one colour, 0xRRGGBB = colour_of(i), with fractions that round to it. */
static unsigned colour_of(int i)
{
    return (unsigned)(20 + 25 * i) << 16 | (unsigned)(230 - 20 * i) << 8 | (unsigned)(60 + 17 * i);
}

static void frames_make(frames *f, int n)
{
    static const int sizes[][2] = {{64, 48}, {40, 64}, {64, 64}, {17, 9}, {63, 31}, {32, 32}, {7, 50}, {64, 1}, {1, 1}};
    clstyle_error err = {0};
    f->n = n;
    for (int i = 0; i < n; i++) {
        clstyle_image *im = &f->img[i];
        CHECK(clstyle_image_alloc(im, sizes[i][0], sizes[i][1], &err) == CLSTYLE_OK, "%s", err.msg);
        size_t plane = (size_t)im->w * im->h;
        unsigned rgb = colour_of(i);
        for (size_t p = 0; p < plane; p++) {
            im->data[p] = (float)(rgb >> 16) + 0.49f;
            im->data[plane + p] = (float)(rgb >> 8 & 255) - 0.49f;
            im->data[2 * plane + p] = (float)(rgb & 255) + 0.2f;
        }
        f->iter[i] = i * 250;
    }
}

static void frames_free(frames *f)
{
    for (int i = 0; i < f->n; i++) clstyle_image_free(&f->img[i]);
}

static void sheet_expect(const frames *f, int *cols, int *bw, int *bh, int *w, int *h)
{
    *cols = f->n <= 1 ? 1 : f->n <= 4 ? 2 : 3; /* ceil(sqrt(n)) for n <= 9 */
    int rows = (f->n + *cols - 1) / *cols;
    *bw = CLSTYLE_SHEET_MIN_BOX_W;
    *bh = 1;
    for (int i = 0; i < f->n; i++) {
        if (f->img[i].w > *bw) *bw = f->img[i].w;
        if (f->img[i].h > *bh) *bh = f->img[i].h;
    }
    int cw = *bw + 2 * CLSTYLE_SHEET_BORDER, ch = *bh + 2 * CLSTYLE_SHEET_BORDER + CLSTYLE_SHEET_LABEL;
    *w = 2 * CLSTYLE_SHEET_MARGIN + *cols * cw + (*cols - 1) * CLSTYLE_SHEET_GAP;
    *h = 2 * CLSTYLE_SHEET_MARGIN + rows * ch + (rows - 1) * CLSTYLE_SHEET_GAP;
}

static void test_sheet_layout(void)
{
    static const int counts[] = {1, 5, 9};
    for (int k = 0; k < 3; k++) {
        frames f;
        frames_make(&f, counts[k]);
        clstyle_error err = {0};
        const char *p = tu_path(g_dir, "sheet.png");
        CHECK(clstyle_plot_sheet(p, f.img, f.iter, f.n, &err) == CLSTYLE_OK, "sheet of %d: %s", f.n, err.msg);
        clstyle_image img;
        int cols, bw, bh, w, h;
        sheet_expect(&f, &cols, &bw, &bh, &w, &h);
        if (read_back(p, &img)) {
            CHECK(img.w == w && img.h == h, "sheet of %d is %dx%d, expected %dx%d", f.n, img.w, img.h, w, h);
            int cw = bw + 2 * CLSTYLE_SHEET_BORDER, ch = bh + 2 * CLSTYLE_SHEET_BORDER + CLSTYLE_SHEET_LABEL;
            for (int i = 0; img.w == w && img.h == h && i < f.n; i++) {
                const clstyle_image *fr = &f.img[i];
                int bx = CLSTYLE_SHEET_MARGIN + i % cols * (cw + CLSTYLE_SHEET_GAP) + CLSTYLE_SHEET_BORDER;
                int by = CLSTYLE_SHEET_MARGIN + i / cols * (ch + CLSTYLE_SHEET_GAP) + CLSTYLE_SHEET_BORDER;
                int x = bx + (bw - fr->w) / 2, y = by + (bh - fr->h) / 2;
                unsigned want = colour_of(i);
                CHECK(px(&img, x + fr->w / 2, y + fr->h / 2) == want, "sheet of %d: frame %d centre %06x, want %06x",
                      f.n, i, px(&img, x + fr->w / 2, y + fr->h / 2), want);
                CHECK(count_rgb(&img, want, x, y, x + fr->w, y + fr->h) == (long)fr->w * fr->h,
                      "sheet of %d: frame %d not copied pixel for pixel", f.n, i);
                if (fr->w + 4 < bw) CHECK(px(&img, bx, y + fr->h / 2) == 0xffffffu, "frame %d not centred", i);
                CHECK(px(&img, x - 1, y + fr->h / 2) != 0xffffffu, "frame %d has no border", i);
                /* The label band under the box has ink. */
                long inked = (long)cw * CLSTYLE_SHEET_LABEL -
                             count_rgb(&img, 0xffffffu, bx - 1, by + bh + 1, bx - 1 + cw, by + bh + 1 + CLSTYLE_SHEET_LABEL);
                CHECK(inked > 40, "frame %d: label missing (%ld pixels)", i, inked);
            }
        }
        clstyle_image_free(&img);
        frames_free(&f);
    }
}

/* Clamping, NaN and rounding of frame pixels. */
static void test_sheet_pixels(void)
{
    clstyle_image fr;
    clstyle_error err = {0};
    CHECK(clstyle_image_alloc(&fr, 8, 1, &err) == CLSTYLE_OK, "%s", err.msg);
    static const float r[8] = {-5.0f, 300.0f, NAN, 127.5f, 127.49f, 0.5f, 254.6f, INFINITY};
    static const unsigned want[8] = {0, 255, 0, 128, 127, 1, 255, 255};
    for (int x = 0; x < 8; x++) fr.data[x] = fr.data[8 + x] = fr.data[16 + x] = r[x];
    long it = 0;
    const char *p = tu_path(g_dir, "pixels.png");
    CHECK(clstyle_plot_sheet(p, &fr, &it, 1, &err) == CLSTYLE_OK, "%s", err.msg);
    clstyle_image img;
    if (read_back(p, &img)) {
        int x0 = CLSTYLE_SHEET_MARGIN + CLSTYLE_SHEET_BORDER + (CLSTYLE_SHEET_MIN_BOX_W - 8) / 2;
        int y0 = CLSTYLE_SHEET_MARGIN + CLSTYLE_SHEET_BORDER;
        for (int x = 0; x < 8; x++)
            CHECK(px(&img, x0 + x, y0) == want[x] * 0x010101u, "%g -> %06x, want %02x", r[x], px(&img, x0 + x, y0),
                  want[x]);
    }
    clstyle_image_free(&img);
    clstyle_image_free(&fr);
}

static void test_sheet_refusals(void)
{
    frames f;
    frames_make(&f, 2);
    clstyle_error err = {0};
    const char *p = tu_path(g_dir, "refused.png");
    CHECK(clstyle_plot_sheet(p, f.img, f.iter, 0, &err) == CLSTYLE_ERR_USAGE, "n = 0: %d", err.status);
    CHECK(strstr(err.msg, p) != NULL, "message does not name the file: %s", err.msg);
    CHECK(clstyle_plot_sheet(p, NULL, f.iter, 1, &err) == CLSTYLE_ERR_USAGE, "NULL frames accepted");
    clstyle_image empty = {0, 0, NULL};
    CHECK(clstyle_plot_sheet(p, &empty, f.iter, 1, &err) == CLSTYLE_ERR_USAGE, "empty frame accepted");
    CHECK(access(p, F_OK) != 0, "a refused sheet was written");
    frames_free(&f);
}

/* ------------------------------------------------------------ atomic output */

static void expect_kept(const char *path, const unsigned char *old, size_t old_len, const char *what)
{
    size_t len;
    unsigned char *now = tu_slurp(path, &len);
    CHECK(now && len == old_len && memcmp(now, old, len) == 0, "%s: the previous file changed", what);
    free(now);
    CHECK(tu_count_tmp_files(g_dir) == 0, "%s: temp file left behind", what);
}

static void test_atomic(void)
{
    run r = run_make(200);
    clstyle_plot_data d = run_data(&r);
    clstyle_error err = {0};
    char missing[4096];
    snprintf(missing, sizeof missing, "%s/no-such-dir/plot.png", g_dir);
    CHECK(clstyle_plot_losses(missing, &d, &err) == CLSTYLE_ERR_CANTCREAT, "missing folder: %d (%s)", err.status,
          err.msg);
    CHECK(strstr(err.msg, missing) != NULL, "missing folder: message does not name the file: %s", err.msg);
    frames f;
    frames_make(&f, 3);
    CHECK(clstyle_plot_sheet(missing, f.img, f.iter, f.n, &err) == CLSTYLE_ERR_CANTCREAT, "sheet, missing folder");
    CHECK(tu_count_tmp_files(g_dir) == 0, "missing folder: temp file left behind");

    const char *dir = tu_path(g_dir, "a-folder.png");
    mkdir(dir, 0755);
    CHECK(clstyle_plot_losses(dir, &d, &err) == CLSTYLE_ERR_CANTCREAT, "folder as output: %d (%s)", err.status,
          err.msg);
    struct stat sb;
    CHECK(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode), "the folder was replaced");

    /* A failure of any kind leaves an existing picture byte for byte. */
    const char *keep = tu_path(g_dir, "keep.png");
    CHECK(clstyle_plot_sheet(keep, f.img, f.iter, f.n, &err) == CLSTYLE_OK, "%s", err.msg);
    size_t old_len;
    unsigned char *old = tu_slurp(keep, &old_len);
    clstyle_image wide[4];
    long iters[4] = {1, 2, 3, 4};
    for (int i = 0; i < 4; i++) CHECK(clstyle_image_alloc(&wide[i], 20000, 1, &err) == CLSTYLE_OK, "%s", err.msg);
    clstyle_status st = clstyle_plot_sheet(keep, wide, iters, 4, &err);
    CHECK(st == CLSTYLE_ERR_INTERNAL && strstr(err.msg, "cairo") && strstr(err.msg, keep),
          "sheet too wide for Cairo: %d (%s)", st, err.msg);
    expect_kept(keep, old, old_len, "too wide");
    d.n = 0;
    CHECK(clstyle_plot_losses(keep, &d, &err) == CLSTYLE_ERR_USAGE, "n = 0 accepted");
    expect_kept(keep, old, old_len, "refused plot");
    d.n = r.n;

    /* Disk full, portably: a file-size limit makes the writes fail with EFBIG. */
    if (tu_full_disk(1)) {
        clstyle_error e2 = {0};
        st = clstyle_plot_losses(keep, &d, &e2);
        tu_full_disk(0);
        tu_check_write_refused(st, &e2, CLSTYLE_ERR_IO, keep, old, old_len, g_dir, "disk full");
    }

    CHECK(clstyle_plot_losses(keep, &d, &err) == CLSTYLE_OK, "replacing: %s", err.msg);
    clstyle_image img;
    if (read_back(keep, &img)) CHECK(img.w == CLSTYLE_PLOT_WIDTH, "not replaced by the plot");
    clstyle_image_free(&img);
    CHECK(tu_count_tmp_files(g_dir) == 0, "temp file left behind after success");
    for (int i = 0; i < 4; i++) clstyle_image_free(&wide[i]);
    free(old);
    frames_free(&f);
    free(r.v);
}

int main(void)
{
    g_dir = tu_tmpdir("plot");
    test_plot_basic();
    test_plot_skipped_series();
    test_plot_one_point();
    test_plot_breaks();
    test_plot_long_run();
    test_plot_scale_markers();
    test_plot_refusals();
    test_sheet_layout();
    test_sheet_pixels();
    test_sheet_refusals();
    test_atomic();
    return tu_finish("test_plot");
}
