/* Exact tiles against the untiled run. Op level: every tile's owned window of every tap
 * activation equals the whole network's there, and the Grams summed over the tiles
 * equal the whole image's. End to end: the same job run whole and with --tile on
 * images whose sides the tiles do not divide gives the image gradient within 2e-5 of
 * its largest value, loss rows within relative 1e-5 and a final image within 50 dB PSNR. Two cases: shallow layers (relu3_1, a
 * 16 px halo) with a 4x3 grid of 32 px tiles, and the default layers to relu5_1 (a
 * 96 px halo) with five tiles across whose middle crops lie strictly inside the image. The
 * shallow case also runs with the optimizer state and content targets in host memory
 * (CLSTYLE_HOST_STATE=1): its image, log and checkpoint equal the tiled run's exactly.
 * With CLSTYLE_TEST_BANDS=1 (ctest's test_bands, three PoCL devices): the same job on
 * one device and in bands across all three (-d all; per-layer halo exchange) to the same
 * bounds, and the band run twice, bit for bit (losses, image, checkpoint). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clstyle.h"
#include "job.h"
#include "png_io.h"
#include "ref.h"
#include "testutil.h"

static char style[4096], tmp[4096];

/* A w x h content image with structure at every scale (smooth waves plus a grid of
 * edges), written to path. */
static int write_content(const char *path, int w, int h)
{
    clstyle_image img;
    clstyle_error err = {0};
    if (clstyle_image_alloc(&img, w, h, &err)) return 0;
    size_t hw = (size_t)w * h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double v = 128 + 60 * sin(x * 0.11) * cos(y * 0.07) + ((x / 9 + y / 7) % 2 ? 40 : -40);
            for (int c = 0; c < 3; c++) img.data[c * hw + (size_t)y * w + x] = (float)fmin(255, fmax(0, v + 25 * c - 25));
        }
    int ok = clstyle_png_write(path, &img, 16, &err) == CLSTYLE_OK;
    CHECK(ok, "write %s: %s", path, err.msg);
    clstyle_image_free(&img);
    return ok;
}

/* Loss rows of a --log CSV: rows[i][0..3] = total, content, style, tv; returns the count. */
static int read_log(const char *path, double rows[][4], int max)
{
    FILE *f = fopen(path, "r");
    char line[512];
    int n = 0;
    if (!f) return 0;
    if (!fgets(line, sizeof line, f)) n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        long it;
        if (sscanf(line, "%ld,%lf,%lf,%lf,%lf", &it, &rows[n][0], &rows[n][1], &rows[n][2], &rows[n][3]) == 5) n++;
    }
    fclose(f);
    return n;
}

/* The image gradient of iteration 1, whole against tiled: within 2e-5 of its largest
 * magnitude at every pixel (sums of up to 10^5 products in another order; 1.6e-6 measured). */
static void compare_gradient(const char *what, const char *ckpt_whole, const char *ckpt_tiled)
{
    clstyle_image ia = {0}, ib = {0}; /* Adam's m after one step is (1 - 0.9) g: the image gradient */
    tu_read_plane(ckpt_whole, "adam.m", &ia);
    tu_read_plane(ckpt_tiled, "adam.m", &ib);
    size_t na = (size_t)3 * ia.w * ia.h, nb = (size_t)3 * ib.w * ib.h;
    const float *a = ia.data, *b = ib.data;
    if (a && b && na == nb && na) {
        double big = 0, worst = 0;
        for (size_t i = 0; i < na; i++) big = fmax(big, fabs(a[i]));
        size_t bad = 0;
        for (size_t i = 0; i < na; i++) {
            double d = fabs((double)a[i] - b[i]);
            worst = fmax(worst, d / big);
            bad += d > 2e-5 * big;
        }
        CHECK(big > 0 && bad == 0, "%s: %zu/%zu gradient entries differ by more than 2e-5 of max %.3g (worst %.3g)", what,
              bad, na, big, worst);
        printf("%s: image gradient of iteration 1: largest difference %.3g of its largest magnitude\n", what, worst);
    } else {
        CHECK(0, "%s: gradients of %zu and %zu entries", what, na, nb);
    }
    clstyle_image_free(&ia);
    clstyle_image_free(&ib);
}

static void shallow_layers(clstyle_options *o)
{
    snprintf(o->content_layers[0].name, sizeof o->content_layers[0].name, "relu2_2");
    static const char *sl[] = {"relu1_1", "relu2_1", "relu3_1"};
    for (int i = 0; i < 3; i++) snprintf(o->style_layers[i].name, sizeof o->style_layers[i].name, "%s", sl[i]);
    o->nstyle_layers = 3;
}

