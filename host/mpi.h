/* `mpirun -np N clstyle ...`: one image over N processes (docs/ALGORITHM.md, "MPI
 * ranks"). The run is cut into the exact tiles of the tiled path (tile.h), at least N of
 * them when the image allows; rank r computes the tiles k with k mod N == r, and after
 * each pass the ranks combine what their tiles made (the Gram matrices, the content loss
 * values, the image gradient) so that every rank holds the same sums, added in tile
 * order, then runs the same TV, guard and optimizer step on its own whole copy of the
 * image. Rank 0 alone writes files and says notices.
 *
 * The library does not link MPI: a program built with it (the clstyle CLI, when CMake
 * finds MPI: host/mpi/world.c, CLSTYLE_HAVE_MPI) registers its transport at start-up.
 * Without one, or outside mpirun, the size is 1 and every hook here does nothing. */
#ifndef CLSTYLE_MPI_H
#define CLSTYLE_MPI_H

#include <stddef.h>

#include "clstyle.h"
#include "error.h"

#define CLSTYLE_MPI_MAX_RANKS 1024 /* ranks a benchmark reports one by one */

struct clstyle_job;
struct clstyle_tile;
struct clstyle_tensor;

/* The MPI calls the hooks need, all on the world communicator; each returns 0 or an MPI
 * error code. */
typedef struct clstyle_mpi_transport {
    int rank, size;                                       /* this process in the world (set before registering) */
    int (*allreduce_max)(int *v, int n);                  /* in place */
    int (*alltoallv)(const float *send, const int *scount, const int *sdispl, float *recv, const int *rcount,
                     const int *rdispl);
    int (*allgatherv)(const float *send, int scount, float *recv, const int *rcount, const int *rdispl);
    int (*allgather_doubles)(const double *send, int n, double *recv); /* n from each rank, rank order */
    void (*agreed)(void); /* the failure or stop that ends this run is known to every rank */
} clstyle_mpi_transport;

/* Called once, before main, by a program built with MPI when mpirun started it. */
void clstyle_mpi_register(const clstyle_mpi_transport *t);
int clstyle_mpi_rank(void); /* 0 outside mpirun */
int clstyle_mpi_size(void); /* 1 outside mpirun */
/* Whether tile k is this rank's (always, with one rank). */
int clstyle_mpi_mine(int k);

/* Whether the run stops after this iteration: *o->stop; under mpirun, whether any rank
 * had a stop request at the last exchange (a later request is taken at the next one),
 * so every rank decides alike. */
int clstyle_mpi_stopping(const clstyle_options *o);
/* A copy of o for a rank past 0: no progress, --log, --checkpoint, --plot or --sheet
 * (the output's and snapshots' writes are dropped by host/fileio.c, notices by
 * clstyle_notify). Returns copy. */
const clstyle_options *clstyle_mpi_quiet(const clstyle_options *o, clstyle_options *copy);
/* After the job's tiling is made for the ranks: the notices (the layout by rank 0; an
 * idle rank says so itself). An image whose gradient has more floats than an MPI count
 * holds (2^31 - 1) is refused. */
clstyle_status clstyle_mpi_plan(struct clstyle_job *J, clstyle_error *err);
/* Gram passes (job.c tiled_grams): after tile k of `ntiles`, its Gram matrices (each
 * style tap's G) are kept on the host and G zeroed; after the loop, status st (this
 * rank's) is agreed by every rank, then each tap's sum over the tiles, in tile order, goes
 * into G (pass 1) or is added to the target (targets: style images). */
clstyle_status clstyle_mpi_tile_grams(struct clstyle_job *J, int k, clstyle_error *err);
clstyle_status clstyle_mpi_grams_done(struct clstyle_job *J, int ntiles, int targets, clstyle_status st,
                                      clstyle_error *err);
/* Pass 2 (job.c tiled_gradient): before tile k, the row's content slot is zeroed; after
 * it, the slot (that tile's content loss) and the crop's image gradient g are kept on the
 * host; after the loop, st is agreed, the content slot becomes the tiles' sum and J->gall
 * the crops' gradients added in tile order, on every rank. */
clstyle_status clstyle_mpi_tile_begin(struct clstyle_job *J, size_t row, clstyle_error *err);
clstyle_status clstyle_mpi_tile_gradient(struct clstyle_job *J, int k, struct clstyle_tensor g, size_t row,
                                         clstyle_error *err);
clstyle_status clstyle_mpi_gradient_done(struct clstyle_job *J, size_t row, clstyle_status st, clstyle_error *err);

/* Seconds in MPI calls (waits included) and bytes this rank sent and received, since
 * the last reset. */
void clstyle_mpi_stats_reset(void);
void clstyle_mpi_stats(double *comm_s, double *bytes);
/* Every rank's (compute, comm) seconds per iteration into compute[], comm[] (size
 * entries, rank order; at most CLSTYLE_MPI_MAX_RANKS), from this rank's wall seconds
 * over `iters` iterations since the reset; *bytes the bytes all ranks moved per
 * iteration. A collective: every rank calls it. */
clstyle_status clstyle_mpi_rank_times(double wall, int iters, double *compute, double *comm, double *bytes,
                                      clstyle_error *err);

#endif
