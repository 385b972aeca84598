/* The strong-Wolfe line search (linesearch.h), step for step as PyTorch's: a bracketing
 * phase that grows the step by cubic extrapolation until it brackets a point meeting
 * both conditions, then a zoom phase of safeguarded cubic interpolation. */
#include "linesearch.h"

#include <math.h>

#define C1 1e-4
#define C2 0.9
#define TOL_CHANGE 1e-9
#define MAX_LS 25

double clstyle_ls_cubic(double x1, double f1, double g1, double x2, double f2, double g2, double lo, double hi)
{
    const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2), d2sq = d1 * d1 - g1 * g2;
    if (!(d2sq >= 0)) return (lo + hi) / 2;
    const double d2 = sqrt(d2sq);
    const double m = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                              : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return fmin(fmax(m, lo), hi);
}

/* One end of a bracket: a step and f, gᵀd there. */
typedef struct ls_point {
    double t, f, gtd;
} ls_point;

/* The zoom phase on the bracket b (low end b[*low]); done: a point met both conditions. */
static clstyle_status zoom(clstyle_ls_eval eval, void *user, double f, double gtd, double dmax, ls_point b[2], int *low,
                           int done, int *ls_iter, int *evals, clstyle_error *err)
{
    int insuf = 0, lo = *low, hi = 1 - lo;
    clstyle_status st = CLSTYLE_OK;
    while (!done && *ls_iter < MAX_LS && !st) {
        if (fabs(b[1].t - b[0].t) * dmax < TOL_CHANGE) break;
        const double bmin = fmin(b[0].t, b[1].t), bmax = fmax(b[0].t, b[1].t);
        double t = clstyle_ls_cubic(b[0].t, b[0].f, b[0].gtd, b[1].t, b[1].f, b[1].gtd, bmin, bmax);
        const double eps = 0.1 * (bmax - bmin);
        if (fmin(bmax - t, t - bmin) < eps) { /* too close to an end: move away from it, or mark it */
            if (insuf || t >= bmax || t <= bmin) {
                t = fabs(t - bmax) < fabs(t - bmin) ? bmax - eps : bmin + eps;
                insuf = 0;
            } else {
                insuf = 1;
            }
        } else {
            insuf = 0;
        }
        ls_point p = {t, 0, 0};
        if ((st = eval(user, t, &p.f, &p.gtd, err))) break;
        ++*evals, ++*ls_iter;
        if (p.f > f + C1 * t * gtd || p.f >= b[lo].f) {
            b[hi] = p;
            lo = b[0].f <= b[1].f ? 0 : 1;
            hi = 1 - lo;
        } else {
            if (fabs(p.gtd) <= -C2 * gtd) done = 1;
            else if (p.gtd * (b[hi].t - b[lo].t) >= 0) b[hi] = b[lo];
            b[lo] = p;
        }
    }
    *low = lo;
    return st;
}

clstyle_status clstyle_ls_strong_wolfe(clstyle_ls_eval eval, void *user, double f, double gtd, double dmax, double *t,
                                       int *evals, clstyle_error *err)
{
    ls_point prev = {0, f, gtd}, cur = {*t, 0, 0}, b[2];
    int done = 0, ls_iter = 0, nb = 0;
    clstyle_status st = eval(user, cur.t, &cur.f, &cur.gtd, err);
    *evals = 1;
    while (!st && ls_iter < MAX_LS) { /* bracketing */
        if (cur.f > f + C1 * cur.t * gtd || (ls_iter > 1 && cur.f >= prev.f)) { /* past a minimum */
            b[0] = prev, b[1] = cur, nb = 2;
            break;
        }
        if (fabs(cur.gtd) <= -C2 * gtd) { /* both conditions hold */
            b[0] = cur, nb = 1, done = 1;
            break;
        }
        if (cur.gtd >= 0) { /* the slope turned */
            b[0] = prev, b[1] = cur, nb = 2;
            break;
        }
        const double lo = cur.t + 0.01 * (cur.t - prev.t), hi = cur.t * 10;
        const double next = clstyle_ls_cubic(prev.t, prev.f, prev.gtd, cur.t, cur.f, cur.gtd, lo, hi);
        prev = cur;
        cur = (ls_point){next, 0, 0};
        if ((st = eval(user, cur.t, &cur.f, &cur.gtd, err))) break;
        ++*evals, ++ls_iter;
    }
    if (st) return st;
    if (ls_iter == MAX_LS) { /* no bracket in MAX_LS steps: between 0 and the last */
        b[0] = (ls_point){0, f, gtd}, b[1] = cur, nb = 2;
    }
    int low = nb == 2 && !(b[0].f <= b[1].f) ? 1 : 0;
    if (nb == 2 && (st = zoom(eval, user, f, gtd, dmax, b, &low, done, &ls_iter, evals, err))) return st;
    *t = b[low].t;
    return CLSTYLE_OK;
}
