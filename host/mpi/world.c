/* The MPI transport of host/mpi.h, linked into the clstyle program when CMake finds MPI
 * (CLSTYLE_HAVE_MPI); the library itself never links MPI. Before main: when mpirun (or
 * another PMI launcher) started this process, MPI_Init, and with more than one rank the
 * transport is registered, stdout of ranks past 0 goes to /dev/null (rank 0 prints the
 * results), and the exit is handled here:
 * - a run that ended well, or whose failure or stop every rank agreed on at an exchange
 *   (host/mpi.c), ends with MPI_Finalize;
 * - any other failure waits for every rank to reach its exit (rank 0, whose files are
 *   written by then, 5 s; the others 60 s, as rank 0 may still be writing): a failure
 *   every rank meets alike (bad arguments, a missing input) finalizes too; otherwise a
 *   rank is waiting for this one at an exchange and MPI_Abort ends the job. Every rank meets the others at its exit (a barrier on a
 *   communicator of its own). Outputs are written atomically (temp file, rename), so
 *   what a killed rank 0 had written before stays intact. */
#ifdef CLSTYLE_HAVE_MPI
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../mpi.h"

#define EXIT_WAIT_S 60.0  /* a failed rank past 0 (rank 0 may be writing its last image) */
#define EXIT_WAIT_0_S 5.0 /* a failed rank 0: its files are written, the others come soon or never */

static MPI_Comm exit_comm = MPI_COMM_NULL; /* a communicator of its own: the exit's barrier meets no other call */
static int agreed_end;

static int allreduce_max(int *v, int n)
{
    return MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
}

static int alltoallv(const float *send, const int *sc, const int *sd, float *recv, const int *rc, const int *rd)
{
    return MPI_Alltoallv(send, sc, sd, MPI_FLOAT, recv, rc, rd, MPI_FLOAT, MPI_COMM_WORLD);
}

static int allgatherv(const float *send, int n, float *recv, const int *rc, const int *rd)
{
    return MPI_Allgatherv(send, n, MPI_FLOAT, recv, rc, rd, MPI_FLOAT, MPI_COMM_WORLD);
}

static int allgather_doubles(const double *send, int n, double *recv)
{
    return MPI_Allgather(send, n, MPI_DOUBLE, recv, n, MPI_DOUBLE, MPI_COMM_WORLD);
}

static void agreed(void)
{
    agreed_end = 1;
}

static clstyle_mpi_transport transport = {.allreduce_max = allreduce_max,
                                          .alltoallv = alltoallv,
                                          .allgatherv = allgatherv,
                                          .allgather_doubles = allgather_doubles,
                                          .agreed = agreed};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void at_exit(int status, void *arg)
{
    (void)arg;
    int done = 0;
    MPI_Finalized(&done);
    if (done) return;
    fflush(NULL);
    /* every rank meets at the exit; one whose failure the others may not know waits a while only */
    const int patient = status == 0 || agreed_end;
    MPI_Request req;
    int met = 0;
    double t0 = now(), wait = transport.rank == 0 ? EXIT_WAIT_0_S : EXIT_WAIT_S;
    if (exit_comm != MPI_COMM_NULL && MPI_Ibarrier(exit_comm, &req) == MPI_SUCCESS)
        while (!met && (patient || now() - t0 < wait)) {
            MPI_Test(&req, &met, MPI_STATUS_IGNORE);
            if (!met) {
                struct timespec ts = {0, 5000000};
                nanosleep(&ts, NULL);
            }
        }
    if (!met && !patient) {
        fprintf(stderr, "clstyle: rank %d of %d failed (exit status %d) while others wait for it at an exchange: "
                "ending the job (MPI_Abort)\n", transport.rank, transport.size, status);
        MPI_Abort(MPI_COMM_WORLD, status);
    }
    MPI_Finalize();
}

__attribute__((constructor)) static void start(void)
{
    const char *launched[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"};
    int under = 0, inited = 0;
    for (size_t i = 0; i < sizeof launched / sizeof *launched; i++) under |= getenv(launched[i]) != NULL;
    if (!under) return; /* not under mpirun: a plain process, MPI left alone */
    if (MPI_Initialized(&inited) != MPI_SUCCESS || inited) return;
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) return;
    MPI_Comm_rank(MPI_COMM_WORLD, &transport.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &transport.size);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_dup(MPI_COMM_WORLD, &exit_comm);
    on_exit(at_exit, NULL);
    if (transport.size < 2) return;
    if (transport.rank > 0 && !freopen("/dev/null", "w", stdout)) fprintf(stderr, "clstyle: rank %d: stdout stays\n",
                                                                       transport.rank);
    clstyle_mpi_register(&transport);
}
#endif