/* Reads t (its view, from offset 0) into a new host array. */
static float *fetch(clstyle_job *J, clstyle_tensor t)
{
    clstyle_error err = {0};
    size_t n = clstyle_tensor_numel(&t);
    float *h = malloc(n * sizeof *h);
    if (h && clstyle_ctx_read(J->ctx, t.buf, t.off * 4, n * 4, h, &err)) free(h), h = NULL;
    CHECK(h != NULL, "reading a device tensor: %s", err.msg);
    return h;
}

/* The largest |v| of n floats (at least a tiny positive). */
static double largest(const float *v, size_t n)
{
    double m = 1e-30;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
    return m;
}

/* Op level, on a w x h content image as the first image (--init content): the whole
 * network's tap activations and Grams against the tiles'. Activations: the same sums in
 * the same order per position (crops start on the pooling grid, so each Winograd tile
 * and pooling window is the whole image's), held to 1e-6 of the layer's largest value.
 * Grams: sums over the positions in another order, to 1e-5 of the largest entry. */
static void compare_ops(const char *what, int w, int h, int tile)
{
    clstyle_image content = {0}, sty = {0};
    clstyle_error err = {0};
    char path[4200];
    snprintf(path, sizeof path, "%s/%s_ops.png", tmp, what);
    if (!write_content(path, w, h)) return;
    CHECK(clstyle_png_read(path, 0, &content, &err) == CLSTYLE_OK, "%s", err.msg);
    CHECK(clstyle_png_read(style, 0, &sty, &err) == CLSTYLE_OK, "%s", err.msg);
    clstyle_options o;
    clstyle_options_default(&o);
    o.weights = "synthetic:11";
    o.size = w > h ? w : h;
    o.iters = 1;
    o.init = CLSTYLE_INIT_CONTENT;
    shallow_layers(&o);
    clstyle_options ot = o;
    ot.tile = tile;
    clstyle_job *A = NULL, *B = NULL;
    clstyle_status st = clstyle_job_open(&o, &content, &sty, 1, 0, &A, &err);
    if (!st) st = clstyle_job_open(&ot, &content, &sty, 1, 0, &B, &err);
    CHECK(st == CLSTYLE_OK && B && B->tiling.n > 1, "%s: opening the jobs: %s", what, err.msg);
    if (!st) st = clstyle_job_tiled_grams(B, &err);
    if (!st) st = clstyle_net_forward(A->ctx, &A->net, &A->acts, A->x, &err);
    double worst_a = 0, worst_g = 0;
    for (int i = 0; i < A->ntaps && !st; i++) { /* the Grams of the whole image, kept per style tap */
        clstyle_tap *t = &A->taps[i];
        if (!t->style) continue;
        clstyle_tensor f = clstyle_acts_at(&A->acts, t->l, t->relu);
        clstyle_tensor G = clstyle_tensor_view(A->gram.buf, 0, f.c, f.c, 1); /* (C, C) */
        st = clstyle_gram_forward(A->ctx, &A->net.gram, G, f, A->acts.ws, &err);
        float *g = st ? NULL : fetch(A, G), *gt = st ? NULL : fetch(B, B->taps[i].G);
        if (g && gt) {
            size_t n = (size_t)f.c * f.c;
            double big = largest(g, n), d = 0;
            for (size_t k = 0; k < n; k++) d = fmax(d, fabs(g[k] - gt[k]) / big);
            CHECK(d <= 1e-5, "%s: Gram at tap %d: %.3g of its largest entry apart", what, i, d);
            worst_g = fmax(worst_g, d);
        }
        free(g), free(gt);
    }
    for (int i = 0; i < A->ntaps && !st; i++) { /* each tile's owned window of each tap */
        const clstyle_tap *t = &A->taps[i];
        clstyle_tensor fa = clstyle_acts_at(&A->acts, t->l, t->relu);
        float *whole = fetch(A, fa);
        double big = whole ? largest(whole, clstyle_tensor_numel(&fa)) : 1;
        for (int k = 0; k < B->tiling.n && whole && !st; k++) {
            if ((st = clstyle_job_tile_forward(B, k, &err))) break;
            clstyle_tensor fb = clstyle_acts_at(&B->acts, t->l, t->relu);
            float *crop = fetch(B, fb);
            clstyle_window win = clstyle_tile_owned(&B->tiling, &B->tiling.t[k], t->l);
            for (int c = 0; crop && c < fa.c; c++)
                for (int y = 0; y < win.oh; y++)
                    for (int x = 0; x < win.ow; x++) {
                        double a = whole[((size_t)c * fa.h + win.oy + y) * fa.w + win.ox + x];
                        double b = crop[((size_t)c * fb.h + win.ry + y) * fb.w + win.rx + x];
                        worst_a = fmax(worst_a, fabs(a - b) / big);
                    }
            free(crop);
        }
        free(whole);
    }
    CHECK(st == CLSTYLE_OK, "%s: %s", what, err.msg);
    CHECK(worst_a <= 1e-6, "%s: tile activations %.3g of the layer's largest value from the whole image's", what,
          worst_a);
    printf("%s: op level, %dx%d in %d px tiles: activations within %.3g, Grams within %.3g of their largest\n", what, w,
           h, tile, worst_a, worst_g);
    clstyle_job_close(A);
    clstyle_job_close(B);
    clstyle_image_free(&content);
    clstyle_image_free(&sty);
}

