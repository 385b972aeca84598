/* Exact tiles over MPI ranks (mpi.h; docs/ALGORITHM.md, "MPI ranks"). Every sum across
 * ranks is taken in tile order, whatever the number of ranks: the elements of a sum
 * (a Gram entry, an image pixel) are dealt out in slices, one per rank; each rank gets
 * every tile's part of its slice (MPI_Alltoallv), adds them tile by tile, in tile
 * order, from zero, and every rank gets every slice back (MPI_Allgatherv). So a run is
 * bit-identical across rank counts for one tile layout (and equal to one process up to
 * float rounding), and the reduction order never depends on MPI's own. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "mpi.h"

static const clstyle_mpi_transport *T; /* NULL: one process */

void clstyle_mpi_register(const clstyle_mpi_transport *t)
{
    T = t && t->size > 1 ? t : NULL;
}

int clstyle_mpi_rank(void)
{
    return T ? T->rank : 0;
}

int clstyle_mpi_size(void)
{
    return T ? T->size : 1;
}

int clstyle_mpi_mine(int k)
{
    return !T || k % T->size == T->rank;
}

static int agreed_stop; /* a stop request on some rank at the last exchange */

int clstyle_mpi_stopping(const clstyle_options *o)
{
    return T ? agreed_stop : o->stop && *o->stop;
}

const clstyle_options *clstyle_mpi_quiet(const clstyle_options *o, clstyle_options *copy)
{
    *copy = *o;
    copy->progress = NULL;
    copy->progress_live = 0;
    copy->log = copy->checkpoint = copy->plot = copy->sheet = NULL;
    return copy;
}

/* ---- timing and counting ---- */

static double comm_s, moved;

void clstyle_mpi_stats_reset(void)
{
    comm_s = moved = 0;
}

void clstyle_mpi_stats(double *c, double *b)
{
    *c = comm_s;
    *b = moved;
}

static clstyle_status mpi_fail(int rc, const char *what, clstyle_error *err)
{
    return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "mpirun: %s failed on rank %d (MPI error %d)", what,
                           T->rank, rc);
}

static clstyle_status alltoallv(const float *send, const int *sc, const int *sd, float *recv, const int *rc,
                                const int *rd, clstyle_error *err)
{
    double t0 = clstyle_now();
    int e = T->alltoallv(send, sc, sd, recv, rc, rd);
    comm_s += clstyle_now() - t0;
    for (int r = 0; r < T->size; r++)
        if (r != T->rank) moved += 4.0 * ((double)sc[r] + rc[r]);
    return e ? mpi_fail(e, "MPI_Alltoallv", err) : CLSTYLE_OK;
}

static clstyle_status allgatherv(const float *send, int n, float *recv, const int *rc, const int *rd,
                                 clstyle_error *err)
{
    double t0 = clstyle_now();
    int e = T->allgatherv(send, n, recv, rc, rd);
    comm_s += clstyle_now() - t0;
    for (int r = 0; r < T->size; r++)
        if (r != T->rank) moved += 4.0 * ((double)n + rc[r]);
    return e ? mpi_fail(e, "MPI_Allgatherv", err) : CLSTYLE_OK;
}

/* ---- buffers (grown, kept for the process) ---- */

static void *grow(void **p, size_t *cap, size_t bytes)
{
    if (bytes <= *cap) return *p;
    void *q = realloc(*p, bytes);
    if (!q) return NULL;
    *p = q;
    *cap = bytes;
    return q;
}

typedef struct buf {
    void *p;
    size_t cap;
} buf;

static buf grams, cvals, grads, sendb, recvb, accb, fullb, counts, froms;

/* Tiles of `ntiles` that rank q owns. */
static int tiles_of(int ntiles, int q)
{
    return ntiles > q ? (ntiles - q + T->size - 1) / T->size : 0;
}

/* Floats of the Gram matrices of every style tap, in tap order. */
static size_t gram_floats(const clstyle_job *J)
{
    size_t m = 0;
    for (int i = 0; i < J->ntaps; i++)
        if (J->taps[i].style) m += clstyle_tensor_numel(&J->taps[i].G);
    return m;
}

/* ---- the layout ---- */

