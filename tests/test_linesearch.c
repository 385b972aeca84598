/* The strong-Wolfe line search (host/linesearch.c) against PyTorch's own
 * (torch.optim.lbfgs._strong_wolfe) on analytic 1-D functions, in double: the step it
 * settles on within 1e-12 and the same number of evaluations (but where both ran into
 * double resolution, below), for every row of
 * tests/golden/wolfe.csv (made by tests/golden/make_wolfe.py with the same functions). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linesearch.h"
#include "testutil.h"

typedef struct func {
    const char *name;
    double (*f)(double), (*g)(double);
} func;

static double quad_f(double t) { return (t - 3.0) * (t - 3.0); }
static double quad_g(double t) { return 2.0 * (t - 3.0); }
static double quartic_f(double t) { return t * t * t * t - 3.0 * t * t - t; }
static double quartic_g(double t) { return 4.0 * t * t * t - 6.0 * t - 1.0; }
static double exp_f(double t) { return exp(-t) + 0.05 * t * t; }
static double exp_g(double t) { return -exp(-t) + 0.1 * t; }
static double flat_f(double t) { return -log(1.0 + 1e-3 * t) + 1e-9 * t * t; }
static double flat_g(double t) { return -1e-3 / (1.0 + 1e-3 * t) + 2e-9 * t; }
static double wave_f(double t) { return sin(3.0 * t) - 0.5 * t + 0.02 * t * t; }
static double wave_g(double t) { return 3.0 * cos(3.0 * t) - 0.5 + 0.04 * t; }

static const func funcs[] = {{"quadratic", quad_f, quad_g}, {"quartic", quartic_f, quartic_g},
                             {"exp", exp_f, exp_g},         {"flat", flat_f, flat_g},
                             {"wave", wave_f, wave_g}};

/* phi(t) = f(x + t d) with x = 0, d = 1: f and f' at t. */
static clstyle_status eval(void *user, double t, double *f, double *gtd, clstyle_error *err)
{
    (void)err;
    const func *fn = user;
    *f = fn->f(t);
    *gtd = fn->g(t);
    return CLSTYLE_OK;
}

int main(void)
{
    const char *src = getenv("CLSTYLE_SOURCE_DIR");
    if (!src) src = CLSTYLE_SOURCE_DIR;
    char path[4200], line[512], name[64];
    snprintf(path, sizeof path, "%s/tests/golden/wolfe.csv", src);
    FILE *in = fopen(path, "r");
    CHECK(in != NULL, "cannot open %s", path);
    int rows = 0;
    if (in && fgets(line, sizeof line, in)) {
        double t0, want_t, want_f;
        int want_evals;
        while (fgets(line, sizeof line, in) &&
               sscanf(line, "%63[^,],%lf,%lf,%lf,%d", name, &t0, &want_t, &want_f, &want_evals) == 5) {
            const func *fn = NULL;
            for (size_t i = 0; i < sizeof funcs / sizeof *funcs; i++)
                if (!strcmp(funcs[i].name, name)) fn = &funcs[i];
            CHECK(fn != NULL, "wolfe.csv: unknown function %s", name);
            if (!fn) continue;
            double t = t0;
            int evals = 0;
            clstyle_error err = {0};
            clstyle_status st = clstyle_ls_strong_wolfe(eval, (void *)fn, fn->f(0), fn->g(0), 1.0, &t, &evals, &err);
            CHECK(st == CLSTYLE_OK, "%s from %g: %s", name, t0, err.msg);
            CHECK(fabs(t - want_t) <= 1e-12 * fabs(want_t) + 1e-300, "%s from %g: step %.17g, PyTorch's %.17g", name, t0,
                  t, want_t);
            /* the same evaluations, unless the search ran into double resolution (f equal to
             * 1e-15), where a last-bit difference in a cubic step decides a tie of f values */
            const double fend = fn->f(t);
            CHECK(evals == want_evals || fabs(fend - want_f) <= 1e-15 * fabs(want_f), "%s from %g: %d evaluations, "
                  "PyTorch's %d", name, t0, evals, want_evals);
            rows++;
        }
        fclose(in);
    }
    CHECK(rows == 25, "%d rows of wolfe.csv read, want 25", rows);
    return tu_finish("test_linesearch");
}