/* The options of one comparison run `name` of case `what` (its output, log and
 * checkpoint paths made here). */
static void run_options(clstyle_options *o, const char *what, const char *name, const char *content, char *out,
                        char *log, char *ckpt, int w, int h, long iters)
{
    snprintf(out, 4200, "%s/%s_%s.png", tmp, what, name);
    snprintf(log, 4200, "%s/%s_%s.csv", tmp, what, name);
    snprintf(ckpt, 4200, "%s/%s_%s.ckpt", tmp, what, name);
    clstyle_options_default(o);
    o->content = content;
    o->style[0] = style;
    o->nstyle = 1;
    o->style_scale = 0.5;
    o->output = out;
    o->log = log;
    o->weights = "synthetic:11";
    o->size = w > h ? w : h;
    o->iters = iters;
    o->tv_weight = 2;
    o->output_bits = 16;
    o->print_every = 1;
}

/* Run 0 (whole, one device) against run 1 (tiled or in bands): the first iteration's
 * image gradient, every loss row within relative 1e-5, the final images within 50 dB. */
static void compare_runs(const char *what, const char *how, int w, int h, int tile, char ckpt[][4200], char log[][4200],
                         char out[][4200], long iters)
{
    compare_gradient(what, ckpt[0], ckpt[1]);
    double a[64][4], b[64][4];
    int na = read_log(log[0], a, 64), nb = read_log(log[1], b, 64);
    CHECK(na == iters && nb == iters, "%s: %d and %d log rows, want %ld", what, na, nb, iters);
    double worst = 0;
    for (int i = 0; i < na && i < nb; i++)
        for (int j = 0; j < 4; j++) {
            double d = fabs(a[i][j] - b[i][j]) / (fabs(a[i][j]) + 1e-30);
            if (a[i][j] == 0 && b[i][j] == 0) d = 0;
            if (d > worst) worst = d;
            CHECK(d <= 1e-5, "%s: row %d term %d: whole %.9g %s %.9g (relative %.3g)", what, i + 1, j, a[i][j], how,
                  b[i][j], d);
        }
    clstyle_image ia = {0}, ib = {0};
    clstyle_error err = {0};
    if (clstyle_png_read(out[0], 0, &ia, &err) == CLSTYLE_OK && clstyle_png_read(out[1], 0, &ib, &err) == CLSTYLE_OK) {
        double p = ref_psnr(ia.data, ib.data, (size_t)3 * ia.w * ia.h);
        CHECK(ia.w == ib.w && ia.h == ib.h && p >= 50, "%s: final image PSNR %.1f dB", what, p);
        printf("%s: %dx%d, %s (tiles of %d px; 0: none): largest relative loss difference %.3g, final PSNR %.1f dB\n",
               what, w, h, how, tile, worst, p);
    } else {
        CHECK(0, "%s: read outputs: %s", what, err.msg);
    }
    clstyle_image_free(&ia);
    clstyle_image_free(&ib);
}