clstyle_status clstyle_mpi_plan(clstyle_job *J, clstyle_error *err)
{
    if (!T) return CLSTYLE_OK;
    const clstyle_tiling *tl = &J->tiling;
    if (3.0 * tl->h * tl->w > INT_MAX)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "mpirun: %dx%d is past the %.0f pixels the exchanges count in one "
                               "MPI call (use a smaller --size)", tl->w, tl->h, floor(INT_MAX / 3.0));
    const int n = T->size, mine = tiles_of(tl->n, T->rank);
    char line[256];
    clstyle_notify(J->o->info, J->o->progress_user,
                   "mpirun: %d ranks share %d exact tile%s of %d px (%dx%d, %d px halo); rank r computes tiles r, r+%d, "
                   "...%s", n, tl->n, tl->n == 1 ? "" : "s", tl->side, tl->nx, tl->ny, tl->halo, n,
                   tl->n < n ? "; the ranks past the last tile are idle" : "");
    if (mine || !J->o->info || J->repeat) return CLSTYLE_OK;
    snprintf(line, sizeof line,
             "mpirun: rank %d of %d is idle: the %dx%d image has %d tile%s of %d px, fewer than the ranks (a larger "
             "image or fewer ranks uses it); it waits at every exchange", T->rank, n, J->content.w, J->content.h, tl->n,
             tl->n == 1 ? "" : "s", tl->side);
    J->o->info(J->o->progress_user, line); /* not clstyle_notify: it says nothing on ranks past 0 */
    return CLSTYLE_OK;
}

/* ---- agreeing on how a pass ended ---- */

/* Every rank's status after a pass: a failure on any rank fails every rank (the one that
 * failed keeps its message), a stop on any rank stops every rank, so all of them leave
 * the pass the same way and none waits for another at a later exchange. A stop request
 * seen by any rank is set on all (they stop after this iteration together). */
static clstyle_status agree(clstyle_job *J, clstyle_status st, int setup, clstyle_error *err)
{
    int v[3] = {st && st != CLSTYLE_ERR_INTERRUPTED, st == CLSTYLE_ERR_INTERRUPTED, J->o->stop && *J->o->stop};
    double t0 = clstyle_now();
    int e = T->allreduce_max(v, 3);
    comm_s += clstyle_now() - t0;
    if (e) return mpi_fail(e, "MPI_Allreduce", err);
    agreed_stop = v[2];
    if (v[2] && J->o->stop && !*J->o->stop) *J->o->stop = 1;
    if (!v[0] && !v[1]) return CLSTYLE_OK;
    T->agreed();
    if (st) return st;
    if (v[0])
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "mpirun: another rank failed (its message is on its own "
                               "stderr); rank %d stops with it", T->rank);
    return setup ? clstyle_err_set(err, CLSTYLE_ERR_INTERRUPTED,
                                   "interrupted before the first iteration (while setting up); nothing written")
                 : clstyle_err_set(err, CLSTYLE_ERR_INTERRUPTED, "interrupted during an iteration, between its tiles");
}

/* out[0..m) = init (or 0) + the sum over tiles 0..ntiles-1, in tile order, of each
 * tile's m floats; `part` holds this rank's tiles one after another. Every rank gets
 * the same out. */
static clstyle_status ordered_sum(const float *part, int ntiles, size_t m, const float *init, float *out,
                                  clstyle_error *err)
{
    const int n = T->size, me = T->rank, mine = tiles_of(ntiles, me);
    int *c = grow(&counts.p, &counts.cap, 6 * sizeof(int) * (size_t)n);
    if (!c) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    int *sc = c, *sd = c + n, *rc = c + 2 * n, *rd = c + 3 * n, *len = c + 4 * n, *at = c + 5 * n;
    size_t lo_me = m * (size_t)me / (size_t)n, len_me = m * (size_t)(me + 1) / (size_t)n - lo_me;
    size_t s_total = 0, r_total = 0;
    for (int r = 0; r < n; r++) {
        size_t lo = m * (size_t)r / (size_t)n, hi = m * (size_t)(r + 1) / (size_t)n;
        len[r] = (int)(hi - lo);
        at[r] = (int)lo;
        sc[r] = mine * len[r];
        sd[r] = (int)s_total;
        s_total += (size_t)sc[r];
        rc[r] = tiles_of(ntiles, r) * (int)len_me;
        rd[r] = (int)r_total;
        r_total += (size_t)rc[r];
    }
    float *send = grow(&sendb.p, &sendb.cap, (s_total + 1) * sizeof(float));
    float *recv = grow(&recvb.p, &recvb.cap, (r_total + 1) * sizeof(float));
    float *acc = grow(&accb.p, &accb.cap, (len_me + 1) * sizeof(float));
    if (!send || !recv || !acc) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    for (int r = 0; r < n; r++)
        for (int j = 0; j < mine; j++)
            memcpy(send + sd[r] + (size_t)j * len[r], part + (size_t)j * m + at[r], (size_t)len[r] * sizeof(float));
    clstyle_status st = alltoallv(send, sc, sd, recv, rc, rd, err);
    if (st) return st;
    for (size_t i = 0; i < len_me; i++) acc[i] = init ? init[lo_me + i] : 0.0f;
    for (int k = 0; k < ntiles; k++) {
        const float *p = recv + rd[k % n] + (size_t)(k / n) * len_me;
        for (size_t i = 0; i < len_me; i++) acc[i] += p[i];
    }
    return allgatherv(acc, (int)len_me, out, len, at, err);
}

