/* The strong-Wolfe line search of PyTorch's L-BFGS (torch.optim.lbfgs._strong_wolfe with
 * its defaults c1 = 1e-4, c2 = 0.9, tolerance_change = 1e-9, max_ls = 25), on the host:
 * scalar logic around evaluations of f and gᵀd at x + t d that the caller provides. */
#ifndef CLSTYLE_LINESEARCH_H
#define CLSTYLE_LINESEARCH_H

#include "error.h"

/* f(x + t d) and its directional derivative g(x + t d)ᵀd. */
typedef clstyle_status (*clstyle_ls_eval)(void *user, double t, double *f, double *gtd, clstyle_error *err);

/* From f, gtd = gᵀd (< 0) at x and the first trial step *t, with dmax = ‖d‖∞: the step
 * the search settles on into *t, and the evaluations it made into *evals. */
clstyle_status clstyle_ls_strong_wolfe(clstyle_ls_eval eval, void *user, double f, double gtd, double dmax, double *t,
                                       int *evals, clstyle_error *err);

/* The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2) within [lo, hi]
 * (the midpoint when it has none). */
double clstyle_ls_cubic(double x1, double f1, double g1, double x2, double f2, double g2, double lo, double hi);

#endif
