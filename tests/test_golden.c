/* End-to-end golden test: runs the whole job through the library on the small image
 * pair of tests/golden (made by tests/golden/make_golden.py with PyTorch) and requires
 * every iteration's total loss within relative 1e-3 and the final image at PSNR >= 40 dB;
 * the L-BFGS case (PyTorch's torch.optim.LBFGS) rows 1-6 within 1e-3 and rows 7-10,
 * where float32 trajectories begin to part, within 1e-2.
 * CMake runs it once per conv algorithm assignment (CLSTYLE_CONV_ALGO: one algorithm,
 * per-layer mixes; or the tuner's own choice); it prints the run's notices (the tuner's
 * choice per layer) and each case's largest relative loss error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clstyle.h"
#include "png_io.h"
#include "ref.h"
#include "testutil.h"

#define ITERS 10

static int read_losses(const char *path, double *total, int max)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[512];
    int n = 0;
    if (!fgets(line, sizeof line, f)) n = -1;
    while (n >= 0 && n < max && fgets(line, sizeof line, f)) {
        int it;
        if (sscanf(line, "%d,%lf", &it, &total[n]) != 2 || it != n + 1) {
            n = -1;
            break;
        }
        n++;
    }
    fclose(f);
    return n;
}

static void print_info(void *user, const char *line)
{
    (void)user;
    printf("  %s\n", line);
}

typedef struct golden_case {
    const char *suffix;
    int avg;
    clstyle_init init;
    int seed;
    int lbfgs;                 /* 0: Adam lr 2, alpha 1, beta 100, gamma 10; 1: L-BFGS, as below */
    double alpha, beta, gamma; /* L-BFGS */
} golden_case;

static void run_case(const char *src, const char *tmp, const golden_case *gc)
{
    const char *suffix = gc->suffix;
    char content[4096], style[4096], out[4096], log[4096], gold_log[4096], gold_img[4096];
    snprintf(content, sizeof content, "%s/tests/golden/content.png", src);
    snprintf(style, sizeof style, "%s/tests/golden/style.png", src);
    snprintf(gold_log, sizeof gold_log, "%s/tests/golden/losses%s.csv", src, suffix);
    snprintf(gold_img, sizeof gold_img, "%s/tests/golden/final%s.png", src, suffix);
    snprintf(out, sizeof out, "%s/out%s.png", tmp, suffix);
    snprintf(log, sizeof log, "%s/log%s.csv", tmp, suffix);

    clstyle_options o;
    clstyle_options_default(&o);
    o.content = content;
    o.style[0] = style;
    o.nstyle = 1;
    o.output = out;
    o.weights = "synthetic:7";
    o.size = 64;
    o.iters = ITERS;
    o.init = gc->init;
    o.seed = (uint64_t)gc->seed;
    o.content_weight = gc->lbfgs ? gc->alpha : 1;
    o.style_weight = gc->lbfgs ? gc->beta : 100;
    o.tv_weight = gc->lbfgs ? gc->gamma : 10;
    o.lr = gc->lbfgs ? 0 : 2; /* L-BFGS: its own, 1 */
    o.optimizer = gc->lbfgs ? CLSTYLE_OPTIMIZER_LBFGS : CLSTYLE_OPTIMIZER_ADAM;
    o.pooling_avg = gc->avg;
    o.log = log;
    o.info = print_info;
    const char *tile = getenv("CLSTYLE_GOLDEN_TILE"); /* the tiled run (with CLSTYLE_TILE_ANY: under the halo) */
    if (tile) o.tile = atoi(tile);
    clstyle_error err = {0};
    clstyle_status st = clstyle_run(&o, &err);
    CHECK(st == CLSTYLE_OK, "case%s: clstyle_run failed: %s", suffix, err.msg);
    if (st) return;

    double got[ITERS], want[ITERS];
    CHECK(read_losses(log, got, ITERS) == ITERS, "case%s: cannot read %s", suffix, log);
    CHECK(read_losses(gold_log, want, ITERS) == ITERS, "case%s: cannot read %s", suffix, gold_log);
    double worst = 0;
    for (int k = 0; k < ITERS; k++) {
        double rel = fabs(got[k] - want[k]) / fabs(want[k]);
        if (rel > worst) worst = rel;
    }
    printf("case%s: largest relative loss error %.2e\n", suffix, worst);
    for (int k = 0; k < ITERS; k++) {
        const double rtol = gc->lbfgs && k >= 6 ? 1e-2 : 1e-3;
        CHECK(fabs(got[k] - want[k]) <= rtol * fabs(want[k]), "case%s: iteration %d total loss %.9g, golden %.9g "
              "(relative %g allowed)", suffix, k + 1, got[k], want[k], rtol);
    }

    clstyle_image a = {0}, b = {0};
    CHECK(clstyle_png_read(out, 0, &a, &err) == CLSTYLE_OK, "read %s: %s", out, err.msg);
    CHECK(clstyle_png_read(gold_img, 0, &b, &err) == CLSTYLE_OK, "read %s: %s", gold_img, err.msg);
    if (a.data && b.data) {
        CHECK(a.w == b.w && a.h == b.h, "case%s: output %dx%d, golden %dx%d", suffix, a.w, a.h, b.w, b.h);
        if (a.w == b.w && a.h == b.h) {
            double p = ref_psnr(a.data, b.data, (size_t)3 * a.w * a.h);
            printf("case%s: final image PSNR %.1f dB, last loss %.9g vs %.9g\n", suffix, p, got[ITERS - 1],
                   want[ITERS - 1]);
            CHECK(p >= 40.0, "case%s: final image PSNR %.2f dB < 40", suffix, p);
        }
    }
    clstyle_image_free(&a);
    clstyle_image_free(&b);
}

int main(void)
{
    const char *src = getenv("CLSTYLE_SOURCE_DIR");
    if (!src) src = CLSTYLE_SOURCE_DIR;
    const char *tmp = tu_tmpdir("golden");
    static const golden_case cases[] = {
        {"", 0, CLSTYLE_INIT_CONTENT, 0, 0, 0, 0, 0},
        {"_avg", 1, CLSTYLE_INIT_NOISE, 3, 0, 0, 0, 0},
        {"_lbfgs", 0, CLSTYLE_INIT_NOISE, 3, 1, 1000, 4000, 1000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) run_case(src, tmp, &cases[i]);
    return tu_finish("test_golden");
}