/* ---- Gram passes ---- */

clstyle_status clstyle_mpi_tile_grams(clstyle_job *J, int k, clstyle_error *err)
{
    const size_t m = gram_floats(J), j = (size_t)(k / T->size);
    float *g = grow(&grams.p, &grams.cap, (j + 1) * m * sizeof(float));
    if (!g) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory for the Gram partials");
    clstyle_status st = CLSTYLE_OK;
    size_t at = j * m;
    for (int i = 0; i < J->ntaps && !st; i++) {
        const clstyle_tap *tp = &J->taps[i];
        if (!tp->style) continue;
        size_t n = clstyle_tensor_numel(&tp->G);
        st = clstyle_ctx_read(J->ctx, tp->G.buf, 0, n * 4, g + at, err);
        if (!st) st = clstyle_ctx_fill(J->ctx, tp->G.buf, 0, n * 4, 0.0f, "tiled Gram matrix", err);
        at += n;
    }
    return st;
}

clstyle_status clstyle_mpi_grams_done(clstyle_job *J, int ntiles, int targets, clstyle_status st, clstyle_error *err)
{
    if ((st = agree(J, st, targets, err))) return st;
    const size_t m = gram_floats(J);
    float *init = NULL, *out = grow(&fullb.p, &fullb.cap, 2 * (m + 1) * sizeof(float));
    if (!out) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory for the Gram sums");
    size_t at = 0;
    if (targets) { /* the targets so far (earlier style images): the same on every rank */
        init = out + m + 1;
        for (int i = 0; i < J->ntaps && !st; i++) {
            const clstyle_tap *tp = &J->taps[i];
            if (!tp->style) continue;
            st = clstyle_ctx_read(J->ctx, tp->target.buf, 0, clstyle_tensor_numel(&tp->target) * 4, init + at, err);
            at += clstyle_tensor_numel(&tp->target);
        }
    }
    if (!st) st = ordered_sum(grams.p, ntiles, m, init, out, err);
    at = 0;
    for (int i = 0; i < J->ntaps && !st; i++) {
        const clstyle_tap *tp = &J->taps[i];
        if (!tp->style) continue;
        size_t n = clstyle_tensor_numel(&tp->G);
        st = clstyle_ctx_write(J->ctx, targets ? tp->target.buf : tp->G.buf, 0, n * 4, out + at, err);
        at += n;
    }
    return st;
}

/* ---- pass 2 ---- */

static size_t content_slot(size_t row)
{
    return (row * CLSTYLE_LOSS_NSLOTS + CLSTYLE_LOSS_CONTENT) * sizeof(float);
}

clstyle_status clstyle_mpi_tile_begin(clstyle_job *J, size_t row, clstyle_error *err)
{
    return clstyle_ctx_fill(J->ctx, J->loss.values, content_slot(row), sizeof(float), 0.0f, "loss row", err);
}

/* Floats of this rank's crops before its j-th tile. */
static size_t crops_before(const clstyle_tiling *tl, int j)
{
    size_t n = 0;
    for (int i = 0; i < j; i++) {
        const clstyle_tile *t = &tl->t[T->rank + i * T->size];
        n += (size_t)3 * (t->y1 - t->y0) * (t->x1 - t->x0);
    }
    return n;
}