static void compare(const char *what, int w, int h, int tile, long iters, int shallow)
{
    static const char *const run_name[3] = {"whole", "tiled", "host"};
    char content[4200], out[3][4200], log[3][4200], ckpt[3][4200];
    snprintf(content, sizeof content, "%s/%s_content.png", tmp, what);
    if (!write_content(content, w, h)) return;
    /* the shallow case runs tiled a second time with the optimizer state and content
     * targets in host memory: the same kernels on the same numbers, so bit for bit */
    const int runs = shallow ? 3 : 2;
    for (int r = 0; r < runs; r++) {
        clstyle_options o;
        run_options(&o, what, run_name[r], content, out[r], log[r], ckpt[r], w, h, iters);
        if (shallow) shallow_layers(&o);
        o.tile = r ? tile : 0;
        clstyle_error err = {0};
        clstyle_options one = o; /* one iteration, for its gradient */
        one.iters = 1;
        one.checkpoint = ckpt[r];
        one.log = NULL;
        if (r == 2) setenv("CLSTYLE_HOST_STATE", "1", 1);
        clstyle_status st = clstyle_run(&one, &err);
        if (!st) st = clstyle_run(&o, &err);
        unsetenv("CLSTYLE_HOST_STATE");
        CHECK(st == CLSTYLE_OK, "%s %s run: %s", what, run_name[r], err.msg);
        if (st) return;
    }
    for (int r = 2; r < runs; r++) {
        double t[64][4], u[64][4];
        int nt = read_log(log[1], t, 64), nu = read_log(log[r], u, 64), same = nt == nu;
        for (int i = 0; i < nt && same; i++) same = !memcmp(t[i], u[i], sizeof t[i]);
        CHECK(same && tu_same_file(out[1], out[r]) && tu_same_file(ckpt[1], ckpt[r]),
              "%s: the %s run's losses, image or checkpoint differ from the tiled run's", what, run_name[r]);
        printf("%s: host-state tiles equal device-state tiles bit for bit (losses, image, checkpoint)\n", what);
    }
    compare_runs(what, "tiled", w, h, tile, ckpt, log, out, iters);
}

/* One device (-d 0) against every device in bands (-d all), twice, and once more with
 * the bands cut again after the first iteration (CLSTYLE_REBALANCE_TEST). */
static void compare_bands(const char *what, int w, int h, long iters)
{
    static const char *const run_name[4] = {"one", "bands", "again", "recut"};
    char content[4200], out[4][4200], log[4][4200], ckpt[4][4200];
    snprintf(content, sizeof content, "%s/%s_content.png", tmp, what);
    if (!write_content(content, w, h)) return;
    for (int r = 0; r < 4; r++) {
        clstyle_options o;
        run_options(&o, what, run_name[r], content, out[r], log[r], ckpt[r], w, h, iters);
        o.device = r ? "all" : "0";
        clstyle_error err = {0};
        clstyle_options one = o;
        one.iters = 1;
        one.checkpoint = ckpt[r];
        one.log = NULL;
        if (r == 3) setenv("CLSTYLE_REBALANCE_TEST", "1", 1);
        clstyle_status st = clstyle_run(&one, &err);
        if (!st) st = clstyle_run(&o, &err);
        unsetenv("CLSTYLE_REBALANCE_TEST");
        CHECK(st == CLSTYLE_OK, "%s %s run: %s", what, run_name[r], err.msg);
        if (st) return;
    }
    double t[64][4], u[64][4];
    int nt = read_log(log[1], t, 64), nu = read_log(log[2], u, 64), same = nt == nu && nt == iters;
    for (int i = 0; i < nt && same; i++) same = !memcmp(t[i], u[i], sizeof t[i]);
    CHECK(same && tu_same_file(out[1], out[2]) && tu_same_file(ckpt[1], ckpt[2]),
          "%s: two band runs' losses, image or checkpoint differ", what);
    printf("%s: band runs repeat bit for bit (losses, image, checkpoint)\n", what);
    compare_runs(what, "bands", w, h, 0, ckpt, log, out, iters);
    memcpy(ckpt[1], ckpt[3], sizeof ckpt[1]); /* run 3 in run 1's place */
    memcpy(log[1], log[3], sizeof log[1]);
    memcpy(out[1], out[3], sizeof out[1]);
    compare_runs(what, "bands re-cut after iteration 1", w, h, 0, ckpt, log, out, iters);
}

int main(void)
{
    const char *src = getenv("CLSTYLE_SOURCE_DIR");
    if (!src) src = CLSTYLE_SOURCE_DIR;
    snprintf(style, sizeof style, "%s/tests/golden/style.png", src);
    snprintf(tmp, sizeof tmp, "%s", tu_tmpdir("tiled"));
    if (getenv("CLSTYLE_TEST_BANDS")) {
        compare_bands("bands", 120, 88, 3);
        return tu_finish("test_bands");
    }
    compare_ops("shallow", 100, 76, 32);
    compare("shallow", 100, 76, 32, 4, 1);
    compare("relu5_1", 400, 112, 96, 3, 0);
    return tu_finish("test_tiled");
}