clstyle_status clstyle_mpi_tile_gradient(clstyle_job *J, int k, clstyle_tensor g, size_t row, clstyle_error *err)
{
    const clstyle_tiling *tl = &J->tiling;
    const int j = k / T->size;
    const size_t at = crops_before(tl, j), n = clstyle_tensor_numel(&g);
    float *v = grow(&cvals.p, &cvals.cap, (size_t)(j + 1) * sizeof(float));
    float *d = grow(&grads.p, &grads.cap, (at + n) * sizeof(float));
    if (!v || !d) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory for a tile's gradient");
    clstyle_status st = clstyle_ctx_read(J->ctx, J->loss.values, content_slot(row), sizeof(float), v + j, err);
    return st ? st : clstyle_ctx_read(J->ctx, g.buf, g.off * 4, n * 4, d + at, err);
}

/* Rows [*a, *b) of the image that rank r adds up. */
static void rows_of(int h, int r, int *a, int *b)
{
    *a = (int)((long)h * r / T->size);
    *b = (int)((long)h * (r + 1) / T->size);
}

clstyle_status clstyle_mpi_gradient_done(clstyle_job *J, size_t row, clstyle_status st, clstyle_error *err)
{
    if ((st = agree(J, st, 0, err))) return st;
    const clstyle_tiling *tl = &J->tiling;
    const int n = T->size, me = T->rank, H = tl->h, W = tl->w, mine = tiles_of(tl->n, me);
    int *c = grow(&counts.p, &counts.cap, 6 * sizeof(int) * (size_t)n);
    float *all = grow(&fullb.p, &fullb.cap, ((size_t)tl->n + 1) * sizeof(float));
    if (!c || !all) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    /* the content loss: every tile's value, added in tile order */
    int *rc = c, *rd = c + n;
    for (int r = 0, t = 0; r < n; t += rc[r], r++) {
        rc[r] = tiles_of(tl->n, r);
        rd[r] = t;
    }
    if ((st = allgatherv(cvals.p, mine, all, rc, rd, err))) return st;
    float content = 0.0f;
    for (int k = 0; k < tl->n; k++) content += all[rd[k % n] + k / n];
    if ((st = clstyle_ctx_write(J->ctx, J->loss.values, content_slot(row), sizeof(float), &content, err))) return st;
    /* the image gradient: rank r adds up rows rows_of(r) of every crop, in tile order */
    int *sc = c, *sd = c + n, *rcn = c + 2 * n, *rdn = c + 3 * n;
    size_t s_total = 0, r_total = 0;
    int a_me, b_me;
    rows_of(H, me, &a_me, &b_me);
    for (int r = 0; r < n; r++) {
        int a, b;
        rows_of(H, r, &a, &b);
        size_t s = 0, q = 0;
        for (int j = 0; j < mine; j++) { /* my tiles' rows in r's slice */
            const clstyle_tile *t = &tl->t[me + j * n];
            int y0 = t->y0 > a ? t->y0 : a, y1 = t->y1 < b ? t->y1 : b;
            if (y1 > y0) s += (size_t)3 * (y1 - y0) * (t->x1 - t->x0);
        }
        for (int k = r; k < tl->n; k += n) { /* r's tiles' rows in my slice */
            const clstyle_tile *t = &tl->t[k];
            int y0 = t->y0 > a_me ? t->y0 : a_me, y1 = t->y1 < b_me ? t->y1 : b_me;
            if (y1 > y0) q += (size_t)3 * (y1 - y0) * (t->x1 - t->x0);
        }
        sc[r] = (int)s;
        sd[r] = (int)s_total;
        rcn[r] = (int)q;
        rdn[r] = (int)r_total;
        s_total += s;
        r_total += q;
    }
    const size_t sh = (size_t)(b_me - a_me), plane = (size_t)H * W;
    float *send = grow(&sendb.p, &sendb.cap, (s_total + 1) * sizeof(float));
    float *recv = grow(&recvb.p, &recvb.cap, (r_total + 1) * sizeof(float));
    float *acc = grow(&accb.p, &accb.cap, (3 * sh * W + 1) * sizeof(float));
    if (!send || !recv || !acc) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    const float *crops = grads.p;
    for (int r = 0; r < n; r++) { /* packed per destination: my tiles in order, channel by channel, row by row */
        int a, b;
        rows_of(H, r, &a, &b);
        float *p = send + sd[r];
        size_t at = 0;
        for (int j = 0; j < mine; j++) {
            const clstyle_tile *t = &tl->t[me + j * n];
            const int ch = t->y1 - t->y0, cw = t->x1 - t->x0;
            int y0 = t->y0 > a ? t->y0 : a, y1 = t->y1 < b ? t->y1 : b;
            for (int ci = 0; ci < 3 && y1 > y0; ci++)
                for (int y = y0; y < y1; y++, p += cw)
                    memcpy(p, crops + at + ((size_t)ci * ch + (y - t->y0)) * cw, (size_t)cw * sizeof(float));
            at += (size_t)3 * ch * cw;
        }
    }
    if ((st = alltoallv(send, sc, sd, recv, rcn, rdn, err))) return st;
    memset(acc, 0, 3 * sh * W * sizeof(float));
    size_t *from = grow(&froms.p, &froms.cap, (size_t)n * sizeof(size_t)); /* where each rank's next tile starts */
    if (!from) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    for (int r = 0; r < n; r++) from[r] = (size_t)rdn[r];
    for (int k = 0; k < tl->n; k++) { /* tile order: as the single-process loop adds the crops */
        const clstyle_tile *t = &tl->t[k];
        const int cw = t->x1 - t->x0;
        int y0 = t->y0 > a_me ? t->y0 : a_me, y1 = t->y1 < b_me ? t->y1 : b_me;
        if (y1 <= y0) continue;
        const float *p = recv + from[k % n];
        for (int ci = 0; ci < 3; ci++)
            for (int y = y0; y < y1; y++, p += cw) {
                float *d = acc + ((size_t)ci * sh + (y - a_me)) * W + t->x0;
                for (int x = 0; x < cw; x++) d[x] += p[x];
            }
        from[k % n] = (size_t)(p - recv);
    }
    /* every rank's slice to every rank, then into (3, H, W) on the device */
    float *full = grow(&fullb.p, &fullb.cap, 2 * 3 * plane * sizeof(float));
    if (!full) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory for the image gradient");
    for (int r = 0, t = 0; r < n; r++) {
        int a, b;
        rows_of(H, r, &a, &b);
        rc[r] = 3 * (b - a) * W;
        rd[r] = t;
        t += rc[r];
    }
    float *gathered = full + 3 * plane;
    if ((st = allgatherv(acc, (int)(3 * sh * W), gathered, rc, rd, err))) return st;
    for (int r = 0; r < n; r++) {
        int a, b;
        rows_of(H, r, &a, &b);
        for (int ci = 0; ci < 3; ci++)
            memcpy(full + (size_t)ci * plane + (size_t)a * W, gathered + rd[r] + (size_t)ci * (b - a) * W,
                   (size_t)(b - a) * W * sizeof(float));
    }
    return clstyle_ctx_write(J->ctx, J->gall.buf, J->gall.off * 4, 3 * plane * sizeof(float), full, err);
}

/* ---- the benchmark's per-rank figures ---- */

clstyle_status clstyle_mpi_rank_times(double wall, int iters, double *compute, double *comm, double *bytes,
                                      clstyle_error *err)
{
    const int it = iters > 0 ? iters : 1;
    if (!T) {
        compute[0] = wall / it;
        comm[0] = 0;
        *bytes = 0;
        return CLSTYLE_OK;
    }
    if (T->size > CLSTYLE_MPI_MAX_RANKS)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "bench under mpirun: %d ranks, at most %d are reported",
                               T->size, CLSTYLE_MPI_MAX_RANKS);
    double mine[3] = {(wall - comm_s) / it, comm_s / it, moved / it}, *all = malloc(3 * sizeof(double) * T->size);
    if (!all) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    int e = T->allgather_doubles(mine, 3, all);
    if (e) {
        free(all);
        return mpi_fail(e, "MPI_Allgather", err);
    }
    *bytes = 0;
    for (int r = 0; r < T->size; r++) {
        compute[r] = all[3 * r];
        comm[r] = all[3 * r + 1];
        *bytes += all[3 * r + 2] / 2; /* each byte was counted by its sender and its receiver */
    }
    free(all);
    return CLSTYLE_OK;
}
